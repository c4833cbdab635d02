"""Soft delete and restore of customer records, the same for every entity: the record gets
``deleted_at``/``deleted_by`` and a new version, the change is in its history, and it leaves
(or re-enters) the search index. The caller passes the queryset of records the actor may
change, so visibility holds."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from farley.core import history, permissions, search
from farley.core.errors import NotFound
from farley.core.models import ChangeAction, User

FIELDS = ["deleted_at", "deleted_by", "version", "updated_at"]


def soft_delete(actor: User, entity: str, queryset: QuerySet, record_id: int) -> Any:
    """Move a record to the trash."""
    permissions.require(actor, "delete", entity)
    with transaction.atomic():
        record = queryset.select_for_update().filter(pk=record_id).first()
        if record is None:
            raise NotFound()
        record.deleted_at = record.updated_at = timezone.now()
        record.deleted_by = actor
        record.version += 1
        record.save(update_fields=FIELDS)
        history.record_change(
            entity=entity, object_id=record.pk, action=ChangeAction.DELETE, actor=actor
        )
        search.remove_document(entity=entity, object_id=record.pk)
    return record


def restore(
    actor: User, entity: str, queryset: QuerySet, record_id: int, reindex: Callable[[Any], Any]
) -> Any:
    """Bring a record back from the trash; ``reindex(record)`` puts it back into search."""
    permissions.require(actor, "delete", entity)
    with transaction.atomic():
        record = queryset.select_for_update().filter(pk=record_id, deleted_at__isnull=False).first()
        if record is None:
            raise NotFound()
        record.deleted_at = None
        record.deleted_by = None
        record.updated_at = timezone.now()
        record.version += 1
        record.save(update_fields=FIELDS)
        history.record_change(
            entity=entity, object_id=record.pk, action=ChangeAction.RESTORE, actor=actor
        )
        reindex(record)
    return record
