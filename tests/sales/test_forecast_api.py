"""API: GET /forecast, /reports/sales-cycle, /reports/lost-deals and /sales-targets."""

from __future__ import annotations

import pytest

from farley.core.models import ChangeRecord
from farley.core.services import token_create
from farley.sales.models import SalesTarget
from tests.core.test_api import Api, assert_error
from tests.sales.forecast_helpers import cycle_world, forecast_world, lost_world

H1 = {"period": "custom", "from": "2025-01-01", "to": "2025-06-30"}


@pytest.fixture
def world(sales1, sales2, team1, team2):
    return forecast_world(sales1, sales2, team1, team2)


# --- forecast ---------------------------------------------------------------------------------


def test_forecast_answers_rows_with_money_as_decimal_strings(world, admin):
    response = Api(admin).get("/forecast", {**H1, "grouping": "quarter", "breakdown": "team"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["currency"] == "EUR" and body["currencies"] == ["EUR", "USD"]
    assert (body["period"], body["period_start"], body["period_end"]) == (
        "custom", "2025-01-01", "2025-06-30"
    )  # fmt: skip
    assert [p["key"] for p in body["periods"]] == ["2025-Q1", "2025-Q2"]
    assert body["periods"][0]["label"] == "Q1 2025"
    south_q2 = next(
        r for r in body["rows"] if r["period"] == "2025-Q2" and r["key_label"] == "Vertrieb Süd"
    )
    assert south_q2 == {
        "period": "2025-Q2", "breakdown": "team", "key_id": world.team2.pk,
        "key_label": "Vertrieb Süd", "weighted": "8866.67", "best_case": "11333.33",
        "commit": "8000.00", "won": "9000.00", "target": "60000.00",
        "attainment_percent": "15.0", "open_count": 2, "commit_count": 1, "won_count": 1,
    }  # fmt: skip
    assert body["total"]["weighted"] == "32566.67"
    assert body["total"]["target"] == "110000.00"
    assert body["total"]["period"] is None and body["total"]["key_id"] is None
    assert [t["won"] for t in body["totals"]] == ["12000.00", "15000.00"]


def test_forecast_threshold_currency_and_filters(world, admin):
    api = Api(admin)
    assert api.get("/forecast", {**H1, "threshold": "50"}).json()["total"]["commit"] == "45333.33"
    usd = api.get("/forecast", {**H1, "currency": "USD"}).json()
    assert (usd["currency"], usd["total"]["won"]) == ("USD", "2000.00")
    service = api.get("/forecast", {**H1, "pipeline": str(world.service.pk)}).json()
    assert service["targets_shown"] is False and service["total"]["target"] is None
    assert service["pipeline_id"] == world.service.pk


def test_forecast_visibility(world, sales1, sales2, admin):
    assert Api(sales1).get("/forecast", H1).json()["total"]["best_case"] == "35000.00"
    assert Api(sales2).get("/forecast", H1).json()["total"]["best_case"] == "15333.33"
    hidden = Api(sales1).get("/forecast", {**H1, "owner": str(sales2.pk)}).json()
    assert hidden["total"]["best_case"] == "0.00" and hidden["total"]["target"] is None
    assert hidden["rows"] == []
    assert Api(admin).get("/forecast", H1).json()["total"]["best_case"] == "50333.33"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"grouping": "week"}, "grouping"),
        ({"breakdown": "region"}, "breakdown"),
        ({"period": "custom", "from": "2025-05-01", "to": "2025-04-01"}, "to"),
        ({"period": "custom", "from": "1900-01-01", "to": "2100-12-31"}, "to"),
        ({"threshold": "lots"}, "threshold"),
        ({"threshold": "150"}, "threshold"),
        ({"currency": "euro"}, "currency"),
        ({"owner": "x"}, "owner"),
        ({"pipeline": "123456789"}, "pipeline"),
        ({"sort": "amount"}, "sort"),
    ],
)
def test_forecast_bad_input_is_422(admin, params, field):
    error = assert_error(Api(admin).get("/forecast", params), 422, "validation_error")
    assert field in error["fields"]


def test_forecast_needs_view_on_deals(world, db):
    from farley.core.models import Role
    from tests.factories import make_user

    role = Role.objects.create(key="nothing", name="Nothing", permissions={"opportunity": []})
    user = make_user("nothing")
    user.role = role
    user.save()
    assert_error(Api(user).get("/forecast"), 403, "forbidden")
    assert_error(Api(user).get("/reports/sales-cycle"), 403)
    assert_error(Api(user).get("/reports/lost-deals"), 403)


