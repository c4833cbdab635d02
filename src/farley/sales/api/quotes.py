"""API: /quotes — create, list, read, change drafts, PDF, send, revise, accept, reject,
delete and restore, history."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db.models import prefetch_related_objects
from django.http import HttpRequest, HttpResponse
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
from farley.sales.models import Order, Quote
from farley.sales.quote_pdf import quote_pdf, quote_pdf_name
from farley.sales.selectors import quotes as selectors
from farley.sales.services import quotes as services

router = Router(tags=["quotes"])


class Strict(Schema):
    model_config = ConfigDict(extra="forbid")


class QuoteLineIn(Strict):
    product_id: int | None = None
    description: str = ""
    quantity: Decimal | str
    unit: str = ""
    unit_price: Decimal | str | None = None
    discount_percent: Decimal | str | None = None
    discount_amount: Decimal | str | None = None
    tax_rate: str = ""


class LineOut(Schema):
    position: int
    product_id: int | None
    sku: str
    description: str
    quantity: str
    unit: str
    unit_price: str
    discount_percent: str
    discount_amount: str
    tax_rate: str
    net_amount: str


class QuoteIn(Strict):
    account_id: int | None = None
    contact_id: int | None = None
    opportunity_id: int | None = None
    price_list_id: int | None = None
    title: str = ""
    currency: str = ""
    language: str = ""
    quote_date: str | None = None
    valid_until: str | None = None
    discount_percent: Decimal | str | None = None
    discount_amount: Decimal | str | None = None
    introduction: str = ""
    terms: str = ""
    lines: list[QuoteLineIn] | None = None
    owner_id: int | None = None
    team_id: int | None = None
    custom: dict[str, Any] = {}


class QuotePatch(Strict):
    account_id: int | None = None
    contact_id: int | None = None
    opportunity_id: int | None = None
    price_list_id: int | None = None
    title: str | None = None
    currency: str | None = None
    language: str | None = None
    quote_date: str | None = None
    valid_until: str | None = None
    discount_percent: Decimal | str | None = None
    discount_amount: Decimal | str | None = None
    introduction: str | None = None
    terms: str | None = None
    lines: list[QuoteLineIn] | None = None
    owner_id: int | None = None
    team_id: int | None = None
    custom: dict[str, Any] | None = None
    version: int | None = None


class QuoteOut(Schema):
    id: int
    number: str
    revision: int
    previous_id: int | None
    status: str
    account_id: int
    account_name: str
    contact_id: int | None
    opportunity_id: int | None
    price_list_id: int | None
    title: str
    currency: str
    language: str
    quote_date: dt.date
    valid_until: dt.date
    discount_percent: str
    discount_amount: str
    introduction: str
    terms: str
    net_total: str
    tax_total: str
    gross_total: str
    sent_at: dt.datetime | None
    decided_at: dt.datetime | None
    order_id: int | None
    lines: list[LineOut]
    owner_id: int
    team_id: int | None
    custom: dict[str, Any]
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
    deleted_at: dt.datetime | None


class QuoteList(Schema):
    items: list[QuoteOut]
    next_cursor: str | None
    limit: int


class ActionIn(Strict):
    version: int | None = None


class SendIn(Strict):
    to: str
    subject: str = ""
    message: str = ""
    version: int | None = None


class AcceptOut(Schema):
    order_id: int
    order_number: str
    quote: QuoteOut


def line_out(line: Any) -> dict[str, Any]:
    return {
        "position": line.position,
        "product_id": line.product_id,
        "sku": line.sku,
        "description": line.description,
        "quantity": str(line.quantity),
        "unit": line.unit,
        "unit_price": str(line.unit_price),
        "discount_percent": str(line.discount_percent),
        "discount_amount": str(line.discount_amount),
        "tax_rate": line.tax_rate,
        "net_amount": str(line.net_amount),
    }


def quote_out(quote: Quote, user: User) -> dict[str, Any]:
    """``quote`` with ``lines`` and ``order`` prefetched (see :func:`_prefetch`)."""
    try:
        order_id = quote.order.pk
    except Order.DoesNotExist:
        order_id = None
    return {
        "id": quote.pk,
        "number": quote.number,
        "revision": quote.revision,
        "previous_id": quote.previous_id,
        "status": selectors.current_status(quote),
        "account_id": quote.account_id,
        "account_name": quote.account.name,
        "contact_id": quote.contact_id,
        "opportunity_id": quote.opportunity_id,
        "price_list_id": quote.price_list_id,
        "title": quote.title,
        "currency": quote.currency,
        "language": quote.language,
        "quote_date": quote.quote_date,
        "valid_until": quote.valid_until,
        "discount_percent": str(quote.discount_percent),
        "discount_amount": str(quote.discount_amount),
        "introduction": quote.introduction,
        "terms": quote.terms,
        "net_total": str(quote.net_total),
        "tax_total": str(quote.tax_total),
        "gross_total": str(quote.gross_total),
        "sent_at": quote.sent_at,
        "decided_at": quote.decided_at,
        "order_id": order_id,
        "lines": [line_out(line) for line in quote.lines.all()],
        "owner_id": quote.owner_id,
        "team_id": quote.team_id,
        "custom": sensitive.visible_custom(user, "quote", quote.custom),
        "version": quote.version,
        "created_at": quote.created_at,
        "updated_at": quote.updated_at,
        "deleted_at": quote.deleted_at,
    }


def _prefetch(quotes: list[Quote]) -> None:
    prefetch_related_objects(quotes, "lines", "order")


def _detail(request: HttpRequest, quote_id: int, *, include_deleted: bool = False) -> dict:
    quote = selectors.quote_detail(request.user, quote_id, include_deleted=include_deleted)
    _prefetch([quote])
    return quote_out(quote, request.user)


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
    "Filters: `q` (number, title, account name), `status` (comma list: draft, sent, accepted, "
    "rejected, expired, superseded; a sent quote past its validity is `expired`), `account_id`, "
    "`contact_id`, `opportunity_id`, `number`. Newest first; `limit` (1-200), `cursor`."
)


@router.get("/quotes", response={200: QuoteList, **ERRORS}, description=LIST_DOC)
def list_quotes(request: HttpRequest):
    permissions.require(request.user, "view", "quote")
    queryset = selectors.quote_list(request.user, query_params(request), strict=True)
    page = api_page(request, queryset, ["created_at"], descending=True)
    _prefetch(page.items)
    items = [quote_out(q, request.user) for q in page.items]
    release(page.items)
    return {"items": items, "next_cursor": page.next_cursor, "limit": page.limit}


@router.post(
    "/quotes",
    response={201: QuoteOut, **ERRORS},
    description="A draft for `account_id`, or for `opportunity_id` (its account, currency and "
    "lines unless given). A line with `product_id` takes what it leaves empty from the product "
    "(and the price list).",
)
def create_quote(request: HttpRequest, payload: QuoteIn):
    quote = services.quote_create(actor=request.user, data=_plain(payload))
    return Status(201, _detail(request, quote.pk))


@router.get("/quotes/{quote_id}", response={200: QuoteOut, **ERRORS})
def get_quote(request: HttpRequest, quote_id: int):
    return _detail(request, quote_id)


@router.patch(
    "/quotes/{quote_id}",
    response={200: QuoteOut, **ERRORS},
    description="Drafts only (422 otherwise: revise a sent quote). `lines`, when given, "
    "replace all lines. A stale `version` is a 409.",
)
def update_quote(request: HttpRequest, quote_id: int, payload: QuotePatch):
    data = _plain(payload)
    version = requested_version(request, data.pop("version", None))
    services.quote_update(actor=request.user, quote_id=quote_id, data=data, version=version)
    return _detail(request, quote_id)


@router.delete("/quotes/{quote_id}", response={204: None, **ERRORS})
def delete_quote(request: HttpRequest, quote_id: int):
    services.quote_delete(actor=request.user, quote_id=quote_id)
    return Status(204, None)


@router.post("/quotes/{quote_id}/restore", response={200: QuoteOut, **ERRORS})
def restore_quote(request: HttpRequest, quote_id: int):
    services.quote_restore(actor=request.user, quote_id=quote_id)
    return _detail(request, quote_id)


@router.get("/quotes/{quote_id}/history", response={200: list[ChangeOut], **ERRORS})
def quote_history(request: HttpRequest, quote_id: int, limit: int = 100, before: int | None = None):
    selectors.quote_detail(request.user, quote_id, include_deleted=True)
    return [change_out(c) for c in history_page("quote", quote_id, limit, before)]


@router.get(
    "/quotes/{quote_id}/pdf",
    response={200: None, **ERRORS},
    description="The quote as PDF (application/pdf), in the quote's language.",
)
def quote_pdf_download(request: HttpRequest, quote_id: int):
    quote = selectors.quote_detail(request.user, quote_id)
    response = HttpResponse(
        quote_pdf(quote, selectors.quote_lines(quote)), content_type="application/pdf"
    )
    response["Content-Disposition"] = f'attachment; filename="{quote_pdf_name(quote)}"'
    return response


@router.post(
    "/quotes/{quote_id}/send",
    response={200: QuoteOut, **ERRORS},
    description="Email the PDF to `to` (an address of the quote's contact or account) and mark "
    "the quote sent; the email is logged on the timeline. `subject` and `message` default to "
    "a text in the quote's language.",
)
def send_quote(request: HttpRequest, quote_id: int, payload: SendIn):
    services.quote_send(
        actor=request.user, quote_id=quote_id, to=payload.to, subject=payload.subject,
        message=payload.message, version=requested_version(request, payload.version),
    )  # fmt: skip
    return _detail(request, quote_id)


@router.post(
    "/quotes/{quote_id}/revise",
    response={201: QuoteOut, **ERRORS},
    description="A sent (or expired or rejected) quote gets a new version: a draft with the "
    "same number and the next revision; the old one becomes `superseded` and stays readable.",
)
def revise_quote(request: HttpRequest, quote_id: int, payload: ActionIn):
    new = services.quote_revise(
        actor=request.user, quote_id=quote_id, version=requested_version(request, payload.version)
    )
    return Status(201, _detail(request, new.pk))


@router.post(
    "/quotes/{quote_id}/accept",
    response={200: AcceptOut, **ERRORS},
    description="A sent quote that is still valid becomes accepted and its order is created "
    "(`order_id`); an expired quote is a 422.",
)
def accept_quote(request: HttpRequest, quote_id: int, payload: ActionIn):
    quote, order = services.quote_accept(
        actor=request.user, quote_id=quote_id, version=requested_version(request, payload.version)
    )
    return {"order_id": order.pk, "order_number": order.number,
            "quote": _detail(request, quote.pk)}  # fmt: skip


@router.post("/quotes/{quote_id}/reject", response={200: QuoteOut, **ERRORS})
def reject_quote(request: HttpRequest, quote_id: int, payload: ActionIn):
    services.quote_reject(
        actor=request.user, quote_id=quote_id, version=requested_version(request, payload.version)
    )
    return _detail(request, quote_id)
