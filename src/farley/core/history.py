"""Field history: the services record every create, update, delete and restore here,
in the same transaction as the change."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db.models import Model, QuerySet
from django.utils import timezone

from farley.core.models import ChangeAction, ChangeRecord, User


def _plain(value: Any) -> Any:
    if isinstance(value, Model):
        return str(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """``{field: [old, new]}`` for each field whose value differs."""
    changes = {}
    for key in sorted(set(before) | set(after)):
        old, new = _plain(before.get(key)), _plain(after.get(key))
        if old in ("", None, [], {}) and new in ("", None, [], {}):
            continue
        if old != new:
            changes[key] = [old, new]
    return changes


def record_change(
    *,
    entity: str,
    object_id: int,
    action: str,
    actor: User | None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> ChangeRecord | None:
    if action == ChangeAction.CREATE:
        changes = diff({}, after or {})
    elif action == ChangeAction.UPDATE:
        changes = diff(before or {}, after or {})
        if not changes:
            return None
    else:
        changes = {}
    return ChangeRecord.objects.create(
        entity=entity,
        object_id=object_id,
        action=action,
        actor=actor if actor and actor.pk else None,
        at=timezone.now(),
        changes=changes,
    )


def history_for(entity: str, object_id: int) -> QuerySet[ChangeRecord]:
    return ChangeRecord.objects.filter(entity=entity, object_id=object_id).select_related("actor")
