"""Field history: the services record every create, update, delete and restore here,
in the same transaction as the change."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import Model, QuerySet
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from farley.core import entities
from farley.core.customfields import display_value
from farley.core.models import ChangeAction, ChangeRecord, CustomFieldDefinition, User

# Keys of the snapshots that are not model fields of the same name.
SNAPSHOT_LABELS = {
    "owner": _("owner"),
    "team": _("team"),
    "parent": _("parent account"),
    "emails": _("emails"),
    "phones": _("phone numbers"),
    "addresses": _("addresses"),
    "tags": _("tags"),
    "account_links": _("accounts"),
    "relationships": _("relationships"),
    "attachments": _("files"),
    "lines": _("line items"),
    "responses": _("answers to the invitation"),
    "assignee": _("assigned to"),
    "related": _("about"),
    "attendees": _("attendees"),
    "invitations": _("invitations sent"),
}


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


@dataclass(frozen=True)
class ChangeLine:
    """One changed field as people read it: its label and the old and new value as text."""

    label: str
    old: str
    new: str


KIND_SUFFIX = re.compile(r"\((\w+)\)$")


def _with_kind_label(model: type[Model], key: str, text: str) -> str:
    """ "info@x.de (work)" → "info@x.de (Geschäftlich)": the kind of a listed email, phone or
    address (stored as its key) in the user's language."""
    match = KIND_SUFFIX.search(text)
    if not match:
        return text
    try:
        related = model._meta.get_field(key).related_model
        choices = dict(related._meta.get_field("kind").flatchoices) if related else {}
    except (FieldDoesNotExist, AttributeError):
        return text
    label = choices.get(match.group(1))
    return f"{text[: match.start()]}({label})" if label else text


def _field_text(model: type[Model], key: str, value: Any) -> str:
    if value in (None, "", [], {}):
        return ""
    if isinstance(value, list):
        return ", ".join(_with_kind_label(model, key, str(v)) for v in value)
    if isinstance(value, bool):
        return str(_("Yes") if value else _("No"))
    try:
        field = model._meta.get_field(key)
    except FieldDoesNotExist:
        return str(value)
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    try:
        if isinstance(field, models.DecimalField | models.IntegerField | models.FloatField):
            return number_format(Decimal(str(value)), force_grouping=True)
        if isinstance(field, models.DateTimeField) and "T" in str(value):
            return date_format(dt.datetime.fromisoformat(str(value)), "SHORT_DATETIME_FORMAT")
        if isinstance(field, models.DateField):  # also a date kept for a time (all day)
            return date_format(dt.date.fromisoformat(str(value)), "SHORT_DATE_FORMAT")
    except (ArithmeticError, ValueError):
        pass
    return str(value)


def _label(model: type[Model], key: str) -> str:
    if key in SNAPSHOT_LABELS:
        return capfirst(str(SNAPSHOT_LABELS[key]))
    try:
        field = model._meta.get_field(key)
    except FieldDoesNotExist:
        return key
    # A reverse relation has no label of its own: the related model's plural names it.
    label = getattr(field, "verbose_name", None) or field.related_model._meta.verbose_name_plural
    return capfirst(str(label))


def _custom_lines(
    old: dict[str, Any], new: dict[str, Any], definitions: dict[str, CustomFieldDefinition]
) -> list[ChangeLine]:
    lines = []
    for key in sorted(set(old) | set(new)):
        before, after = old.get(key), new.get(key)
        if before == after:
            continue
        definition = definitions.get(key)
        if definition is None:
            lines.append(ChangeLine(key, str(before or ""), str(after or "")))
            continue
        texts = []
        for value in (before, after):
            try:
                texts.append(display_value(definition, value))
            except (TypeError, ValueError):
                texts.append(str(value))
        lines.append(ChangeLine(definition.display_label(), *texts))
    return lines


def with_change_lines(entity: str, records: list[ChangeRecord]) -> list[ChangeRecord]:
    """``records`` with ``.lines``, a list of :class:`ChangeLine` in the user's language."""
    model = entities.get(entity).model
    definitions = {d.key: d for d in CustomFieldDefinition.objects.filter(entity=entity)}
    for record in records:
        lines = []
        for key, pair in (record.changes or {}).items():
            old, new = [*pair, None, None][:2] if isinstance(pair, list) else (None, pair)
            if key == "custom" and isinstance(old or {}, dict) and isinstance(new or {}, dict):
                lines += _custom_lines(old or {}, new or {}, definitions)
            else:
                lines.append(
                    ChangeLine(
                        _label(model, key),
                        _field_text(model, key, old),
                        _field_text(model, key, new),
                    )
                )
        record.lines = lines
    return records
