"""Writes: attach a file to a record, take it off (kept, restorable), put it back, and erase
a person's files for good (GDPR)."""

from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from farley.core import history, permissions
from farley.core.errors import Forbidden, NotFound, ValidationFailed
from farley.core.models import ChangeAction, User
from farley.core.validation import Cleaner
from farley.documents import files
from farley.documents.models import Attachment
from farley.documents.selectors import attachment_for, parent_record


def max_size() -> int:
    return settings.FARLEY_MAX_ATTACHMENT_MB * 1024 * 1024


def _names(entity: str, object_id: int) -> list[str]:
    return list(
        Attachment.objects.filter(
            entity=entity, object_id=object_id, deleted_at__isnull=True, erased=False
        )
        .order_by("created_at", "id")
        .values_list("name", flat=True)
    )


def _editable_parent(actor: User, entity: str, object_id: int) -> Any:
    parent_record(actor, entity, object_id)  # 404 before 403: existence stays private
    permissions.require(actor, "edit", entity)
    try:
        return parent_record(actor, entity, object_id, for_edit=True)
    except NotFound:
        raise Forbidden(_("You may read this record but not change it.")) from None


def _record_files_change(actor: User, entity: str, object_id: int, before: list[str]) -> None:
    history.record_change(
        entity=entity, object_id=object_id, action=ChangeAction.UPDATE, actor=actor,
        before={"attachments": before}, after={"attachments": _names(entity, object_id)},
    )  # fmt: skip


def attach(
    *, actor: User, entity: str, object_id: int, upload: Any, description: str = ""
) -> Attachment:
    """Store ``upload`` (a Django ``UploadedFile``) on the record; its type is checked by its
    content, its size against ``FARLEY_MAX_ATTACHMENT_MB``."""
    _editable_parent(actor, entity, object_id)
    c = Cleaner()
    description = c.text("description", description, max_length=300)
    name = ""
    checked = None
    if upload is None:
        c.add("file", _("Choose a file."))
    else:
        name = files.clean_name(getattr(upload, "name", "") or "")
        if not upload.size:
            c.add("file", _("The file is empty."))
        elif upload.size > max_size():
            c.add(
                "file",
                _("The file is larger than %(max)d MB.")
                % {"max": settings.FARLEY_MAX_ATTACHMENT_MB},
            )
        elif not name:
            c.add("file", _("The file needs a name."))
        else:
            upload.seek(0)
            head = upload.read(files.SNIFF_BYTES)
            upload.seek(0)
            try:
                checked = files.check(name, head)
            except files.NotAllowed:
                c.add(
                    "file",
                    _("Files of this type are not accepted, or the content does not match the "
                      "name. Accepted: %(types)s.") % {"types": ", ".join(files.ALLOWED_EXTENSIONS)},
                )  # fmt: skip
    c.raise_if_invalid()
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    before = _names(entity, object_id)
    attachment = Attachment(
        entity=entity, object_id=object_id, name=name, content_type=checked.content_type,
        size=upload.size, sha256=digest.hexdigest(), description=description,
        uploaded_by=actor if actor.pk else None,
    )  # fmt: skip
    attachment.file.save(name, upload, save=False)
    try:
        with transaction.atomic():
            attachment.save()
            _record_files_change(actor, entity, object_id, before)
    except Exception:
        attachment.file.storage.delete(attachment.file.name)
        raise
    return attachment


def remove(*, actor: User, attachment_id: int) -> Attachment:
    """Take a file off its record; it stays stored and can be restored."""
    attachment = attachment_for(actor, attachment_id)
    _editable_parent(actor, attachment.entity, attachment.object_id)
    with transaction.atomic():
        before = _names(attachment.entity, attachment.object_id)
        attachment.deleted_at = timezone.now()
        attachment.save(update_fields=["deleted_at"])
        _record_files_change(actor, attachment.entity, attachment.object_id, before)
    return attachment


def restore(*, actor: User, attachment_id: int) -> Attachment:
    attachment = attachment_for(actor, attachment_id, removed=True)
    _editable_parent(actor, attachment.entity, attachment.object_id)
    if attachment.deleted_at is None:
        raise ValidationFailed({"id": [_("This file is not removed.")]})
    with transaction.atomic():
        before = _names(attachment.entity, attachment.object_id)
        attachment.deleted_at = None
        attachment.save(update_fields=["deleted_at"])
        _record_files_change(actor, attachment.entity, attachment.object_id, before)
    return attachment


def erase_files(entity: str, object_id: int) -> int:
    """GDPR erasure: delete the bytes of every file of the record (also removed ones) and keep
    only an anonymous row; returns how many."""
    count = 0
    for attachment in Attachment.objects.filter(entity=entity, object_id=object_id, erased=False):
        if attachment.file.name:
            # The bytes go when the erasure is committed: an erasure that fails later keeps
            # them, as it keeps the rows that point to them (else downloads would fail).
            name, storage = attachment.file.name, attachment.file.storage
            transaction.on_commit(lambda name=name, storage=storage: storage.delete(name))
        attachment.file = ""
        attachment.name = "[erased]"
        attachment.description = ""
        attachment.sha256 = ""
        attachment.erased = True
        attachment.save()
        count += 1
    return count
