"""A person's files are part of their data: in the access export's ZIP, and gone for good
after an erasure."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from farley.contacts import privacy
from farley.documents import services
from farley.documents.models import Attachment
from tests.documents.conftest import pdf_bytes
from tests.factories import make_contact

pytestmark = pytest.mark.django_db


@pytest.fixture
def person_with_file(admin):
    contact = make_contact(admin, first_name="Fenja", last_name="Fotografin")
    attachment = services.attach(
        actor=admin, entity="contact", object_id=contact.pk,
        upload=SimpleUploadedFile("Ausweis Fenja.pdf", pdf_bytes("Fenja Fotografin")),
    )  # fmt: skip
    return contact, attachment


def test_the_access_export_zip_holds_the_files(admin, person_with_file):
    contact, attachment = person_with_file
    archive = zipfile.ZipFile(
        io.BytesIO(privacy.access_export_zip(actor=admin, contact_id=contact.pk))
    )
    data = json.loads(archive.read("data.json"))
    listed = data["attachments"][0]
    assert listed["name"] == "Ausweis Fenja.pdf" and listed["sha256"] == attachment.sha256
    assert archive.read(listed["path"]) == pdf_bytes("Fenja Fotografin")


def test_an_erasure_deletes_the_files(admin, person_with_file):
    contact, attachment = person_with_file
    path = Path(attachment.file.path)
    privacy.erase(actor=admin, contact_id=contact.pk)
    assert not path.exists()
    row = Attachment.objects.get()
    assert (row.name, row.file.name, row.sha256, row.erased) == ("[erased]", "", "", True)
    assert "Fenja" not in json.dumps(privacy.access_export(actor=admin, contact_id=contact.pk))
