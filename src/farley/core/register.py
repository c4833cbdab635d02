"""The register of processing (GDPR Art. 30): for every entity and every custom field, the
purpose, the legal basis and the retention, kept by administrators."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from farley.core import entities, history
from farley.core.errors import Forbidden
from farley.core.models import (
    ChangeAction,
    CustomFieldDefinition,
    LegalBasis,
    ProcessingRecord,
    User,
)
from farley.core.validation import Cleaner
from farley.core.visibility import is_administrator


@dataclass
class Row:
    entity: str
    field: str
    label: str
    record: ProcessingRecord | None

    @property
    def key(self) -> str:
        return f"{self.entity}.{self.field}" if self.field else self.entity


def rows() -> list[Row]:
    """Every entity, then each of its custom fields, with what the register says."""
    saved = {(r.entity, r.field): r for r in ProcessingRecord.objects.all()}
    result = []
    for entity in entities.all_entities():
        result.append(Row(entity.key, "", str(entity.label_plural), saved.get((entity.key, ""))))
        for definition in CustomFieldDefinition.objects.filter(entity=entity.key):
            result.append(
                Row(entity.key, definition.key, f"{entity.label_plural}: {definition.display_label()}",
                    saved.get((entity.key, definition.key)))
            )  # fmt: skip
    return result


def save(*, actor: User, entries: dict[str, dict[str, Any]]) -> int:
    """Save the register: ``{"contact": {...}, "contact.vip": {...}}`` with ``purpose``,
    ``legal_basis`` and ``retention``; returns how many rows changed."""
    if not is_administrator(actor):
        raise Forbidden()
    known = {row.key: row for row in rows()}
    c = Cleaner()
    cleaned = {}
    for key, data in entries.items():
        if key not in known:
            c.add(key, _("Unknown entity or field."))
            continue
        cleaned[key] = {
            "purpose": c.text(f"{key}.purpose", data.get("purpose"), max_length=2000),
            "legal_basis": c.choice(f"{key}.legal_basis", data.get("legal_basis") or "", [("", ""), *LegalBasis.choices]),
            "retention": c.text(f"{key}.retention", data.get("retention"), max_length=200),
        }  # fmt: skip
    c.raise_if_invalid()
    changed = 0
    with transaction.atomic():
        for key, values in cleaned.items():
            row = known[key]
            record = row.record or ProcessingRecord(entity=row.entity, field=row.field)
            before = {k: getattr(record, k) for k in values}
            if before == values:
                continue
            for k, v in values.items():
                setattr(record, k, v)
            record.updated_by = actor
            record.updated_at = timezone.now()
            record.save()
            history.record_change(
                entity="processing_register", object_id=record.pk, action=ChangeAction.UPDATE,
                actor=actor, before=before, after=values,
            )  # fmt: skip
            changed += 1
    return changed
