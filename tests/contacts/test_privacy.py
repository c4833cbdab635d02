"""GDPR: the access export holds everything about a person; after an erasure, the person's
former name, emails and phone numbers are found nowhere (record, history, timeline, search),
while the record, its account links and the erasure log (without personal data) remain."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.db import connection
from django.test import Client

from farley.contacts import privacy
from farley.contacts import services as contacts
from farley.contacts.models import Contact, TimelineEntry
from farley.core import search_purge
from farley.core.errors import Forbidden
from farley.core.models import ChangeRecord, SearchDocument, SearchWord
from farley.core.search import search
from farley.core.services import token_create
from tests.factories import log_interaction, make_account, make_contact, make_user, relate

pytestmark = pytest.mark.django_db


@pytest.fixture
def person(admin):
    account = make_account(admin, name="Arbeitgeber AG")
    contact = make_contact(
        admin,
        first_name="Zacharias",
        last_name="Quastenflosser",
        birthday="1975-05-05",
        emails=[{"address": "zq@privat.example"}],
        phones=[{"number": "+49301112233", "kind": "private"}],
        addresses=[{"street": "Geheimweg", "postal_code": "10115", "city": "Berlin"}],
        account_links=[{"account_id": account.pk, "role": "Einkauf"}],
    )
    contacts.contact_update(actor=admin, contact_id=contact.pk, data={"job_title": "Leiter"})
    log_interaction(
        admin, contact_id=contact.pk, subject="Anruf Zacharias", body="zq@privat.example"
    )
    log_interaction(admin, account_id=account.pk, subject="Treffen mit Quastenflosser")
    other = make_contact(admin, first_name="Olga", last_name="Other")
    relate(admin, other, contact)  # its history mentions the person
    return contact


def test_the_access_export_holds_everything_about_the_person(client, admin, person):
    data = privacy.access_export(actor=admin, contact_id=person.pk)
    assert data["contact"]["last_name"] == "Quastenflosser"
    assert data["contact"]["birthday"] == "1975-05-05"
    assert data["emails"][0]["address"] == "zq@privat.example"
    assert data["phones"][0]["number"] == "+49301112233"
    assert data["accounts"][0]["name"] == "Arbeitgeber AG"
    assert [e["subject"] for e in data["timeline"]] == ["Anruf Zacharias"]
    assert any("job_title" in c["changes"] for c in data["history"])
    client.force_login(admin)
    response = client.get(f"/contacts/{person.pk}/privacy/export/")
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert json.loads(archive.read("data.json"))["contact"]["first_name"] == "Zacharias"
    assert ChangeRecord.objects.filter(object_id=person.pk, action="export").exists()


def test_after_erasure_the_person_is_found_nowhere(admin, person):
    privacy.erase(actor=admin, contact_id=person.pk)
    secrets = ["Zacharias", "Quastenflosser", "zq@privat.example", "+49301112233", "49301112233"]
    record = Contact.objects.get(pk=person.pk)
    dump = json.dumps(
        {f.name: str(getattr(record, f.attname)) for f in Contact._meta.concrete_fields}
    )
    histories = json.dumps(
        list(ChangeRecord.objects.values_list("changes", flat=True)), ensure_ascii=False
    )
    timelines = " ".join(
        f"{s} {b}" for s, b in TimelineEntry.objects.values_list("subject", "body")
    )
    index = " ".join(SearchDocument.objects.values_list("body", flat=True))
    words = set(SearchWord.objects.values_list("word", flat=True))
    for secret in secrets:
        assert secret.lower() not in dump.lower(), secret
        assert secret.lower() not in histories.lower(), secret
        assert secret.lower() not in timelines.lower(), secret
        assert secret.lower() not in index.lower(), secret
        assert search(admin, secret) == [], secret
    assert "quastenflosser" not in words and "zacharias" not in words
    # What is not personal stays: the record, its account link, the erasure log.
    assert record.primary_account.name == "Arbeitgeber AG"
    assert record.birthday is None and not record.phones.exists() and not record.emails.exists()
    log = ChangeRecord.objects.get(entity="contact", object_id=person.pk, action="erase")
    assert log.changes == {} and log.actor == admin
    assert privacy.erased_contact_ids() == [person.pk]


def test_only_privileged_roles_export_or_erase(person):
    sales = make_user("sales")  # sees the record? not its team: NotFound is fine too
    marketer = make_user("marketing")
    with pytest.raises(Forbidden):
        privacy.access_export(actor=marketer, contact_id=person.pk)
    with pytest.raises(Forbidden):
        privacy.erase(actor=sales, contact_id=person.pk)


def test_the_api_names(admin, person):
    _token, key = token_create(user=admin, name="dpo")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    exported = api.get(f"/api/v1/privacy/contacts/{person.pk}/export")
    assert exported.status_code == 200
    assert exported.json()["contact"]["last_name"] == "Quastenflosser"
    zipped = api.get(f"/api/v1/privacy/contacts/{person.pk}/export?format=zip")
    assert zipped["Content-Type"] == "application/zip"
    erased = api.post(f"/api/v1/privacy/contacts/{person.pk}/erase")
    assert erased.json() == {"id": person.pk, "erased": True}
    assert "Quastenflosser" not in api.get(f"/api/v1/contacts/{person.pk}").content.decode()
    assert api.get("/api/v1/search?q=Quastenflosser").json()["items"] == []


def test_erasures_are_applied_again_after_restoring_a_backup(admin, person):
    privacy.erase(actor=admin, contact_id=person.pk)
    # A restored backup brings the person back ...
    Contact.objects.filter(pk=person.pk).update(first_name="Zacharias", last_name="Quastenflosser")
    from farley.cli import main

    assert main(["reapply-erasures"]) == 0
    assert Contact.objects.get(pk=person.pk).last_name.startswith("Erased contact")


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the file of the SQLite database")
def test_after_erasure_and_the_purge_no_byte_of_the_person_is_left(admin, person):
    secrets = ["Zacharias", "Quastenflosser", "zq@privat.example", "301112233"]
    image = connection.connection.serialize()
    assert all(secret.lower().encode() in image.lower() for secret in secrets)
    privacy.erase(actor=admin, contact_id=person.pk)
    assert search_purge.run_due() > 0
    image = connection.connection.serialize().lower()
    # Not even the tail of a word a search index kept in a segment (terms share prefixes).
    for fragment in [*secrets, "charias", "flosser", "zq@privat"]:
        assert fragment.lower().encode() not in image, fragment
    assert search_purge.run_due() == 0  # nothing erased since
