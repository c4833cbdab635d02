"""The attack suite, part 3: SQL-injection strings in every list filter and sort parameter
change nothing and leak nothing; posts without a CSRF token are refused; unknown fields (mass
assignment of role, version, deleted flags) are refused by the API."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from farley.contacts.models import Contact
from farley.contacts.selectors import FILTER_NAMES
from farley.core.services import token_create
from tests.factories import make_contact

pytestmark = pytest.mark.django_db

INJECTIONS = [
    "' OR '1'='1",
    "1; DROP TABLE contacts_contact; --",
    '" OR ""="',
    "%' UNION SELECT password FROM core_user --",
    "\\'; DELETE FROM core_user; --",
]


@pytest.fixture
def api(sales1):
    _token, key = token_create(user=sales1, name="t")
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}")


@pytest.mark.parametrize("param", sorted(FILTER_NAMES | {"sort", "cursor", "limit"}))
@pytest.mark.parametrize("payload", INJECTIONS)
def test_injection_strings_in_filters_change_nothing(api, sales1, sales2, param, payload):
    mine = make_contact(sales1, last_name="Eigen")
    make_contact(sales2, last_name="Fremd")
    response = api.get("/api/v1/contacts", {param: payload})
    assert response.status_code in (200, 422)
    body = response.content.decode()
    assert "Fremd" not in body and "pbkdf2" not in body and "argon2" not in body
    assert Contact.objects.count() == 2
    assert Contact.objects.get(pk=mine.pk).last_name == "Eigen"


def test_a_post_without_csrf_token_is_refused(sales1):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(sales1)
    response = browser.post("/contacts/new/", {"last_name": "Ohne Token"})
    assert response.status_code == 403
    assert not Contact.objects.filter(last_name="Ohne Token").exists()


@pytest.mark.parametrize(
    "field",
    ["id", "version", "deleted_at", "created_at", "role", "is_superuser", "customer_number"],
)
def test_mass_assignment_of_protected_fields_is_refused(api, sales1, field):
    contact = make_contact(sales1, last_name="Fest")
    response = api.patch(
        f"/api/v1/contacts/{contact.pk}",
        json.dumps({field: "2000-01-01T00:00:00Z" if field.endswith("_at") else 999}),
        content_type="application/json",
    )
    if field == "version":
        assert response.status_code == 409  # a version is a precondition, never a value
    else:
        assert response.status_code == 422
        assert field in response.json()["error"]["fields"]
    contact.refresh_from_db()
    assert (contact.pk, contact.version, contact.deleted_at) == (contact.pk, 1, None)
