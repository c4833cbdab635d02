"""Pages: the forecast, the sales-cycle and lost-deal analyses (each with filters, a table and
Chart.js charts whose data travels in ``json_script``), and the sales targets (settings).

The pages read through the same selectors as the API (:mod:`farley.sales.selectors.forecast`)
and show bad filters as field errors (status 422). Money, numbers and months are formatted
for the user's language here, so the templates only print.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from babel.numbers import format_currency, format_decimal
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from farley.core import permissions
from farley.core import selectors as core_selectors
from farley.core.errors import Conflict, NotFound, ValidationFailed
from farley.sales.models import Pipeline, SalesTarget
from farley.sales.selectors import forecast as selectors
from farley.sales.services import forecast as services

ENTITY = "opportunity"


# --- formatting -------------------------------------------------------------------------------


def _locale() -> str:
    return (get_language() or "en").replace("-", "_")


def fmt_money(value: Decimal | None, currency: str) -> str:
    """1234.5 EUR → "1.234,50 €" (German) or "€1,234.50" (English); None → "–"."""
    if value is None:
        return "–"
    return format_currency(value, currency, locale=_locale())


def fmt_number(value: Decimal | int | None, places: int = 1) -> str:
    if value is None:
        return "–"
    pattern = "#,##0" + ("." + "0" * places if places else "")
    return format_decimal(value, format=pattern, locale=_locale())


def fmt_percent(value: Decimal | None) -> str:
    return "–" if value is None else f"{fmt_number(value)} %"


def fmt_amounts(amounts: dict[str, Decimal]) -> str:
    return " · ".join(fmt_money(v, c) for c, v in sorted(amounts.items())) or "–"


# --- shared parts -----------------------------------------------------------------------------


def _period_choices() -> list[tuple[str, str]]:
    year = timezone.localdate().year
    named = [(key, str(label)) for key, label in selectors.PERIODS.items() if key != "custom"]
    years = [(str(y), str(y)) for y in range(year - 3, year + 2)]
    return [*named, *years, ("custom", str(selectors.PERIODS["custom"]))]


def _tabs(request: HttpRequest, active: str) -> list[dict[str, Any]]:
    query = ""
    keep = {k: v for k, v in request.GET.items() if k in selectors.REPORT_PARAMS and v}
    if keep:
        from urllib.parse import urlencode

        query = "?" + urlencode(keep)
    tabs = [
        ("forecast", _("Forecast"), reverse("sales:forecast") + query),
        ("sales_cycle", _("Sales cycle"), reverse("sales:sales_cycle") + query),
        ("lost_deals", _("Lost deals"), reverse("sales:lost_deals") + query),
    ]
    if selectors.may_manage_targets(request.user):
        tabs.append(("targets", _("Targets"), reverse("sales:targets")))
    return [{"key": k, "label": label, "url": url, "active": k == active} for k, label, url in tabs]


def _filter_context(request: HttpRequest, filters: selectors.Filters | None) -> dict[str, Any]:
    values = {key: request.GET.get(key, "") for key in selectors.FORECAST_PARAMS}
    if filters is not None:  # show what was used (the defaults too)
        values["period"] = filters.period
        if filters.period == "custom":
            values["from"], values["to"] = filters.start.isoformat(), filters.end.isoformat()
    return {
        "nav": "forecast",
        "values": values,
        "period_choices": _period_choices(),
        "pipelines": Pipeline.objects.order_by("order", "name"),
        "owners": core_selectors.user_choices(),
        "teams": core_selectors.team_choices(),
    }


def _period_text(filters: selectors.Filters | None) -> str:
    if filters is None:
        return ""
    from babel.dates import format_date

    return "{} – {}".format(
        format_date(filters.start, "medium", locale=_locale()),
        format_date(filters.end, "medium", locale=_locale()),
    )


# --- forecast ---------------------------------------------------------------------------------


def _figure_cells(f: selectors.Figures, currency: str) -> dict[str, Any]:
    return {
        "weighted": fmt_money(f.weighted, currency),
        "best_case": fmt_money(f.best_case, currency),
        "commit": fmt_money(f.commit, currency),
        "won": fmt_money(f.won, currency),
        "target": fmt_money(f.target, currency),
        "attainment": fmt_percent(f.attainment),
        "open_count": f.open_count,
        "won_count": f.won_count,
    }


def _forecast_table(result: selectors.Forecast) -> list[dict[str, Any]]:
    """The table's rows: per period its breakdown rows, then the period's total."""
    currency = result.query.currency
    by_bucket: dict[str, list[selectors.Row]] = {}
    for row in result.rows:
        by_bucket.setdefault(row.bucket.key, []).append(row)
    table = []
    breakdown = result.query.breakdown != "none"
    for total in result.totals:
        if breakdown:
            for row in by_bucket.get(total.bucket.key, []):
                table.append(
                    {"period": total.bucket.label, "key": row.key.label, "kind": "row",
                     **_figure_cells(row.figures, currency)}
                )  # fmt: skip
        table.append(
            {"period": total.bucket.label, "key": _("Total") if breakdown else "",
             "kind": "subtotal" if breakdown else "row", **_figure_cells(total.figures, currency)}
        )  # fmt: skip
    return table


def _forecast_chart(result: selectors.Forecast) -> dict[str, Any]:
    def series(attribute: str) -> list[float | None]:
        values = [getattr(t.figures, attribute) for t in result.totals]
        return [None if v is None else float(v) for v in values]

    datasets = [
        {"label": _("Closed won"), "data": series("won")},
        {"label": _("Commit"), "data": series("commit")},
        {"label": _("Weighted pipeline"), "data": series("weighted")},
        {"label": _("Best case"), "data": series("best_case")},
    ]
    if result.targets_shown and any(t.figures.target is not None for t in result.totals):
        datasets.append({"label": _("Target"), "data": series("target"), "type": "line"})
    return {
        "type": "bar",
        "labels": [b.label for b in result.buckets],
        "datasets": datasets,
        "currency": result.query.currency,
        "locale": (get_language() or "en"),
    }


@login_required
def forecast_page(request: HttpRequest) -> HttpResponse:
    permissions.require(request.user, "view", ENTITY)
    errors: dict[str, list[str]] = {}
    result = None
    try:
        query = selectors.forecast_query(request.GET)
    except ValidationFailed as exc:
        errors = exc.fields
    else:
        result = selectors.forecast(request.user, query)
    context = {
        **_filter_context(request, result.query.filters if result else None),
        "tabs": _tabs(request, "forecast"),
        "errors": errors,
        "groupings": list(selectors.GROUPINGS.items()),
        "breakdowns": list(selectors.BREAKDOWNS.items()),
        "result": result,
    }
    if result is not None:
        q = result.query
        context["values"].update(
            grouping=q.grouping, breakdown=q.breakdown, threshold=str(q.threshold),
            currency=q.currency,
        )  # fmt: skip
        context.update(
            period_text=_period_text(q.filters),
            currencies=result.currencies,
            other_currencies=[c for c in result.currencies if c != q.currency],
            summary=_figure_cells(result.total.figures, q.currency),
            table=_forecast_table(result),
            chart=_forecast_chart(result),
            breakdown_label=selectors.BREAKDOWNS[q.breakdown],
        )
    else:
        context["values"].setdefault("threshold", str(selectors.DEFAULT_THRESHOLD))
        context["currencies"] = [selectors.DEFAULT_CURRENCY]
    return render(request, "sales/forecast/forecast.html", context, status=422 if errors else 200)


# --- sales-cycle analysis ---------------------------------------------------------------------


@login_required
def sales_cycle_page(request: HttpRequest) -> HttpResponse:
    permissions.require(request.user, "view", ENTITY)
    errors: dict[str, list[str]] = {}
    result = None
    try:
        filters = selectors.report_filters(request.GET)
    except ValidationFailed as exc:
        errors = exc.fields
    else:
        result = selectors.sales_cycle(request.user, filters)
    context = {
        **_filter_context(request, result.filters if result else None),
        "tabs": _tabs(request, "sales_cycle"),
        "errors": errors,
        "result": result,
    }
    if result is not None:
        if result.pipeline is not None:
            context["values"]["pipeline"] = str(result.pipeline.pk)
        stages = [
            {
                "name": s.stage.display_name(),
                "kind": s.stage.kind,
                "avg_days": fmt_number(s.avg_days),
                "stays": s.stays,
                "reached": s.reached,
                "to_next": fmt_percent(s.to_next) if s.stage.kind == "open" else "",
                "to_won": fmt_percent(s.to_won),
            }
            for s in result.stages
        ]
        open_stages = [s for s in result.stages if s.stage.kind == "open"]
        locale = get_language() or "en"
        context.update(
            period_text=_period_text(result.filters),
            stages=stages,
            win_rate=fmt_percent(result.win_rate),
            cycle_days=fmt_number(result.avg_cycle_days),
            days_chart={
                "type": "bar",
                "labels": [s.stage.display_name() for s in open_stages],
                "datasets": [
                    {
                        "label": _("Average days in the stage"),
                        "data": [None if s.avg_days is None else float(s.avg_days) for s in open_stages],
                    }
                ],
                "unit": _("days"),
                "locale": locale,
            },
            funnel_chart={
                "type": "bar",
                "labels": [s.stage.display_name() for s in result.stages],
                "datasets": [
                    {"label": _("Deals that reached the stage"), "data": [s.reached for s in result.stages]}
                ],
                "integer": True,
                "locale": locale,
            },
        )  # fmt: skip
    return render(
        request, "sales/forecast/sales_cycle.html", context, status=422 if errors else 200
    )


# --- lost-deal analysis -----------------------------------------------------------------------


def _lost_rows(groups: list[selectors.LostGroup]) -> list[dict[str, Any]]:
    return [{"label": g.label, "count": g.count, "amounts": fmt_amounts(g.amounts)} for g in groups]


def _lost_chart(groups: list[selectors.LostGroup], label: str) -> dict[str, Any]:
    return {
        "type": "bar",
        "labels": [g.label for g in groups],
        "datasets": [{"label": label, "data": [g.count for g in groups]}],
        "integer": True,
        "horizontal": True,
        "locale": get_language() or "en",
    }


@login_required
def lost_deals_page(request: HttpRequest) -> HttpResponse:
    permissions.require(request.user, "view", ENTITY)
    errors: dict[str, list[str]] = {}
    result = None
    try:
        filters = selectors.report_filters(request.GET)
    except ValidationFailed as exc:
        errors = exc.fields
    else:
        result = selectors.lost_deals(request.user, filters)
    context = {
        **_filter_context(request, result.filters if result else None),
        "tabs": _tabs(request, "lost_deals"),
        "errors": errors,
        "result": result,
    }
    if result is not None:
        count = _("Lost deals")
        context.update(
            period_text=_period_text(result.filters),
            total_amounts=fmt_amounts(result.total.amounts),
            sections=[
                {"key": "reason", "title": _("By loss reason"), "rows": _lost_rows(result.by_reason),
                 "chart": _lost_chart(result.by_reason, count)},
                {"key": "competitor", "title": _("By competitor"),
                 "rows": _lost_rows(result.by_competitor),
                 "chart": _lost_chart(result.by_competitor, count)},
                {"key": "stage", "title": _("By the stage lost from"),
                 "rows": _lost_rows(result.by_stage), "chart": _lost_chart(result.by_stage, count)},
            ],
        )  # fmt: skip
    return render(request, "sales/forecast/lost_deals.html", context, status=422 if errors else 200)


# --- sales targets ----------------------------------------------------------------------------


def _target_form_data(post: Any) -> dict[str, Any]:
    who = post.get("who", "")
    data: dict[str, Any] = {
        "month": post.get("month", ""),
        "amount": post.get("amount", ""),
        "currency": post.get("currency", "") or "EUR",
    }
    if who.startswith("user:"):
        data["user_id"] = who[5:]
    elif who.startswith("team:"):
        data["team_id"] = who[5:]
    else:
        data["user_id"] = None
    return data


def _who_errors(errors: dict[str, list[str]]) -> dict[str, list[str]]:
    """The service's user_id/team_id errors belong to the form's single "who" field."""
    errors = dict(errors)
    who = errors.pop("user_id", []) + errors.pop("team_id", [])
    if who:
        errors["who"] = who
    return errors


def _targets_context(request: HttpRequest) -> dict[str, Any]:
    return {
        "nav": "forecast",
        "tabs": _tabs(request, "targets"),
        "user_choices": [(f"user:{u.pk}", str(u)) for u in core_selectors.users_active()],
        "team_choices": [(f"team:{t.pk}", str(t)) for t in core_selectors.teams_all()],
        "currencies": sorted(services.CURRENCIES),
    }


@login_required
def targets_page(request: HttpRequest) -> HttpResponse:
    """The targets of a year (list) and a form to add one."""
    selectors.require_target_manager(request.user)
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {"currency": "EUR"}
    if request.method == "POST":
        values = request.POST
        try:
            created = services.target_create(
                actor=request.user, data=_target_form_data(request.POST)
            )
        except ValidationFailed as exc:
            errors = _who_errors(exc.fields)
        else:
            messages.success(request, _("The target was saved."))
            return redirect(f"{reverse('sales:targets')}?year={created.month.year}")
    year = timezone.localdate().year
    for candidate in (request.GET.get("year", ""), str(values.get("month", ""))[:4]):
        if candidate.isdigit() and 1900 <= int(candidate) <= 2200:
            year = int(candidate)
            break
    targets = list(selectors.targets_for(request.user, {"year": str(year)}))
    rows = [
        {
            "target": t,
            "who": str(t.user or t.team),
            "is_team": t.team_id is not None,
            "month": t.month,
            "amount": fmt_money(t.amount, t.currency),
        }
        for t in sorted(targets, key=lambda t: (t.month, t.team_id is None, str(t.user or t.team)))
    ]
    context = {
        **_targets_context(request),
        "errors": errors,
        "values": values,
        "rows": rows,
        "year": year,
        "years": [year - 1, year + 1],
    }
    return render(request, "sales/forecast/targets.html", context, status=422 if errors else 200)


@login_required
def target_edit(request: HttpRequest, target_id: int) -> HttpResponse:
    selectors.require_target_manager(request.user)
    target = selectors.targets_for(request.user).filter(pk=target_id).first()
    if target is None:
        raise NotFound()
    errors: dict[str, list[str]] = {}
    who = f"user:{target.user_id}" if target.user_id else f"team:{target.team_id}"
    values: Any = {
        "who": who,
        "month": f"{target.month:%Y-%m}",
        "amount": str(target.amount),
        "currency": target.currency,
        "version": target.version,
    }
    if request.method == "POST":
        values = request.POST
        try:
            saved = services.target_update(
                actor=request.user,
                target_id=target.pk,
                data=_target_form_data(request.POST),
                version=request.POST.get("version"),
            )
        except ValidationFailed as exc:
            errors = _who_errors(exc.fields)
        except Conflict as exc:
            errors = {"": [exc.message]}
        else:
            messages.success(request, _("The target was saved."))
            return redirect(f"{reverse('sales:targets')}?year={saved.month.year}")
    context = {**_targets_context(request), "errors": errors, "values": values, "target": target}
    return render(
        request, "sales/forecast/target_form.html", context, status=422 if errors else 200
    )


@login_required
@require_POST
def target_delete(request: HttpRequest, target_id: int) -> HttpResponse:
    selectors.require_target_manager(request.user)
    target = SalesTarget.objects.filter(pk=target_id).first()
    year = target.month.year if target else timezone.localdate().year
    services.target_delete(actor=request.user, target_id=target_id)
    messages.success(request, _("The target was deleted."))
    return redirect(f"{reverse('sales:targets')}?year={year}")


urlpatterns: list = [
    path("forecast/", forecast_page, name="forecast"),
    path("forecast/sales-cycle/", sales_cycle_page, name="sales_cycle"),
    path("forecast/lost-deals/", lost_deals_page, name="lost_deals"),
    path("forecast/targets/", targets_page, name="targets"),
    path("forecast/targets/<int:target_id>/", target_edit, name="target_edit"),
    path("forecast/targets/<int:target_id>/delete/", target_delete, name="target_delete"),
]
