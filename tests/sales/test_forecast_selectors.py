"""The forecast's numbers on a small known data set (tests/sales/forecast_helpers.py):
weighted pipeline, best case, commit, closed won, targets and attainment per month and
quarter, by owner, team and pipeline, per currency, and what each user may see."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from farley.core.errors import ValidationFailed
from farley.sales.selectors.forecast import forecast, forecast_query
from tests.sales.forecast_helpers import forecast_world

D = Decimal
H1 = {"period": "custom", "from": "2025-01-01", "to": "2025-06-30"}


@pytest.fixture
def world(sales1, sales2, team1, team2):
    return forecast_world(sales1, sales2, team1, team2)


def run(user, **params):
    return forecast(user, forecast_query({**H1, **params}))


def figures(row):
    f = row.figures
    return (f.best_case, f.weighted, f.commit, f.won, f.target, f.attainment)


def by_bucket(result):
    return {row.bucket.key: figures(row) for row in result.totals}


def test_months_for_everything_an_administrator_sees(world, admin):
    result = run(admin)
    assert [b.key for b in result.buckets] == [f"2025-0{m}" for m in range(1, 7)]
    assert by_bucket(result) == {
        # best case, weighted, commit (≥ 75 %), won, target, attainment
        "2025-01": (D("10000.00"), D("5000.00"), D("0.00"), D("0.00"), D("15000.00"), D("0.0")),
        "2025-02": (D("25000.00"), D("15500.00"), D("20000.00"), D("12000.00"), D("15000.00"), D("80.0")),
        "2025-03": (D("4000.00"), D("3200.00"), D("4000.00"), D("0.00"), D("15000.00"), D("0.0")),
        # team 2's own target (20,000) covers its member's 8,000; Tom's 5,000 is added
        "2025-04": (D("8000.00"), D("7200.00"), D("8000.00"), D("6000.00"), D("25000.00"), D("24.0")),
        "2025-05": (D("3333.33"), D("1666.67"), D("0.00"), D("9000.00"), D("20000.00"), D("45.0")),
        "2025-06": (D("0.00"), D("0.00"), D("0.00"), D("0.00"), D("20000.00"), D("0.0")),
    }  # fmt: skip
    total = result.total.figures
    # The weighted sum is rounded once: 32,566.665 → 32,566.67.
    assert figures(result.total) == (
        D("50333.33"), D("32566.67"), D("32000.00"), D("27000.00"), D("110000.00"), D("24.5")
    )  # fmt: skip
    assert (total.open_count, total.commit_count, total.won_count) == (6, 3, 3)
    assert result.currencies == ["EUR", "USD"]


def test_quarters(world, admin):
    result = run(admin, grouping="quarter")
    assert [(b.key, b.start, b.end) for b in result.buckets] == [
        ("2025-Q1", dt.date(2025, 1, 1), dt.date(2025, 3, 31)),
        ("2025-Q2", dt.date(2025, 4, 1), dt.date(2025, 6, 30)),
    ]
    assert by_bucket(result) == {
        "2025-Q1": (D("39000.00"), D("23700.00"), D("24000.00"), D("12000.00"), D("45000.00"), D("26.7")),
        "2025-Q2": (D("11333.33"), D("8866.67"), D("8000.00"), D("15000.00"), D("65000.00"), D("23.1")),
    }  # fmt: skip


def test_a_won_deal_counts_in_the_month_of_farleys_time_zone(world, admin):
    """w1 was won on 1 February 00:30 in Berlin (31 January 23:30 UTC): February."""
    result = run(admin, period="custom", **{"from": "2025-02-01", "to": "2025-02-01"})
    assert result.total.figures.won == D("12000.00")
    result = run(admin, period="custom", **{"from": "2025-01-01", "to": "2025-01-31"})
    assert result.total.figures.won == D("0.00")


def test_by_owner(world, admin):
    result = run(admin, breakdown="owner")
    rows = {(r.bucket.key, r.key.label): figures(r) for r in result.rows}
    assert rows == {
        ("2025-01", "Sven Sales"): (D("10000.00"), D("5000.00"), D("0.00"), D("0.00"), D("10000.00"), D("0.0")),
        ("2025-01", "Tom Team-One"): (D("0.00"), D("0.00"), D("0.00"), D("0.00"), D("5000.00"), D("0.0")),
        ("2025-02", "Sven Sales"): (D("20000.00"), D("15000.00"), D("20000.00"), D("12000.00"), D("10000.00"), D("120.0")),
        ("2025-02", "Tom Team-One"): (D("5000.00"), D("500.00"), D("0.00"), D("0.00"), D("5000.00"), D("0.0")),
        ("2025-03", "Sara Sales"): (D("4000.00"), D("3200.00"), D("4000.00"), D("0.00"), None, None),
        ("2025-03", "Sven Sales"): (D("0.00"), D("0.00"), D("0.00"), D("0.00"), D("10000.00"), D("0.0")),
        ("2025-03", "Tom Team-One"): (D("0.00"), D("0.00"), D("0.00"), D("0.00"), D("5000.00"), D("0.0")),
        ("2025-04", "Sara Sales"): (D("8000.00"), D("7200.00"), D("8000.00"), D("0.00"), D("8000.00"), D("0.0")),
        ("2025-04", "Tom Team-One"): (D("0.00"), D("0.00"), D("0.00"), D("6000.00"), D("5000.00"), D("120.0")),
        ("2025-05", "Sara Sales"): (D("3333.33"), D("1666.67"), D("0.00"), D("9000.00"), None, None),
    }  # fmt: skip
    assert [k.label for k in result.keys] == ["Sara Sales", "Sven Sales", "Tom Team-One"]
    # The totals are those without a breakdown.
    assert by_bucket(result) == by_bucket(run(admin))


def test_by_team_uses_the_teams_own_target_or_the_sum_of_its_members(world, admin):
    result = run(admin, breakdown="team", grouping="quarter")
    rows = {(r.bucket.key, r.key.label): figures(r) for r in result.rows}
    assert rows == {
        ("2025-Q1", "Vertrieb Nord"): (D("35000.00"), D("20500.00"), D("20000.00"), D("12000.00"), D("45000.00"), D("26.7")),
        ("2025-Q1", "Vertrieb Süd"): (D("4000.00"), D("3200.00"), D("4000.00"), D("0.00"), None, None),
        ("2025-Q2", "Vertrieb Nord"): (D("0.00"), D("0.00"), D("0.00"), D("6000.00"), D("5000.00"), D("120.0")),
        ("2025-Q2", "Vertrieb Süd"): (D("11333.33"), D("8866.67"), D("8000.00"), D("9000.00"), D("60000.00"), D("15.0")),
    }  # fmt: skip


def test_by_pipeline_has_no_targets_but_the_totals_do(world, admin):
    result = run(admin, breakdown="pipeline", grouping="quarter")
    rows = {(r.bucket.key, r.key.label): figures(r) for r in result.rows}
    assert rows == {
        ("2025-Q1", "Sales"): (D("35000.00"), D("20500.00"), D("20000.00"), D("12000.00"), None, None),
        ("2025-Q1", "Service"): (D("4000.00"), D("3200.00"), D("4000.00"), D("0.00"), None, None),
        ("2025-Q2", "Sales"): (D("11333.33"), D("8866.67"), D("8000.00"), D("15000.00"), None, None),
    }  # fmt: skip
    assert result.totals[0].figures.target == D("45000.00")


def test_filters_pipeline_owner_team(world, admin):
    service = run(admin, pipeline=str(world.service.pk))
    assert figures(service.total) == (
        D("4000.00"), D("3200.00"), D("4000.00"), D("0.00"), None, None
    )  # fmt: skip
    assert service.targets_shown is False
    tom = run(admin, owner=str(world.tom.pk))
    assert figures(tom.total) == (
        D("5000.00"), D("500.00"), D("0.00"), D("6000.00"), D("20000.00"), D("30.0")
    )  # fmt: skip
    south = run(admin, team=str(world.team2.pk))
    assert figures(south.total) == (
        D("15333.33"), D("12066.67"), D("12000.00"), D("9000.00"), D("60000.00"), D("15.0")
    )  # fmt: skip
    # An owner filter with a team breakdown: the owner's deals per team, no team targets.
    mixed = run(admin, owner=str(world.sales1.pk), breakdown="team")
    assert {r.key.label for r in mixed.rows} == {"Vertrieb Nord"}
    assert all(r.figures.target is None for r in mixed.rows)
    assert mixed.total.figures.target == D("30000.00")


def test_commit_threshold(world, admin):
    result = run(admin, threshold="50")
    assert result.total.figures.commit == D("45333.33")  # + 10,000 (Jan) and 3,333.33 (May)
    assert run(admin, threshold="91").total.figures.commit == D("0.00")
    assert run(admin, threshold="0").total.figures.commit == D("50333.33")


def test_one_currency_at_a_time(world, admin):
    result = run(admin, currency="usd")
    assert result.query.currency == "USD"
    assert by_bucket(result)["2025-02"][3] == D("2000.00")
    assert by_bucket(result)["2025-03"][:2] == (D("7000.00"), D("3500.00"))
    assert by_bucket(result)["2025-05"][4] == D("1000.00")  # the USD target
    assert figures(result.total) == (
        D("7000.00"), D("3500.00"), D("0.00"), D("2000.00"), D("1000.00"), D("200.0")
    )  # fmt: skip


def test_a_sales_user_of_team_1_sees_only_team_1(world, sales1, sales2):
    result = run(sales1)
    assert figures(result.total) == (
        D("35000.00"), D("20500.00"), D("20000.00"), D("18000.00"), D("50000.00"), D("36.0")
    )  # fmt: skip
    # April: only Tom's target; team 2's target and Sara's deals stay hidden.
    assert by_bucket(result)["2025-04"] == (
        D("0.00"), D("0.00"), D("0.00"), D("6000.00"), D("5000.00"), D("120.0")
    )  # fmt: skip
    owners = run(sales1, breakdown="owner")
    assert {r.key.label for r in owners.rows} == {"Sven Sales", "Tom Team-One"}
    teams = run(sales1, breakdown="team")
    assert {r.key.label for r in teams.rows} == {"Vertrieb Nord"}
    # Asking for team 2's owner or team shows nothing of theirs.
    assert run(sales1, owner=str(sales2.pk)).total.figures.is_empty
    assert run(sales1, team=str(world.team2.pk)).total.figures.is_empty
    # And the other way round.
    other = run(sales2)
    assert other.total.figures.won == D("9000.00")
    assert {r.key.label for r in run(sales2, breakdown="owner").rows} == {"Sara Sales"}


def test_a_role_without_view_on_deals_sees_nothing(world, db):
    from farley.core.models import Role
    from tests.factories import make_user

    role = Role.objects.create(key="nodeals", name="No deals", visibility="all")
    user = make_user("nodeals")
    user.role = role
    user.save()
    result = run(user)
    assert result.total.figures.is_empty


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"grouping": "week"}, "grouping"),
        ({"breakdown": "account"}, "breakdown"),
        ({"period": "fortnight"}, "period"),
        ({"period": "custom", "from": "2025-06-01", "to": "2025-01-01"}, "to"),
        ({"period": "custom", "from": "2000-01-01", "to": "2025-12-31"}, "to"),
        ({"period": "custom", "from": "2025-01-01"}, "to"),
        ({"period": "custom", "from": "yesterday", "to": "2025-01-01"}, "from"),
        ({"period": "this_quarter", "from": "2025-01-01"}, "period"),
        ({"period": "1066"}, "period"),
        ({"threshold": "high"}, "threshold"),
        ({"threshold": "101"}, "threshold"),
        ({"threshold": "-1"}, "threshold"),
        ({"threshold": "7.5"}, "threshold"),
        ({"currency": "EURO"}, "currency"),
        ({"owner": "abc"}, "owner"),
        ({"owner": "999999"}, "owner"),
        ({"team": "0"}, "team"),
        ({"pipeline": "99999999999999999999999"}, "pipeline"),
    ],
)
def test_bad_parameters_are_field_errors(db, params, field):
    with pytest.raises(ValidationFailed) as caught:
        forecast_query(params)
    assert field in caught.value.fields


def test_named_periods(db):
    today = dt.date(2025, 5, 17)

    def span(period):
        f = forecast_query({"period": period}, today=today).filters
        return f.start, f.end

    assert span("this_month") == (dt.date(2025, 5, 1), dt.date(2025, 5, 31))
    assert span("this_quarter") == (dt.date(2025, 4, 1), dt.date(2025, 6, 30))
    assert span("next_quarter") == (dt.date(2025, 7, 1), dt.date(2025, 9, 30))
    assert span("last_quarter") == (dt.date(2025, 1, 1), dt.date(2025, 3, 31))
    assert span("this_year") == (dt.date(2025, 1, 1), dt.date(2025, 12, 31))
    assert span("next_year") == (dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    assert span("last_year") == (dt.date(2024, 1, 1), dt.date(2024, 12, 31))
    assert span("last_12_months") == (dt.date(2024, 6, 1), dt.date(2025, 5, 31))
    assert span("2023") == (dt.date(2023, 1, 1), dt.date(2023, 12, 31))
    assert forecast_query({}, today=today).filters.period == "this_quarter"
    # Q4 rolls over into the next year.
    q = forecast_query({"period": "next_quarter"}, today=dt.date(2025, 11, 2)).filters
    assert (q.start, q.end) == (dt.date(2026, 1, 1), dt.date(2026, 3, 31))


def test_a_custom_range_cuts_its_quarters(world, admin):
    result = run(admin, grouping="quarter", **{"from": "2025-02-15", "to": "2025-04-30"})
    assert [(b.key, b.start, b.end) for b in result.buckets] == [
        ("2025-Q1", dt.date(2025, 2, 15), dt.date(2025, 3, 31)),
        ("2025-Q2", dt.date(2025, 4, 1), dt.date(2025, 4, 30)),
    ]
    # Open deals by their close date within the range; targets of the months it touches.
    assert by_bucket(result)["2025-Q1"][:2] == (D("9000.00"), D("3700.00"))
    assert by_bucket(result)["2025-Q1"][4] == D("30000.00")


def test_the_number_of_queries_does_not_grow_with_the_deals(
    world, admin, sales1, django_assert_max_num_queries
):
    from tests.sales.forecast_helpers import deal, stage

    def count(user):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        user = type(user).objects.get(pk=user.pk)  # nothing cached on the user object
        with CaptureQueriesContext(connection) as ctx:
            run(user, breakdown="owner")
        return len(ctx.captured_queries)

    before = {u.pk: count(u) for u in (admin, sales1)}
    for i in range(30):
        deal(world.tom, stage("Proposal"), "100.00", close=f"2025-03-{i % 28 + 1:02d}")
        deal(world.sales2, stage("Won"), "50.00", closed_at=dt.datetime(2025, 4, 2, tzinfo=dt.UTC))
    for user in (admin, sales1):
        assert count(user) == before[user.pk]
    with django_assert_max_num_queries(10):
        run(sales1, breakdown="owner")


def test_a_user_who_sees_only_own_deals_gets_only_their_own_target(world, team1):
    from farley.core.models import Role
    from tests.factories import make_user
    from tests.sales.forecast_helpers import target

    role = Role.objects.create(
        key="solo", name="Solo", visibility="own", permissions={"opportunity": ["view"]}
    )
    solo = make_user("solo", team1, full_name="Solo Seller")
    solo.role = role
    solo.save()
    target(solo, "2025-02", "4000")
    target(world.team1, "2025-02", "99000")  # the team's own target: not theirs to see
    result = run(solo, period="custom", **{"from": "2025-02-01", "to": "2025-02-28"})
    assert result.total.figures.target == D("4000.00")
    assert result.total.figures.is_empty is False and result.total.figures.best_case == D("0.00")
    # A team mate with the "team" scope sees the team's own target instead of the members'.
    mate = run(world.sales1, period="custom", **{"from": "2025-02-01", "to": "2025-02-28"})
    assert mate.total.figures.target == D("99000.00")