def test_forecast_query_count_does_not_grow(world, admin, django_assert_max_num_queries):
    api = Api(admin)
    with django_assert_max_num_queries(16):
        assert api.get("/forecast", {**H1, "breakdown": "owner"}).status_code == 200


# --- analyses ---------------------------------------------------------------------------------


def test_sales_cycle_report(sales1, sales2, admin, team1):
    cycle_world(sales1, sales2)
    body = Api(sales1).get("/reports/sales-cycle", {"period": "2025"}).json()
    assert body["pipeline"] == "Sales"
    first = body["stages"][0]
    assert first == {
        "stage_id": first["stage_id"], "name": "Qualification", "kind": "open",
        "avg_days": "4.0", "stays": 4, "reached": 5, "advanced": 4, "won": 2,
        "to_next_percent": "80.0", "to_won_percent": "40.0",
    }  # fmt: skip
    assert [s["name"] for s in body["stages"]] == [
        "Qualification", "Needs analysis", "Proposal", "Negotiation", "Won"
    ]  # fmt: skip
    assert (body["won_count"], body["lost_count"], body["win_rate_percent"]) == (2, 1, "66.7")
    assert body["avg_cycle_days"] == "13.0" and body["cohort"] == 5
    admin_body = Api(admin).get("/reports/sales-cycle", {"period": "2025"}).json()
    assert admin_body["cohort"] == 6
    error = assert_error(Api(admin).get("/reports/sales-cycle", {"grouping": "month"}), 422)
    assert "grouping" in error["fields"]


def test_lost_deals_report(sales1, sales2, admin):
    lost_world(sales1, sales2)
    body = Api(admin).get("/reports/lost-deals", H1).json()
    assert body["total"] == {"count": 4, "amounts": {"EUR": "18000.00", "USD": "1000.00"}}
    assert body["by_reason"][0]["label"] == "Price"
    assert body["by_reason"][0]["amounts"] == {"EUR": "15000.00", "USD": "1000.00"}
    assert body["by_reason"][-1]["loss_reason_id"] is None
    assert [(c["competitor"], c["count"]) for c in body["by_competitor"]] == [
        ("ACME", 2), ("Bolt", 1), (None, 1)
    ]  # fmt: skip
    assert [s["label"] for s in body["by_stage"]] == [
        "Qualification", "Proposal", "Negotiation", "Unknown stage"
    ]  # fmt: skip
    mine = Api(sales1).get("/reports/lost-deals", H1).json()
    assert mine["total"] == {"count": 2, "amounts": {"EUR": "15500.00"}}
    assert_error(Api(admin).get("/reports/lost-deals", {"period": "custom", "from": "x"}), 422)


# --- targets ----------------------------------------------------------------------------------


