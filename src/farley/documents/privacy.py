"""The documents' part of a person's data rights: their files go into the access export's
ZIP, and an erasure deletes them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from farley.contacts import privacy
from farley.documents.models import Attachment
from farley.documents.services import erase_files


def _listing(contact: Any) -> list[dict[str, Any]]:
    return [
        {"id": a.pk, "name": a.name, "content_type": a.content_type, "size": a.size,
         "sha256": a.sha256, "description": a.description, "uploaded_at": a.created_at.isoformat(),
         "removed": a.deleted_at is not None, "path": f"attachments/{a.pk}-{a.name}"}
        for a in Attachment.objects.filter(entity="contact", object_id=contact.pk, erased=False)
    ]  # fmt: skip


def _files(contact: Any) -> Iterator[tuple[str, bytes]]:
    for a in Attachment.objects.filter(entity="contact", object_id=contact.pk, erased=False):
        with a.file.open("rb") as handle:
            yield f"attachments/{a.pk}-{a.name}", handle.read()


privacy.register_export("attachments", _listing)
privacy.register_files(_files)
privacy.register_erasure(lambda contact: erase_files("contact", contact.pk))
