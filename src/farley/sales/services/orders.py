"""Every write to orders (Aufträge): from an accepted quote (its lines copied) or directly,
status changes along the allowed transitions, dates and the ERP reference, delete and
restore. Numbers come from :func:`farley.sales.numbering.next_number` ("order")."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from farley.contacts.services import _clean_owner_and_team
from farley.core import history, permissions, search, sharing, softdelete
from farley.core.customfields import clean_custom_values
from farley.core.errors import Forbidden, NotFound, ValidationFailed
from farley.core.models import ChangeAction, User
from farley.core.validation import Cleaner, check_version
from farley.sales import numbering
from farley.sales.models import Order, OrderLine, OrderStatus, Quote
from farley.sales.selectors import orders as selectors
from farley.sales.services.catalogue import clean_currency, clean_money
from farley.sales.services.line_items import (
    clean_lines,
    clean_percent,
    copy_lines,
    document_snapshot,
    document_totals,
    replace_lines,
    resolve_account,
    resolve_contact,
    resolve_opportunity,
)

ORDER_FIELDS = [
    "account_id",
    "contact_id",
    "opportunity_id",
    "status",
    "currency",
    "order_date",
    "delivery_date",
    "erp_reference",
    "discount_percent",
    "discount_amount",
    "notes",
    "lines",
    "owner_id",
    "team_id",
    "custom",
]
# Where an order may go from each status. Open and confirmed orders can be cancelled, a
# cancelled one reopened; lines and amounts change only while the order is open.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    OrderStatus.OPEN: (OrderStatus.CONFIRMED, OrderStatus.CANCELLED),
    OrderStatus.CONFIRMED: (OrderStatus.OPEN, OrderStatus.DELIVERED, OrderStatus.CANCELLED),
    OrderStatus.DELIVERED: (OrderStatus.INVOICED,),
    OrderStatus.INVOICED: (OrderStatus.PAID,),
    OrderStatus.PAID: (),
    OrderStatus.CANCELLED: (OrderStatus.OPEN,),
}
SNAPSHOT_FIELDS = [
    "number",
    "status",
    "currency",
    "order_date",
    "delivery_date",
    "erp_reference",
    "discount_percent",
    "discount_amount",
    "net_total",
    "tax_total",
    "gross_total",
    "notes",
]
PRICED = ("lines", "currency", "discount_percent", "discount_amount")


def next_statuses(status: str) -> tuple[str, ...]:
    return TRANSITIONS.get(status, ())


def order_snapshot(order: Order, lines: list[Any] | None = None) -> dict[str, Any]:
    relations = ("account", "contact", "opportunity", "quote", "owner", "team")
    return document_snapshot(order, SNAPSHOT_FIELDS, relations, lines)


def index_order(order: Order) -> None:
    account = order.account
    subtitle = " · ".join(
        p for p in (
            str(OrderStatus(order.status).label), order.erp_reference,
            f"{order.gross_total} {order.currency}",
        ) if p
    )  # fmt: skip
    search.index_document(
        entity="order", object_id=order.pk, owner_id=order.owner_id, team_id=order.team_id,
        title=f"{order.number} · {account.name}", subtitle=subtitle,
        parts=[order.number, order.erp_reference, account.name, str(order.contact or "")],
    )  # fmt: skip


def _after_change(
    actor: User, order: Order, action: str, *, before: dict | None = None, after: dict | None = None
) -> None:
    history.record_change(
        entity="order", object_id=order.pk, action=action, actor=actor, before=before, after=after
    )
    index_order(order)
    sharing.apply_rules("order", order)


def _clean_order(
    actor: User, data: Any, order: Order | None
) -> tuple[dict[str, Any], list[dict[str, Any]] | None, Cleaner]:
    if not isinstance(data, dict):
        raise ValidationFailed({"": [_("Expected an object.")]})
    c = Cleaner()
    for key in data:
        if key not in ORDER_FIELDS:
            c.add(key, _("Unknown field."))
    creating = order is None
    values: dict[str, Any] = {}

    def has(key: str) -> bool:
        return creating or key in data

    if not creating and order.status != OrderStatus.OPEN:
        for key in PRICED:
            if key in data:
                c.add(key, _("Line items and prices change only while the order is open."))
    account = order.account if order else None
    if has("account_id"):
        account = resolve_account(c, actor, data.get("account_id"), required=True)
        values["account"] = account
    if has("contact_id"):
        values["contact"] = resolve_contact(c, actor, data.get("contact_id"), account)
    elif order is not None and "account_id" in data and order.contact_id:
        values["contact"] = resolve_contact(c, actor, order.contact_id, account)
    if has("opportunity_id"):
        opportunity = resolve_opportunity(c, actor, data.get("opportunity_id"))
        if opportunity is not None and account is not None and opportunity.account_id != account.pk:
            c.add("opportunity_id", _("This opportunity belongs to another account."))
        values["opportunity"] = opportunity
    if has("status"):
        status = c.choice("status", data.get("status") or OrderStatus.OPEN, OrderStatus.choices)
        if (
            status
            and order is not None
            and status != order.status
            and status not in next_statuses(order.status)
        ):
            c.add(
                "status",
                _("An order that is %(old)s cannot become %(new)s.")
                % {
                    "old": OrderStatus(order.status).label,
                    "new": OrderStatus(status).label,
                },
            )
        if status:
            values["status"] = status
    if has("currency"):
        values["currency"] = clean_currency(c, "currency", data.get("currency"))
    currency = values.get("currency", order.currency if order else "EUR")
    if has("order_date"):
        values["order_date"] = c.date("order_date", data.get("order_date")) or (
            order.order_date if order else timezone.localdate()
        )
    if has("delivery_date"):
        values["delivery_date"] = c.date("delivery_date", data.get("delivery_date"))
    order_date = values.get("order_date", order.order_date if order else None)
    delivery_date = values.get("delivery_date", order.delivery_date if order else None)
    if order_date and delivery_date and delivery_date < order_date:
        c.add("delivery_date", _("The delivery date is before the order date."))
    if has("erp_reference"):
        values["erp_reference"] = c.text("erp_reference", data.get("erp_reference"), max_length=60)
    if has("notes"):
        values["notes"] = c.text("notes", data.get("notes"), max_length=10000)
    if has("discount_percent"):
        values["discount_percent"] = clean_percent(
            c, "discount_percent", data.get("discount_percent")
        )
    if has("discount_amount"):
        values["discount_amount"] = clean_money(
            c, "discount_amount", data.get("discount_amount"), default=Decimal("0")
        ) or Decimal("0")
    values.update(_clean_owner_and_team(c, actor, data, order))
    if has("custom"):
        values["custom"] = clean_custom_values(
            "order", data.get("custom"), existing=order.custom if order else {}, cleaner=c
        )
    lines = None
    if has("lines"):
        lines = clean_lines(c, data.get("lines"), currency=currency, price_list=None)
    return values, lines, c


def _apply_totals(c: Cleaner, order: Order, lines: list[Any]) -> None:
    totals = document_totals(
        c, lines, discount_percent=order.discount_percent, discount_amount=order.discount_amount
    )
    order.net_total, order.tax_total = totals.net_total, totals.tax_total
    order.gross_total = totals.gross_total


def order_create(*, actor: User, data: dict[str, Any]) -> Order:
    """An order entered directly (not from a quote), with the next order number."""
    permissions.require(actor, "create", "order")
    values, lines, c = _clean_order(actor, data, None)
    c.raise_if_invalid()
    order = Order(**values)
    _apply_totals(c, order, lines or [])
    c.raise_if_invalid()
    with transaction.atomic():
        order.created_at = order.updated_at = timezone.now()
        order.number = numbering.next_number("order", order.order_date)
        order.save()
        replace_lines(OrderLine, "order", order, lines or [])
        _after_change(actor, order, ChangeAction.CREATE, after=order_snapshot(order, lines))
    return order


def order_from_quote(*, actor: User, quote: Quote) -> Order:
    """The order of an accepted quote: its account, contact, opportunity, currency,
    discounts, totals and line items; call inside the transaction that accepts it."""
    today = timezone.localdate()
    order = Order(
        number=numbering.next_number("order", today), quote=quote, order_date=today,
        **{f: getattr(quote, f) for f in (
            "account_id", "contact_id", "opportunity_id", "currency", "discount_percent",
            "discount_amount", "net_total", "tax_total", "gross_total", "owner_id", "team_id",
        )},
    )  # fmt: skip
    order.created_at = order.updated_at = timezone.now()
    order.save()
    lines = copy_lines(quote.lines.all())
    replace_lines(OrderLine, "order", order, lines)
    _after_change(actor, order, ChangeAction.CREATE, after=order_snapshot(order, lines))
    return order


def _locked(actor: User, order_id: int) -> Order:
    permissions.require(actor, "edit", "order")
    order = (
        selectors.orders_visible_to(actor, for_edit=True)
        .select_for_update()
        .filter(pk=order_id)
        .first()
    )
    if order is None:
        if selectors.orders_visible_to(actor).filter(pk=order_id).exists():
            raise Forbidden(_("This record is shared with you to read, not to change."))
        raise NotFound()
    return order


def order_update(*, actor: User, order_id: int, data: dict[str, Any], version: Any = None) -> Order:
    """Change an order: status (along :data:`TRANSITIONS`), dates, ERP reference, notes;
    line items and prices while it is open. A stale ``version`` is a 409."""
    with transaction.atomic():
        order = _locked(actor, order_id)
        check_version(order, version if version is not None else data.get("version"))
        data = {k: v for k, v in data.items() if k != "version"}
        values, lines, c = _clean_order(actor, data, order)
        c.raise_if_invalid()
        before = order_snapshot(order)
        for key, value in values.items():
            setattr(order, key, value)
        if lines is None:
            lines = list(order.lines.all())
        else:
            replace_lines(OrderLine, "order", order, lines)
        if any(key in data for key in PRICED):
            _apply_totals(c, order, lines)
            c.raise_if_invalid()
        after = order_snapshot(order, lines)
        if history.diff(before, after):
            order.version += 1
            order.updated_at = timezone.now()
            order.save()
            _after_change(actor, order, ChangeAction.UPDATE, before=before, after=after)
    return order


def order_set_status(*, actor: User, order_id: int, status: str, version: Any = None) -> Order:
    return order_update(actor=actor, order_id=order_id, data={"status": status}, version=version)


def order_delete(*, actor: User, order_id: int) -> Order:
    """Move an order to the trash (soft delete); it can be restored."""
    records = selectors.orders_visible_to(actor, for_edit=True)
    return softdelete.soft_delete(actor, "order", records, order_id)


def order_restore(*, actor: User, order_id: int) -> Order:
    """Bring an order back from the trash."""
    records = selectors.orders_visible_to(actor, include_deleted=True, for_edit=True)
    return softdelete.restore(actor, "order", records, order_id, index_order)
