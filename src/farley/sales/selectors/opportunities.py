"""Reads of pipelines, loss reasons and opportunities (deals), shared by the UI and the API.

Every read of deals starts from :func:`opportunities_visible_to` (the one visibility mechanism
of core). The list filters (:data:`FILTERS`) serve the list page, the board, the API and the
sharing rules alike. The board's column counts and sums are computed by the database, one
aggregate over the pipeline, and its cards are read per column, a page at a time, so the cost
of the board grows with the number of stages, not of deals.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import (
    BooleanField,
    Case,
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    Prefetch,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from farley.contacts.models import Account, Contact
from farley.contacts.selectors import contacts_visible_to
from farley.core import sensitive
from farley.core.errors import NotFound, ValidationFailed
from farley.core.history import history_for, with_change_lines
from farley.core.models import User
from farley.core.pagination import BadCursor, Page, keyset_page
from farley.core.validation import Cleaner
from farley.core.visibility import visible_records
from farley.sales.models import (
    LossReason,
    Opportunity,
    OpportunityContact,
    Pipeline,
    Stage,
    StageChange,
    StageKind,
)

ENTITY = "opportunity"
BOARD_PAGE = 30
MAX_LIMIT = 200
CENT = Decimal("0.01")


def opportunities_visible_to(
    user: User, *, include_deleted: bool = False, for_edit: bool = False
) -> QuerySet[Opportunity]:
    """The deals ``user`` sees; ``for_edit``: only those they may change."""
    return visible_records(
        Opportunity.objects.all(), user, include_deleted=include_deleted, for_edit=for_edit
    )


# --- configuration ---------------------------------------------------------------------------


def pipelines(*, active_only: bool = False) -> list[Pipeline]:
    """Pipelines in their order, each with its stages."""
    queryset = Pipeline.objects.prefetch_related(
        Prefetch("stages", queryset=Stage.objects.order_by("order", "id"))
    )
    if active_only:
        queryset = queryset.filter(active=True)
    return list(queryset.order_by("order", "name"))


def default_pipeline() -> Pipeline | None:
    """The pipeline new deals go to: the default one, else the first active one."""
    return Pipeline.objects.filter(active=True).order_by("-is_default", "order", "name").first()


def pipeline_detail(pipeline_id: int) -> Pipeline:
    pipeline = (
        Pipeline.objects.prefetch_related(
            Prefetch("stages", queryset=Stage.objects.order_by("order", "id"))
        )
        .filter(pk=pipeline_id)
        .first()
    )
    if pipeline is None:
        raise NotFound()
    return pipeline


def pipeline_deal_counts() -> dict[int, int]:
    """How many deals (also those in the trash) each pipeline has."""
    rows = Opportunity.objects.values("pipeline_id").annotate(n=Count("id")).order_by()
    return {row["pipeline_id"]: row["n"] for row in rows}


def stage_deal_counts(pipeline: Pipeline) -> dict[int, int]:
    rows = (
        Opportunity.objects.filter(pipeline=pipeline, deleted_at__isnull=True)
        .values("stage_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {row["stage_id"]: row["n"] for row in rows}


def loss_reasons(*, active_only: bool = False) -> list[LossReason]:
    queryset = LossReason.objects.all()
    if active_only:
        queryset = queryset.filter(active=True)
    return list(queryset.order_by("order", "name"))


# --- stale deals -----------------------------------------------------------------------------


def stale_q(now: dt.datetime | None = None) -> Q:
    """Open deals without activity for their pipeline's ``stale_after_days``, or whose expected
    close date has passed. (Closed deals have ``closed_at``.)"""
    now = now or timezone.now()
    activity = Q()
    for pk, days in Pipeline.objects.values_list("pk", "stale_after_days"):
        limit = now - dt.timedelta(days=days)
        activity |= Q(pipeline_id=pk, last_activity_at__lt=limit)
        activity |= Q(pipeline_id=pk, last_activity_at__isnull=True, created_at__lt=limit)
    overdue = Q(expected_close_date__lt=timezone.localdate(now))
    return Q(closed_at__isnull=True) & (overdue | activity)


def stale_reasons(opportunity: Opportunity, stale_after_days: int) -> list[str]:
    """Why a deal is stale, in words (empty: it is not)."""
    if opportunity.closed_at is not None:
        return []
    reasons = []
    now = timezone.now()
    last = opportunity.last_activity_at or opportunity.created_at
    if last and last < now - dt.timedelta(days=stale_after_days):
        days = (now - last).days
        reasons.append(_("No activity for %(days)d days") % {"days": days})
    if opportunity.expected_close_date and opportunity.expected_close_date < timezone.localdate():
        reasons.append(_("Close date has passed"))
    return reasons


def mark_stale(items: list[Opportunity]) -> list[Opportunity]:
    """Set ``.stale`` (a list of reasons) on each deal; one query for the pipelines' limits."""
    days = dict(Pipeline.objects.values_list("pk", "stale_after_days"))
    for item in items:
        item.stale = stale_reasons(item, days.get(item.pipeline_id, 30))
    return items


