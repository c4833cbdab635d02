"""Sharing: single records by hand, and whole territories by rule.

A manual share makes one record visible (and, with ``can_edit``, changeable) to a user or a
team. A sharing rule shares every record of an entity that matches list-filter criteria
(e.g. country AT and postal codes from 1) with a team; its shares are kept materialised as
:class:`RecordShare` rows, recomputed when the rule changes and when a record is saved, so
reading needs one indexed lookup (:func:`farley.core.visibility.shares_q`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from farley.core import entities, history, permissions, search_access
from farley.core.errors import Forbidden, NotFound, ValidationFailed
from farley.core.models import ChangeAction, RecordShare, SharingRule, Team, User
from farley.core.validation import Cleaner
from farley.core.visibility import visible_records


def _shares_changed(entity: str, object_ids: Iterable[int]) -> None:
    """After the shares of these records changed: their search documents' access tokens and
    what the entity keeps per share."""
    ids = list(object_ids)
    search_access.refresh(entity, ids)
    if hook := entities.get(entity).shares_changed:
        hook(ids)


def _record(
    actor: User, entity: str, object_id: int, *, for_edit: bool, include_deleted: bool = False
) -> Any:
    if entity not in entities.registered_keys():
        raise NotFound()
    model = entities.get(entity).model
    visible = visible_records(
        model.objects.all(), actor, for_edit=for_edit, include_deleted=include_deleted
    )
    record = visible.filter(pk=object_id).first()
    if record is None:
        raise NotFound()
    return record


def shares_of(actor: User, entity: str, object_id: int) -> QuerySet[RecordShare]:
    """Who else a record is shared with (for people who can see the record)."""
    _record(actor, entity, object_id, for_edit=False, include_deleted=True)
    return (
        RecordShare.objects.filter(entity=entity, object_id=object_id)
        .select_related("user", "team", "rule")
        .order_by("rule_id", "team__name", "user__full_name")
    )


def share_create(*, actor: User, entity: str, object_id: int, data: dict[str, Any]) -> RecordShare:
    """Share one record with a user (``user_id``) or a team (``team_id``); sharing it again
    with the same one changes only ``can_edit``. Only someone who may change the record may
    share it."""
    record = _record(actor, entity, object_id, for_edit=True)
    permissions.require(actor, "edit", entity)
    c = Cleaner()
    for key in set(data) - {"user_id", "team_id", "can_edit"}:
        c.add(key, _("Unknown field."))
    user = team = None
    if data.get("user_id") not in (None, "") and data.get("team_id") not in (None, ""):
        c.add("user_id", _("Share with a user or a team, not both."))
    elif data.get("user_id") not in (None, ""):
        pk = c.integer("user_id", data.get("user_id"), minimum=1, maximum=2**63 - 1)
        user = User.objects.filter(pk=pk, is_active=True).first() if pk else None
        if pk and user is None:
            c.add("user_id", _("Select an active user."))
        elif user is not None and user.pk == record.owner_id:
            c.add("user_id", _("This user owns the record already."))
    elif data.get("team_id") not in (None, ""):
        pk = c.integer("team_id", data.get("team_id"), minimum=1, maximum=2**63 - 1)
        team = Team.objects.filter(pk=pk).first() if pk else None
        if pk and team is None:
            c.add("team_id", _("Select a team."))
    else:
        c.add("user_id", _("Select a user or a team."))
    can_edit = c.boolean("can_edit", data.get("can_edit"))
    c.raise_if_invalid()
    with transaction.atomic():
        share, created = RecordShare.objects.update_or_create(
            entity=entity,
            object_id=object_id,
            user=user,
            team=team,
            rule=None,
            defaults={"can_edit": can_edit, "created_by": actor},
        )
        target = str(user or team)
        history.record_change(
            entity=entity,
            object_id=object_id,
            action=ChangeAction.UPDATE,
            actor=actor,
            before={"shared_with": None if created else f"{target} ({_access(not can_edit)})"},
            after={"shared_with": f"{target} ({_access(can_edit)})"},
        )
        _shares_changed(entity, [object_id])
    return share


def _access(can_edit: bool) -> str:
    return str(_("may edit") if can_edit else _("may read"))


def share_delete(*, actor: User, share_id: int) -> None:
    share = RecordShare.objects.filter(pk=share_id).select_related("user", "team").first()
    if share is None:
        raise NotFound()
    _record(actor, share.entity, share.object_id, for_edit=True)
    if share.rule_id:
        raise ValidationFailed(
            {"share": [_("This share comes from a sharing rule; change the rule instead.")]}
        )
    with transaction.atomic():
        history.record_change(
            entity=share.entity,
            object_id=share.object_id,
            action=ChangeAction.UPDATE,
            actor=actor,
            before={"shared_with": f"{share.user or share.team} ({_access(share.can_edit)})"},
            after={"shared_with": None},
        )
        share.delete()
        _shares_changed(share.entity, [share.object_id])


# --- rules ----------------------------------------------------------------------------------


def _require_rule_admin(actor: User, entity: str) -> None:
    if not permissions.can(actor, "administer", entity):
        raise Forbidden(_("Only administrators of this entity manage its sharing rules."))


def _clean_rule(c: Cleaner, data: dict[str, Any], rule: SharingRule | None) -> dict[str, Any]:
    for key in set(data) - {"entity", "name", "criteria", "team_id", "can_edit", "version"}:
        c.add(key, _("Unknown field."))
    values: dict[str, Any] = {}
    entity = rule.entity if rule else data.get("entity")
    if rule is None:
        if entity not in entities.registered_keys():
            c.add("entity", _("Select one of: %(names)s.") % {
                "names": ", ".join(entities.registered_keys())})  # fmt: skip
            return values
        values["entity"] = entity
    if rule is None or "name" in data:
        values["name"] = c.text("name", data.get("name"), max_length=120, required=True)
    if rule is None or "team_id" in data:
        pk = c.integer("team_id", data.get("team_id"), minimum=1, maximum=2**63 - 1)
        team = Team.objects.filter(pk=pk).first() if pk else None
        if team is None:
            c.add("team_id", _("Select a team."))
        values["team"] = team
    if rule is None or "can_edit" in data:
        values["can_edit"] = c.boolean("can_edit", data.get("can_edit"))
    if rule is None or "criteria" in data:
        raw = data.get("criteria") or {}
        allowed = {name for name, _label in entities.get(entity).rule_filters}
        if not isinstance(raw, dict):
            c.add("criteria", _("Enter the criteria as filter: value."))
            raw = {}
        criteria = {k: str(v).strip() for k, v in raw.items() if str(v or "").strip()}
        for key in set(criteria) - allowed:
            c.add(f"criteria.{key}", _("Unknown filter."))
        if not criteria:
            c.add(
                "criteria",
                _(
                    "A rule needs at least one criterion; to share everything, give the team's role the “all records” visibility."
                ),
            )
        else:
            try:
                entities.get(entity).filter_q(criteria)
            except ValidationFailed as exc:
                for key, messages in exc.fields.items():
                    for message in messages:
                        c.add(f"criteria.{key}", message)
        values["criteria"] = criteria
    return values


def rule_create(*, actor: User, data: dict[str, Any]) -> SharingRule:
    entity = data.get("entity") if isinstance(data, dict) else None
    if entity in entities.registered_keys():
        _require_rule_admin(actor, entity)
    c = Cleaner()
    values = _clean_rule(c, data, None)
    c.raise_if_invalid()
    with transaction.atomic():
        rule = SharingRule.objects.create(created_by=actor, **values)
        count = rebuild_rule(rule)
        history.record_change(
            entity="sharing_rule", object_id=rule.pk, action=ChangeAction.CREATE, actor=actor,
            after={"name": rule.name, "criteria": rule.criteria, "team": str(rule.team),
                   "can_edit": rule.can_edit, "records": count},
        )  # fmt: skip
    return rule


def rule_update(
    *, actor: User, rule_id: int, data: dict[str, Any], version: Any = None
) -> SharingRule:
    with transaction.atomic():
        rule = SharingRule.objects.select_for_update().filter(pk=rule_id).first()
        if rule is None:
            raise NotFound()
        _require_rule_admin(actor, rule.entity)
        if version not in (None, "") and str(version) != str(rule.version):
            from farley.core.errors import Conflict

            raise Conflict(current_version=rule.version)
        c = Cleaner()
        values = _clean_rule(c, {k: v for k, v in data.items() if k != "entity"}, rule)
        c.raise_if_invalid()
        before = {"name": rule.name, "criteria": rule.criteria, "team": str(rule.team),
                  "can_edit": rule.can_edit}  # fmt: skip
        for key, value in values.items():
            setattr(rule, key, value)
        rule.version += 1
        rule.save()
        rebuild_rule(rule)
        history.record_change(
            entity="sharing_rule", object_id=rule.pk, action=ChangeAction.UPDATE, actor=actor,
            before=before,
            after={"name": rule.name, "criteria": rule.criteria, "team": str(rule.team),
                   "can_edit": rule.can_edit},
        )  # fmt: skip
    return rule


def rule_delete(*, actor: User, rule_id: int) -> None:
    rule = SharingRule.objects.filter(pk=rule_id).first()
    if rule is None:
        raise NotFound()
    _require_rule_admin(actor, rule.entity)
    with transaction.atomic():
        history.record_change(
            entity="sharing_rule", object_id=rule.pk, action=ChangeAction.DELETE, actor=actor,
            before={"name": rule.name, "criteria": rule.criteria, "team": str(rule.team)},
        )  # fmt: skip
        shared = list(RecordShare.objects.filter(rule=rule).values_list("object_id", flat=True))
        rule.delete()  # its shares go with it (cascade)
        _shares_changed(rule.entity, shared)


def rebuild_rule(rule: SharingRule) -> int:
    """Replace the rule's shares with one per matching record; returns how many."""
    entity = entities.get(rule.entity)
    before = RecordShare.objects.filter(rule=rule)
    shared_before = set(before.values_list("object_id", flat=True))
    before.delete()
    ids = entity.model.objects.filter(entity.filter_q(rule.criteria)).values_list("pk", flat=True)
    shares = [
        RecordShare(
            entity=rule.entity, object_id=pk, team=rule.team, can_edit=rule.can_edit, rule=rule
        )
        for pk in ids.iterator(chunk_size=5000)
    ]
    RecordShare.objects.bulk_create(shares, batch_size=5000)
    shared_now = {share.object_id for share in shares}
    _shares_changed(rule.entity, shared_before | shared_now)
    return len(shares)


def apply_rules(entity: str, record: Any) -> None:
    """After ``record`` was saved: add or remove the shares of the rules it (no longer)
    matches."""
    rules = list(SharingRule.objects.filter(entity=entity).select_related("team"))
    if not rules:
        return
    model = entities.get(entity).model
    changed = False
    for rule in rules:
        matches = (
            model.objects.filter(pk=record.pk)
            .filter(entities.get(entity).filter_q(rule.criteria))
            .exists()
        )
        existing = RecordShare.objects.filter(rule=rule, object_id=record.pk)
        if matches and not existing.exists():
            RecordShare.objects.create(
                entity=entity,
                object_id=record.pk,
                team=rule.team,
                can_edit=rule.can_edit,
                rule=rule,
            )
            changed = True
        elif not matches and existing.exists():
            existing.delete()
            changed = True
    if changed:
        _shares_changed(entity, [record.pk])
