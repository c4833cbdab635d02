"""The files API: upload with multipart, list, metadata, download as an attachment, remove
and restore, with the documented errors."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from farley.core.models import AccessLog
from farley.core.services import token_create
from farley.documents.models import Attachment
from tests.documents.conftest import pdf_bytes
from tests.factories import make_contact

pytestmark = pytest.mark.django_db


def _api(user) -> Client:
    _token, key = token_create(user=user, name="api")
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}")


def test_upload_list_download_remove_restore(sales1):
    contact = make_contact(sales1, last_name="Anhang")
    api = _api(sales1)
    created = api.post(
        "/api/v1/attachments",
        {"entity": "contact", "object_id": contact.pk, "description": "Vertrag",
         "file": SimpleUploadedFile("Vertrag Ü.pdf", pdf_bytes())},
    )  # fmt: skip
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["name"], body["content_type"], body["removed"]) == (
        "Vertrag Ü.pdf", "application/pdf", False
    )  # fmt: skip
    listed = api.get(f"/api/v1/attachments?entity=contact&object_id={contact.pk}").json()
    assert [a["id"] for a in listed] == [body["id"]]
    download = api.get(f"/api/v1/attachments/{body['id']}/download")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == pdf_bytes()
    assert download["Content-Disposition"].startswith("attachment;")
    assert "Vertrag%20%C3%9C.pdf" in download["Content-Disposition"]
    assert "sandbox" in download["Content-Security-Policy"]
    assert AccessLog.objects.filter(entity="contact", object_id=contact.pk, channel="api").exists()
    assert api.delete(f"/api/v1/attachments/{body['id']}").status_code == 204
    assert api.get(f"/api/v1/attachments?entity=contact&object_id={contact.pk}").json() == []
    removed = api.get(f"/api/v1/attachments?entity=contact&object_id={contact.pk}&removed=true")
    assert [a["removed"] for a in removed.json()] == [True]
    restored = api.post(f"/api/v1/attachments/{body['id']}/restore")
    assert restored.status_code == 200 and restored.json()["removed"] is False


def test_bad_uploads_answer_422_and_store_nothing(sales1, settings):
    contact = make_contact(sales1, last_name="Anhang")
    api = _api(sales1)
    bad = api.post(
        "/api/v1/attachments",
        {"entity": "contact", "object_id": contact.pk,
         "file": SimpleUploadedFile("bild.svg", b"<svg onload='alert(1)'/>")},
    )  # fmt: skip
    assert bad.status_code == 422 and "file" in bad.json()["error"]["fields"]
    missing = api.post("/api/v1/attachments", {"entity": "contact", "object_id": contact.pk})
    assert missing.status_code == 422 and "file" in missing.json()["error"]["fields"]
    settings.FARLEY_MAX_ATTACHMENT_MB = 1
    huge = api.post(
        "/api/v1/attachments",
        {"entity": "contact", "object_id": contact.pk,
         "file": SimpleUploadedFile("gross.pdf", pdf_bytes() + b"0" * 1_100_000)},
    )  # fmt: skip
    assert huge.status_code == 422
    unknown = api.post(
        "/api/v1/attachments",
        {"entity": "nonsense", "object_id": 1, "file": SimpleUploadedFile("a.pdf", pdf_bytes())},
    )
    assert unknown.status_code == 404
    assert not Attachment.objects.exists()


def test_read_only_tokens_cannot_upload(sales1):
    contact = make_contact(sales1, last_name="Anhang")
    _token, key = token_create(user=sales1, name="ro", scopes={"contact": "read"})
    response = Client(HTTP_AUTHORIZATION=f"Bearer {key}").post(
        "/api/v1/attachments",
        {"entity": "contact", "object_id": contact.pk, "file": SimpleUploadedFile("a.pdf", pdf_bytes())},
    )  # fmt: skip
    assert response.status_code == 403
    assert not Attachment.objects.exists()