# --- list filters ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ListFilter:
    name: str
    label: Any
    kind: str  # text, id, date, decimal, choice, boolean


FILTERS = [
    ListFilter("q", gettext_lazy("Name or account contains"), "text"),
    ListFilter("pipeline", gettext_lazy("Pipeline"), "id"),
    ListFilter("stage", gettext_lazy("Stage"), "id"),
    ListFilter("owner", gettext_lazy("Owner"), "id"),
    ListFilter("team", gettext_lazy("Team"), "id"),
    ListFilter("account", gettext_lazy("Account"), "id"),
    ListFilter("contact", gettext_lazy("Contact"), "id"),
    ListFilter("close_from", gettext_lazy("Expected close from"), "date"),
    ListFilter("close_to", gettext_lazy("Expected close to"), "date"),
    ListFilter("amount_min", gettext_lazy("Amount from"), "decimal"),
    ListFilter("amount_max", gettext_lazy("Amount to"), "decimal"),
    ListFilter("status", gettext_lazy("Status"), "choice"),
    ListFilter("stale", gettext_lazy("Stale"), "boolean"),
]
FILTER_NAMES = {f.name for f in FILTERS}
BOARD_FILTERS = ("owner", "team", "close_from", "close_to", "amount_min", "amount_max", "q")
LIST_PARAMS = {"sort", "limit", "cursor"}
SORTS = {
    "name": ["name"],
    "close_date": ["expected_close_date"],
    "amount": ["amount"],
    "probability": ["probability"],
    "created": ["created_at"],
    "updated": ["updated_at"],
    "last_activity": ["last_activity_at"],
}
STATUSES = [
    (StageKind.OPEN, gettext_lazy("open")),
    (StageKind.WON, gettext_lazy("won")),
    (StageKind.LOST, gettext_lazy("lost")),
]


def filter_q(params: Mapping[str, Any], cleaner: Cleaner) -> Q:
    """The deals matching the list filters ``params``; bad values are errors in ``cleaner``."""
    q = Q()

    def get(key: str) -> str:
        value = params.get(key)
        if isinstance(value, int | Decimal) and not isinstance(value, bool):
            return str(value)
        return value.strip() if isinstance(value, str) else ""

    if text := get("q"):
        for word in text.split()[:5]:
            q &= Q(name__icontains=word) | Q(account__name__icontains=word)
    for key, column in (
        ("pipeline", "pipeline_id"),
        ("stage", "stage_id"),
        ("owner", "owner_id"),
        ("team", "team_id"),
        ("account", "account_id"),
    ):
        if raw := get(key):
            value = cleaner.integer(key, raw, minimum=1, maximum=2**63 - 1)
            if value is not None:
                q &= Q(**{column: value})
    if raw := get("contact"):
        value = cleaner.integer("contact", raw, minimum=1, maximum=2**63 - 1)
        if value is not None:
            q &= Q(
                pk__in=OpportunityContact.objects.filter(contact_id=value).values("opportunity_id")
            )
    for key, lookup in (("close_from", "gte"), ("close_to", "lte")):
        if raw := get(key):
            day = cleaner.date(key, raw)
            if day is not None:
                q &= Q(**{f"expected_close_date__{lookup}": day})
    for key, lookup in (("amount_min", "gte"), ("amount_max", "lte")):
        if raw := get(key):
            amount = cleaner.decimal(key, raw)
            if amount is not None:
                q &= Q(**{f"amount__{lookup}": amount})
    if status := get("status"):
        if status not in StageKind.values:
            cleaner.add("status", _("Select a valid choice."))
        else:
            q &= Q(stage__kind=status)
    if raw := get("stale"):
        stale = cleaner.boolean("stale", raw)
        q &= stale_q() if stale else ~stale_q()
    return q


