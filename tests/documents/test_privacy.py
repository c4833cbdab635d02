"""A person's files are part of their data: in the access export's ZIP, and gone for good
after an erasure."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

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


def test_an_erasure_deletes_the_files(admin, person_with_file, django_capture_on_commit_callbacks):
    contact, attachment = person_with_file
    path = Path(attachment.file.path)
    with django_capture_on_commit_callbacks(execute=True):
        privacy.erase(actor=admin, contact_id=contact.pk)
    assert not path.exists()
    row = Attachment.objects.get()
    assert (row.name, row.file.name, row.sha256, row.erased) == ("[erased]", "", "", True)
    assert "Fenja" not in json.dumps(privacy.access_export(actor=admin, contact_id=contact.pk))


def test_a_failed_erasure_keeps_the_files(admin, person_with_file):
    """The bytes go only when the erasure is committed (found by the API fuzzing: a rolled-back
    erasure left rows pointing to deleted files, and downloading them answered 500)."""
    contact, attachment = person_with_file
    with pytest.raises(RuntimeError), transaction.atomic():
        privacy.erase(actor=admin, contact_id=contact.pk)
        raise RuntimeError("a later step fails")
    assert Path(attachment.file.path).exists()
    assert Attachment.objects.get().erased is False
