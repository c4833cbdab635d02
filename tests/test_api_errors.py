"""The API's error contract: every failure answers ``{"error": {"code", "message", "fields"}}``
with the right status (authentication, JSON parsing, validation, size limits)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.test import Client
from django.utils import timezone

from farley.contacts.models import Account, Contact
from farley.core.models import ApiToken
from farley.core.services import token_create, token_revoke

pytestmark = pytest.mark.django_db

CONTACTS = "/api/v1/contacts"


def client_with(auth: str | None = None) -> Client:
    extra = {"HTTP_AUTHORIZATION": auth} if auth is not None else {}
    return Client(SERVER_NAME="127.0.0.1", **extra)


@pytest.fixture
def api(sales1) -> Client:
    return client_with(f"Bearer {token_create(user=sales1)[1]}")


def post(client: Client, path: str, body, **extra):
    raw = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(path, raw, content_type="application/json", **extra)


def assert_error(response, status, code):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) >= {"code", "message", "fields"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert isinstance(body["error"]["fields"], dict)
    return body["error"]


# --- authentication ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "auth",
    [None, "", "Bearer", "Bearer fy_doesnotexist", "Basic dXNlcjpwYXNz", "Bearer " + "x" * 500],
)
def test_missing_or_invalid_token(auth):
    response = client_with(auth).get(CONTACTS)
    assert_error(response, 401, "unauthorized")
    assert response["WWW-Authenticate"] == "Bearer"


def test_revoked_token(sales1):
    token, key = token_create(user=sales1)
    client = client_with(f"Bearer {key}")
    assert client.get(CONTACTS).status_code == 200
    token_revoke(actor=sales1, token_id=token.pk)
    assert_error(client.get(CONTACTS), 401, "unauthorized")


def test_expired_token(sales1):
    token, key = token_create(user=sales1, expires_at=timezone.now() + dt.timedelta(minutes=1))
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    assert_error(client_with(f"Bearer {key}").get(CONTACTS), 401, "unauthorized")


def test_token_of_inactive_user(sales1):
    _, key = token_create(user=sales1)
    sales1.is_active = False
    sales1.save()
    assert_error(client_with(f"Bearer {key}").get(CONTACTS), 401, "unauthorized")


def test_unauthenticated_write_changes_nothing():
    assert_error(post(client_with(), CONTACTS, {"last_name": "X"}), 401, "unauthorized")
    assert not Contact.objects.exists()
    assert not ApiToken.objects.exists()


# --- body parsing and validation --------------------------------------------------------


@pytest.mark.parametrize("body", ['{"last_name": ', "not json", "{'last_name': 'x'}"])
def test_malformed_json(api, body):
    assert_error(post(api, CONTACTS, body), 400, "bad_request")
    assert not Contact.objects.exists()


def test_unknown_field(api):
    error = assert_error(post(api, CONTACTS, {"last_name": "X", "foo": 1}), 422, "validation_error")
    assert list(error["fields"]) == ["foo"]
    assert not Contact.objects.exists()


def test_unknown_nested_field(api):
    error = assert_error(
        post(api, CONTACTS, {"last_name": "X", "emails": [{"address": "a@b.de", "foo": 1}]}),
        422,
        "validation_error",
    )
    assert "emails.0.foo" in error["fields"]


def test_missing_required_field(api):
    error = assert_error(post(api, CONTACTS, {"first_name": "Nur"}), 422, "validation_error")
    assert "last_name" in error["fields"]


def test_wrong_type(api):
    error = assert_error(post(api, CONTACTS, {"last_name": ["a"]}), 422, "validation_error")
    assert "last_name" in error["fields"]


def test_name_of_10000_chars(api):
    error = assert_error(
        post(api, "/api/v1/accounts", {"name": "A" * 10_000}), 422, "validation_error"
    )
    assert "name" in error["fields"]
    error = assert_error(post(api, CONTACTS, {"last_name": "Ä" * 10_000}), 422, "validation_error")
    assert "last_name" in error["fields"]
    assert not Account.objects.exists() and not Contact.objects.exists()


@pytest.mark.parametrize(
    ("payload", "path"),
    [
        ({"emails": [{"address": "kein-at-zeichen"}]}, "emails.0.address"),
        ({"phones": [{"number": "12"}]}, "phones.0.number"),
        ({"addresses": [{"postal_code": "ABCDE", "city": "Berlin"}]}, "addresses.0.postal_code"),
        ({"addresses": [{"postal_code": "123456", "city": "Berlin"}]}, "addresses.0.postal_code"),
        ({"vat_id": "DE12345"}, "vat_id"),
        ({"vat_id": "XX999999999"}, "vat_id"),
        ({"website": "javascript:alert(1)"}, "website"),
    ],
)
def test_invalid_account_values(api, payload, path):
    error = assert_error(
        post(api, "/api/v1/accounts", {"name": "Test GmbH", **payload}), 422, "validation_error"
    )
    assert path in error["fields"], error["fields"]
    assert not Account.objects.exists()


def test_body_of_20_mb(api):
    body = json.dumps({"last_name": "X", "description": "a" * (20 * 1024 * 1024)})
    assert_error(post(api, CONTACTS, body), 413, "payload_too_large")
    assert not Contact.objects.exists()


def test_unknown_record(api):
    assert_error(api.get(CONTACTS + "/987654"), 404, "not_found")


def test_non_integer_path_parameter(api):
    error = assert_error(api.get(CONTACTS + "/abc"), 422, "validation_error")
    assert list(error["fields"]) == ["contact_id"]


def test_method_not_allowed(api):
    response = api.put(CONTACTS + "/1", "{}", content_type="application/json")
    assert_error(response, 405, "method_not_allowed")


def test_unknown_api_path(api):
    assert_error(api.get("/api/v1/no-such-endpoint"), 404, "not_found")


def test_method_not_allowed_names_the_allowed_methods(api):
    response = api.put(CONTACTS + "/1", "{}", content_type="application/json")
    assert "PATCH" in response["Allow"]


def test_unknown_path_outside_the_api_stays_an_html_page(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert not response["Content-Type"].startswith("application/json")


def test_api_docs_are_served_from_here_not_from_a_cdn(client):
    page = client.get("/api/v1/docs").content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in page
    assert "cdn" not in page.lower()