def criteria_q(criteria: Mapping[str, Any]) -> Q:
    """The deals matching sharing-rule ``criteria`` (list filters); raises on bad ones."""
    cleaner = Cleaner()
    q = filter_q(criteria, cleaner)
    cleaner.raise_if_invalid()
    return q


def _param(params: Mapping[str, Any], key: str, default: str = "") -> str:
    value = params.get(key)
    return value.strip() if isinstance(value, str) and value.strip() else default


def filtered_list(
    user: User,
    params: Mapping[str, Any],
    *,
    strict: bool = False,
) -> tuple[QuerySet[Opportunity], list[str], bool]:
    """The visible, filtered deals and their sort; ``strict`` (API) raises on bad filters and
    on parameters that are no filter."""
    cleaner = Cleaner()
    queryset = opportunities_visible_to(user).filter(filter_q(params, cleaner))
    sort = _param(params, "sort", "close_date")
    descending = sort.startswith("-")
    if sort.lstrip("-") not in SORTS:
        cleaner.add("sort", _("Sort by one of: %(names)s.") % {"names": ", ".join(SORTS)})
        sort, descending = "close_date", False
    if strict:
        for key in params:
            if key not in FILTER_NAMES | LIST_PARAMS:
                cleaner.add(key, _("Unknown filter."))
        cleaner.raise_if_invalid()
    queryset = queryset.select_related("account", "pipeline", "stage", "owner", "team")
    return queryset, SORTS[sort.lstrip("-")], descending


def list_page(user: User, params: Mapping[str, Any], *, strict: bool = False) -> Page:
    queryset, fields, descending = filtered_list(user, params, strict=strict)
    cleaner = Cleaner()
    limit = cleaner.integer("limit", params.get("limit") or 50, minimum=1, maximum=MAX_LIMIT) or 50
    if strict:
        cleaner.raise_if_invalid()
    try:
        return keyset_page(
            queryset, fields=fields, descending=descending, limit=limit,
            cursor=params.get("cursor") or None,
        )  # fmt: skip
    except BadCursor:
        if strict:
            raise ValidationFailed({"cursor": [_("This cursor is not valid.")]}) from None
        return keyset_page(queryset, fields=fields, descending=descending, limit=limit)


WEIGHTED = ExpressionWrapper(
    F("amount") * F("probability") / Value(100),
    output_field=DecimalField(max_digits=20, decimal_places=4),
)


@dataclass
class Total:
    currency: str
    count: int
    amount: Decimal
    weighted: Decimal


def totals(queryset: QuerySet[Opportunity]) -> list[Total]:
    """Count, sum and weighted sum (amount × probability) per currency, in one query."""
    rows = (
        queryset.order_by()
        .values("currency")
        .annotate(n=Count("id"), amount_sum=Sum("amount"), weighted_sum=Sum(WEIGHTED))
        .order_by("currency")
    )
    return [
        Total(
            r["currency"],
            r["n"],
            Decimal(r["amount_sum"] or 0).quantize(Decimal("0.01")),
            Decimal(r["weighted_sum"] or 0).quantize(Decimal("0.01")),
        )
        for r in rows
    ]


