"""REST API of pipelines, loss reasons and opportunities (/api/v1): the same rules and
errors as the pages, the fixed names ``stage_id`` and ``version``, and lists without N+1."""

from __future__ import annotations

import pytest

from farley.sales.models import LossReason, Opportunity, Pipeline, Stage, StageChange
from tests.apiclient import Api, assert_error
from tests.factories import make_account, make_contact, make_opportunity

pytestmark = pytest.mark.django_db

STAGES = [
    {"name": "Lead", "probability": 10, "kind": "open"},
    {"name": "Won", "kind": "won"},
    {"name": "Lost", "kind": "lost"},
]


def stage(name: str) -> Stage:
    return Stage.objects.get(pipeline__name="Sales", name=name)


@pytest.fixture
def api1(sales1):
    return Api(sales1)


@pytest.fixture
def api_admin(admin):
    return Api(admin)


# --- pipelines -------------------------------------------------------------------------------


def test_pipelines_are_read_with_their_stages(api1):
    response = api1.get("/pipelines")
    assert response.status_code == 200
    (sales,) = response.json()["items"]
    assert sales["is_default"] and [s["kind"] for s in sales["stages"]][-2:] == ["won", "lost"]
    assert api1.get(f"/pipelines/{sales['id']}").json()["name"] == "Sales"
    assert_error(api1.get("/pipelines/999999"), 404, "not_found")


def test_create_change_reorder_and_delete_a_pipeline(api_admin):
    response = api_admin.post("/pipelines", {"name": "Partner", "stages": STAGES})
    assert response.status_code == 201, response.content
    pipeline = response.json()
    pid = pipeline["id"]
    response = api_admin.post(f"/pipelines/{pid}/stages", {"name": "Offer", "probability": 60})
    assert response.status_code == 201
    offer = response.json()
    assert [s["name"] for s in api_admin.get(f"/pipelines/{pid}").json()["stages"]] == [
        "Lead", "Offer", "Won", "Lost",
    ]  # fmt: skip
    response = api_admin.patch(f"/pipelines/{pid}/stages/{offer['id']}", {"probability": 101})
    assert assert_error(response, 422)["fields"] == {
        "probability": ["Enter a number of at most 100."]
    }
    response = api_admin.patch(f"/pipelines/{pid}/stages/{offer['id']}", {"name_de": "Angebot"})
    assert response.json()["name_de"] == "Angebot"
    ids = [s["id"] for s in api_admin.get(f"/pipelines/{pid}").json()["stages"]]
    response = api_admin.post(f"/pipelines/{pid}/stages/reorder", {"stage_ids": ids[::-1]})
    assert [s["id"] for s in response.json()["stages"]] == ids[::-1]
    response = api_admin.patch(f"/pipelines/{pid}", {"stale_after_days": 7, "name": "Partner 2"})
    assert response.json()["stale_after_days"] == 7
    assert api_admin.delete(f"/pipelines/{pid}/stages/{offer['id']}").status_code == 204
    assert api_admin.delete(f"/pipelines/{pid}").status_code == 204
    assert not Pipeline.objects.filter(pk=pid).exists()


def test_pipeline_rules_and_permissions(api_admin, api1):
    response = api_admin.post("/pipelines", {"name": "Bad", "stages": STAGES[:2]})
    assert "at least one lost stage" in assert_error(response, 422)["fields"]["stages"][0]
    response = api_admin.post("/pipelines", {"name": "Bad", "stages": STAGES, "colour": "red"})
    assert assert_error(response, 422)["fields"] == {"colour": ["Unknown field."]}
    assert_error(api1.post("/pipelines", {"name": "Mine", "stages": STAGES}), 403, "forbidden")
    sales = Pipeline.objects.get(name="Sales")
    assert_error(api1.patch(f"/pipelines/{sales.pk}", {"name": "X"}), 403)


def test_a_pipeline_in_use_is_not_deleted(api_admin, admin):
    response = api_admin.post("/pipelines", {"name": "Used", "stages": STAGES})
    pid = response.json()["id"]
    make_opportunity(admin, pipeline_id=pid)
    error = assert_error(api_admin.delete(f"/pipelines/{pid}"), 422)
    assert "Deals use this pipeline" in error["fields"]["pipeline"][0]


