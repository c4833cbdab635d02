"""Pages: the forecast, the two analyses and the sales targets — numbers formatted by
locale, field errors for bad filters, what each user sees, and the navigation."""

from __future__ import annotations

import json
import re

import pytest

from farley.core.models import ChangeRecord
from farley.sales.models import SalesTarget
from tests.sales.forecast_helpers import cycle_world, forecast_world, lost_world

H1 = {"period": "custom", "from": "2025-01-01", "to": "2025-06-30"}


@pytest.fixture
def world(sales1, sales2, team1, team2):
    return forecast_world(sales1, sales2, team1, team2)


def chart_data(response, element_id):
    match = re.search(
        rf'<script id="{element_id}" type="application/json">(.*?)</script>',
        response.content.decode(),
        re.S,
    )
    assert match, f"no {element_id}"
    return json.loads(match.group(1))


def test_forecast_page(client, world, admin):
    client.force_login(admin)
    response = client.get("/forecast/", {**H1, "breakdown": "owner"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="forecast-table"' in html and 'id="forecast-chart"' in html
    assert 'id="sum-weighted">€32,566.67<' in html
    assert 'id="sum-target">€110,000.00<' in html
    assert 'id="sum-attainment">24.5 %<' in html
    assert "Sara Sales" in html and "Tom Team-One" in html
    chart = chart_data(response, "forecast-chart-data")
    assert chart["labels"] == [
        "Jan 2025",
        "Feb 2025",
        "Mar 2025",
        "Apr 2025",
        "May 2025",
        "Jun 2025",
    ]
    assert chart["currency"] == "EUR"
    won = next(d for d in chart["datasets"] if d["label"] == "Closed won")
    assert won["data"] == [0.0, 12000.0, 0.0, 6000.0, 9000.0, 0.0]
    assert next(d for d in chart["datasets"] if d["label"] == "Target")["type"] == "line"
    # The page loads Chart.js and its script from files (the CSP allows no inline scripts).
    assert "vendor/chartjs/chart.umd.min.js" in html and "farley/charts.js" in html
    assert "<script>" not in html and "style=" not in html
    # The other currency is one click away.
    assert "currency=USD" in html


def test_forecast_page_in_german(client, world, admin):
    admin.language = "de"
    admin.save()
    client.force_login(admin)
    response = client.get("/forecast/", {**H1, "grouping": "quarter"})
    html = response.content.decode()
    assert "32.566,67\xa0€" in html
    assert "24,5 %" in html
    assert chart_data(response, "forecast-chart-data")["labels"] == ["Q1 2025", "Q2 2025"]


def test_the_forecast_defaults_to_this_quarter(client, world, admin):
    client.force_login(admin)
    response = client.get("/forecast/")
    assert response.status_code == 200
    assert '<option value="this_quarter" selected>' in response.content.decode()


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"grouping": "week"}, "grouping"),
        ({"breakdown": "planet"}, "breakdown"),
        ({"period": "custom", "from": "2025-06-01", "to": "2025-01-01"}, "to"),
        ({"period": "custom", "from": "1990-01-01", "to": "2025-01-01"}, "to"),
        ({"threshold": "abc"}, "threshold"),
        ({"owner": "nobody"}, "owner"),
    ],
)
def test_bad_filters_are_field_errors(client, admin, params, field):
    client.force_login(admin)
    response = client.get("/forecast/", params)
    assert response.status_code == 422
    html = response.content.decode()
    assert 'id="filter-errors"' in html
    assert re.search(rf'class="[^"]*is-invalid[^"]*"[^>]* id="flt-{field}"', html), html
    assert 'id="forecast-table"' not in html


def test_a_sales_user_sees_only_team_1_on_the_pages(client, world, sales1, sales2):
    client.force_login(sales1)
    html = client.get("/forecast/", {**H1, "breakdown": "owner"}).content.decode()
    assert 'id="sum-best-case">€35,000.00<' in html
    assert "Sara Sales</td>" not in html
    assert "€3,333.33" not in html and "€8,000.00" not in html
    # Filtering by a team-2 owner shows nothing of theirs.
    html = client.get("/forecast/", {**H1, "owner": str(sales2.pk)}).content.decode()
    assert 'id="sum-best-case">€0.00<' in html and 'id="sum-target">–<' in html


def test_the_forecast_page_needs_a_constant_number_of_queries(
    client, world, admin, django_assert_max_num_queries
):
    client.force_login(admin)
    client.get("/forecast/", H1)
    with django_assert_max_num_queries(22):
        assert client.get("/forecast/", {**H1, "breakdown": "team"}).status_code == 200


def test_navigation_and_tabs(client, world, admin, sales1, reader):
    client.force_login(sales1)
    html = client.get("/").content.decode()
    assert 'href="/forecast/">Forecast</a>' in html
    page = client.get("/forecast/", {**H1, "owner": str(sales1.pk)}).content.decode()
    tabs = re.search(r'<ul class="nav nav-tabs mb-3" id="forecast-tabs">(.*?)</ul>', page, re.S)
    assert "Sales cycle" in tabs.group(1) and "Lost deals" in tabs.group(1)
    assert "Targets" not in tabs.group(1)  # only for administrators of deals
    assert (
        f"/forecast/sales-cycle/?period=custom&amp;from=2025-01-01&amp;to=2025-06-30&amp;owner={sales1.pk}"
        in tabs.group(1)
    )
    client.force_login(admin)
    assert "/forecast/targets/" in client.get("/forecast/").content.decode()


