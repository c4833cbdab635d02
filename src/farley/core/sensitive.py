"""Field-level protection: data marked sensitive is shown only to roles with the
"sensitive" permission of its entity, everywhere (pages, lists, exports, API, history), and is
not put into the search index at all.

Sensitive are: a contact's birthday, phone numbers of the kind "private", and custom fields
flagged ``is_sensitive``. A user who may not see them cannot set them either, and saving a
record they edit keeps the values they cannot see.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from farley.core import permissions
from farley.core.models import CustomFieldDefinition, User

SENSITIVE_FIELDS = {"contact": {"birthday"}, "account": set()}
PRIVATE_PHONE = "private"
HIDDEN = "•••"


def may_see(user: User | None, entity: str) -> bool:
    return user is not None and permissions.can(user, "sensitive", entity)


def sensitive_custom_keys(entity: str) -> set[str]:
    return set(
        CustomFieldDefinition.objects.filter(entity=entity, is_sensitive=True).values_list(
            "key", flat=True
        )
    )


def hidden_keys(user: User | None, entity: str) -> set[str]:
    """The field keys (``birthday``, ``custom.<key>``) ``user`` may not see."""
    if may_see(user, entity):
        return set()
    return SENSITIVE_FIELDS.get(entity, set()) | {
        f"custom.{k}" for k in sensitive_custom_keys(entity)
    }


def visible_definitions(
    user: User | None, entity: str, definitions: Iterable[CustomFieldDefinition]
) -> list[CustomFieldDefinition]:
    if may_see(user, entity):
        return list(definitions)
    return [d for d in definitions if not d.is_sensitive]


def visible_phones(user: User | None, entity: str, phones: Iterable[Any]) -> list[Any]:
    if may_see(user, entity):
        return list(phones)
    return [p for p in phones if _kind(p) != PRIVATE_PHONE]


def _kind(phone: Any) -> str:
    return phone.get("kind", "") if isinstance(phone, dict) else getattr(phone, "kind", "")


def visible_custom(user: User | None, entity: str, values: dict[str, Any]) -> dict[str, Any]:
    if may_see(user, entity):
        return dict(values)
    hidden = sensitive_custom_keys(entity)
    return {k: v for k, v in values.items() if k not in hidden}


def is_private_phone(phone: Any) -> bool:
    return _kind(phone) == PRIVATE_PHONE


def mask_changes(user: User | None, entity: str, changes: dict[str, Any]) -> dict[str, Any]:
    """A history entry's ``{field: [old, new]}`` with what ``user`` may not see replaced by
    :data:`HIDDEN` (or, inside custom fields, left out)."""
    if may_see(user, entity) or not changes:
        return changes
    hidden_custom = sensitive_custom_keys(entity)
    masked: dict[str, Any] = {}
    for key, pair in changes.items():
        if key in SENSITIVE_FIELDS.get(entity, ()):
            pair = [HIDDEN if v not in (None, "") else v for v in pair]
        elif key == "custom" and isinstance(pair, list):
            pair = [
                {k: v for k, v in side.items() if k not in hidden_custom}
                if isinstance(side, dict)
                else side
                for side in pair
            ]
            if pair[0] == pair[-1]:
                continue
        elif key == "phones" and isinstance(pair, list):
            pair = [
                [HIDDEN if str(v).endswith(f"({PRIVATE_PHONE})") else v for v in side]
                if isinstance(side, list)
                else side
                for side in pair
            ]
        masked[key] = pair
    return masked
