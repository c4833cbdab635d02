"""The audit trail for the data-protection officer and administrators.

*Access log*: every time someone opens a contact's 360 page or reads it through the API while
allowed to see sensitive data, exports a list, or exports all data about a person, one row
(:class:`farley.core.models.AccessLog`). *Audit log*: the recorded changes of administrative
things — users, roles, teams, API tokens, sharing rules, custom fields — and of privacy
actions (exports and erasures of a person's data), read from the change history.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from farley.core import permissions
from farley.core.errors import Forbidden
from farley.core.models import AccessLog, ChangeAction, ChangeRecord, User

# The administrative things whose changes form the audit log, with their labels.
ADMIN_KINDS = {
    "user": _("user"),
    "role": _("role"),
    "team": _("team"),
    "api_token": _("API token"),
    "sharing_rule": _("sharing rule"),
    "custom_field": _("custom field"),
    "processing_register": _("register of processing"),
    "retention_policy": _("retention policy"),
}
ADMIN_ENTITIES = tuple(ADMIN_KINDS)


def log_access(
    user: User, entity: str, object_id: int | None, action: str, *, channel: str = "ui",
    detail: str = "",
) -> None:  # fmt: skip
    AccessLog.objects.create(
        user=user if user.pk else None,
        entity=entity,
        object_id=object_id,
        action=action,
        channel=channel,
        detail=detail[:300],
    )


def log_record_view(user: User, entity: str, object_id: int, *, channel: str = "ui") -> None:
    """A person's record was shown with its sensitive data: log it (others see no such data)."""
    if entity == "contact" and permissions.can(user, "sensitive", entity):
        log_access(user, entity, object_id, AccessLog.Action.VIEW, channel=channel)


def may_read_logs(user: User) -> bool:
    """Administrators and the data-protection officer (contact permissions export and
    see sensitive data plus administer)."""
    return permissions.can(user, "administer", "contact")


def access_log(
    actor: User, *, entity: str = "", object_id: int | None = None, user_id: int | None = None
) -> QuerySet[AccessLog]:
    if not may_read_logs(actor):
        raise Forbidden()
    rows = AccessLog.objects.select_related("user")
    if entity:
        rows = rows.filter(entity=entity)
    if object_id:
        rows = rows.filter(object_id=object_id)
    if user_id:
        rows = rows.filter(user_id=user_id)
    return rows


def audit_log(actor: User, *, kind: str = "") -> QuerySet[ChangeRecord]:
    if not may_read_logs(actor):
        raise Forbidden()
    rows = ChangeRecord.objects.filter(
        Q(entity__in=ADMIN_ENTITIES) | Q(action__in=[ChangeAction.ERASE, ChangeAction.EXPORT])
    ).select_related("actor")
    if kind:
        rows = rows.filter(entity=kind)
    return rows


def kind_label(entity: str) -> str:
    """The audit log's name for what changed (an administrative thing or an entity)."""
    if entity in ADMIN_KINDS:
        return str(ADMIN_KINDS[entity])
    from farley.core import entities

    try:
        return str(entities.get(entity).label)
    except KeyError:
        return entity


def summary(change: ChangeRecord) -> dict[str, Any]:
    return {"at": change.at, "actor": change.actor, "entity": change.entity,
            "object_id": change.object_id, "action": change.get_action_display(),
            "changes": change.changes}  # fmt: skip
