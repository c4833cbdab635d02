"""The sales-cycle and lost-deal analyses on known stage histories: exact numbers, what
each user may see, and a constant number of queries."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from farley.core.errors import ValidationFailed
from farley.core.models import User
from farley.sales.selectors.forecast import lost_deals, report_filters, sales_cycle
from tests.sales.forecast_helpers import cycle_world, deal, lost_world, make_pipeline, moves, stage

D = Decimal
YEAR_2025 = {"period": "2025"}
H1 = {"period": "custom", "from": "2025-01-01", "to": "2025-06-30"}


def cycle(user, **params):
    return sales_cycle(user, report_filters({**YEAR_2025, **params}))


def stage_rows(result):
    return {
        s.stage.name: (s.avg_days, s.stays, s.reached, s.advanced, s.to_next, s.to_won)
        for s in result.stages
    }


def test_sales_cycle_for_a_user_of_team_1(sales1, sales2):
    cycle_world(sales1, sales2)
    result = cycle(sales1)
    assert result.pipeline.name == "Sales"
    assert stage_rows(result) == {
        # average days, stays, reached, reached the next, % to the next, % won
        "Qualification": (D("4.0"), 4, 5, 4, D("80.0"), D("40.0")),
        "Needs analysis": (D("5.5"), 2, 4, 3, D("75.0"), D("50.0")),
        "Proposal": (D("6.5"), 2, 3, 3, D("100.0"), D("66.7")),
        "Negotiation": (None, 0, 3, 2, D("66.7"), D("66.7")),
        "Won": (None, 0, 2, 0, D("0.0"), D("100.0")),
    }
    assert result.cohort == 5
    assert (result.won_count, result.lost_count, result.win_rate) == (2, 1, D("66.7"))
    assert result.avg_cycle_days == D("13.0")  # (17 + 9) / 2


def test_sales_cycle_for_an_administrator_includes_team_2(sales1, sales2, admin):
    cycle_world(sales1, sales2)
    result = cycle(admin)
    rows = stage_rows(result)
    assert rows["Qualification"][:4] == (D("7.2"), 5, 6, 5)  # + Sara's 20 days
    assert rows["Needs analysis"][:4] == (D("5.5"), 2, 5, 3)
    assert result.cohort == 6


def test_sales_cycle_filters(sales1, sales2, admin, team2):
    cycle_world(sales1, sales2)
    only_sara = cycle(admin, owner=str(sales2.pk))
    assert stage_rows(only_sara)["Qualification"][:3] == (D("20.0"), 1, 1)
    assert cycle(admin, team=str(team2.pk)).cohort == 1
    # The period: stays that began in it, deals created in it, deals closed in it.
    spring = cycle(admin, period="custom", **{"from": "2025-03-01", "to": "2025-05-31"})
    assert stage_rows(spring)["Qualification"][:3] == (D("5.0"), 2, 3)  # d3 (1), d5 (9)
    assert (spring.won_count, spring.lost_count) == (1, 0)
    assert spring.avg_cycle_days == D("9.0")
    # Another pipeline: its own stages, no deals.
    other = make_pipeline(
        "Partners", [("Talk", 30, "open"), ("Yes", 100, "won"), ("No", 0, "lost")]
    )
    result = cycle(admin, pipeline=str(other.pk))
    assert [s.stage.name for s in result.stages] == ["Talk", "Yes"]
    assert result.cohort == 0 and result.win_rate is None


def test_lost_deals_for_an_administrator(sales1, sales2, admin):
    lost_world(sales1, sales2)
    result = lost_deals(admin, report_filters(H1))
    assert (result.total.count, result.total.amounts) == (
        4, {"EUR": D("18000.00"), "USD": D("1000.00")}
    )  # fmt: skip

    def groups(items):
        return [(g.label, g.count, g.amounts) for g in items]

    assert groups(result.by_reason) == [
        ("Price", 2, {"EUR": D("15000.00"), "USD": D("1000.00")}),
        ("Competitor", 1, {"EUR": D("2500.00")}),
        ("No reason given", 1, {"EUR": D("500.00")}),
    ]
    assert groups(result.by_competitor) == [
        ("ACME", 2, {"EUR": D("17500.00")}),  # "Acme" and " ACME ": one competitor
        ("Bolt", 1, {"EUR": D("500.00")}),
        ("No competitor named", 1, {"USD": D("1000.00")}),
    ]
    assert groups(result.by_stage) == [
        ("Qualification", 1, {"USD": D("1000.00")}),
        ("Proposal", 1, {"EUR": D("15000.00")}),
        ("Negotiation", 1, {"EUR": D("2500.00")}),
        ("Unknown stage", 1, {"EUR": D("500.00")}),
    ]


def test_lost_deals_of_a_sales_user_of_team_1(sales1, sales2, team2):
    lost_world(sales1, sales2)
    result = lost_deals(sales1, report_filters(H1))
    assert (result.total.count, result.total.amounts) == (2, {"EUR": D("15500.00")})
    assert {g.label for g in result.by_competitor} == {"Acme", "Bolt"}
    assert lost_deals(sales1, report_filters({**H1, "team": str(team2.pk)})).total.count == 0


def test_lost_deals_name_the_pipeline_when_several_appear(sales1, sales2, admin):
    lost_world(sales1, sales2)
    service = make_pipeline("Service", [("Open A", 20, "open"), ("Gone", 0, "lost")])
    gone = deal(sales1, stage("Open A", service), "700.00")
    from tests.sales.forecast_helpers import at

    moves(gone, ("Open A", at("2025-02-01")), ("Gone", at("2025-02-02")))
    labels = [g.label for g in lost_deals(admin, report_filters(H1)).by_stage]
    assert "Service › Open A" in labels and "Sales › Proposal" in labels


def test_reports_need_a_constant_number_of_queries(sales1, sales2, admin):
    cycle_world(sales1, sales2)
    lost_world(sales1, sales2)

    def count(user, report):
        user = User.objects.get(pk=user.pk)
        with CaptureQueriesContext(connection) as ctx:
            report(user, report_filters(YEAR_2025))
        return len(ctx.captured_queries)

    before = {(u.pk, r): count(u, r) for u in (admin, sales1) for r in (sales_cycle, lost_deals)}
    from tests.sales.forecast_helpers import at

    for i in range(20):
        d = deal(sales1, stage("Qualification"), "10.00", created_at=at("2025-02-03"))
        moves(d, ("Qualification", at("2025-02-03")), ("Proposal", at("2025-02-04")),
              ("Lost" if i % 2 else "Won", at("2025-02-09")))  # fmt: skip
    for (pk, report), n in before.items():
        assert count(User.objects.get(pk=pk), report) == n
        assert n <= 9


@pytest.mark.parametrize(
    "params",
    [
        {"period": "custom", "from": "2025-02-01", "to": "2025-01-01"},
        {"period": "custom", "from": "1990-01-01", "to": "2025-01-01"},
        {"pipeline": "x"},
        {"owner": "-3"},
        {"period": "soon"},
    ],
)
def test_bad_report_parameters(db, params):
    with pytest.raises(ValidationFailed):
        report_filters(params)


def test_deals_written_through_the_opportunity_services_are_counted(sales1, admin):
    """The reports read what the opportunity services write: stage changes with their
    times, closing times, loss reasons and competitors."""
    from django.utils import timezone

    from farley.sales.models import LossReason
    from farley.sales.selectors.forecast import forecast, forecast_query
    from farley.sales.services.opportunities import opportunity_create, opportunity_move
    from tests.factories import make_account

    account = make_account(sales1, name="Integration GmbH")
    today = timezone.localdate()

    def create(name, amount, stage_name):
        return opportunity_create(
            actor=sales1,
            data={"name": name, "account_id": account.pk, "amount": amount,
                  "expected_close_date": today.isoformat(), "stage_id": stage(stage_name).pk},
        )  # fmt: skip

    open_deal = create("Offen", "1000.00", "Proposal")
    won = create("Gewonnen", "2000.00", "Qualification")
    opportunity_move(actor=sales1, opportunity_id=won.pk, data={"stage_id": stage("Won").pk})
    lost = create("Verloren", "300.00", "Negotiation")
    opportunity_move(
        actor=sales1,
        opportunity_id=lost.pk,
        data={"stage_id": stage("Lost").pk, "competitor": "Rival KG",
              "loss_reason_id": LossReason.objects.get(name="Price").pk},
    )  # fmt: skip
    assert open_deal.probability == 50

    total = forecast(sales1, forecast_query({"period": "this_month"})).total.figures
    assert (total.best_case, total.weighted, total.won) == (
        D("1000.00"), D("500.00"), D("2000.00")
    )  # fmt: skip
    month = report_filters({"period": "this_month"})
    lost_report = lost_deals(sales1, month)
    assert [(g.label, g.count) for g in lost_report.by_stage] == [("Negotiation", 1)]
    assert [g.label for g in lost_report.by_competitor] == ["Rival KG"]
    assert [g.label for g in lost_report.by_reason] == ["Price"]
    cycle_report = sales_cycle(sales1, month)
    assert (cycle_report.won_count, cycle_report.lost_count, cycle_report.cohort) == (1, 1, 3)
    reached = {s.stage.name: s.reached for s in cycle_report.stages}
    assert reached == {"Qualification": 3, "Needs analysis": 3, "Proposal": 3,
                       "Negotiation": 2, "Won": 1}  # fmt: skip
