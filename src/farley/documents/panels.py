"""The "Files" panel on the 360 pages of every entity that can have files."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from farley.core import entities, permissions
from farley.core.models import User
from farley.core.panels import Panel, register
from farley.core.visibility import visible_records
from farley.documents import files, selectors

ENTITIES = ("account", "contact")


def may_edit(user: User, entity: str, record: Any) -> bool:
    return (
        record.deleted_at is None
        and permissions.can(user, "edit", entity)
        and visible_records(type(record).objects.all(), user, for_edit=True)
        .filter(pk=record.pk)
        .exists()
    )


def files_panel(
    user: User, record: Any, *, errors: dict[str, list[str]] | None = None
) -> dict[str, Any]:
    entity = entities.key_for(record)
    editable = may_edit(user, entity, record)
    return {
        "entity": entity,
        "attachments": list(selectors.attachments_of(user, entity, record.pk)),
        "removed": list(selectors.attachments_of(user, entity, record.pk, removed=True))
        if editable
        else [],
        "may_edit": editable,
        "max_mb": settings.FARLEY_MAX_ATTACHMENT_MB,
        "accept": ",".join(f".{ext}" for ext in files.ALLOWED_EXTENSIONS),
        "errors": errors or {},
    }


register(
    Panel(
        key="documents.files",
        entities=ENTITIES,
        template="documents/panels/files.html",
        context=files_panel,
        column="side",
        order=80,
    )
)
