"""REST API for users, teams, custom fields, global search and the OpenAPI schema."""

from __future__ import annotations

import pytest
from django.test import Client

from farley.core.models import CustomFieldDefinition, Team
from tests.apiclient import Api
from tests.factories import make_account, make_contact

pytestmark = pytest.mark.django_db


def assert_error(response, status, code=None):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert {"code", "message", "fields"} <= set(body["error"])
    assert isinstance(body["error"]["fields"], dict)
    if code:
        assert body["error"]["code"] == code
    return body["error"]


# --- users ------------------------------------------------------------------------------


def test_users_list_and_me(admin, sales1, team1):
    api = Api(sales1)
    response = api.get("/users")
    assert response.status_code == 200
    emails = [u["email"] for u in response.json()["items"]]
    assert sales1.email in emails and admin.email in emails
    assert emails == sorted(emails)

    me = api.get("/users/me")
    assert me.status_code == 200
    assert me.json()["id"] == sales1.pk
    assert me.json()["role"] == "sales"
    assert me.json()["team_ids"] == [team1.pk]
    assert "password" not in me.json()

    assert api.get(f"/users/{admin.pk}").json()["full_name"] == "Ada Admin"
    assert_error(api.get("/users/999999"), 404, "not_found")
    filtered = api.get("/users", {"role": "administrator"}).json()["items"]
    assert [u["id"] for u in filtered] == [admin.pk]


# --- teams ------------------------------------------------------------------------------


def test_teams_crud_by_admin(admin, sales1):
    api = Api(admin)
    response = api.post("/teams", {"name": "Vertrieb Ost", "lead_id": sales1.pk})
    assert response.status_code == 201, response.content
    team = response.json()
    assert team["name"] == "Vertrieb Ost"
    assert team["lead_id"] == sales1.pk
    assert team["version"] == 1

    assert api.get(f"/teams/{team['id']}").json() == team
    assert "Vertrieb Ost" in [t["name"] for t in api.get("/teams").json()["items"]]

    response = api.patch(f"/teams/{team['id']}", {"name": "Vertrieb Ost-West", "version": 1})
    assert response.status_code == 200, response.content
    assert response.json()["name"] == "Vertrieb Ost-West"
    assert_error(api.patch(f"/teams/{team['id']}", {"name": "Alt", "version": 1}), 409, "conflict")
    assert Team.objects.get(pk=team["id"]).name == "Vertrieb Ost-West"

    history = api.get(f"/teams/{team['id']}/history").json()
    assert {"create", "update"} <= {h["action"] for h in history}

    assert api.delete(f"/teams/{team['id']}").status_code == 204
    assert_error(api.get(f"/teams/{team['id']}"), 404, "not_found")


def test_teams_write_needs_admin(sales1, manager, team1):
    for user in (sales1, manager):
        api = Api(user)
        assert_error(api.post("/teams", {"name": "Heimlich"}), 403, "forbidden")
        assert_error(api.patch(f"/teams/{team1.pk}", {"name": "Umbenannt"}), 403, "forbidden")
        assert_error(api.delete(f"/teams/{team1.pk}"), 403, "forbidden")
        assert api.get("/teams").status_code == 200
    assert list(Team.objects.values_list("name", flat=True)) == ["Vertrieb Nord"]


def test_team_unknown_field_and_missing_name(admin):
    api = Api(admin)
    error = assert_error(
        api.post("/teams", {"name": "X", "colour": "red"}), 422, "validation_error"
    )
    assert "colour" in error["fields"]
    error = assert_error(api.post("/teams", {}), 422, "validation_error")
    assert "name" in error["fields"]


# --- custom fields ----------------------------------------------------------------------


