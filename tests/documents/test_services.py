"""Files on records: only checked types are stored, outside the web root under a random
name; removing keeps them restorable; every change is in the record's history."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings

from farley.core.errors import Forbidden, NotFound, ValidationFailed
from farley.core.models import ChangeRecord
from farley.documents import services
from farley.documents.models import Attachment
from farley.documents.selectors import attachments_of
from tests.documents.conftest import PNG, pdf_bytes, xlsx_bytes
from tests.factories import make_contact

pytestmark = pytest.mark.django_db


@pytest.fixture
def contact(sales1):
    return make_contact(sales1, last_name="Dateimann")


def test_a_pdf_is_stored_outside_the_web_root_under_a_random_name(sales1, contact, upload):
    attachment = services.attach(
        actor=sales1, entity="contact", object_id=contact.pk,
        upload=upload("../../Angebot März.pdf", pdf_bytes()), description="Angebot",
    )  # fmt: skip
    assert attachment.name == "Angebot März.pdf"
    assert attachment.content_type == "application/pdf"
    assert attachment.size == len(pdf_bytes()) and len(attachment.sha256) == 64
    stored = Path(attachment.file.path)
    assert stored.read_bytes() == pdf_bytes()
    assert Path(settings.MEDIA_ROOT) in stored.parents
    assert "Angebot" not in stored.name and ".." not in attachment.file.name
    assert [a.name for a in attachments_of(sales1, "contact", contact.pk)] == ["Angebot März.pdf"]
    change = ChangeRecord.objects.filter(entity="contact", object_id=contact.pk).latest("id")
    assert change.changes == {"attachments": [[], ["Angebot März.pdf"]]}


@pytest.mark.parametrize(
    ("name", "content"),
    [("bild.png", PNG), ("liste.xlsx", xlsx_bytes()), ("notiz.txt", "Grüße aus Köln".encode()),
     ("alt.csv", "Müller;Köln".encode("cp1252"))],
)  # fmt: skip
def test_documents_images_and_text_are_accepted(sales1, contact, upload, name, content):
    services.attach(
        actor=sales1, entity="contact", object_id=contact.pk, upload=upload(name, content)
    )
    assert Attachment.objects.get().name == name


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("programm.exe", b"MZ\x90\x00\x03\x00\x00\x00"),
        ("bild.svg", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'),
        ("seite.html", b"<script>alert(1)</script>"),
        ("rechnung.pdf", b"MZ\x90\x00 not a pdf at all"),
        ("rechnung.pdf", PNG),
        ("foto.png", pdf_bytes()),
        ("notiz.txt", PNG),
        ("notiz.txt", b"text\x00with NUL"),
        ("ohne-endung", pdf_bytes()),
    ],
)
def test_hostile_or_mislabelled_files_are_refused(sales1, contact, upload, name, content):
    with pytest.raises(ValidationFailed) as exc:
        services.attach(
            actor=sales1, entity="contact", object_id=contact.pk, upload=upload(name, content)
        )
    assert "file" in exc.value.fields
    assert not Attachment.objects.exists()
    assert not [p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()]


def test_empty_huge_and_nameless_files_are_refused(sales1, contact, upload, settings):
    settings.FARLEY_MAX_ATTACHMENT_MB = 1
    cases = [
        upload("leer.pdf", b""),
        upload("gross.pdf", pdf_bytes() + b"0" * (1024 * 1024)),
        upload("...", pdf_bytes()),
        None,
    ]
    for case in cases:
        with pytest.raises(ValidationFailed) as exc:
            services.attach(actor=sales1, entity="contact", object_id=contact.pk, upload=case)
        assert "file" in exc.value.fields
    with pytest.raises(ValidationFailed) as exc:
        services.attach(
            actor=sales1, entity="contact", object_id=contact.pk,
            upload=upload("a.pdf", pdf_bytes()), description="x" * 301,
        )  # fmt: skip
    assert "description" in exc.value.fields
    assert not Attachment.objects.exists()


def test_a_long_unicode_name_keeps_its_extension(sales1, contact, upload):
    name = "李" * 250 + ".pdf"
    attachment = services.attach(
        actor=sales1, entity="contact", object_id=contact.pk, upload=upload(name, pdf_bytes())
    )
    assert len(attachment.name) == 200 and attachment.name.endswith(".pdf")


def test_other_teams_cannot_attach_see_or_remove(sales1, sales2, reader, contact, upload):
    attachment = services.attach(
        actor=sales1, entity="contact", object_id=contact.pk, upload=upload("a.pdf", pdf_bytes())
    )
    with pytest.raises(NotFound):
        services.attach(
            actor=sales2,
            entity="contact",
            object_id=contact.pk,
            upload=upload("b.pdf", pdf_bytes()),
        )
    with pytest.raises(NotFound):
        attachments_of(sales2, "contact", contact.pk)
    with pytest.raises(NotFound):
        services.remove(actor=sales2, attachment_id=attachment.pk)
    with pytest.raises(NotFound):
        services.attach(
            actor=sales1, entity="user", object_id=sales1.pk, upload=upload("b.pdf", pdf_bytes())
        )
    assert Attachment.objects.count() == 1


def test_read_only_roles_see_files_but_cannot_change_them(admin, reader, upload):
    contact = make_contact(admin, last_name="Öffentlich")
    attachment = services.attach(
        actor=admin, entity="contact", object_id=contact.pk, upload=upload("a.pdf", pdf_bytes())
    )
    assert [a.pk for a in attachments_of(reader, "contact", contact.pk)] == [attachment.pk]
    with pytest.raises(Forbidden):
        services.remove(actor=reader, attachment_id=attachment.pk)


def test_removed_files_are_kept_and_can_be_restored(sales1, contact, upload):
    attachment = services.attach(
        actor=sales1, entity="contact", object_id=contact.pk, upload=upload("a.pdf", pdf_bytes())
    )
    services.remove(actor=sales1, attachment_id=attachment.pk)
    assert not attachments_of(sales1, "contact", contact.pk).exists()
    assert Path(Attachment.objects.get().file.path).exists()
    with pytest.raises(NotFound):
        services.remove(actor=sales1, attachment_id=attachment.pk)
    services.restore(actor=sales1, attachment_id=attachment.pk)
    assert [a.name for a in attachments_of(sales1, "contact", contact.pk)] == ["a.pdf"]
    changes = ChangeRecord.objects.filter(entity="contact", object_id=contact.pk).order_by("id")
    assert [c.changes.get("attachments") for c in changes][-3:] == [
        [[], ["a.pdf"]], [["a.pdf"], []], [[], ["a.pdf"]]
    ]  # fmt: skip
