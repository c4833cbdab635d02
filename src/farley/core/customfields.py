"""Custom fields (xRM): administrators define them per entity; values live in the record's
``custom`` JSON column and are validated here for every write path."""

from __future__ import annotations

import json
from typing import Any

from django.db.models import Q
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _

from farley.core.errors import ValidationFailed
from farley.core.models import CustomFieldDefinition, FieldType
from farley.core.validation import Cleaner


def definitions_for(entity: str) -> list[CustomFieldDefinition]:
    return list(CustomFieldDefinition.objects.filter(entity=entity, is_active=True))


def clean_custom_values(
    entity: str,
    values: Any,
    *,
    existing: dict[str, Any] | None,
    cleaner: Cleaner,
    definitions: list[CustomFieldDefinition] | None = None,
) -> dict[str, Any]:
    """Validate ``values`` (a partial dict) and return the record's new complete custom dict."""
    definitions = definitions if definitions is not None else definitions_for(entity)
    by_key = {d.key: d for d in definitions}
    result = dict(existing or {})
    if values in (None, ""):
        values = {}
    if not isinstance(values, dict):
        cleaner.add("custom", _("Custom fields must be an object of key and value."))
        return result
    for key, raw in values.items():
        definition = by_key.get(key)
        if definition is None:
            cleaner.add(f"custom.{key}", _("There is no custom field with this key."))
            continue
        value = clean_value(definition, raw, cleaner, f"custom.{key}")
        if value in (None, "", []) or (value is False and key not in result):
            # An unticked box on a record that never had the field is no change.
            result.pop(key, None)
        else:
            result[key] = value
    for definition in definitions:
        missing = result.get(definition.key) in (None, "", [])
        if definition.is_required and missing and f"custom.{definition.key}" not in cleaner.errors:
            cleaner.add(f"custom.{definition.key}", _("This field is required."))
    return result


def clean_value(definition: CustomFieldDefinition, raw: Any, cleaner: Cleaner, field: str) -> Any:
    kind = definition.field_type
    if kind == FieldType.TEXT:
        return cleaner.text(field, raw, max_length=500)
    if kind == FieldType.LONG_TEXT:
        return cleaner.text(field, raw, max_length=20000)
    if kind == FieldType.INTEGER:
        return cleaner.integer(field, raw, minimum=-(2**53), maximum=2**53)
    if kind == FieldType.DECIMAL:
        value = cleaner.decimal(field, raw, max_digits=20, places=4)
        if value is None:
            return None
        return format(value.to_integral(), "f") if value == value.to_integral() else str(value)
    if kind == FieldType.DATE:
        value = cleaner.date(field, raw)
        return value.isoformat() if value else None
    if kind == FieldType.BOOLEAN:
        return cleaner.boolean(field, raw)
    if kind == FieldType.CHOICE:
        return cleaner.choice(field, raw, ["", *definition.choices])
    if kind == FieldType.MULTI_CHOICE:
        if raw in (None, ""):
            return []
        items = raw if isinstance(raw, list) else [raw]
        for item in items:
            if item not in definition.choices:
                cleaner.add(field, _("Select a valid choice."))
                return []
        return sorted(set(items), key=definition.choices.index)
    if kind == FieldType.URL:
        return cleaner.url(field, raw)
    if kind == FieldType.EMAIL:
        return cleaner.email(field, raw)
    return None


def display_value(definition: CustomFieldDefinition, value: Any) -> str:
    if value in (None, "", []):
        return ""
    kind = definition.field_type
    if kind == FieldType.BOOLEAN:
        return _("Yes") if value else _("No")
    if kind == FieldType.DATE:
        import datetime as dt

        return date_format(dt.date.fromisoformat(value), "SHORT_DATE_FORMAT")
    if kind in (FieldType.INTEGER, FieldType.DECIMAL):
        return number_format(value, force_grouping=True)
    if kind == FieldType.MULTI_CHOICE:
        return ", ".join(value)
    return str(value)


def filter_q(definition: CustomFieldDefinition, raw: str) -> Q | None:
    """The list filter for one custom field (exact match; contains for text and choices)."""
    lookup = f"custom__{definition.key}"
    kind = definition.field_type
    if raw in (None, ""):
        return None
    if kind in (FieldType.TEXT, FieldType.LONG_TEXT, FieldType.URL, FieldType.EMAIL):
        return Q(**{f"{lookup}__icontains": raw})
    if kind == FieldType.MULTI_CHOICE:
        # Stored JSON may escape non-ASCII ("K\u00e4se" on SQLite); match either spelling.
        return Q(**{f"{lookup}__icontains": json.dumps(raw)}) | Q(
            **{f"{lookup}__icontains": f'"{raw}"'}
        )
    if kind == FieldType.BOOLEAN:
        if raw in ("1", "true", "yes", "on"):
            return Q(**{lookup: True})
        return Q(**{lookup: False}) | ~Q(**{"custom__has_key": definition.key})
    if kind == FieldType.INTEGER:
        try:
            return Q(**{lookup: int(raw)})
        except ValueError:
            raise ValidationFailed({f"cf_{definition.key}": [_("Enter a whole number.")]}) from None
    return Q(**{lookup: raw})