def test_custom_fields_crud_and_filter(admin, sales1):
    api = Api(admin)
    response = api.post(
        "/custom-fields",
        {
            "entity": "contact",
            "key": "messe",
            "label": "Fair",
            "label_de": "Messe",
            "field_type": "choice",
            "choices": ["Hannover", "Köln"],
        },
    )
    assert response.status_code == 201, response.content
    field = response.json()
    assert (field["key"], field["field_type"], field["choices"]) == (
        "messe",
        "choice",
        ["Hannover", "Köln"],
    )

    assert api.get(f"/custom-fields/{field['id']}").json() == field
    assert [f["key"] for f in api.get("/custom-fields", {"entity": "contact"}).json()["items"]] == [
        "messe"
    ]

    response = api.patch(
        f"/custom-fields/{field['id']}", {"label": "Trade fair", "version": field["version"]}
    )
    assert response.status_code == 200, response.content
    assert response.json()["label"] == "Trade fair"

    sales = Api(sales1)
    assert (
        sales.post("/contacts", {"last_name": "Köln", "custom": {"messe": "Köln"}}).status_code
        == 201
    )
    assert (
        sales.post("/contacts", {"last_name": "Hann", "custom": {"messe": "Hannover"}}).status_code
        == 201
    )
    error = assert_error(
        sales.post("/contacts", {"last_name": "X", "custom": {"messe": "Berlin"}}), 422
    )
    assert any(k.endswith("messe") for k in error["fields"]), error["fields"]
    hits = sales.get("/contacts", {"cf_messe": "Köln"}).json()["items"]
    assert [c["last_name"] for c in hits] == ["Köln"]
    assert_error(
        sales.post(
            "/custom-fields", {"entity": "contact", "key": "x", "label": "X", "field_type": "text"}
        ),
        403,
        "forbidden",
    )

    assert api.delete(f"/custom-fields/{field['id']}").status_code == 204
    assert CustomFieldDefinition.objects.get(pk=field["id"]).is_active is False
    assert api.get("/custom-fields").json()["items"] == []
    assert len(api.get("/custom-fields", {"include_inactive": "true"}).json()["items"]) == 1


def test_custom_field_invalid_type(admin):
    error = assert_error(
        Api(admin).post(
            "/custom-fields", {"entity": "contact", "key": "k", "label": "K", "field_type": "blob"}
        ),
        422,
    )
    assert "field_type" in error["fields"]


# --- search -----------------------------------------------------------------------------


def test_search_by_name_and_phone_respects_visibility(sales1, sales2):
    contact = make_contact(
        sales1, first_name="Jörg", last_name="Übermuth", phones=[{"number": "+49 89 7654321"}]
    )
    account = make_account(sales1, name="Zwiebelmann KG")
    api1, api2 = Api(sales1), Api(sales2)

    response = api1.get("/search", {"q": "Übermuth"})
    assert response.status_code == 200
    body = response.json()
    assert body["query"] == "Übermuth"
    assert ("contact", contact.pk) in [(h["type"], h["id"]) for h in body["items"]]

    hits = api1.get("/search", {"q": "Zwiebelmann"}).json()["items"]
    assert ("account", account.pk) in [(h["type"], h["id"]) for h in hits]

    hits = api1.get("/search", {"q": "7654321"}).json()["items"]
    assert contact.pk in [h["id"] for h in hits if h["type"] == "contact"]

    assert api2.get("/search", {"q": "Übermuth"}).json()["items"] == []
    assert api2.get("/search", {"q": "Zwiebelmann"}).json()["items"] == []
    assert api2.get("/search", {"q": "7654321"}).json()["items"] == []


def test_search_query_too_long(sales1):
    error = assert_error(Api(sales1).get("/search", {"q": "x" * 201}), 422)
    assert "q" in error["fields"]


# --- schema -----------------------------------------------------------------------------


def test_openapi_schema(sales1):
    client = Client(SERVER_NAME="127.0.0.1")
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["info"]["title"] == "Farley API"
    for path in ("/api/v1/contacts", "/api/v1/accounts/{account_id}", "/api/v1/search"):
        assert path in schema["paths"]
