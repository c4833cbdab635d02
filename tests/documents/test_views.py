"""The Files panel of the 360 pages: upload (htmx and plain), errors at the field, download
as an attachment, remove and restore."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from farley.documents.models import Attachment
from tests.documents.conftest import pdf_bytes
from tests.factories import make_account, make_contact

pytestmark = pytest.mark.django_db


def test_the_panel_uploads_lists_and_downloads(client, sales1):
    account = make_account(sales1, name="Akten AG")
    client.force_login(sales1)
    page = client.get(f"/accounts/{account.pk}/").content.decode()
    assert 'id="files"' in page and "No files yet." in page and 'type="file"' in page
    response = client.post(
        f"/files/account/{account.pk}/",
        {"file": SimpleUploadedFile("Rahmenvertrag.pdf", pdf_bytes()), "description": "2026"},
    )
    assert response.status_code == 302 and response["Location"].endswith("#files")
    attachment = Attachment.objects.get()
    page = client.get(f"/accounts/{account.pk}/").content.decode()
    assert "Rahmenvertrag.pdf" in page and f"/files/{attachment.pk}/download/" in page
    download = client.get(f"/files/{attachment.pk}/download/")
    assert download["Content-Disposition"] == 'attachment; filename="Rahmenvertrag.pdf"'
    assert download["Content-Type"] == "application/pdf"
    assert download["X-Content-Type-Options"] == "nosniff"


def test_htmx_uploads_show_errors_at_the_field(client, sales1):
    contact = make_contact(sales1, last_name="Fehler")
    client.force_login(sales1)
    response = client.post(
        f"/files/contact/{contact.pk}/",
        {"file": SimpleUploadedFile("virus.exe", b"MZ\x90\x00")},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 422
    panel = response.content.decode()
    assert "is-invalid" in panel and "Files of this type are not accepted" in panel
    assert not Attachment.objects.exists()
    ok = client.post(
        f"/files/contact/{contact.pk}/",
        {"file": SimpleUploadedFile("brief.pdf", pdf_bytes())},
        HTTP_HX_REQUEST="true",
    )
    assert ok.status_code == 200 and "brief.pdf" in ok.content.decode()


def test_remove_and_restore_from_the_panel(client, sales1):
    contact = make_contact(sales1, last_name="Weg")
    client.force_login(sales1)
    client.post(f"/files/contact/{contact.pk}/", {"file": SimpleUploadedFile("a.pdf", pdf_bytes())})
    attachment = Attachment.objects.get()
    client.post(f"/files/{attachment.pk}/remove/")
    page = client.get(f"/contacts/{contact.pk}/").content.decode()
    assert "1 removed file" in page
    assert client.get(f"/files/{attachment.pk}/download/").status_code == 404
    client.post(f"/files/{attachment.pk}/restore/")
    assert Attachment.objects.get().deleted_at is None


def test_readers_see_files_without_upload_form(client, admin, reader):
    contact = make_contact(admin, last_name="Lesbar")
    client.force_login(admin)
    client.post(f"/files/contact/{contact.pk}/", {"file": SimpleUploadedFile("a.pdf", pdf_bytes())})
    client.force_login(reader)
    page = client.get(f"/contacts/{contact.pk}/").content.decode()
    assert "a.pdf" in page and 'type="file"' not in page
    attachment = Attachment.objects.get()
    assert client.post(f"/files/{attachment.pk}/remove/").status_code == 403


def test_a_file_lost_from_the_storage_answers_not_found(client, sales1):
    contact = make_contact(sales1, last_name="Verloren")
    client.force_login(sales1)
    client.post(f"/files/contact/{contact.pk}/", {"file": SimpleUploadedFile("a.pdf", pdf_bytes())})
    attachment = Attachment.objects.get()
    attachment.file.storage.delete(attachment.file.name)
    response = client.get(f"/files/{attachment.pk}/download/")
    assert response.status_code == 404