def test_loss_reasons(api_admin, api1):
    assert len(api1.get("/loss-reasons").json()["items"]) == 6
    response = api_admin.post("/loss-reasons", {"name": "Lieferzeit"})
    assert response.status_code == 201
    rid = response.json()["id"]
    response = api_admin.patch(f"/loss-reasons/{rid}", {"name": "Delivery", "active": False})
    assert response.json() == {"id": rid, "name": "Delivery", "name_de": "", "order": 100,
                               "active": False}  # fmt: skip
    assert len(api1.get("/loss-reasons", {"active": "true"}).json()["items"]) == 6
    assert_error(api1.post("/loss-reasons", {"name": "X"}), 403)
    assert_error(api_admin.post("/loss-reasons", {"name": "price"}), 422)


# --- opportunities ---------------------------------------------------------------------------


def test_opportunity_crud(api1, sales1):
    account = make_account(sales1, name="Müller GmbH")
    contact = make_contact(sales1, last_name="Jäger")
    response = api1.post("/opportunities", {
        "name": "Fräszentrum", "account_id": account.pk, "amount": "12500.00",
        "expected_close_date": "2030-06-30", "contacts": [{"contact_id": contact.pk,
                                                           "role": "decision_maker"}],
    })  # fmt: skip
    assert response.status_code == 201, response.content
    deal = response.json()
    assert deal["stage_name"] == "Qualification" and deal["status"] == "open"
    assert deal["amount"] == "12500.00" and deal["probability"] == 10
    assert deal["contacts"] == [{"contact_id": contact.pk, "contact_name": "Jäger",
                                 "role": "decision_maker"}]  # fmt: skip
    oid = deal["id"]
    response = api1.patch(f"/opportunities/{oid}", {"next_step": "Angebot", "version": 1})
    assert response.json()["version"] == 2
    assert api1.get(f"/opportunities/{oid}").json()["next_step"] == "Angebot"
    assert api1.delete(f"/opportunities/{oid}").status_code == 204
    assert_error(api1.get(f"/opportunities/{oid}"), 404)
    assert api1.post(f"/opportunities/{oid}/restore").json()["deleted_at"] is None
    history = api1.get(f"/opportunities/{oid}/history").json()
    assert [h["action"] for h in history] == ["restore", "delete", "update", "create"]


def test_move_with_stage_id_and_version(api1, sales1):
    deal = make_opportunity(sales1, amount="900")
    url = f"/opportunities/{deal.pk}/move"
    response = api1.post(url, {"stage_id": stage("Won").pk, "version": 1})
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["probability"], body["version"]) == ("won", 100, 2)
    assert body["closed_at"] is not None
    error = assert_error(api1.post(url, {"stage_id": stage("Proposal").pk, "version": 1}), 409)
    assert error["current_version"] == 2
    error = assert_error(api1.post(url, {"stage_id": stage("Lost").pk, "version": 2}), 422)
    assert error["fields"]["loss_reason_id"] == ["A lost deal needs a loss reason."]
    reason = LossReason.objects.get(name="Price")
    response = api1.post(url, {"stage_id": stage("Lost").pk, "version": 2,
                               "loss_reason_id": reason.pk, "loss_note": "zu teuer",
                               "competitor": "Konkurrenz AG"})  # fmt: skip
    assert response.json()["loss_reason_id"] == reason.pk
    changes = api1.get(f"/opportunities/{deal.pk}/stage-changes").json()
    assert [(c["from_stage"], c["to_stage"]) for c in changes] == [
        ("Won", "Lost"), ("Qualification", "Won"), (None, "Qualification"),
    ]  # fmt: skip
    assert changes[0]["changed_by_id"] == sales1.pk and changes[0]["amount"] == "900.00"


def test_patch_with_stage_id_follows_the_move_rules(api1, api_admin, sales1):
    other = api_admin.post("/pipelines", {"name": "Partner", "stages": STAGES}).json()
    deal = make_opportunity(sales1)
    error = assert_error(
        api1.patch(f"/opportunities/{deal.pk}", {"stage_id": other["stages"][1]["id"]}), 422
    )
    assert "a stage from another pipeline" in error["fields"]["stage_id"][0]
    error = assert_error(
        api1.patch(f"/opportunities/{deal.pk}", {"stage_id": stage("Lost").pk}), 422
    )
    assert "loss_reason_id" in error["fields"]
    response = api1.patch(f"/opportunities/{deal.pk}", {"stage_id": stage("Won").pk},
                          HTTP_IF_MATCH='"1"')  # fmt: skip
    assert response.json()["status"] == "won"
    assert StageChange.objects.filter(opportunity=deal).count() == 2


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"amount": "-1"}, "amount"),
        ({"currency": "ABC"}, "currency"),
        ({"probability": 101}, "probability"),
        ({"expected_close_date": "morgen"}, "expected_close_date"),
        (
            {"lines": [{"description": "x", "quantity": "-2", "unit_price": "5"}]},
            "lines.0.quantity",
        ),
        (
            {"lines": [{"description": "x", "unit_price": "5", "discount_percent": "120"}]},
            "lines.0.discount_percent",
        ),
        (
            {"lines": [{"description": "x", "unit_price": "5", "tax_rate": "16"}]},
            "lines.0.tax_rate",
        ),
        ({"contacts": [{"contact_id": 10**9}]}, "contacts.0.contact_id"),
        ({"stage_id": 10**9}, "stage_id"),
        ({"role": "x"}, "role"),
    ],
)
def test_bad_input_answers_422_at_the_field(api1, sales1, body, field):
    account = make_account(sales1)
    response = api1.post("/opportunities", {"name": "X", "account_id": account.pk, **body})
    assert field in assert_error(response, 422, "validation_error")["fields"]
    assert not Opportunity.objects.exists()


