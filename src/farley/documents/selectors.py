"""Reads: a record's files, for users who may see the record."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from farley.core import entities
from farley.core.errors import NotFound
from farley.core.models import User
from farley.core.visibility import visible_records
from farley.documents.models import Attachment


def parent_record(
    user: User,
    entity: str,
    object_id: int,
    *,
    for_edit: bool = False,
    include_deleted: bool = False,
):
    """The record files hang on, if ``user`` may see it (or change it); else 404."""
    if entity not in entities.registered_keys():
        raise NotFound()
    model = entities.get(entity).model
    records = visible_records(
        model.objects.all(), user, for_edit=for_edit, include_deleted=include_deleted
    )
    record = records.filter(pk=object_id).first()
    if record is None:
        raise NotFound()
    return record


def attachments_of(
    user: User, entity: str, object_id: int, *, removed: bool = False
) -> QuerySet[Attachment]:
    """The files of a record (``removed``: those taken off it, which editors may restore)."""
    parent_record(user, entity, object_id, include_deleted=True)
    return Attachment.objects.filter(
        entity=entity, object_id=object_id, deleted_at__isnull=not removed, erased=False
    ).select_related("uploaded_by")


def attachment_for(user: User, attachment_id: int, *, removed: bool = False) -> Attachment:
    attachment = (
        Attachment.objects.filter(pk=attachment_id, erased=False)
        .select_related("uploaded_by")
        .first()
    )
    if attachment is None or (attachment.deleted_at is not None and not removed):
        raise NotFound()
    parent_record(user, attachment.entity, attachment.object_id, include_deleted=True)
    return attachment


def open_file(attachment: Attachment):
    """The stored bytes of a file, open for reading; 404 if the storage has lost them (e.g.
    a backup restored without its media folder)."""
    try:
        return attachment.file.open("rb")
    except (FileNotFoundError, ValueError):
        raise NotFound(_("The file is missing from the storage.")) from None
