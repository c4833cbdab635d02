"""Reads for the forecast, the sales targets and the two analyses (sales cycle, lost deals).

Every figure is an SQL aggregate over the opportunities the user may see
(:func:`farley.core.visibility.visible_records`): the number of queries is the same for ten
deals and for a hundred thousand, and Python only loops over the aggregated rows (months ×
owners, stages, loss reasons), never over deals.

Money is summed in whole cents (``CAST(ROUND(amount * 100) AS BIGINT)``), so the sums are
exact on SQLite as on PostgreSQL; the weighted pipeline sums ``cents × probability`` and is
rounded once, half up, at the end. Amounts are never converted between currencies: the
forecast shows one currency at a time (``currency``, default EUR) and the analyses list their
amounts per currency. What each figure means exactly is documented in docs/sales.md
("Forecast and analyses").
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from babel.dates import format_date
from django.db.models import (
    Avg,
    BigIntegerField,
    Case,
    Count,
    F,
    FloatField,
    Func,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, Greatest, Lower, Round, Trim
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from farley.core import permissions
from farley.core.errors import Forbidden, ValidationFailed
from farley.core.models import Team, User, Visibility
from farley.core.validation import Cleaner
from farley.core.visibility import (
    subordinate_user_ids,
    team_ids,
    visibility_scope,
    visible_records,
)
from farley.sales.models import (
    LossReason,
    Opportunity,
    Pipeline,
    SalesTarget,
    Stage,
    StageChange,
    StageKind,
)

ZERO = Decimal("0")
CENT = Decimal("0.01")
TENTH = Decimal("0.1")

PERIODS: dict[str, Any] = {
    "this_month": gettext_lazy("This month"),
    "this_quarter": gettext_lazy("This quarter"),
    "next_quarter": gettext_lazy("Next quarter"),
    "last_quarter": gettext_lazy("Last quarter"),
    "this_year": gettext_lazy("This year"),
    "next_year": gettext_lazy("Next year"),
    "last_year": gettext_lazy("Last year"),
    "last_12_months": gettext_lazy("Last 12 months"),
    "custom": gettext_lazy("Custom range"),
}
GROUPINGS: dict[str, Any] = {"month": gettext_lazy("Month"), "quarter": gettext_lazy("Quarter")}
BREAKDOWNS: dict[str, Any] = {
    "none": gettext_lazy("Total only"),
    "owner": gettext_lazy("Owner"),
    "team": gettext_lazy("Team"),
    "pipeline": gettext_lazy("Pipeline"),
}
BREAKDOWN_FIELDS = {"owner": "owner_id", "team": "team_id", "pipeline": "pipeline_id"}
DEFAULT_THRESHOLD = 75
DEFAULT_CURRENCY = "EUR"
MAX_MONTHS = 60  # the longest period a forecast or an analysis covers (5 years)
FORECAST_PARAMS = frozenset(
    {"period", "from", "to", "grouping", "breakdown", "pipeline", "owner", "team", "threshold",
     "currency"}
)  # fmt: skip
REPORT_PARAMS = frozenset({"period", "from", "to", "pipeline", "owner", "team"})
YEAR = re.compile(r"\d{4}")
CURRENCY = re.compile(r"[A-Z]{3}")


# --- SQL building blocks ----------------------------------------------------------------------


def cents(field_name: str = "amount") -> Cast:
    """An amount in whole cents, as an integer (exact sums on SQLite too)."""
    return Cast(Round(F(field_name) * Value(100)), output_field=BigIntegerField())


class DaysBetween(Func):
    """Days (with fractions) from ``start`` to ``end``, two timestamps."""

    output_field = FloatField()
    arity = 2

    def as_sql(self, compiler, connection, **extra):  # PostgreSQL and others
        start, end = (compiler.compile(e) for e in self.source_expressions)
        sql = f"(EXTRACT(EPOCH FROM ({end[0]} - {start[0]})) / 86400.0)"
        return sql, (*end[1], *start[1])

    def as_sqlite(self, compiler, connection, **extra):
        start, end = (compiler.compile(e) for e in self.source_expressions)
        return f"(julianday({end[0]}) - julianday({start[0]}))", (*end[1], *start[1])


def money(cent_sum: Any) -> Decimal:
    return (Decimal(int(cent_sum or 0)) / 100).quantize(CENT)


def weighted_money(cent_percent_sum: Any) -> Decimal:
    """Σ cents × probability, as money: rounded once, half up."""
    return (Decimal(int(cent_percent_sum or 0)) / 10000).quantize(CENT, rounding=ROUND_HALF_UP)


def percent(part: Decimal | int, whole: Decimal | int | None) -> Decimal | None:
    """``part`` in % of ``whole`` with one decimal (half up), or None without a whole."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(TENTH, rounding=ROUND_HALF_UP)


