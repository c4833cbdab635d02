"""Reads of quotes, shared by the pages, the API, the PDF and the 360 panel.

Expiry is computed when a quote is read, not by a job: a sent quote whose ``valid_until``
has passed *is* expired (``current_status``), in lists, filters, the API and the services
(which refuse to accept it), from the first day after its validity, with nothing to run.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Case, CharField, F, Q, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from farley.core.errors import NotFound
from farley.core.history import history_for, with_change_lines
from farley.core.models import User
from farley.core.validation import Cleaner
from farley.core.visibility import visible_records
from farley.sales.models import Quote, QuoteStatus

QUOTE_FILTERS = ("q", "status", "account_id", "contact_id", "opportunity_id", "number")


def current_status(quote: Quote, today: dt.date | None = None) -> str:
    """The status as it is today: a sent quote past its validity is expired."""
    today = today or timezone.localdate()
    if quote.status == QuoteStatus.SENT and quote.valid_until < today:
        return QuoteStatus.EXPIRED
    return quote.status


def status_label(status: str) -> str:
    return str(QuoteStatus(status).label)


def expired_q(today: dt.date | None = None) -> Q:
    today = today or timezone.localdate()
    return Q(status=QuoteStatus.EXPIRED) | Q(status=QuoteStatus.SENT, valid_until__lt=today)


def with_current_status(queryset: QuerySet[Quote]) -> QuerySet[Quote]:
    today = timezone.localdate()
    return queryset.annotate(
        current_status=Case(
            When(status=QuoteStatus.SENT, valid_until__lt=today, then=Value(QuoteStatus.EXPIRED)),
            default=F("status"),
            output_field=CharField(),
        )
    )


def quotes_visible_to(
    user: User, *, include_deleted: bool = False, for_edit: bool = False
) -> QuerySet[Quote]:
    return visible_records(
        Quote.objects.all(), user, include_deleted=include_deleted, for_edit=for_edit
    )


def quote_detail(user: User, quote_id: int, *, include_deleted: bool = False) -> Quote:
    quote = (
        quotes_visible_to(user, include_deleted=include_deleted)
        .select_related("account", "contact", "opportunity", "price_list", "owner", "team")
        .filter(pk=quote_id)
        .first()
    )
    if quote is None:
        raise NotFound()
    quote.current_status = current_status(quote)
    return quote


def quote_lines(quote: Quote) -> list[Any]:
    return list(quote.lines.select_related("product").order_by("position", "id"))


def quote_versions(user: User, quote: Quote) -> list[Quote]:
    """Every version of the quote's number that ``user`` sees, newest first."""
    return list(
        with_current_status(quotes_visible_to(user))
        .filter(number=quote.number)
        .order_by("-revision")
    )


def filter_quotes(queryset: QuerySet[Quote], params: dict[str, Any], *, strict: bool) -> QuerySet:
    """The list filters (UI and API): ``q`` (number, title, account), ``status`` (comma list;
    ``expired`` as computed), ``account_id``, ``contact_id``, ``opportunity_id``, ``number``.
    ``strict``: an unknown parameter is a 422 (the API), else ignored (the pages)."""
    c = Cleaner()
    if strict:
        for key in params:
            if key not in (*QUOTE_FILTERS, "limit", "cursor"):
                c.add(key, _("Unknown filter."))
    q = c.text("q", params.get("q"), max_length=200)
    if q:
        queryset = queryset.filter(
            Q(number__icontains=q) | Q(title__icontains=q) | Q(account__name__icontains=q)
        )
    statuses = [s for s in str(params.get("status") or "").split(",") if s]
    if statuses:
        if any(s not in QuoteStatus.values for s in statuses):
            c.add("status", _("Select a valid choice."))
        else:
            condition = Q()
            for status in statuses:
                if status == QuoteStatus.EXPIRED:
                    condition |= expired_q()
                elif status == QuoteStatus.SENT:
                    condition |= Q(status=QuoteStatus.SENT) & ~expired_q()
                else:
                    condition |= Q(status=status)
            queryset = queryset.filter(condition)
    for key in ("account_id", "contact_id", "opportunity_id"):
        pk = c.integer(key, params.get(key), minimum=1, maximum=2**63 - 1)
        if pk is not None:
            queryset = queryset.filter(**{key: pk})
    number = c.text("number", params.get("number"), max_length=40)
    if number:
        queryset = queryset.filter(number=number)
    c.raise_if_invalid()
    return queryset


def quote_list(
    user: User, params: dict[str, Any], *, strict: bool = False, trash: bool = False
) -> QuerySet[Quote]:
    """The list (UI and API); ``trash``: only the deleted quotes, to restore them."""
    visible = quotes_visible_to(user, include_deleted=trash)
    if trash:
        visible = visible.filter(deleted_at__isnull=False)
    queryset = with_current_status(visible).select_related("account", "contact", "owner")
    return filter_quotes(queryset, params, strict=strict)


def quotes_of(user: User, record: Any, *, limit: int = 10) -> list[Quote]:
    """The latest quotes of an account or contact (newest first): the 360 panel."""
    field = "contact" if record._meta.model_name == "contact" else "account"
    return list(
        with_current_status(quotes_visible_to(user))
        .filter(**{field: record})
        .exclude(status=QuoteStatus.SUPERSEDED)
        .order_by("-quote_date", "-id")[:limit]
    )


def quote_history(quote: Quote, limit: int = 200) -> list[Any]:
    return with_change_lines("quote", list(history_for("quote", quote.pk)[:limit]))
