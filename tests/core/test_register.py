"""The register of processing lists every entity and custom field with purpose, legal basis
and retention, kept by administrators."""

from __future__ import annotations

import pytest

from farley.core.models import ChangeRecord, ProcessingRecord
from farley.core.services import custom_field_create

pytestmark = pytest.mark.django_db


def test_administrators_keep_the_register_per_entity_and_custom_field(client, admin):
    custom_field_create(
        actor=admin,
        data={"entity": "contact", "key": "vip", "label": "VIP", "field_type": "boolean"},
    )
    client.force_login(admin)
    page = client.get("/settings/register/").content.decode()
    assert 'name="contact.vip-purpose"' in page and 'name="account-legal_basis"' in page
    response = client.post(
        "/settings/register/",
        {"contact-purpose": "Kundenbetreuung", "contact-legal_basis": "contract",
         "contact-retention": "3 Jahre nach Vertragsende", "contact.vip-purpose": "Priorisierung",
         "contact.vip-legal_basis": "legitimate_interests"},
    )  # fmt: skip
    assert response.status_code == 302
    record = ProcessingRecord.objects.get(entity="contact", field="")
    assert (record.purpose, record.legal_basis) == ("Kundenbetreuung", "contract")
    assert (
        ProcessingRecord.objects.get(entity="contact", field="vip").legal_basis
        == "legitimate_interests"
    )
    assert ChangeRecord.objects.filter(entity="processing_register").count() == 2
    bad = client.post("/settings/register/", {"contact-legal_basis": "weil ich es will"})
    assert bad.status_code == 422


def test_only_administrators_see_it(client, manager):
    client.force_login(manager)
    assert client.get("/settings/register/").status_code == 403