# --- periods ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bucket:
    """One column of a forecast: a month or a calendar quarter (cut to the period)."""

    key: str  # "2025-01" or "2025-Q1"
    start: dt.date
    end: dt.date  # inclusive

    @property
    def label(self) -> str:
        if "Q" in self.key:
            year, quarter = self.key.split("-Q")
            return _("Q%(quarter)s %(year)s") % {"quarter": quarter, "year": year}
        return format_date(self.start, "MMM y", locale=_locale())


def _locale() -> str:
    return (get_language() or "en").replace("-", "_")


def _month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _add_months(day: dt.date, months: int) -> dt.date:
    """The first day of the month ``months`` after ``day``'s month."""
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def _month_end(day: dt.date) -> dt.date:
    return _add_months(day, 1) - dt.timedelta(days=1)


def _quarter_start(day: dt.date) -> dt.date:
    return dt.date(day.year, (day.month - 1) // 3 * 3 + 1, 1)


def period_range(period: str, today: dt.date) -> tuple[dt.date, dt.date]:
    """First and last day of a named period (or a year such as "2025")."""
    if YEAR.fullmatch(period):
        year = int(period)
        return dt.date(year, 1, 1), dt.date(year, 12, 31)
    quarter = _quarter_start(today)
    if period == "this_month":
        return _month_start(today), _month_end(today)
    if period in ("this_quarter", "next_quarter", "last_quarter"):
        start = _add_months(
            quarter, {"this_quarter": 0, "next_quarter": 3, "last_quarter": -3}[period]
        )
        return start, _add_months(start, 3) - dt.timedelta(days=1)
    if period in ("this_year", "next_year", "last_year"):
        year = today.year + {"this_year": 0, "next_year": 1, "last_year": -1}[period]
        return dt.date(year, 1, 1), dt.date(year, 12, 31)
    if period == "last_12_months":
        return _add_months(today, -11), _month_end(today)
    raise ValueError(period)


def months_between(start: dt.date, end: dt.date) -> int:
    """How many calendar months the range touches."""
    return (end.year - start.year) * 12 + end.month - start.month + 1


def buckets(start: dt.date, end: dt.date, grouping: str) -> list[Bucket]:
    result = []
    cursor = _month_start(start) if grouping == "month" else _quarter_start(start)
    step = 1 if grouping == "month" else 3
    while cursor <= end:
        following = _add_months(cursor, step)
        if grouping == "month":
            key = f"{cursor:%Y-%m}"
        else:
            key = f"{cursor.year}-Q{(cursor.month - 1) // 3 + 1}"
        result.append(Bucket(key, max(cursor, start), min(following - dt.timedelta(days=1), end)))
        cursor = following
    return result


def bucket_key(month: dt.date, grouping: str) -> str:
    if grouping == "month":
        return f"{month:%Y-%m}"
    return f"{month.year}-Q{(month.month - 1) // 3 + 1}"


def day_bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The period as aware timestamps [start 00:00, the day after end 00:00) in the current
    time zone (Farley's, Europe/Berlin by default)."""
    tz = timezone.get_current_timezone()
    return (
        dt.datetime.combine(start, dt.time.min, tzinfo=tz),
        dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=tz),
    )


# --- parameters -------------------------------------------------------------------------------


def _value(params: Mapping[str, Any], key: str) -> str:
    value = params.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        value = str(value)
    return value.strip()


def _clean_period(
    c: Cleaner, params: Mapping[str, Any], default: str, today: dt.date
) -> tuple[str, dt.date, dt.date]:
    period = _value(params, "period")
    raw_from, raw_to = _value(params, "from"), _value(params, "to")
    if not period:
        period = "custom" if raw_from or raw_to else default
    if period != "custom" and not YEAR.fullmatch(period) and period not in PERIODS:
        c.add("period", _("Select a valid choice."))
        period = default
    if period == "custom":
        start = c.date("from", raw_from, required=True)
        end = c.date("to", raw_to, required=True)
        if start and end:
            if start > end:
                c.add("to", _("The end of the period must not be before its start."))
            elif months_between(start, end) > MAX_MONTHS:
                c.add(
                    "to",
                    _("A period may span at most %(months)d months.") % {"months": MAX_MONTHS},
                )
        fallback = period_range(default, today)
        return period, start or fallback[0], end or fallback[1]
    if raw_from or raw_to:
        c.add("period", _("Choose “Custom range” to give a start and an end."))
    if YEAR.fullmatch(period) and not 1900 <= int(period) <= 2200:
        c.add("period", _("Select a valid choice."))
        period = default
    start, end = period_range(period, today)
    return period, start, end


def _clean_choice(
    c: Cleaner, params: Mapping[str, Any], name: str, choices: Mapping[str, Any], default: str
) -> str:
    value = _value(params, name) or default
    if value not in choices:
        c.add(name, _("Select a valid choice."))
        return default
    return value


def _clean_id(c: Cleaner, params: Mapping[str, Any], name: str, model: Any) -> int | None:
    raw = _value(params, name)
    if not raw:
        return None
    before = len(c.errors.get(name, []))
    pk = c.integer(name, raw, minimum=1, maximum=2**63 - 1)
    if pk is None:
        if len(c.errors.get(name, [])) == before:
            c.add(name, _("Select a valid choice."))
        return None
    if not model.objects.filter(pk=pk).exists():
        c.add(name, _("Select a valid choice."))
        return None
    return pk


@dataclass(frozen=True)
class Filters:
    """What every forecast and analysis is narrowed by."""

    period: str
    start: dt.date
    end: dt.date
    pipeline_id: int | None = None
    owner_id: int | None = None
    team_id: int | None = None

    def as_params(self) -> dict[str, str]:
        params = {"period": self.period}
        if self.period == "custom":
            params.update({"from": self.start.isoformat(), "to": self.end.isoformat()})
        for name, value in (
            ("pipeline", self.pipeline_id),
            ("owner", self.owner_id),
            ("team", self.team_id),
        ):
            if value is not None:
                params[name] = str(value)
        return params


@dataclass(frozen=True)
class ForecastQuery:
    filters: Filters
    grouping: str = "month"
    breakdown: str = "none"
    threshold: int = DEFAULT_THRESHOLD
    currency: str = DEFAULT_CURRENCY


def _clean_filters(
    c: Cleaner, params: Mapping[str, Any], default_period: str, today: dt.date | None
) -> Filters:
    period, start, end = _clean_period(c, params, default_period, today or timezone.localdate())
    return Filters(
        period=period,
        start=start,
        end=end,
        pipeline_id=_clean_id(c, params, "pipeline", Pipeline),
        owner_id=_clean_id(c, params, "owner", User),
        team_id=_clean_id(c, params, "team", Team),
    )


def forecast_query(params: Mapping[str, Any], *, today: dt.date | None = None) -> ForecastQuery:
    """The forecast's parameters from a query string (UI and API alike); bad values raise
    :class:`ValidationFailed` with an error per field."""
    c = Cleaner()
    filters = _clean_filters(c, params, "this_quarter", today)
    grouping = _clean_choice(c, params, "grouping", GROUPINGS, "month")
    breakdown = _clean_choice(c, params, "breakdown", BREAKDOWNS, "none")
    threshold = DEFAULT_THRESHOLD
    raw = _value(params, "threshold")
    if raw:
        threshold = c.integer("threshold", raw, minimum=0, maximum=100)
        if threshold is None:
            threshold = DEFAULT_THRESHOLD
    currency = (_value(params, "currency") or DEFAULT_CURRENCY).upper()
    if not CURRENCY.fullmatch(currency):
        c.add("currency", _("Enter a three-letter currency code (ISO 4217), e.g. EUR."))
        currency = DEFAULT_CURRENCY
    c.raise_if_invalid()
    return ForecastQuery(filters, grouping, breakdown, threshold, currency)


def report_filters(
    params: Mapping[str, Any],
    *,
    today: dt.date | None = None,
    default_period: str = "last_12_months",
) -> Filters:
    """The analyses' parameters (period, pipeline, owner, team)."""
    c = Cleaner()
    filters = _clean_filters(c, params, default_period, today)
    c.raise_if_invalid()
    return filters


def reject_unknown(params: Mapping[str, Any], allowed: frozenset[str]) -> None:
    """A misspelt parameter is an error, never silently the unfiltered answer (API)."""
    unknown = sorted(set(params) - allowed)
    if unknown:
        raise ValidationFailed({key: [_("Unknown parameter.")] for key in unknown})


# --- the deals a user may see -----------------------------------------------------------------


def deals_visible_to(user: User, filters: Filters) -> QuerySet[Opportunity]:
    """Opportunities ``user`` may see, narrowed by pipeline, owner and team."""
    deals = visible_records(Opportunity.objects.all(), user)
    if filters.pipeline_id is not None:
        deals = deals.filter(pipeline_id=filters.pipeline_id)
    if filters.owner_id is not None:
        deals = deals.filter(owner_id=filters.owner_id)
    if filters.team_id is not None:
        deals = deals.filter(team_id=filters.team_id)
    return deals


# --- targets ----------------------------------------------------------------------------------


@dataclass
class TargetBook:
    """The monthly targets (in cents) a user may see, and how they add up.

    A team's target for a month is the team's own target if one is set, otherwise the sum of
    its members' targets. The target of everything a user sees (no owner or team filter) is
    the sum of the teams' own targets plus the targets of the people no such team target
    covers, so that nobody counts twice."""

    users: set[int] | None  # whose targets count (None: everybody's)
    teams: set[int] | None  # which teams' targets count (None: all)
    user_targets: dict[tuple[dt.date, int], int] = field(default_factory=dict)
    team_targets: dict[tuple[dt.date, int], int] = field(default_factory=dict)
    members: dict[int, set[int]] = field(default_factory=dict)

    def _user_ok(self, user_id: int) -> bool:
        return self.users is None or user_id in self.users

    def _team_ok(self, team_id: int) -> bool:
        return self.teams is None or team_id in self.teams

    def user(self, month: dt.date, user_id: int) -> int | None:
        return self.user_targets.get((month, user_id)) if self._user_ok(user_id) else None

    def team(self, month: dt.date, team_id: int) -> int | None:
        if not self._team_ok(team_id):
            return None
        own = self.team_targets.get((month, team_id))
        if own is not None:
            return own
        values = [
            self.user_targets[(month, u)]
            for u in self.members.get(team_id, ())
            if (month, u) in self.user_targets and self._user_ok(u)
        ]
        return sum(values) if values else None

    def everything(self, month: dt.date) -> int | None:
        total, found, covered = 0, False, set()
        for (m, team_id), amount in self.team_targets.items():
            if m == month and self._team_ok(team_id):
                total += amount
                found = True
                covered |= self.members.get(team_id, set())
        for (m, user_id), amount in self.user_targets.items():
            if m == month and self._user_ok(user_id) and user_id not in covered:
                total += amount
                found = True
        return total if found else None

    def user_ids(self) -> set[int]:
        return {u for (_m, u) in self.user_targets if self._user_ok(u)}

    def team_ids(self) -> set[int]:
        ids = {t for (_m, t) in self.team_targets if self._team_ok(t)}
        users = self.user_ids()
        ids |= {t for t, members in self.members.items() if members & users and self._team_ok(t)}
        return ids


def target_book(user: User, start: dt.date, end: dt.date, currency: str) -> TargetBook:
    """The targets in ``currency`` of the months from ``start`` to ``end`` that ``user`` may
    see: everybody's for roles that see all records; otherwise their own, their teams' and
    their team mates' (and, for the "subordinates" scope, those of the users below them)."""
    scope = visibility_scope(user)
    if scope == "none" or not permissions.can(user, "view", "opportunity"):
        return TargetBook(users=set(), teams=set())
    users: set[int] | None = None
    teams: set[int] | None = None
    memberships = User.teams.through.objects.all()
    if scope != Visibility.ALL:
        users, teams = {user.pk}, set()
        if scope in (Visibility.TEAM, Visibility.SUBORDINATES):
            teams = set(team_ids(user))
        if scope == Visibility.SUBORDINATES:
            users |= set(subordinate_user_ids(user))
        memberships = memberships.filter(team_id__in=teams)
    book = TargetBook(users=users, teams=teams)
    for team_id, user_id in memberships.values_list("team_id", "user_id"):
        book.members.setdefault(team_id, set()).add(user_id)
    if users is not None:
        for team_id in teams or ():
            users |= book.members.get(team_id, set())
    targets = SalesTarget.objects.filter(
        month__gte=_month_start(start), month__lte=end, currency=currency
    )
    if users is not None:
        targets = targets.filter(Q(user_id__in=users) | Q(team_id__in=teams))
    for user_id, team_id, month, amount in targets.values_list(
        "user_id", "team_id", "month", "amount"
    ):
        amount_cents = int((amount * 100).to_integral_value(rounding=ROUND_HALF_UP))
        if user_id is not None:
            book.user_targets[(month, user_id)] = amount_cents
        else:
            book.team_targets[(month, team_id)] = amount_cents
    return book


def may_manage_targets(user: User) -> bool:
    """Users who may *administer* opportunities see and set the targets (not through an API
    token limited to scopes: those cover records only)."""
    return getattr(user, "_farley_scopes", None) is None and permissions.can(
        user, "administer", "opportunity"
    )


def require_target_manager(user: User) -> None:
    if not may_manage_targets(user):
        raise Forbidden(_("Only users who administer opportunities may manage sales targets."))


def targets_for(actor: User, params: Mapping[str, Any] | None = None) -> QuerySet[SalesTarget]:
    """The targets list of the settings page and the API (see :func:`may_manage_targets`),
    filtered by ``year``, ``user_id``, ``team_id`` and ``currency``."""
    require_target_manager(actor)
    params = params or {}
    c = Cleaner()
    targets = SalesTarget.objects.select_related("user", "team")
    year = _value(params, "year")
    if year:
        number = c.integer("year", year, minimum=1900, maximum=2200)
        if number is not None:
            targets = targets.filter(month__year=number)
    for name in ("user_id", "team_id"):
        raw = _value(params, name)
        if raw:
            pk = c.integer(name, raw, minimum=1, maximum=2**63 - 1)
            if pk is not None:
                targets = targets.filter(**{name: pk})
    currency = _value(params, "currency").upper()
    if currency:
        if not CURRENCY.fullmatch(currency):
            c.add("currency", _("Enter a three-letter currency code (ISO 4217), e.g. EUR."))
        targets = targets.filter(currency=currency)
    c.raise_if_invalid()
    return targets


# --- the forecast -----------------------------------------------------------------------------


@dataclass
class Figures:
    """The forecast's numbers for one cell; money kept in cents until it is shown."""

    best_case_cents: int = 0
    weighted_cents_percent: int = 0
    commit_cents: int = 0
    won_cents: int = 0
    open_count: int = 0
    commit_count: int = 0
    won_count: int = 0
    target_cents: int | None = None

    def add(self, other: Figures) -> None:
        self.best_case_cents += other.best_case_cents
        self.weighted_cents_percent += other.weighted_cents_percent
        self.commit_cents += other.commit_cents
        self.won_cents += other.won_cents
        self.open_count += other.open_count
        self.commit_count += other.commit_count
        self.won_count += other.won_count

    def add_target(self, value: int | None) -> None:
        if value is not None:
            self.target_cents = (self.target_cents or 0) + value

    @property
    def best_case(self) -> Decimal:
        return money(self.best_case_cents)

    @property
    def weighted(self) -> Decimal:
        return weighted_money(self.weighted_cents_percent)

    @property
    def commit(self) -> Decimal:
        return money(self.commit_cents)

    @property
    def won(self) -> Decimal:
        return money(self.won_cents)

    @property
    def target(self) -> Decimal | None:
        return None if self.target_cents is None else money(self.target_cents)

    @property
    def attainment(self) -> Decimal | None:
        """Closed won revenue in % of the target (None without a target or for a zero one)."""
        return percent(self.won_cents, self.target_cents)

    @property
    def is_empty(self) -> bool:
        return not (self.open_count or self.won_count) and self.target_cents is None

    def as_dict(self) -> dict[str, Any]:
        return {
            "weighted": self.weighted,
            "best_case": self.best_case,
            "commit": self.commit,
            "won": self.won,
            "target": self.target,
            "attainment": self.attainment,
            "open_count": self.open_count,
            "commit_count": self.commit_count,
            "won_count": self.won_count,
        }


@dataclass(frozen=True)
class Key:
    """A row of the breakdown: an owner, a team or a pipeline (``id`` None: no team)."""

    kind: str
    id: int | None
    label: str


@dataclass
class Row:
    bucket: Bucket | None  # None: the whole period
    key: Key | None  # None: everything (the totals)
    figures: Figures


@dataclass
class Forecast:
    query: ForecastQuery
    buckets: list[Bucket]
    rows: list[Row]  # bucket by bucket, the breakdown's keys in order (empty cells left out)
    totals: list[Row]  # one per bucket
    total: Row  # the whole period
    keys: list[Key]
    currencies: list[str]  # the currencies of the deals in the period (to switch to)
    targets_shown: bool  # False with a pipeline filter: targets are not per pipeline


def _key_labels(kind: str, ids: set[int | None]) -> dict[int | None, str]:
    real = {i for i in ids if i is not None}
    labels: dict[int | None, str] = {None: _("No team")}
    if not real:
        return labels
    if kind == "owner":
        for pk, full_name, email in User.objects.filter(pk__in=real).values_list(
            "pk", "full_name", "email"
        ):
            labels[pk] = full_name or email
    elif kind == "team":
        labels.update(Team.objects.filter(pk__in=real).values_list("pk", "name"))
    else:
        labels.update(Pipeline.objects.filter(pk__in=real).values_list("pk", "name"))
    return labels


def _key_order(kind: str, ids: set[int | None], labels: dict[int | None, str]) -> list[int | None]:
    if kind == "pipeline":
        order = {
            pk: n for n, pk in enumerate(Pipeline.objects.values_list("pk", flat=True))
        }  # pipelines in their configured order
        return sorted(ids, key=lambda i: (order.get(i, 10**9), labels.get(i, "")))
    return sorted(ids, key=lambda i: (i is None, labels.get(i, "").casefold(), i or 0))


def bucket_index(field_name: str, bounds: list[Any]) -> Case:
    """The number of the bucket a row's ``field_name`` falls in, given the start of each
    bucket after the first (a plain CASE, evaluated natively by SQLite and PostgreSQL)."""
    return Case(
        *[When(**{f"{field_name}__lt": bound}, then=Value(i)) for i, bound in enumerate(bounds)],
        default=Value(len(bounds)),
        output_field=IntegerField(),
    )


def forecast(user: User, query: ForecastQuery) -> Forecast:
    """Weighted pipeline, best case, commit, closed won and target per month or quarter and,
    if asked, per owner, team or pipeline (see the module and docs/sales.md)."""
    f = query.filters
    grouping, kind = query.grouping, query.breakdown
    deals = deals_visible_to(user, f)
    start_at, end_at = day_bounds(f.start, f.end)
    the_buckets = buckets(f.start, f.end, grouping)
    later = [b.start for b in the_buckets[1:]]
    group_field = BREAKDOWN_FIELDS.get(kind)
    # Grouped by currency too (not filtered): the other currencies come for free.
    columns = ["bucket", "currency", *([group_field] if group_field else [])]

    open_rows = (
        deals.filter(
            stage__kind=StageKind.OPEN,
            expected_close_date__gte=f.start,
            expected_close_date__lte=f.end,
        )
        .annotate(bucket=bucket_index("expected_close_date", later), c=cents())
        .values(*columns)
        .annotate(
            best=Sum("c"),
            weighted=Sum(F("c") * F("probability"), output_field=BigIntegerField()),
            commit=Sum("c", filter=Q(probability__gte=query.threshold)),
            n=Count("pk"),
            commit_n=Count("pk", filter=Q(probability__gte=query.threshold)),
        )
        .order_by()
    )
    won_rows = (
        deals.filter(stage__kind=StageKind.WON, closed_at__gte=start_at, closed_at__lt=end_at)
        .annotate(bucket=bucket_index("closed_at", [day_bounds(b, b)[0] for b in later]), c=cents())
        .values(*columns)
        .annotate(won=Sum("c"), n=Count("pk"))
        .order_by()
    )

    cells: dict[tuple[str, int | None], Figures] = defaultdict(Figures)
    currencies = {query.currency}
    for row in open_rows:
        currencies.add(row["currency"])
        if row["currency"] != query.currency:
            continue
        bucket = the_buckets[row["bucket"]].key
        figures = cells[(bucket, row[group_field] if group_field else 0)]
        figures.best_case_cents += int(row["best"] or 0)
        figures.weighted_cents_percent += int(row["weighted"] or 0)
        figures.commit_cents += int(row["commit"] or 0)
        figures.open_count += row["n"]
        figures.commit_count += row["commit_n"]
    for row in won_rows:
        currencies.add(row["currency"])
        if row["currency"] != query.currency:
            continue
        bucket = the_buckets[row["bucket"]].key
        figures = cells[(bucket, row[group_field] if group_field else 0)]
        figures.won_cents += int(row["won"] or 0)
        figures.won_count += row["n"]

    # Targets: per user or team and month; not per pipeline.
    targets_shown = f.pipeline_id is None
    book = (
        target_book(user, f.start, f.end, query.currency)
        if targets_shown
        else TargetBook(users=set(), teams=set())
    )
    months = [_add_months(_month_start(f.start), i) for i in range(months_between(f.start, f.end))]

    def total_target(month: dt.date) -> int | None:
        if not targets_shown:
            return None
        if f.owner_id is not None:
            return book.user(month, f.owner_id)
        if f.team_id is not None:
            return book.team(month, f.team_id)
        return book.everything(month)

    def key_target(month: dt.date, key_id: int | None) -> int | None:
        if not targets_shown or key_id is None:
            return None
        if kind == "owner":
            return book.user(month, key_id)
        if kind == "team" and f.owner_id is None:
            return book.team(month, key_id)
        return None

    key_ids: set[int | None] = {k for (_b, k) in cells} if group_field else set()
    if targets_shown and kind == "owner":
        candidates = book.user_ids()
        if f.owner_id is not None:
            candidates &= {f.owner_id}
        if f.team_id is not None:
            candidates &= book.members.get(f.team_id, set())
        key_ids |= candidates
    elif targets_shown and kind == "team" and f.owner_id is None:
        candidates = book.team_ids()
        if f.team_id is not None:
            candidates &= {f.team_id}
        key_ids |= candidates
    keys: list[Key] = []
    if group_field:
        labels = _key_labels(kind, key_ids)
        keys = [Key(kind, i, labels.get(i, str(i))) for i in _key_order(kind, key_ids, labels)]

    rows: list[Row] = []
    totals: list[Row] = []
    grand = Figures()
    for bucket in the_buckets:
        in_bucket = [m for m in months if bucket.start <= _month_end(m) and m <= bucket.end]
        subtotal = Figures()
        if group_field:
            for key in keys:
                figures = Figures()
                figures.add(cells.get((bucket.key, key.id), Figures()))
                for month in in_bucket:
                    figures.add_target(key_target(month, key.id))
                subtotal.add(figures)
                if not figures.is_empty:
                    rows.append(Row(bucket, key, figures))
        else:
            subtotal.add(cells.get((bucket.key, 0), Figures()))
        for month in in_bucket:
            subtotal.add_target(total_target(month))
        grand.add(subtotal)
        grand.add_target(subtotal.target_cents)
        totals.append(Row(bucket, None, subtotal))

    return Forecast(
        query=query,
        buckets=the_buckets,
        rows=rows,
        totals=totals,
        total=Row(None, None, grand),
        keys=keys,
        currencies=sorted(currencies),
        targets_shown=targets_shown,
    )


# --- sales-cycle analysis ---------------------------------------------------------------------


@dataclass
class StageFigures:
    stage: Stage
    avg_days: Decimal | None = None  # average completed stay in the stage
    stays: int = 0  # how many completed stays the average is made of
    reached: int = 0  # deals of the cohort that reached the stage
    advanced: int = 0  # of those, how many reached the next stage (or won)
    won: int = 0  # of those, how many were won

    @property
    def to_next(self) -> Decimal | None:
        return percent(self.advanced, self.reached)

    @property
    def to_won(self) -> Decimal | None:
        return percent(self.won, self.reached)


@dataclass
class SalesCycle:
    filters: Filters
    pipeline: Pipeline | None
    stages: list[StageFigures]  # the open stages, in order, then the won stage(s)
    won_count: int
    lost_count: int
    avg_cycle_days: Decimal | None
    cohort: int  # deals created in the period

    @property
    def win_rate(self) -> Decimal | None:
        return percent(self.won_count, self.won_count + self.lost_count)


def _days(value: Any) -> Decimal | None:
    if value is None:
        return None
    return Decimal(str(value)).quantize(TENTH, rounding=ROUND_HALF_UP)


def default_pipeline() -> Pipeline | None:
    return (
        Pipeline.objects.filter(is_default=True).order_by("order", "name").first()
        or Pipeline.objects.order_by("order", "name").first()
    )


def sales_cycle(user: User, filters: Filters) -> SalesCycle:
    """Time per stage, average cycle length, stage-to-stage conversion and win rate of one
    pipeline (the default one unless ``filters`` name another); see docs/sales.md."""
    pipeline = (
        Pipeline.objects.filter(pk=filters.pipeline_id).first()
        if filters.pipeline_id is not None
        else default_pipeline()
    )
    if pipeline is None:
        return SalesCycle(filters, None, [], 0, 0, None, 0)
    filters = Filters(**{**filters.__dict__, "pipeline_id": pipeline.pk})
    deals = deals_visible_to(user, filters)
    start_at, end_at = day_bounds(filters.start, filters.end)
    stages = list(Stage.objects.filter(pipeline=pipeline).order_by("order", "id"))
    open_stages = [s for s in stages if s.kind == StageKind.OPEN]
    won_stages = [s for s in stages if s.kind == StageKind.WON]
    figures = {s.pk: StageFigures(s) for s in [*open_stages, *won_stages]}

    # Time per stage: each stay that began in the period and has ended (the deal moved on).
    following = (
        StageChange.objects.filter(opportunity_id=OuterRef("opportunity_id"))
        .filter(
            Q(changed_at__gt=OuterRef("changed_at"))
            | Q(changed_at=OuterRef("changed_at"), pk__gt=OuterRef("pk"))
        )
        .order_by("changed_at", "pk")
        .values("changed_at")[:1]
    )
    stays = (
        StageChange.objects.filter(
            opportunity__in=deals.values("pk"),
            to_stage__pipeline=pipeline,
            to_stage__kind=StageKind.OPEN,
            changed_at__gte=start_at,
            changed_at__lt=end_at,
        )
        .annotate(left_at=Subquery(following))
        .filter(left_at__isnull=False)
        .values("to_stage_id")
        .annotate(avg=Avg(DaysBetween("changed_at", "left_at")), n=Count("pk"))
        .order_by()
    )
    for row in stays:
        if row["to_stage_id"] in figures:
            figures[row["to_stage_id"]].avg_days = _days(row["avg"])
            figures[row["to_stage_id"]].stays = row["n"]

    # Conversion: the deals created in the period, by the furthest stage each reached (its
    # rank: 1..n for the open stages in order, n+1 for won; lost counts for nothing).
    won_rank = len(open_stages) + 1

    def rank(prefix: str) -> Case:
        return Case(
            *[When(**{f"{prefix}_id": s.pk}, then=Value(i)) for i, s in enumerate(open_stages, 1)],
            When(**{f"{prefix}__kind": StageKind.WON}, then=Value(won_rank)),
            default=Value(0),
            output_field=IntegerField(),
        )

    furthest_change = (
        StageChange.objects.filter(opportunity_id=OuterRef("pk"), to_stage__pipeline=pipeline)
        .annotate(r=rank("to_stage"))
        .values("opportunity_id")
        .annotate(m=Max("r"))
        .values("m")[:1]
    )
    cohort = (
        deals.filter(created_at__gte=start_at, created_at__lt=end_at)
        .annotate(
            reach=Greatest(
                Coalesce(Subquery(furthest_change, output_field=IntegerField()), Value(0)),
                rank("stage"),
            )
        )
        .values("reach")
        .annotate(n=Count("pk"))
        .order_by()
    )
    reached_at_least = [0] * (won_rank + 2)
    cohort_size = 0
    for row in cohort:
        cohort_size += row["n"]
        for r in range(1, min(int(row["reach"] or 0), won_rank) + 1):
            reached_at_least[r] += row["n"]
    for i, stage in enumerate(open_stages, 1):
        item = figures[stage.pk]
        item.reached = reached_at_least[i]
        item.advanced = reached_at_least[i + 1]
        item.won = reached_at_least[won_rank]
    for stage in won_stages:
        figures[stage.pk].reached = reached_at_least[won_rank]
        figures[stage.pk].won = reached_at_least[won_rank]

    # Win rate and cycle length: the deals closed (won or lost) in the period.
    closed = deals.filter(closed_at__gte=start_at, closed_at__lt=end_at).aggregate(
        won=Count("pk", filter=Q(stage__kind=StageKind.WON)),
        lost=Count("pk", filter=Q(stage__kind=StageKind.LOST)),
        days=Avg(DaysBetween("created_at", "closed_at"), filter=Q(stage__kind=StageKind.WON)),
    )
    return SalesCycle(
        filters=filters,
        pipeline=pipeline,
        stages=[figures[s.pk] for s in [*open_stages, *won_stages]],
        won_count=closed["won"] or 0,
        lost_count=closed["lost"] or 0,
        avg_cycle_days=_days(closed["days"]),
        cohort=cohort_size,
    )


# --- lost-deal analysis -----------------------------------------------------------------------


@dataclass
class LostGroup:
    key: Any  # loss reason id, competitor (lower case) or stage id; None: not given
    label: str
    count: int = 0
    amounts: dict[str, Decimal] = field(default_factory=dict)  # per currency

    def add(self, currency: str, count: int, cent_sum: Any) -> None:
        self.count += count
        self.amounts[currency] = self.amounts.get(currency, ZERO) + money(cent_sum)


@dataclass
class LostDeals:
    filters: Filters
    total: LostGroup
    by_reason: list[LostGroup]
    by_competitor: list[LostGroup]
    by_stage: list[LostGroup]


def _ordered_groups(groups: dict[Any, LostGroup]) -> list[LostGroup]:
    return sorted(groups.values(), key=lambda g: (-g.count, g.key is None, g.label.casefold()))


def lost_deals(user: User, filters: Filters) -> LostDeals:
    """The deals lost in the period by loss reason, by competitor and by the stage they were
    lost from, with counts and amounts per currency."""
    deals = deals_visible_to(user, filters)
    start_at, end_at = day_bounds(filters.start, filters.end)
    lost = deals.filter(stage__kind=StageKind.LOST, closed_at__gte=start_at, closed_at__lt=end_at)
    measures = {"n": Count("pk"), "amount": Sum(cents())}
    total = LostGroup(None, _("All lost deals"))

    by_reason: dict[Any, LostGroup] = {}
    reason_rows = list(lost.values("loss_reason_id", "currency").annotate(**measures).order_by())
    reasons = LossReason.objects.in_bulk({r["loss_reason_id"] for r in reason_rows} - {None})
    for row in reason_rows:
        key = row["loss_reason_id"]
        label = str(reasons[key]) if key in reasons else _("No reason given")
        by_reason.setdefault(key, LostGroup(key, label)).add(
            row["currency"], row["n"], row["amount"]
        )
        total.add(row["currency"], row["n"], row["amount"])

    # Competitors are grouped ignoring case and surrounding blanks; a group is named by its
    # most frequent spelling.
    by_competitor: dict[Any, LostGroup] = {}
    spellings: dict[Any, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in (
        lost.annotate(competitor_key=Lower(Trim("competitor")), spelling=Trim("competitor"))
        .values("competitor_key", "spelling", "currency")
        .annotate(**measures)
        .order_by()
    ):
        key = row["competitor_key"] or None
        spellings[key][row["spelling"]] += row["n"]
        group = by_competitor.setdefault(key, LostGroup(key, ""))
        group.add(row["currency"], row["n"], row["amount"])
    for key, group in by_competitor.items():
        if key is None:
            group.label = _("No competitor named")
        else:
            group.label = sorted(spellings[key].items(), key=lambda item: (-item[1], item[0]))[0][0]

    last_move = (
        StageChange.objects.filter(opportunity_id=OuterRef("pk"), to_stage__kind=StageKind.LOST)
        .order_by("-changed_at", "-pk")
        .values("from_stage_id")[:1]
    )
    stage_rows = list(
        lost.annotate(lost_from=Subquery(last_move, output_field=IntegerField()))
        .values("lost_from", "currency")
        .annotate(**measures)
        .order_by()
    )
    stages = Stage.objects.select_related("pipeline").in_bulk(
        {r["lost_from"] for r in stage_rows} - {None}
    )
    several = len({s.pipeline_id for s in stages.values()}) > 1
    by_stage: dict[Any, LostGroup] = {}
    for row in stage_rows:
        key = row["lost_from"]
        stage = stages.get(key)
        if stage is None:
            key, label = None, _("Unknown stage")
        else:
            label = f"{stage.pipeline} › {stage}" if several else str(stage)
        by_stage.setdefault(key, LostGroup(key, label)).add(
            row["currency"], row["n"], row["amount"]
        )

    pipeline_order = (
        {pk: n for n, pk in enumerate(Pipeline.objects.values_list("pk", flat=True))}
        if several
        else {}
    )

    def stage_order(group: LostGroup) -> tuple:
        stage = stages.get(group.key)
        if stage is None:
            return (1, 0, 0, 0)
        return (0, pipeline_order.get(stage.pipeline_id, 0), stage.order, stage.pk)

    return LostDeals(
        filters=filters,
        total=total,
        by_reason=_ordered_groups(by_reason),
        by_competitor=_ordered_groups(by_competitor),
        by_stage=sorted(by_stage.values(), key=stage_order),
    )