# --- one deal --------------------------------------------------------------------------------


def visible_contact_roles(user: User) -> Prefetch:
    visible = contacts_visible_to(user).values("pk")
    return Prefetch(
        "contact_roles",
        queryset=OpportunityContact.objects.filter(contact__in=visible)
        .select_related("contact")
        .order_by("contact__last_name", "contact__first_name", "pk"),
    )


def opportunity_detail(
    user: User, opportunity_id: int, *, include_deleted: bool = False
) -> Opportunity:
    opportunity = (
        opportunities_visible_to(user, include_deleted=include_deleted)
        .select_related("account", "pipeline", "stage", "owner", "team", "loss_reason")
        .prefetch_related(
            visible_contact_roles(user),
            "lines",
            Prefetch("pipeline__stages", queryset=Stage.objects.order_by("order", "id")),
        )
        .filter(pk=opportunity_id)
        .first()
    )
    if opportunity is None:
        raise NotFound()
    mark_stale([opportunity])
    return opportunity


def stage_changes(opportunity: Opportunity, limit: int = 500) -> list[StageChange]:
    """The deal's moves between stages, newest first."""
    return list(
        StageChange.objects.filter(opportunity=opportunity)
        .select_related("from_stage", "to_stage", "changed_by")
        .order_by("-changed_at", "-id")[:limit]
    )


def record_history(opportunity: Opportunity, user: User | None = None, limit: int = 200):
    changes = list(history_for(ENTITY, opportunity.pk)[:limit])
    for change in changes:
        change.changes = sensitive.mask_changes(user, ENTITY, change.changes)
    return with_change_lines(ENTITY, changes)


def trash(user: User, limit: int = 200) -> list[Opportunity]:
    return list(
        opportunities_visible_to(user, include_deleted=True)
        .filter(deleted_at__isnull=False)
        .select_related("account", "deleted_by")
        .order_by("-deleted_at")[:limit]
    )


# --- the board -------------------------------------------------------------------------------


@dataclass
class Column:
    stage: Stage
    count: int = 0
    sums: list[tuple[str, Decimal]] = field(default_factory=list)
    cards: list[Opportunity] = field(default_factory=list)
    next_cursor: str | None = None


@dataclass
class Board:
    pipeline: Pipeline
    columns: list[Column]
    params: dict[str, str]


def board_params(params: Mapping[str, Any]) -> tuple[dict[str, str], Q]:
    """The board's filters from the query string, and their Q; bad values are dropped."""
    chosen = {key: _param(params, key) for key in BOARD_FILTERS if _param(params, key)}
    cleaner = Cleaner()
    q = filter_q(chosen, cleaner)
    if not cleaner.ok:
        chosen = {k: v for k, v in chosen.items() if k not in cleaner.errors}
        q = filter_q(chosen, Cleaner())
    return chosen, q


# What a card shows and needs (a board reads up to 50 cards per column).
CARD_FIELDS = (
    "id", "version", "name", "amount", "currency", "probability", "expected_close_date",
    "closed_at", "last_activity_at", "created_at", "board_rank", "pipeline_id", "stage_id",
    "owner_id", "account_id", "account__name",
)  # fmt: skip


def _board_base(user: User, pipeline: Pipeline, q: Q) -> QuerySet[Opportunity]:
    return opportunities_visible_to(user).filter(q, pipeline=pipeline)


def _encode_cursor(card: Opportunity) -> str:
    return f"{card.board_rank!r}_{card.pk}"


def _after_cursor(cursor: str | None) -> Q:
    if not cursor:
        return Q()
    try:
        rank_text, pk_text = cursor.rsplit("_", 1)
        rank, pk = float(rank_text), int(pk_text)
    except ValueError:
        return Q()
    if rank != rank or rank in (float("inf"), float("-inf")):
        return Q()
    return Q(board_rank__gt=rank) | Q(board_rank=rank, pk__gt=pk)


