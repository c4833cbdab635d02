"""Reads of orders, shared by the pages, the API and the 360 panel ("fast order info")."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from farley.core.errors import NotFound
from farley.core.history import history_for, with_change_lines
from farley.core.models import User
from farley.core.validation import Cleaner
from farley.core.visibility import visible_records
from farley.sales.models import Order, OrderStatus

ORDER_FILTERS = ("q", "status", "account_id", "contact_id", "quote_id", "open")
# Not yet delivered and paid, nor cancelled: what "open orders" means on the account page.
OPEN_STATUSES = (
    OrderStatus.OPEN,
    OrderStatus.CONFIRMED,
    OrderStatus.DELIVERED,
    OrderStatus.INVOICED,
)


def orders_visible_to(
    user: User, *, include_deleted: bool = False, for_edit: bool = False
) -> QuerySet[Order]:
    return visible_records(
        Order.objects.all(), user, include_deleted=include_deleted, for_edit=for_edit
    )


def order_detail(user: User, order_id: int, *, include_deleted: bool = False) -> Order:
    order = (
        orders_visible_to(user, include_deleted=include_deleted)
        .select_related("account", "contact", "opportunity", "quote", "owner", "team")
        .filter(pk=order_id)
        .first()
    )
    if order is None:
        raise NotFound()
    return order


def order_lines(order: Order) -> list[Any]:
    return list(order.lines.select_related("product").order_by("position", "id"))


def filter_orders(queryset: QuerySet[Order], params: dict[str, Any], *, strict: bool) -> QuerySet:
    """``q`` (number, ERP reference, account), ``status`` (comma list), ``open`` (true: not
    paid or cancelled), ``account_id``, ``contact_id``, ``quote_id``."""
    c = Cleaner()
    if strict:
        for key in params:
            if key not in (*ORDER_FILTERS, "limit", "cursor"):
                c.add(key, _("Unknown filter."))
    q = c.text("q", params.get("q"), max_length=200)
    if q:
        queryset = queryset.filter(
            Q(number__icontains=q) | Q(erp_reference__icontains=q) | Q(account__name__icontains=q)
        )
    statuses = [s for s in str(params.get("status") or "").split(",") if s]
    if statuses:
        if any(s not in OrderStatus.values for s in statuses):
            c.add("status", _("Select a valid choice."))
        else:
            queryset = queryset.filter(status__in=statuses)
    if params.get("open") not in (None, "") and c.boolean("open", params.get("open")):
        queryset = queryset.filter(status__in=OPEN_STATUSES)
    for key in ("account_id", "contact_id", "quote_id"):
        pk = c.integer(key, params.get(key), minimum=1, maximum=2**63 - 1)
        if pk is not None:
            queryset = queryset.filter(**{key: pk})
    c.raise_if_invalid()
    return queryset


def order_list(
    user: User, params: dict[str, Any], *, strict: bool = False, trash: bool = False
) -> QuerySet[Order]:
    """The list (UI and API); ``trash``: only the deleted orders, to restore them."""
    visible = orders_visible_to(user, include_deleted=trash)
    if trash:
        visible = visible.filter(deleted_at__isnull=False)
    queryset = visible.select_related("account", "contact", "owner")
    return filter_orders(queryset, params, strict=strict)


def open_orders_of(user: User, record: Any, *, limit: int = 10) -> list[Order]:
    """The open orders of an account or contact, newest first: "fast order info"."""
    field = "contact" if record._meta.model_name == "contact" else "account"
    return list(
        orders_visible_to(user)
        .filter(**{field: record}, status__in=OPEN_STATUSES)
        .order_by("-order_date", "-id")[:limit]
    )


def order_count_of(user: User, record: Any) -> int:
    field = "contact" if record._meta.model_name == "contact" else "account"
    return orders_visible_to(user).filter(**{field: record}).count()


def order_history(order: Order, limit: int = 200) -> list[Any]:
    return with_change_lines("order", list(history_for("order", order.pk)[:limit]))
