"""The data-protection officer sees who viewed or exported whose personal data, and every
administrative change, privacy export and erasure."""

from __future__ import annotations

import pytest
from django.test import Client

from farley.contacts import privacy
from farley.core import services as core
from farley.core.models import AccessLog
from farley.core.services import token_create
from tests.factories import make_contact, make_user

pytestmark = pytest.mark.django_db


def test_views_exports_and_privacy_exports_are_logged(client, admin, sales1):
    contact = make_contact(sales1, first_name="Lore", last_name="Log")
    client.force_login(sales1)
    client.get(f"/contacts/{contact.pk}/")
    client.get("/contacts/export.csv", {"city": "Berlin"})
    _token, key = token_create(user=sales1, name="t")
    Client(HTTP_AUTHORIZATION=f"Bearer {key}").get(f"/api/v1/contacts/{contact.pk}")
    privacy.access_export(actor=admin, contact_id=contact.pk)
    rows = list(
        AccessLog.objects.order_by("id").values_list("user_id", "action", "channel", "object_id")
    )
    assert rows == [
        (sales1.pk, "view", "ui", contact.pk),
        (sales1.pk, "export", "ui", None),
        (sales1.pk, "view", "api", contact.pk),
        (admin.pk, "privacy_export", "ui", contact.pk),
    ]
    assert AccessLog.objects.get(action="export").detail == "city=Berlin"


def test_a_role_that_sees_no_sensitive_data_leaves_no_view_entry(client, admin):
    contact = make_contact(admin, last_name="Ohne")
    client.force_login(make_user("marketing"))
    client.get(f"/contacts/{contact.pk}/")
    assert not AccessLog.objects.filter(action="view").exists()


def test_the_log_page_shows_accesses_and_administrative_changes(client, admin, sales1):
    contact = make_contact(sales1, last_name="Gelesen")
    core.role_create(actor=admin, data={"key": "dpo", "name": "Datenschutz"})
    client.force_login(sales1)
    client.get(f"/contacts/{contact.pk}/")
    assert client.get("/settings/logs/").status_code == 403
    client.force_login(admin)
    page = client.get("/settings/logs/").content.decode()
    assert f"contact #{contact.pk}" in page
    assert "role #" in page
    filtered = client.get("/settings/logs/", {"user": admin.pk}).content.decode()
    assert f"contact #{contact.pk}" not in filtered.split('id="audit-log"')[0]