def column_cards(
    user: User,
    pipeline: Pipeline,
    stage: Stage,
    q: Q,
    *,
    cursor: str | None = None,
    limit: int = BOARD_PAGE,
) -> tuple[list[Opportunity], str | None]:
    """One page of a column's cards, by board rank (one query; the index serves it)."""
    cards = list(
        _board_base(user, pipeline, q)
        .filter(_after_cursor(cursor), stage=stage)
        .select_related("account")
        .only(*CARD_FIELDS)
        .order_by("board_rank", "id")[: limit + 1]
    )
    next_cursor = _encode_cursor(cards[limit - 1]) if len(cards) > limit else None
    return cards[:limit], next_cursor


def column_totals(user: User, pipeline: Pipeline, q: Q) -> dict[int, tuple[int, list]]:
    """``{stage_id: (count, [(currency, sum), ...])}`` for the whole board in one aggregate."""
    rows = (
        _board_base(user, pipeline, q)
        .order_by()
        .values("stage_id", "currency")
        .annotate(n=Count("id"), total=Sum("amount"))
        .order_by("stage_id", "currency")
    )
    result: dict[int, tuple[int, list]] = {}
    for row in rows:
        count, sums = result.get(row["stage_id"], (0, []))
        sums.append((row["currency"], Decimal(row["total"] or 0).quantize(CENT)))
        result[row["stage_id"]] = (count + row["n"], sums)
    return result


def board(user: User, pipeline: Pipeline, params: Mapping[str, Any]) -> Board:
    """The kanban board of ``pipeline``: per stage the count and sums of the visible deals that
    match the filters, and the first page of cards (stale ones marked)."""
    chosen, q = board_params(params)
    stages = sorted(pipeline.stages.all(), key=lambda s: (s.order, s.pk))
    totals_by_stage = column_totals(user, pipeline, q)
    columns = []
    days = pipeline.stale_after_days
    for stage in stages:
        count, sums = totals_by_stage.get(stage.pk, (0, []))
        column = Column(stage=stage, count=count, sums=sums)
        if count:
            column.cards, column.next_cursor = column_cards(user, pipeline, stage, q)
            for card in column.cards:
                card.stale = stale_reasons(card, days)
        columns.append(column)
    return Board(pipeline=pipeline, columns=columns, params=chosen)


def board_column(
    user: User, pipeline: Pipeline, stage: Stage, params: Mapping[str, Any], cursor: str | None
) -> Column:
    """One column (after a move, or "show more" with ``cursor``)."""
    _chosen, q = board_params(params)
    count, sums = column_totals(user, pipeline, q & Q(stage=stage)).get(stage.pk, (0, []))
    column = Column(stage=stage, count=count, sums=sums)
    column.cards, column.next_cursor = column_cards(user, pipeline, stage, q, cursor=cursor)
    for card in column.cards:
        card.stale = stale_reasons(card, pipeline.stale_after_days)
    return column


# --- the 360 panel ---------------------------------------------------------------------------


def deals_of(user: User, record: Account | Contact, limit: int = 20) -> tuple[list, list[Total]]:
    """The visible deals of an account (or those a contact has a role in): open ones first by
    close date, then the closed ones, newest first; and the open deals' totals."""
    deals = opportunities_visible_to(user)
    if isinstance(record, Account):
        deals = deals.filter(account=record)
    else:
        deals = deals.filter(
            pk__in=OpportunityContact.objects.filter(contact=record).values("opportunity_id")
        )
    items = list(
        deals.select_related("stage", "account")
        .annotate(
            is_open=Case(
                When(closed_at__isnull=True, then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            )
        )
        .order_by(
            "-is_open",
            F("expected_close_date").asc(nulls_last=True),
            F("closed_at").desc(nulls_last=True),
            "id",
        )[:limit]
    )
    return mark_stale(items), totals(deals.filter(closed_at__isnull=True))
