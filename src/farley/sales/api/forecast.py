"""API: the forecast (``GET /forecast``), the analyses (``GET /reports/sales-cycle``,
``GET /reports/lost-deals``) and the sales targets (``/sales-targets``).

The read endpoints take the same query parameters as the pages and answer their numbers
(money as decimal strings, percentages as decimal strings with one place). Bad or unknown
parameters answer 422 with an error per field.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import ConfigDict

from farley.core import permissions
from farley.core.apiutil import ERRORS, ChangeOut, api_page, change_out, requested_version
from farley.core.errors import NotFound
from farley.core.history import history_for
from farley.sales.selectors import forecast as selectors
from farley.sales.services import forecast as services

router = Router()

PERIOD_DOC = (
    "`period`: this_month, this_quarter (forecast default), next_quarter, last_quarter, "
    "this_year, next_year, last_year, last_12_months (analyses default), a year such as 2025, "
    "or custom with `from` and `to` (YYYY-MM-DD, at most 60 months). `pipeline`, `owner`, "
    "`team`: ids."
)


class Strict(Schema):
    model_config = ConfigDict(extra="forbid")


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _params(request: HttpRequest, allowed: frozenset[str]) -> dict[str, str]:
    selectors.reject_unknown(request.GET, allowed)
    return {key: request.GET.get(key, "") for key in request.GET}


# --- forecast ---------------------------------------------------------------------------------


class ForecastPeriodOut(Schema):
    key: str
    label: str
    start: dt.date
    end: dt.date


class ForecastFigureOut(Schema):
    period: str | None
    breakdown: str | None
    key_id: int | None
    key_label: str | None
    weighted: str
    best_case: str
    commit: str
    won: str
    target: str | None
    attainment_percent: str | None
    open_count: int
    commit_count: int
    won_count: int


class ForecastOut(Schema):
    currency: str
    currencies: list[str]
    period: str
    period_start: dt.date
    period_end: dt.date
    grouping: str
    breakdown: str
    threshold: int
    pipeline_id: int | None
    owner_id: int | None
    team_id: int | None
    targets_shown: bool
    periods: list[ForecastPeriodOut]
    rows: list[ForecastFigureOut]
    totals: list[ForecastFigureOut]
    total: ForecastFigureOut


def figure_out(row: selectors.Row) -> dict[str, Any]:
    f = row.figures
    return {
        "period": row.bucket.key if row.bucket else None,
        "breakdown": row.key.kind if row.key else None,
        "key_id": row.key.id if row.key else None,
        "key_label": row.key.label if row.key else None,
        "weighted": str(f.weighted),
        "best_case": str(f.best_case),
        "commit": str(f.commit),
        "won": str(f.won),
        "target": _text(f.target),
        "attainment_percent": _text(f.attainment),
        "open_count": f.open_count,
        "commit_count": f.commit_count,
        "won_count": f.won_count,
    }


def forecast_out(result: selectors.Forecast) -> dict[str, Any]:
    q, f = result.query, result.query.filters
    return {
        "currency": q.currency,
        "currencies": result.currencies,
        "period": f.period,
        "period_start": f.start,
        "period_end": f.end,
        "grouping": q.grouping,
        "breakdown": q.breakdown,
        "threshold": q.threshold,
        "pipeline_id": f.pipeline_id,
        "owner_id": f.owner_id,
        "team_id": f.team_id,
        "targets_shown": result.targets_shown,
        "periods": [
            {"key": b.key, "label": b.label, "start": b.start, "end": b.end} for b in result.buckets
        ],
        "rows": [figure_out(r) for r in result.rows],
        "totals": [figure_out(r) for r in result.totals],
        "total": figure_out(result.total),
    }


@router.get(
    "/forecast",
    response={200: ForecastOut, **ERRORS},
    tags=["forecast"],
    description=(
        "Weighted pipeline, best case, commit, closed won revenue and target per month or "
        "quarter of the deals you may see, in one currency. "
        + PERIOD_DOC
        + " `grouping`: month (default) or quarter. `breakdown`: none (default), owner, team, "
        "pipeline. `threshold`: the least probability (0-100, default 75) of a committed deal. "
        "`currency`: ISO 4217 code (default EUR); amounts are never converted."
    ),
)
def get_forecast(
    request: HttpRequest,
    period: str | None = None,
    from_: str | None = Query(None, alias="from"),
    to: str | None = None,
    grouping: str | None = None,
    breakdown: str | None = None,
    pipeline: str | None = None,
    owner: str | None = None,
    team: str | None = None,
    threshold: str | None = None,
    currency: str | None = None,
):
    permissions.require(request.user, "view", "opportunity")
    params = _params(request, selectors.FORECAST_PARAMS)
    return forecast_out(selectors.forecast(request.user, selectors.forecast_query(params)))


# --- analyses ---------------------------------------------------------------------------------


class SalesCycleStageOut(Schema):
    stage_id: int
    name: str
    kind: str
    avg_days: str | None
    stays: int
    reached: int
    advanced: int
    won: int
    to_next_percent: str | None
    to_won_percent: str | None


class SalesCycleOut(Schema):
    pipeline_id: int | None
    pipeline: str | None
    period: str
    period_start: dt.date
    period_end: dt.date
    owner_id: int | None
    team_id: int | None
    stages: list[SalesCycleStageOut]
    cohort: int
    won_count: int
    lost_count: int
    win_rate_percent: str | None
    avg_cycle_days: str | None


def sales_cycle_out(result: selectors.SalesCycle) -> dict[str, Any]:
    f = result.filters
    return {
        "pipeline_id": result.pipeline.pk if result.pipeline else None,
        "pipeline": result.pipeline.name if result.pipeline else None,
        "period": f.period,
        "period_start": f.start,
        "period_end": f.end,
        "owner_id": f.owner_id,
        "team_id": f.team_id,
        "stages": [
            {
                "stage_id": s.stage.pk,
                "name": s.stage.display_name(),
                "kind": s.stage.kind,
                "avg_days": _text(s.avg_days),
                "stays": s.stays,
                "reached": s.reached,
                "advanced": s.advanced,
                "won": s.won,
                "to_next_percent": _text(s.to_next),
                "to_won_percent": _text(s.to_won),
            }
            for s in result.stages
        ],
        "cohort": result.cohort,
        "won_count": result.won_count,
        "lost_count": result.lost_count,
        "win_rate_percent": _text(result.win_rate),
        "avg_cycle_days": _text(result.avg_cycle_days),
    }


@router.get(
    "/reports/sales-cycle",
    response={200: SalesCycleOut, **ERRORS},
    tags=["forecast"],
    description=(
        "Time per stage, conversion stage to stage, win rate and average cycle length of one "
        "pipeline (the default one unless `pipeline` names another). " + PERIOD_DOC
    ),
)
def get_sales_cycle(
    request: HttpRequest,
    period: str | None = None,
    from_: str | None = Query(None, alias="from"),
    to: str | None = None,
    pipeline: str | None = None,
    owner: str | None = None,
    team: str | None = None,
):
    permissions.require(request.user, "view", "opportunity")
    params = _params(request, selectors.REPORT_PARAMS)
    return sales_cycle_out(selectors.sales_cycle(request.user, selectors.report_filters(params)))


class LostDealsTotalOut(Schema):
    count: int
    amounts: dict[str, str]


class LostDealsReasonOut(LostDealsTotalOut):
    loss_reason_id: int | None
    label: str


class LostDealsCompetitorOut(LostDealsTotalOut):
    competitor: str | None
    label: str


class LostDealsStageOut(LostDealsTotalOut):
    stage_id: int | None
    label: str


class LostDealsOut(Schema):
    period: str
    period_start: dt.date
    period_end: dt.date
    pipeline_id: int | None
    owner_id: int | None
    team_id: int | None
    total: LostDealsTotalOut
    by_reason: list[LostDealsReasonOut]
    by_competitor: list[LostDealsCompetitorOut]
    by_stage: list[LostDealsStageOut]


def _amounts(group: selectors.LostGroup) -> dict[str, str]:
    return {currency: str(amount) for currency, amount in sorted(group.amounts.items())}


def lost_deals_out(result: selectors.LostDeals) -> dict[str, Any]:
    f = result.filters

    def group(g: selectors.LostGroup, key: str) -> dict[str, Any]:
        return {key: g.key, "label": g.label, "count": g.count, "amounts": _amounts(g)}

    return {
        "period": f.period,
        "period_start": f.start,
        "period_end": f.end,
        "pipeline_id": f.pipeline_id,
        "owner_id": f.owner_id,
        "team_id": f.team_id,
        "total": {"count": result.total.count, "amounts": _amounts(result.total)},
        "by_reason": [group(g, "loss_reason_id") for g in result.by_reason],
        "by_competitor": [
            {**group(g, "competitor"), "competitor": g.label if g.key else None}
            for g in result.by_competitor
        ],
        "by_stage": [group(g, "stage_id") for g in result.by_stage],
    }


@router.get(
    "/reports/lost-deals",
    response={200: LostDealsOut, **ERRORS},
    tags=["forecast"],
    description=(
        "The deals lost in the period by loss reason, by competitor and by the stage they "
        "were lost from, with counts and amounts per currency. " + PERIOD_DOC
    ),
)
def get_lost_deals(
    request: HttpRequest,
    period: str | None = None,
    from_: str | None = Query(None, alias="from"),
    to: str | None = None,
    pipeline: str | None = None,
    owner: str | None = None,
    team: str | None = None,
):
    permissions.require(request.user, "view", "opportunity")
    params = _params(request, selectors.REPORT_PARAMS)
    return lost_deals_out(selectors.lost_deals(request.user, selectors.report_filters(params)))


# --- sales targets ----------------------------------------------------------------------------


class SalesTargetOut(Schema):
    id: int
    user_id: int | None
    team_id: int | None
    month: str  # YYYY-MM
    amount: str
    currency: str
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


class SalesTargetList(Schema):
    items: list[SalesTargetOut]
    next_cursor: str | None
    limit: int


class SalesTargetIn(Strict):
    user_id: int | None = None
    team_id: int | None = None
    month: str
    amount: Decimal | str
    currency: str = "EUR"


class SalesTargetPatch(Strict):
    user_id: int | None = None
    team_id: int | None = None
    month: str | None = None
    amount: Decimal | str | None = None
    currency: str | None = None
    version: int | None = None


def target_out(target: Any) -> dict[str, Any]:
    return {
        "id": target.pk,
        "user_id": target.user_id,
        "team_id": target.team_id,
        "month": f"{target.month:%Y-%m}",
        "amount": str(target.amount),
        "currency": target.currency,
        "version": target.version,
        "created_at": target.created_at,
        "updated_at": target.updated_at,
    }


def _body(data: dict[str, Any]) -> dict[str, Any]:
    if isinstance(data.get("amount"), Decimal):
        data["amount"] = str(data["amount"])
    return data


TARGET_PARAMS = frozenset({"year", "user_id", "team_id", "currency", "limit", "cursor"})


@router.get(
    "/sales-targets",
    response={200: SalesTargetList, **ERRORS},
    tags=["sales targets"],
    description=(
        "Revenue targets per user or team and month (users who administer opportunities). "
        "Filters: year, user_id, team_id, currency; limit (1-200), cursor."
    ),
)
def list_targets(
    request: HttpRequest,
    year: str | None = None,
    user_id: str | None = None,
    team_id: str | None = None,
    currency: str | None = None,
):
    selectors.require_target_manager(request.user)
    selectors.reject_unknown(request.GET, TARGET_PARAMS)
    targets = selectors.targets_for(request.user, request.GET)
    page = api_page(request, targets, ["month"])
    return {
        "items": [target_out(t) for t in page.items],
        "next_cursor": page.next_cursor,
        "limit": page.limit,
    }


@router.post("/sales-targets", response={201: SalesTargetOut, **ERRORS}, tags=["sales targets"])
def create_target(request: HttpRequest, payload: SalesTargetIn):
    data = _body(payload.model_dump(exclude_unset=True))
    return Status(201, target_out(services.target_create(actor=request.user, data=data)))


def _target(request: HttpRequest, target_id: int) -> Any:
    target = selectors.targets_for(request.user).filter(pk=target_id).first()
    if target is None:
        raise NotFound()
    return target


@router.get(
    "/sales-targets/{target_id}", response={200: SalesTargetOut, **ERRORS}, tags=["sales targets"]
)
def get_target(request: HttpRequest, target_id: int):
    return target_out(_target(request, target_id))


@router.patch(
    "/sales-targets/{target_id}", response={200: SalesTargetOut, **ERRORS}, tags=["sales targets"]
)
def update_target(request: HttpRequest, target_id: int, payload: SalesTargetPatch):
    data = _body(payload.model_dump(exclude_unset=True))
    version = requested_version(request, data.pop("version", None))
    target = services.target_update(
        actor=request.user, target_id=target_id, data=data, version=version
    )
    return target_out(target)


@router.delete("/sales-targets/{target_id}", response={204: None, **ERRORS}, tags=["sales targets"])
def delete_target(request: HttpRequest, target_id: int):
    services.target_delete(actor=request.user, target_id=target_id)
    return Status(204, None)


@router.get(
    "/sales-targets/{target_id}/history",
    response={200: list[ChangeOut], **ERRORS},
    tags=["sales targets"],
)
def target_history(request: HttpRequest, target_id: int):
    selectors.require_target_manager(request.user)
    changes = history_for(services.ENTITY, target_id)[:500]
    if not changes and not selectors.targets_for(request.user).filter(pk=target_id).exists():
        raise NotFound()
    return [change_out(c) for c in changes]