def test_a_role_without_deals_gets_no_forecast(client, db):
    from farley.core.models import Role
    from tests.factories import make_user

    role = Role.objects.create(key="plain", name="Plain", permissions={"opportunity": []})
    user = make_user("plain")
    user.role = role
    user.save()
    client.force_login(user)
    assert 'href="/forecast/"' not in client.get("/").content.decode()
    for path in ("/forecast/", "/forecast/sales-cycle/", "/forecast/lost-deals/"):
        assert client.get(path).status_code == 403


# --- analyses ---------------------------------------------------------------------------------


def test_sales_cycle_page(client, sales1, sales2, admin):
    cycle_world(sales1, sales2)
    client.force_login(sales1)
    response = client.get("/forecast/sales-cycle/", {"period": "2025"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="win-rate">66.7 %<' in html
    assert 'id="cycle-days">13.0 days<' in html
    assert 'id="cohort">5<' in html
    assert '<td>Qualification</td><td class="text-end">4.0</td>' in html
    days = chart_data(response, "days-chart-data")
    assert days["labels"] == ["Qualification", "Needs analysis", "Proposal", "Negotiation"]
    assert days["datasets"][0]["data"] == [4.0, 5.5, 6.5, None]
    assert chart_data(response, "funnel-chart-data")["datasets"][0]["data"] == [5, 4, 3, 3, 2]
    bad = client.get(
        "/forecast/sales-cycle/", {"period": "custom", "from": "2025-02-02", "to": "2025-02-01"}
    )
    assert bad.status_code == 422 and "is-invalid" in bad.content.decode()


def test_lost_deals_page(client, sales1, sales2, admin):
    lost_world(sales1, sales2)
    client.force_login(admin)
    response = client.get("/forecast/lost-deals/", H1)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="lost-count">4<' in html
    assert 'id="lost-amounts">€18,000.00 · $1,000.00<' in html
    reasons = chart_data(response, "lost-reason-data")
    assert reasons["labels"] == ["Price", "Competitor", "No reason given"]
    assert reasons["datasets"][0]["data"] == [2, 1, 1]
    assert chart_data(response, "lost-competitor-data")["labels"] == [
        "ACME",
        "Bolt",
        "No competitor named",
    ]
    assert chart_data(response, "lost-stage-data")["labels"][0] == "Qualification"
    client.force_login(sales1)
    html = client.get("/forecast/lost-deals/", H1).content.decode()
    assert 'id="lost-count">2<' in html and "$1,000.00" not in html


# --- targets ----------------------------------------------------------------------------------


def test_targets_page_creates_edits_and_deletes(client, admin, sales1, team1):
    client.force_login(admin)
    assert client.get("/forecast/targets/").status_code == 200
    response = client.post(
        "/forecast/targets/",
        {"who": f"user:{sales1.pk}", "month": "2025-03", "amount": "12.000,00", "currency": "EUR"},
    )
    assert response.status_code == 302 and response["Location"].endswith("?year=2025")
    target = SalesTarget.objects.get()
    assert (target.user, target.amount, str(target.month)) == (sales1, 12000, "2025-03-01")
    html = client.get("/forecast/targets/?year=2025").content.decode()
    assert "Sven Sales" in html and "€12,000.00" in html and "March 2025" in html

    # A second target for the same month is a field error; nothing is saved.
    again = client.post(
        "/forecast/targets/", {"who": f"user:{sales1.pk}", "month": "2025-03", "amount": "1"}
    )
    assert again.status_code == 422
    assert re.search(r'is-invalid" type="month" id="f-month"', again.content.decode())
    assert "has a target for this month already" in again.content.decode()
    bad = client.post("/forecast/targets/", {"who": "", "month": "", "amount": "-5"})
    html = bad.content.decode()
    assert bad.status_code == 422
    for field in ("who", "month", "amount"):
        assert f'id="e-{field}"' in html
    assert SalesTarget.objects.count() == 1

    edit = f"/forecast/targets/{target.pk}/"
    assert 'value="2025-03"' in client.get(edit).content.decode()
    saved = client.post(
        edit, {"who": f"team:{team1.pk}", "month": "2025-04", "amount": "30000", "currency": "EUR",
               "version": "1"},
    )  # fmt: skip
    assert saved.status_code == 302
    target.refresh_from_db()
    assert (target.user, target.team, str(target.month), target.version) == (
        None,
        team1,
        "2025-04-01",
        2,
    )
    stale = client.post(
        edit, {"who": f"team:{team1.pk}", "month": "2025-05", "amount": "1", "version": "1"}
    )
    assert stale.status_code == 422 and "changed by someone else" in stale.content.decode()
    assert client.post(f"/forecast/targets/{target.pk}/delete/").status_code == 302
    assert not SalesTarget.objects.exists()
    assert ChangeRecord.objects.filter(entity="sales_target").count() == 3


def test_targets_page_is_for_administrators_of_deals(client, sales1, manager):
    target = SalesTarget.objects.create(user=sales1, month="2025-01-01", amount=5)
    for user in (sales1, manager):
        client.force_login(user)
        assert client.get("/forecast/targets/").status_code == 403
        assert (
            client.post(
                "/forecast/targets/", {"who": f"user:{user.pk}", "month": "2025-02", "amount": "1"}
            ).status_code
            == 403
        )
        assert client.get(f"/forecast/targets/{target.pk}/").status_code == 403
        assert client.post(f"/forecast/targets/{target.pk}/delete/").status_code == 403
    assert SalesTarget.objects.count() == 1