def test_targets_crud(admin, sales1, team1):
    api = Api(admin)
    response = api.post(
        "/sales-targets", {"user_id": sales1.pk, "month": "2025-03", "amount": "12.500,50"}
    )
    assert response.status_code == 201, response.content
    created = response.json()
    assert (created["month"], created["amount"], created["currency"], created["version"]) == (
        "2025-03", "12500.50", "EUR", 1
    )  # fmt: skip
    team_target = api.post(
        "/sales-targets", {"team_id": team1.pk, "month": "2025-03-17", "amount": 40000, "currency": "usd"}
    ).json()  # fmt: skip
    assert (team_target["month"], team_target["currency"]) == ("2025-03", "USD")

    listed = api.get("/sales-targets", {"year": "2025"}).json()
    assert [t["id"] for t in listed["items"]] == [created["id"], team_target["id"]]
    assert (
        api.get("/sales-targets", {"team_id": str(team1.pk)}).json()["items"][0]["id"]
        == team_target["id"]
    )
    assert api.get("/sales-targets", {"year": "2024"}).json()["items"] == []
    assert api.get(f"/sales-targets/{created['id']}").json() == created

    changed = api.patch(f"/sales-targets/{created['id']}", {"amount": "15000", "version": 1})
    assert changed.status_code == 200 and changed.json()["amount"] == "15000.00"
    assert changed.json()["version"] == 2
    stale = api.patch(f"/sales-targets/{created['id']}", {"amount": "1", "version": 1})
    assert assert_error(stale, 409, "conflict")["current_version"] == 2
    moved = api.patch(f"/sales-targets/{created['id']}", {"month": "2025-04"}, HTTP_IF_MATCH='"2"')
    assert moved.json()["month"] == "2025-04"
    history = api.get(f"/sales-targets/{created['id']}/history").json()
    assert [h["action"] for h in history] == ["update", "update", "create"]

    assert api.delete(f"/sales-targets/{created['id']}").status_code == 204
    assert_error(api.get(f"/sales-targets/{created['id']}"), 404)
    assert not SalesTarget.objects.filter(pk=created["id"]).exists()
    assert ChangeRecord.objects.filter(entity="sales_target", action="delete").count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"month": "2025-03", "amount": "1"}, "user_id"),
        ({"user_id": 0, "team_id": 0, "month": "2025-03", "amount": "1"}, "team_id"),
        ({"user_id": 999999, "month": "2025-03", "amount": "1"}, "user_id"),
        ({"team_id": 999999, "month": "2025-03", "amount": "1"}, "team_id"),
        ({"user_id": "me", "month": "2025-03", "amount": "1"}, "user_id"),
        ({"month": "2025-13", "amount": "1", "user_id": "SELF"}, "month"),
        ({"month": "March", "amount": "1", "user_id": "SELF"}, "month"),
        ({"month": "2025-03", "amount": "-0.01", "user_id": "SELF"}, "amount"),
        ({"month": "2025-03", "amount": "lots", "user_id": "SELF"}, "amount"),
        ({"month": "2025-03", "amount": "1e20", "user_id": "SELF"}, "amount"),
        ({"month": "2025-03", "amount": "1", "user_id": "SELF", "currency": "XXY"}, "currency"),
        ({"month": "2025-03", "amount": "1", "user_id": "SELF", "owner": 1}, "owner"),
        ({"amount": "1", "user_id": "SELF"}, "month"),
    ],
)
def test_target_bad_input_is_422_and_writes_nothing(admin, sales1, body, field):
    body = {k: (sales1.pk if v == "SELF" else v) for k, v in body.items()}
    error = assert_error(Api(admin).post("/sales-targets", body), 422, "validation_error")
    assert field in error["fields"], error
    assert not SalesTarget.objects.exists()


def test_a_duplicate_month_is_422(admin, sales1, team1):
    api = Api(admin)
    assert (
        api.post(
            "/sales-targets", {"user_id": sales1.pk, "month": "2025-03", "amount": "1"}
        ).status_code
        == 201
    )
    again = api.post(
        "/sales-targets", {"user_id": sales1.pk, "month": "2025-03-31", "amount": "2", "currency": "USD"}
    )  # fmt: skip
    assert "month" in assert_error(again, 422)["fields"]
    other = api.post("/sales-targets", {"user_id": sales1.pk, "month": "2025-04", "amount": "2"})
    moved = api.patch(f"/sales-targets/{other.json()['id']}", {"month": "2025-03"})
    assert "month" in assert_error(moved, 422)["fields"]
    # A team may have a target in the same month as its members.
    assert (
        api.post(
            "/sales-targets", {"team_id": team1.pk, "month": "2025-03", "amount": "3"}
        ).status_code
        == 201
    )
    assert SalesTarget.objects.count() == 3


def test_targets_are_for_administrators_of_deals(admin, sales1, manager):
    target = SalesTarget.objects.create(user=sales1, month="2025-01-01", amount=1)
    for user in (sales1, manager):
        api = Api(user)
        assert_error(api.get("/sales-targets"), 403, "forbidden")
        assert_error(api.get(f"/sales-targets/{target.pk}"), 403)
        assert_error(
            api.post("/sales-targets", {"user_id": user.pk, "month": "2025-02", "amount": "1"}), 403
        )
        assert_error(api.patch(f"/sales-targets/{target.pk}", {"amount": "9"}), 403)
        assert_error(api.delete(f"/sales-targets/{target.pk}"), 403)
    # A token limited to scopes never administers, even an administrator's.
    key = token_create(user=admin, scopes={"opportunity": "write"})[1]
    from django.test import Client

    limited = Client(HTTP_AUTHORIZATION=f"Bearer {key}", SERVER_NAME="127.0.0.1")
    assert limited.get("/api/v1/sales-targets").status_code == 403
    SalesTarget.objects.get(pk=target.pk, amount=1)
