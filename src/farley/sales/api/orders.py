"""API: /orders — list (fast order info: `open=true`), create directly, read, change
(status along the allowed transitions, dates, ERP reference), delete and restore, history."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db.models import prefetch_related_objects
from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import ConfigDict

from farley.core import permissions, sensitive
from farley.core.apiutil import (
    ERRORS,
    ChangeOut,
    api_page,
    change_out,
    history_page,
    query_params,
    requested_version,
)
from farley.core.models import User
from farley.core.prefetch import release
from farley.sales.api.quotes import LineOut, QuoteLineIn, line_out
from farley.sales.models import Order
from farley.sales.selectors import orders as selectors
from farley.sales.services import orders as services

router = Router(tags=["orders"])


class Strict(Schema):
    model_config = ConfigDict(extra="forbid")


class OrderIn(Strict):
    account_id: int
    contact_id: int | None = None
    opportunity_id: int | None = None
    status: str = "open"
    currency: str = ""
    order_date: str | None = None
    delivery_date: str | None = None
    erp_reference: str = ""
    discount_percent: Decimal | str | None = None
    discount_amount: Decimal | str | None = None
    notes: str = ""
    lines: list[QuoteLineIn] = []
    owner_id: int | None = None
    team_id: int | None = None
    custom: dict[str, Any] = {}


class OrderPatch(Strict):
    account_id: int | None = None
    contact_id: int | None = None
    opportunity_id: int | None = None
    status: str | None = None
    currency: str | None = None
    order_date: str | None = None
    delivery_date: str | None = None
    erp_reference: str | None = None
    discount_percent: Decimal | str | None = None
    discount_amount: Decimal | str | None = None
    notes: str | None = None
    lines: list[QuoteLineIn] | None = None
    owner_id: int | None = None
    team_id: int | None = None
    custom: dict[str, Any] | None = None
    version: int | None = None


class OrderOut(Schema):
    id: int
    number: str
    status: str
    next_statuses: list[str]
    account_id: int
    account_name: str
    contact_id: int | None
    opportunity_id: int | None
    quote_id: int | None
    currency: str
    order_date: dt.date
    delivery_date: dt.date | None
    erp_reference: str
    discount_percent: str
    discount_amount: str
    net_total: str
    tax_total: str
    gross_total: str
    notes: str
    lines: list[LineOut]
    owner_id: int
    team_id: int | None
    custom: dict[str, Any]
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
    deleted_at: dt.datetime | None


class OrderList(Schema):
    items: list[OrderOut]
    next_cursor: str | None
    limit: int


def order_out(order: Order, user: User) -> dict[str, Any]:
    return {
        **{f: getattr(order, f) for f in (
            "number", "status", "account_id", "contact_id", "opportunity_id", "quote_id",
            "currency", "order_date", "delivery_date", "erp_reference", "notes", "owner_id",
            "team_id", "version", "created_at", "updated_at", "deleted_at",
        )},
        **{f: str(getattr(order, f)) for f in (
            "discount_percent", "discount_amount", "net_total", "tax_total", "gross_total",
        )},
        "id": order.pk,
        "next_statuses": list(services.next_statuses(order.status)),
        "account_name": order.account.name,
        "lines": [line_out(line) for line in order.lines.all()],
        "custom": sensitive.visible_custom(user, "order", order.custom),
    }  # fmt: skip


def _detail(request: HttpRequest, order_id: int, *, include_deleted: bool = False) -> dict:
    order = selectors.order_detail(request.user, order_id, include_deleted=include_deleted)
    prefetch_related_objects([order], "lines")
    return order_out(order, request.user)


def _plain(payload: Schema) -> dict[str, Any]:
    data = payload.model_dump(exclude_unset=True)
    for key in ("discount_percent", "discount_amount"):
        if isinstance(data.get(key), Decimal):
            data[key] = str(data[key])
    for line in data.get("lines") or []:
        for key, value in list(line.items()):
            if isinstance(value, Decimal):
                line[key] = str(value)
    return data


LIST_DOC = (
    "Filters: `q` (number, ERP reference, account name), `status` (comma list: open, "
    "confirmed, delivered, invoiced, paid, cancelled), `open` (true: not yet paid, nor "
    "cancelled), `account_id`, `contact_id`, `quote_id`. Newest first; `limit`, `cursor`."
)


@router.get("/orders", response={200: OrderList, **ERRORS}, description=LIST_DOC)
def list_orders(request: HttpRequest):
    permissions.require(request.user, "view", "order")
    queryset = selectors.order_list(request.user, query_params(request), strict=True)
    page = api_page(request, queryset, ["created_at"], descending=True)
    prefetch_related_objects(page.items, "lines")
    items = [order_out(o, request.user) for o in page.items]
    release(page.items)
    return {"items": items, "next_cursor": page.next_cursor, "limit": page.limit}


@router.post("/orders", response={201: OrderOut, **ERRORS})
def create_order(request: HttpRequest, payload: OrderIn):
    order = services.order_create(actor=request.user, data=_plain(payload))
    return Status(201, _detail(request, order.pk))


@router.get("/orders/{order_id}", response={200: OrderOut, **ERRORS})
def get_order(request: HttpRequest, order_id: int):
    return _detail(request, order_id)


@router.patch(
    "/orders/{order_id}",
    response={200: OrderOut, **ERRORS},
    description="`status` moves along open → confirmed → delivered → invoiced → paid (open "
    "and confirmed orders can be cancelled, cancelled ones reopened; `next_statuses` lists "
    "the allowed ones). Lines and prices change only while the order is open. A stale "
    "`version` is a 409.",
)
def update_order(request: HttpRequest, order_id: int, payload: OrderPatch):
    data = _plain(payload)
    version = requested_version(request, data.pop("version", None))
    services.order_update(actor=request.user, order_id=order_id, data=data, version=version)
    return _detail(request, order_id)


@router.delete("/orders/{order_id}", response={204: None, **ERRORS})
def delete_order(request: HttpRequest, order_id: int):
    services.order_delete(actor=request.user, order_id=order_id)
    return Status(204, None)


@router.post("/orders/{order_id}/restore", response={200: OrderOut, **ERRORS})
def restore_order(request: HttpRequest, order_id: int):
    services.order_restore(actor=request.user, order_id=order_id)
    return _detail(request, order_id)


@router.get("/orders/{order_id}/history", response={200: list[ChangeOut], **ERRORS})
def order_history(request: HttpRequest, order_id: int, limit: int = 100, before: int | None = None):
    selectors.order_detail(request.user, order_id, include_deleted=True)
    return [change_out(c) for c in history_page("order", order_id, limit, before)]
