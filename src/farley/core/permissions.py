"""What a user may do with each entity: the one place that answers it.

A role grants actions per entity (``Role.permissions``: ``{"contact": ["view", "edit"]}``).
An entity a role has no entry for gets the role's defaults: the built-in roles have sensible
ones (below), a role an administrator creates has none until it is configured. Administrators
may do everything. Which *records* a user sees is the other half of access control, decided
in :mod:`farley.core.visibility`.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from farley.core import entities
from farley.core.errors import Forbidden
from farley.core.models import Role, User, Visibility

ACTIONS = (
    "view",
    "sensitive",
    "create",
    "edit",
    "delete",
    "export",
    "import",
    "merge",
    "administer",
)
ACTION_LABELS = {
    "view": gettext_lazy("view"),
    "sensitive": gettext_lazy("see sensitive data"),
    "create": gettext_lazy("create"),
    "edit": gettext_lazy("edit"),
    "delete": gettext_lazy("delete"),
    "export": gettext_lazy("export"),
    "import": gettext_lazy("import"),
    "merge": gettext_lazy("merge"),
    "administer": gettext_lazy("administer"),
}
_WORK = ("view", "create", "edit", "delete", "export", "import")
DEFAULT_ACTIONS: dict[str, tuple[str, ...]] = {
    "administrator": ACTIONS,
    "manager": (*_WORK, "sensitive", "merge"),
    "sales": (*_WORK, "sensitive"),
    "service": (*_WORK, "sensitive"),
    "marketing": _WORK,
    "read_only": ("view",),
}
# key, name, visibility, administrator
BUILT_IN_ROLES = [
    ("administrator", "Administrator", Visibility.ALL, True),
    ("manager", "Manager", Visibility.ALL, False),
    ("sales", "Sales", Visibility.TEAM, False),
    ("service", "Service", Visibility.TEAM, False),
    ("marketing", "Marketing", Visibility.ALL, False),
    ("read_only", "Read-only", Visibility.ALL, False),
]


def ensure_built_in_roles() -> None:
    """Create the built-in roles that are missing (tests that flush the database use it)."""
    for key, name, visibility, is_admin in BUILT_IN_ROLES:
        Role.objects.get_or_create(
            key=key,
            defaults={
                "name": name,
                "visibility": visibility,
                "is_administrator": is_admin,
                "is_built_in": True,
            },
        )


def role_actions(role: Role, entity: str) -> frozenset[str]:
    if role.is_administrator:
        return frozenset(ACTIONS)
    configured = (role.permissions or {}).get(entity)
    if configured is not None:
        return frozenset(a for a in configured if a in ACTIONS)
    return frozenset(DEFAULT_ACTIONS.get(role.key, ()) if role.is_built_in else ())


READ_ACTIONS = frozenset({"view", "sensitive", "export"})


def actions(user: User, entity: str) -> frozenset[str]:
    """The actions ``user`` may take on records of ``entity`` (through an API token with
    scopes: only those its scope for the entity allows)."""
    if user is None or not user.is_active:
        return frozenset()
    allowed = frozenset(ACTIONS) if user.is_superuser else role_actions(user.role, entity)
    scopes = getattr(user, "_farley_scopes", None)
    if scopes is not None:
        scope = scopes.get(entity)
        allowed &= (
            READ_ACTIONS
            if scope == "read"
            else frozenset(ACTIONS)
            if scope == "write"
            else frozenset()
        )
    return allowed


def can(user: User, action: str, entity: str) -> bool:
    return action in actions(user, entity)


def require(user: User, action: str, entity: str) -> None:
    if not can(user, action, entity):
        label = (
            entities.get(entity).label_plural if entity in entities.registered_keys() else entity
        )
        raise Forbidden(
            _("Your role may not %(action)s %(entity)s.")
            % {"action": ACTION_LABELS.get(action, action), "entity": label}
        )


def matrix(user: User) -> dict[str, dict[str, bool]]:
    """``{entity: {action: allowed}}`` for templates (``perms.contact.create``)."""
    return {
        key: {action: action in actions(user, key) for action in ACTIONS}
        for key in entities.registered_keys()
    }


def clean_permissions(value: Any) -> dict[str, list[str]]:
    """A permissions mapping as stored: known entities and actions only, in a fixed order."""
    result: dict[str, list[str]] = {}
    if not isinstance(value, dict):
        return result
    for entity in entities.registered_keys():
        chosen = value.get(entity)
        if isinstance(chosen, list | tuple | set):
            result[entity] = [a for a in ACTIONS if a in chosen]
    return result
