"""Pages: orders — list (open ones first at hand), form, 360 page with the status steps,
delete and restore."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from farley.contacts import selectors as contact_selectors
from farley.core import customfields, panels, permissions, sensitive
from farley.core import selectors as core_selectors
from farley.core.errors import Conflict, Forbidden, ValidationFailed
from farley.sales.models import Order, OrderStatus, ProductUnit, TaxRate
from farley.sales.selectors import catalogue as catalogue_selectors
from farley.sales.selectors import orders as selectors
from farley.sales.services import orders as services
from farley.sales.services.line_items import LINE_FIELDS
from farley.sales.views.quotes import _account_from_text, _contacts_of, account_label, form_line
from farley.web.formdata import custom_values, rows, simple

ENTITY = "order"
PAGE_SIZE = 50
FORM_FIELDS = [
    "contact_id", "status", "currency", "order_date", "delivery_date", "erp_reference",
    "discount_percent", "discount_amount", "notes", "owner_id", "team_id",
]  # fmt: skip
STATUS_BADGES = {
    "open": "primary", "confirmed": "info", "delivered": "secondary", "invoiced": "warning",
    "paid": "success", "cancelled": "dark",
}  # fmt: skip


@login_required
def order_list(request: HttpRequest) -> HttpResponse:
    permissions.require(request.user, "view", ENTITY)
    params = {k: v for k, v in request.GET.items() if k in selectors.ORDER_FILTERS and v}
    trash = request.GET.get("trash") == "1"
    try:
        queryset = selectors.order_list(request.user, params, trash=trash)
    except ValidationFailed:
        params, queryset = {}, selectors.order_list(request.user, {}, trash=trash)
    page = Paginator(queryset.order_by("-created_at", "-id"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "sales/orders/list.html",
        {
            "nav": "orders",
            "trash": trash,
            "page": page,
            "params": params,
            "statuses": OrderStatus.choices,
            "badges": STATUS_BADGES,
        },
    )


def _definitions(request: HttpRequest) -> list[Any]:
    return sensitive.visible_definitions(request.user, ENTITY, customfields.definitions_for(ENTITY))


def _initial(request: HttpRequest, order: Order | None) -> dict[str, Any]:
    if order is None:
        values: dict[str, Any] = {"lines": [{}], "custom": {}, "currency": "EUR",
                                  "status": OrderStatus.OPEN}  # fmt: skip
        account_id = request.GET.get("account", "")
        if account_id.isdigit():
            account = (
                contact_selectors.accounts_visible_to(request.user).filter(pk=account_id).first()
            )
            values.update(account=account_label(account), account_obj=account)
        return values
    values = {f: getattr(order, f) for f in FORM_FIELDS}
    for key in ("order_date", "delivery_date"):
        values[key] = values[key].isoformat() if values[key] else ""
    values.update(account=account_label(order.account), account_obj=order.account)
    values["custom"] = dict(order.custom)
    values["lines"] = [form_line(line) for line in order.lines.all()]
    return values


def _order_form(request: HttpRequest, order: Order | None) -> HttpResponse:
    if order is None:
        permissions.require(request.user, "create", ENTITY)
    lines_editable = order is None or order.status == OrderStatus.OPEN
    values, errors, status = _initial(request, order), {}, 200
    if request.method == "POST":
        post = request.POST
        data = simple(post, [f for f in FORM_FIELDS if f != "status" or order is None])
        for key in ("owner_id", "team_id", "contact_id"):
            if data.get(key) == "":
                data[key] = None
        account_text = post.get("account", "").strip()
        if order is None or account_text != account_label(order.account):
            account = _account_from_text(request, account_text) if account_text else None
            data["account_id"] = account.pk if account else (0 if account_text else None)
        if lines_editable:
            data["lines"] = [
                {k: v for k, v in row.items() if k in LINE_FIELDS}
                for row in rows(post, "lines", "product_id,description,quantity,unit_price")
            ]
        else:
            for key in ("currency", "discount_percent", "discount_amount"):
                data.pop(key, None)
        data["custom"] = custom_values(post, _definitions(request))
        try:
            if order is None:
                saved = services.order_create(actor=request.user, data=data)
            else:
                saved = services.order_update(
                    actor=request.user, order_id=order.pk, data=data,
                    version=post.get("version"),
                )  # fmt: skip
        except ValidationFailed as exc:
            errors, status = exc.fields, 422
            if "account_id" in errors:
                errors.setdefault("account", errors["account_id"])
        except Conflict:
            errors, status = {"": [_("Someone else saved this order meanwhile; saving again replaces their changes.")]}, 409  # fmt: skip
            order.refresh_from_db()
        except Forbidden as exc:
            errors, status = {"": [exc.message]}, 403
        else:
            messages.success(request, _("Saved."))
            return redirect("sales:order_detail", saved.pk)
        values = {**values, **data, "account": account_text,
                  "account_obj": _account_from_text(request, account_text)}  # fmt: skip
        if lines_editable:
            values["lines"] = data["lines"] or [{}]
    keep = [int(x["product_id"]) for x in values["lines"]
            if str(x.get("product_id") or "").isdigit()]  # fmt: skip
    context = {
        "nav": "orders",
        "order": order,
        "values": values,
        "errors": errors,
        "lines_editable": lines_editable,
        "contacts": _contacts_of(request, values.get("account_obj")),
        "products": catalogue_selectors.product_choices(request.user, keep=keep),
        "statuses": OrderStatus.choices,
        "units": ProductUnit.choices,
        "tax_rates": TaxRate.choices,
        "owners": core_selectors.user_choices(),
        "teams": core_selectors.team_choices(),
        "definitions": _definitions(request),
        "lines": selectors.order_lines(order) if order and not lines_editable else [],
    }
    return render(request, "sales/orders/form.html", context, status=status)


@login_required
def order_create(request: HttpRequest) -> HttpResponse:
    return _order_form(request, None)


@login_required
def order_edit(request: HttpRequest, order_id: int) -> HttpResponse:
    order = selectors.order_detail(request.user, order_id)
    permissions.require(request.user, "edit", ENTITY)
    if not selectors.orders_visible_to(request.user, for_edit=True).filter(pk=order.pk).exists():
        raise Forbidden(_("This record is shared with you to read, not to change."))
    return _order_form(request, order)


@login_required
def order_detail(request: HttpRequest, order_id: int) -> HttpResponse:
    order = selectors.order_detail(request.user, order_id, include_deleted=True)
    may_edit = (
        not order.is_deleted
        and permissions.can(request.user, "edit", ENTITY)
        and selectors.orders_visible_to(request.user, for_edit=True).filter(pk=order.pk).exists()
    )
    labels = dict(OrderStatus.choices)
    return render(
        request,
        "sales/orders/detail.html",
        {
            "nav": "orders",
            "record": order,
            "order": order,
            "badges": STATUS_BADGES,
            "lines": selectors.order_lines(order),
            "history": selectors.order_history(order),
            "may_edit": may_edit,
            "may_delete": permissions.can(request.user, "delete", ENTITY),
            "next_statuses": [(s, labels[s]) for s in services.next_statuses(order.status)],
            "definitions": _definitions(request),
            "panels_side": panels.panels_for(ENTITY, request.user, order, "side"),
        },
    )


@login_required
@require_POST
def order_status(request: HttpRequest, order_id: int) -> HttpResponse:
    try:
        services.order_set_status(
            actor=request.user, order_id=order_id, status=request.POST.get("status", ""),
            version=request.POST.get("version"),
        )  # fmt: skip
    except (ValidationFailed, Conflict) as exc:
        for text in [m for ms in exc.fields.values() for m in ms] or [exc.message]:
            messages.error(request, text)
    else:
        messages.success(request, _("The order's status was changed."))
    return redirect("sales:order_detail", order_id)


@login_required
@require_POST
def order_delete(request: HttpRequest, order_id: int) -> HttpResponse:
    services.order_delete(actor=request.user, order_id=order_id)
    messages.success(request, _("Moved to the trash. You can restore it from its page."))
    return redirect("sales:order_list")


@login_required
@require_POST
def order_restore(request: HttpRequest, order_id: int) -> HttpResponse:
    services.order_restore(actor=request.user, order_id=order_id)
    messages.success(request, _("Restored."))
    return redirect("sales:order_detail", order_id)


urlpatterns = [
    path("orders/", order_list, name="order_list"),
    path("orders/new/", order_create, name="order_create"),
    path("orders/<int:order_id>/", order_detail, name="order_detail"),
    path("orders/<int:order_id>/edit/", order_edit, name="order_edit"),
    path("orders/<int:order_id>/status/", order_status, name="order_status"),
    path("orders/<int:order_id>/delete/", order_delete, name="order_delete"),
    path("orders/<int:order_id>/restore/", order_restore, name="order_restore"),
]