def test_an_account_of_another_team_is_refused(api1, sales2):
    foreign = make_account(sales2)
    response = api1.post("/opportunities", {"name": "X", "account_id": foreign.pk})
    assert assert_error(response, 422)["fields"] == {
        "account_id": ["Select an account you can see."]
    }


def test_another_teams_deal_is_not_found(api1, sales2):
    deal = make_opportunity(sales2)
    for response in (
        api1.get(f"/opportunities/{deal.pk}"),
        api1.patch(f"/opportunities/{deal.pk}", {"name": "X"}),
        api1.post(f"/opportunities/{deal.pk}/move", {"stage_id": stage("Won").pk}),
        api1.get(f"/opportunities/{deal.pk}/stage-changes"),
        api1.delete(f"/opportunities/{deal.pk}"),
    ):
        assert_error(response, 404)


def test_list_filters_sorts_and_pages(api1, sales1):
    account = make_account(sales1)
    for i, amount in enumerate(["100", "2000", "30000"]):
        make_opportunity(sales1, account=account, name=f"Deal {i}", amount=amount,
                         expected_close_date=f"2030-0{i + 1}-15")  # fmt: skip
    body = api1.get("/opportunities", {"amount_min": "1000", "sort": "-amount"}).json()
    assert [d["name"] for d in body["items"]] == ["Deal 2", "Deal 1"]
    body = api1.get("/opportunities", {"close_to": "2030-01-31"}).json()
    assert [d["name"] for d in body["items"]] == ["Deal 0"]
    first = api1.get("/opportunities", {"limit": 2}).json()
    second = api1.get("/opportunities", {"limit": 2, "cursor": first["next_cursor"]}).json()
    assert [d["name"] for d in first["items"] + second["items"]] == ["Deal 0", "Deal 1", "Deal 2"]
    assert_error(api1.get("/opportunities", {"colour": "red"}), 422)
    assert_error(api1.get("/opportunities", {"status": "maybe"}), 422)
    assert_error(api1.get("/opportunities", {"cursor": "%%%"}), 422)


def test_the_list_does_not_grow_in_queries(api1, sales1, django_assert_max_num_queries):
    account = make_account(sales1)
    contact = make_contact(sales1)
    for i in range(25):
        make_opportunity(sales1, account=account, name=f"D{i}",
                         contacts=[{"contact_id": contact.pk, "role": "user"}],
                         lines=[{"description": "Lizenz", "unit_price": "10"}])  # fmt: skip
    with django_assert_max_num_queries(14):
        body = api1.get("/opportunities", {"limit": 25}).json()
    assert len(body["items"]) == 25 and body["items"][0]["lines"][0]["net_amount"] == "10.00"


def test_the_board_in_the_api(api1, sales1):
    make_opportunity(sales1, amount="10")
    make_opportunity(sales1, amount="5.50")
    pipeline = Pipeline.objects.get(name="Sales")
    body = api1.get(f"/pipelines/{pipeline.pk}/board").json()
    first = body["columns"][0]
    assert first["count"] == 2 and first["sums"] == [{"currency": "EUR", "amount": "15.50"}]
    assert len(first["cards"]) == 2
    body = api1.get(f"/pipelines/{pipeline.pk}/board", {"stage": first["stage"]["id"],
                                                         "amount_min": "6"}).json()  # fmt: skip
    assert body["columns"][0]["count"] == 1
    assert_error(api1.get(f"/pipelines/{pipeline.pk}/board", {"stage": 10**9}), 404)
