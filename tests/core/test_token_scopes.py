"""API tokens limited to scopes (read or write per entity) and with an expiry: a token never
does more than its scopes allow, nor more than its user may."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from farley.core.errors import ValidationFailed
from farley.core.models import ApiToken
from farley.core.services import token_create
from tests.factories import make_account, make_contact

pytestmark = pytest.mark.django_db


def client_for(key: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}")


def test_a_read_token_reads_but_does_not_write(sales1):
    contact = make_contact(sales1, last_name="Lesbar")
    _token, key = token_create(user=sales1, name="Reporting", scopes={"contact": "read"})
    api = client_for(key)
    assert api.get(f"/api/v1/contacts/{contact.pk}").status_code == 200
    patch = api.patch(
        f"/api/v1/contacts/{contact.pk}", '{"job_title": "X"}', content_type="application/json"
    )
    assert patch.status_code == 403
    assert api.get("/api/v1/accounts").status_code == 403  # no scope for accounts at all


def test_a_write_token_writes_within_what_its_user_may(sales1, reader):
    _token, key = token_create(user=sales1, scopes={"account": "write"})
    created = client_for(key).post(
        "/api/v1/accounts", '{"name": "Schreib GmbH"}', content_type="application/json"
    )
    assert created.status_code == 201
    _token, key = token_create(user=reader, scopes={"account": "write"})
    refused = client_for(key).post(
        "/api/v1/accounts", '{"name": "Nein GmbH"}', content_type="application/json"
    )
    assert refused.status_code == 403  # the read-only role still may not write


def test_a_scoped_token_of_an_administrator_cannot_administer(admin):
    _token, key = token_create(user=admin, scopes={"contact": "write"})
    response = client_for(key).post(
        "/api/v1/teams", '{"name": "Hintertür"}', content_type="application/json"
    )
    assert response.status_code == 403


def test_an_expired_token_is_refused(sales1):
    token, key = token_create(
        user=sales1, expires_at=timezone.now() + dt.timedelta(days=1), scopes={"contact": "read"}
    )
    assert client_for(key).get("/api/v1/contacts").status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert client_for(key).get("/api/v1/contacts").status_code == 401


def test_token_validation(sales1):
    with pytest.raises(ValidationFailed) as caught:
        token_create(
            user=sales1,
            scopes={"planet": "read", "contact": "admin"},
            expires_at=timezone.now() - dt.timedelta(days=1),
        )
    assert set(caught.value.fields) == {"scopes.planet", "scopes.contact", "expires_at"}


def test_the_profile_creates_a_limited_expiring_token(client, sales1):
    make_account(sales1, name="Profil AG")
    client.force_login(sales1)
    page = client.post(
        "/profile/",
        {"action": "create_token", "name": "Nur lesen", "expires": "30",
         "scope-account": "read", "scope-contact": "none"},
    )  # fmt: skip
    token = ApiToken.objects.get(name="Nur lesen")
    # Entities the form left at "all" (those registered later) keep full access.
    assert {k: v for k, v in token.scopes.items() if k in ("account", "contact")} == {
        "account": "read"
    }
    assert token.expires_at is not None and token.expires_at > timezone.now() + dt.timedelta(
        days=29
    )
    assert "account: read" in page.content.decode()


def test_every_use_of_a_token_is_logged_and_shown_to_its_owner(client, sales1):
    from farley.core.models import ApiTokenUse

    token, key = token_create(user=sales1, name="Protokolliert")
    client_for(key).get("/api/v1/contacts", REMOTE_ADDR="10.1.2.3")
    client_for(key).get("/api/v1/accounts", REMOTE_ADDR="10.1.2.3")
    uses = list(ApiTokenUse.objects.filter(token=token).values_list("method", "path", "ip"))
    assert sorted(uses) == [
        ("GET", "/api/v1/accounts", "10.1.2.3"),
        ("GET", "/api/v1/contacts", "10.1.2.3"),
    ]
    client.force_login(sales1)
    page = client.get("/profile/").content.decode()
    assert "/api/v1/accounts" in page
