"""Writes for users, teams, API tokens, custom-field definitions and saved views."""

from __future__ import annotations

import re
import secrets
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from farley.core import entities, history, timezones
from farley.core.errors import Forbidden, NotFound, ValidationFailed
from farley.core.models import (
    ApiToken,
    ApiTokenUse,
    ChangeAction,
    CustomFieldDefinition,
    FieldType,
    Role,
    SavedView,
    Team,
    User,
)
from farley.core.validation import Cleaner, check_version
from farley.core.visibility import is_administrator, team_ids


def custom_field_entities() -> list[str]:
    """The registered entities whose records carry custom fields (a ``custom`` column)."""
    return [
        e.key
        for e in entities.all_entities()
        if any(f.name == "custom" for f in e.model._meta.get_fields())
    ]


def _require_admin(actor: User | None) -> None:
    if actor is not None and not is_administrator(actor):
        raise Forbidden(_("Only administrators may do this."))


def user_create(
    *,
    actor: User | None,
    email: str,
    password: str,
    role: str,
    full_name: str = "",
    team_names: list[str] | None = None,
    language: str = "",
) -> User:
    """Create a user who logs in with ``email``; ``actor`` None means the command line."""
    _require_admin(actor)
    c = Cleaner()
    email = c.email("email", email, required=True)
    full_name = c.text("full_name", full_name, max_length=150)
    role_obj = Role.objects.filter(key=role).first()
    if role_obj is None:
        c.add(
            "role",
            _("Select one of: %(roles)s.")
            % {"roles": ", ".join(Role.objects.values_list("key", flat=True))},
        )
    if email and User.objects.filter(email__iexact=email).exists():
        c.add("email", _("A user with this email address exists already."))
    try:
        validate_password(password or "")
    except DjangoValidationError as exc:
        for message in exc.messages:
            c.add("password", message)
    clean_team_names = []
    for name in team_names or []:
        cleaned = c.text("teams", name, max_length=120, required=True)
        if cleaned and cleaned.casefold() not in {n.casefold() for n in clean_team_names}:
            clean_team_names.append(cleaned)
    c.raise_if_invalid()
    with transaction.atomic():
        user = User.objects.create_user(
            email=email,
            password=password,
            role=role_obj,
            full_name=full_name,
            language=language,
            is_staff=role_obj.is_administrator,
        )
        for name in clean_team_names:
            team = Team.objects.filter(name__iexact=name).first() or Team.objects.create(name=name)
            user.teams.add(team)
        history.record_change(
            entity="user",
            object_id=user.pk,
            action=ChangeAction.CREATE,
            actor=actor,
            after={"email": email, "role": role, "teams": team_names or []},
        )
    return user


USER_FIELDS = {"email", "full_name", "role", "teams", "is_active", "language", "password"}


def _user_snapshot(user: User) -> dict[str, Any]:
    return {
        "email": user.email,
        "full_name": user.full_name,
        "role": user.role.key,
        "teams": sorted(t.name for t in user.teams.all()),
        "is_active": user.is_active,
        "language": user.language,
    }


def user_update(*, actor: User, user_id: int, data: dict[str, Any]) -> User:
    """An administrator changes a user: name, email, role, teams, language, a new password, or
    deactivates them (a deactivated user cannot sign in or use API tokens; their records stay).
    The last active administrator cannot be demoted or deactivated."""
    _require_admin(actor)
    c = Cleaner()
    for key in set(data) - USER_FIELDS:
        c.add(key, _("Unknown field."))
    with transaction.atomic():
        user = User.objects.select_for_update().select_related("role").filter(pk=user_id).first()
        if user is None:
            raise NotFound()
        before = _user_snapshot(user)
        if "email" in data:
            email = c.email("email", data.get("email"), required=True)
            if email and User.objects.filter(email__iexact=email).exclude(pk=user.pk).exists():
                c.add("email", _("A user with this email address exists already."))
            user.email = email or user.email
        if "full_name" in data:
            user.full_name = c.text("full_name", data.get("full_name"), max_length=150)
        if "language" in data:
            user.language = c.choice("language", data.get("language") or "", ["", "en", "de"])
        if "role" in data:
            role = Role.objects.filter(key=data.get("role")).first()
            if role is None:
                c.add("role", _("Select one of: %(roles)s.") % {
                    "roles": ", ".join(Role.objects.values_list("key", flat=True))})  # fmt: skip
            else:
                user.role = role
                user.is_staff = role.is_administrator
        if "is_active" in data:
            user.is_active = c.boolean("is_active", data.get("is_active"))
        if data.get("password"):
            try:
                validate_password(data["password"], user)
            except DjangoValidationError as exc:
                for message in exc.messages:
                    c.add("password", message)
        teams: list[Team] | None = None
        if "teams" in data:
            names = data.get("teams") or []
            if not isinstance(names, list):
                c.add("teams", _("Enter a list of teams."))
                names = []
            teams = []
            for name in names:
                team = Team.objects.filter(name__iexact=str(name).strip()).first()
                if team is None:
                    c.add("teams", _("There is no team named %(name)s.") % {"name": name})
                elif team not in teams:
                    teams.append(team)
        still_admin = user.is_active and user.role.is_administrator
        if before["role"] != user.role.key or not user.is_active:
            others = User.objects.filter(is_active=True, role__is_administrator=True).exclude(
                pk=user.pk
            )
            if not still_admin and not others.exists():
                c.add(
                    "role" if before["role"] != user.role.key else "is_active",
                    _("Farley needs at least one active administrator."),
                )
        c.raise_if_invalid()
        if data.get("password"):
            user.set_password(data["password"])
        user.save()
        if teams is not None:
            user.teams.set(teams)
        after = _user_snapshot(user)
        changes = history.diff(before, after)
        if changes or data.get("password"):
            history.record_change(
                entity="user",
                object_id=user.pk,
                action=ChangeAction.UPDATE,
                actor=actor,
                before=before,
                after={**after, "password": "changed"} if data.get("password") else after,
            )
    return user


# --- roles ----------------------------------------------------------------------------------

ROLE_FIELDS = {
    "key",
    "name",
    "visibility",
    "reports_to_id",
    "permissions",
    "version",
    "requires_2fa",
}


def _clean_role(c: Cleaner, data: dict[str, Any], role: Role | None) -> dict[str, Any]:
    from farley.core import permissions
    from farley.core.models import Visibility

    for key in set(data) - ROLE_FIELDS:
        c.add(key, _("Unknown field."))
    values: dict[str, Any] = {}
    creating = role is None
    if creating:
        key = c.text("key", data.get("key"), max_length=40, required=True).lower()
        if key and not re.fullmatch(r"[a-z][a-z0-9_-]*", key):
            c.add("key", _("Use lower-case letters, digits, - and _, starting with a letter."))
        elif key and Role.objects.filter(key=key).exists():
            c.add("key", _("A role with this key exists already."))
        values["key"] = key
    if creating or "name" in data:
        values["name"] = c.text("name", data.get("name"), max_length=100, required=True)
    if creating or "visibility" in data:
        values["visibility"] = c.choice(
            "visibility", data.get("visibility") or Visibility.OWN, Visibility.choices
        )
    if "reports_to_id" in data:
        parent = None
        if data["reports_to_id"] not in (None, ""):
            parent_id = c.integer(
                "reports_to_id", data["reports_to_id"], minimum=1, maximum=2**63 - 1
            )
            parent = Role.objects.filter(pk=parent_id).first() if parent_id else None
            if parent is None:
                c.add("reports_to_id", _("Select a role."))
            elif role is not None:
                seen, current = set(), parent
                while current is not None and current.pk not in seen:
                    if current.pk == role.pk:
                        c.add(
                            "reports_to_id", _("A role cannot report to itself or a role below it.")
                        )
                        break
                    seen.add(current.pk)
                    current = current.reports_to
        values["reports_to"] = parent
    if creating or "requires_2fa" in data:
        values["requires_2fa"] = c.boolean("requires_2fa", data.get("requires_2fa"))
    if creating or "permissions" in data:
        raw = data.get("permissions") or {}
        if not isinstance(raw, dict):
            c.add("permissions", _("Enter permissions as entity: list of actions."))
            raw = {}
        for entity, chosen in raw.items():
            if entity not in entities.registered_keys():
                c.add("permissions", _("Unknown entity %(entity)s.") % {"entity": entity})
            elif not isinstance(chosen, list) or any(a not in permissions.ACTIONS for a in chosen):
                c.add(
                    "permissions",
                    _("Actions are some of: %(actions)s.")
                    % {"actions": ", ".join(permissions.ACTIONS)},
                )
        values["permissions"] = permissions.clean_permissions(raw)
    return values


def role_create(*, actor: User, data: dict[str, Any]) -> Role:
    """A new role: what its users see and may do with each entity."""
    _require_admin(actor)
    c = Cleaner()
    values = _clean_role(c, data, None)
    c.raise_if_invalid()
    with transaction.atomic():
        role = Role.objects.create(**values)
        history.record_change(
            entity="role", object_id=role.pk, action=ChangeAction.CREATE, actor=actor,
            after=_role_snapshot(role),
        )  # fmt: skip
    return role


def _role_snapshot(role: Role) -> dict[str, Any]:
    return {
        "name": role.name,
        "visibility": role.visibility,
        "reports_to": role.reports_to.key if role.reports_to_id else None,
        "permissions": role.permissions,
        "requires_2fa": role.requires_2fa,
    }


def role_update(*, actor: User, role_id: int, data: dict[str, Any], version: Any = None) -> Role:
    """Change a role's name, visibility, place in the hierarchy or permissions; the
    administrator role always may do everything."""
    _require_admin(actor)
    with transaction.atomic():
        role = Role.objects.select_for_update().filter(pk=role_id).first()
        if role is None:
            raise NotFound()
        check_version(role, version if version is not None else data.get("version"))
        c = Cleaner()
        values = _clean_role(c, {k: v for k, v in data.items() if k != "key"}, role)
        if "key" in data and data["key"] != role.key:
            c.add("key", _("The key of a role cannot change."))
        c.raise_if_invalid()
        before = _role_snapshot(role)
        for key, value in values.items():
            setattr(role, key, value)
        after = _role_snapshot(role)
        if history.diff(before, after):
            role.version += 1
            role.save()
            history.record_change(
                entity="role", object_id=role.pk, action=ChangeAction.UPDATE, actor=actor,
                before=before, after=after,
            )  # fmt: skip
    return role


def role_delete(*, actor: User, role_id: int) -> None:
    _require_admin(actor)
    with transaction.atomic():
        role = Role.objects.filter(pk=role_id).first()
        if role is None:
            raise NotFound()
        if role.is_built_in:
            raise ValidationFailed({"role": [_("A built-in role cannot be deleted.")]})
        if User.objects.filter(role=role).exists():
            raise ValidationFailed(
                {"role": [_("Users still have this role; give them another first.")]}
            )
        history.record_change(
            entity="role", object_id=role.pk, action=ChangeAction.DELETE, actor=actor,
            before=_role_snapshot(role),
        )  # fmt: skip
        role.delete()


def user_set_time_zone(*, actor: User, time_zone: str) -> User:
    """The zone the user sees and enters times in (empty: the installation's)."""
    from farley.core.timezones import zone_names

    c = Cleaner()
    time_zone = c.choice("time_zone", time_zone, ["", *zone_names()])
    c.raise_if_invalid()
    actor.time_zone = time_zone
    actor.save(update_fields=["time_zone", "updated_at"])
    return actor


def user_set_language(*, actor: User, language: str) -> User:
    c = Cleaner()
    language = c.choice("language", language, ["", "en", "de"])
    c.raise_if_invalid()
    actor.language = language
    actor.save(update_fields=["language", "updated_at"])
    return actor


def team_create(*, actor: User, data: dict[str, Any]) -> Team:
    """Create a team; administrators only."""
    _require_admin(actor)
    c = Cleaner()
    name = c.text("name", data.get("name"), max_length=120, required=True)
    unknown = set(data) - {"name", "lead_id"}
    for key in unknown:
        c.add(key, _("Unknown field."))
    lead = None
    if data.get("lead_id") not in (None, ""):
        lead_id = c.integer("lead_id", data.get("lead_id"), minimum=1, maximum=2**63 - 1)
        lead = User.objects.filter(pk=lead_id, is_active=True).first()
        if lead is None and lead_id is not None:
            c.add("lead_id", _("Select an active user."))
    if name and Team.objects.filter(name__iexact=name).exists():
        c.add("name", _("A team with this name exists already."))
    c.raise_if_invalid()
    with transaction.atomic():
        team = Team.objects.create(name=name, lead=lead)
        history.record_change(
            entity="team",
            object_id=team.pk,
            action=ChangeAction.CREATE,
            actor=actor,
            after={"name": name},
        )
    return team


def team_update(*, actor: User, team_id: int, data: dict[str, Any], version: Any = None) -> Team:
    _require_admin(actor)
    with transaction.atomic():
        team = Team.objects.select_for_update().filter(pk=team_id).first()
        if team is None:
            raise NotFound()
        check_version(team, version)
        c = Cleaner()
        for key in set(data) - {"name", "lead_id", "version"}:
            c.add(key, _("Unknown field."))
        before = {"name": team.name, "lead": str(team.lead) if team.lead else None}
        if "name" in data:
            name = c.text("name", data.get("name"), max_length=120, required=True)
            if name and Team.objects.filter(name__iexact=name).exclude(pk=team.pk).exists():
                c.add("name", _("A team with this name exists already."))
            team.name = name
        if "lead_id" in data:
            team.lead = None
            if data["lead_id"] not in (None, ""):
                lead_id = c.integer("lead_id", data.get("lead_id"), minimum=1, maximum=2**63 - 1)
                team.lead = User.objects.filter(pk=lead_id, is_active=True).first()
                if team.lead is None:
                    c.add("lead_id", _("Select an active user."))
        c.raise_if_invalid()
        after = {"name": team.name, "lead": str(team.lead) if team.lead else None}
        if history.diff(before, after):
            team.version += 1
            team.save()
            history.record_change(
                entity="team",
                object_id=team.pk,
                action=ChangeAction.UPDATE,
                actor=actor,
                before=before,
                after=after,
            )
    return team


def team_delete(*, actor: User, team_id: int) -> None:
    _require_admin(actor)
    with transaction.atomic():
        team = Team.objects.filter(pk=team_id).first()
        if team is None:
            raise NotFound()
        history.record_change(
            entity="team", object_id=team.pk, action=ChangeAction.DELETE, actor=actor
        )
        team.delete()


TOKEN_SCOPES = ("read", "write")


def token_create(
    *,
    user: User,
    name: str = "",
    expires_at: Any = None,
    scopes: dict[str, str] | None = None,
) -> tuple[ApiToken, str]:
    """Make a new API token for ``user``; returns the row and the secret (shown only once).
    ``scopes`` limits it per entity to "read" or "write" (empty: all the user may do);
    ``expires_at`` ends it."""
    c = Cleaner()
    clean_scopes: dict[str, str] = {}
    if scopes:
        if not isinstance(scopes, dict):
            c.add("scopes", _("Enter scopes as entity: read or write."))
        else:
            for entity, scope in scopes.items():
                if entity not in entities.registered_keys():
                    c.add(f"scopes.{entity}", _("Unknown entity %(entity)s.") % {"entity": entity})
                elif scope not in TOKEN_SCOPES and scope not in ("", None):
                    c.add(f"scopes.{entity}", _("Choose read or write."))
                elif scope:
                    clean_scopes[entity] = scope
            if not clean_scopes and not c.errors:
                c.add("scopes", _("Give the token at least one scope."))
    expires = c.datetime("expires_at", expires_at)
    if expires is not None and expires <= timezone.now():
        c.add("expires_at", _("Choose a time in the future."))
    c.raise_if_invalid()
    key = "fy_" + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name[:100],
        prefix=key[:10],
        key_hash=ApiToken.hash_key(key),
        expires_at=expires,
        scopes=clean_scopes,
    )
    history.record_change(
        entity="api_token", object_id=token.pk, action=ChangeAction.CREATE, actor=user,
        after={"name": token.name, "scopes": clean_scopes, "expires_at": expires},
    )  # fmt: skip
    return token, key


def token_revoke(*, actor: User, token_id: int) -> None:
    updated = ApiToken.objects.filter(pk=token_id, user=actor, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    if not updated:
        raise NotFound()


def token_authenticate(key: str) -> User | None:
    """The active user a bearer token belongs to, or None for an unknown, expired or revoked one."""
    if not key or len(key) > 200:
        return None
    token = (
        ApiToken.objects.select_related("user", "user__role")
        .filter(key_hash=ApiToken.hash_key(key))
        .first()
    )
    if token is None or not token.is_usable or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    user = token.user
    # farley.core.permissions narrows this request's actions to the token's scopes.
    user._farley_scopes = dict(token.scopes) if token.scopes else None
    user._farley_token_id = token.pk
    timezones.activate(user)  # naive times in the request are the user's local times
    return user


def log_token_use(token_id: int, method: str, path: str, ip: str | None) -> None:
    """The token-use log: one row per API request made with a token."""
    ApiTokenUse.objects.create(token_id=token_id, method=method[:10], path=path[:300], ip=ip)


CUSTOM_FIELD_KEYS = [
    "entity",
    "key",
    "label",
    "label_de",
    "field_type",
    "choices",
    "is_required",
    "is_sensitive",
    "help_text",
    "position",
    "is_active",
]


def _clean_custom_field(
    data: dict[str, Any], definition: CustomFieldDefinition | None
) -> dict[str, Any]:
    c = Cleaner()
    if not isinstance(data, dict):
        raise ValidationFailed({"": [_("Expected an object.")]})
    for key in set(data) - set(CUSTOM_FIELD_KEYS) - {"version"}:
        c.add(key, _("Unknown field."))
    creating = definition is None
    values: dict[str, Any] = {}
    if creating:
        values["entity"] = c.choice(
            "entity", data.get("entity"), custom_field_entities(), required=True
        )
        key = c.text("key", data.get("key"), max_length=50, required=True)
        if key and not re.fullmatch(r"[a-z][a-z0-9_]*", key):
            c.add(
                "key", _("Use lower-case letters, digits and underscores, starting with a letter.")
            )
        values["key"] = key
        values["field_type"] = c.choice(
            "field_type", data.get("field_type"), FieldType.choices, required=True
        )
    field_type = values.get("field_type") or (definition.field_type if definition else "")
    if creating or "label" in data:
        values["label"] = c.text("label", data.get("label"), max_length=100, required=True)
    if creating or "label_de" in data:
        values["label_de"] = c.text("label_de", data.get("label_de"), max_length=100)
    if creating or "help_text" in data:
        values["help_text"] = c.text("help_text", data.get("help_text"), max_length=200)
    if creating or "choices" in data:
        raw = data.get("choices") or []
        if isinstance(raw, str):
            raw = [line for line in raw.splitlines()]
        if not isinstance(raw, list):
            c.add("choices", _("Enter a list of choices."))
            raw = []
        choices = []
        for item in raw:
            text = c.text("choices", item, max_length=100)
            if text and text not in choices:
                choices.append(text)
        if field_type in (FieldType.CHOICE, FieldType.MULTI_CHOICE) and not choices:
            c.add("choices", _("Enter at least one choice, one per line."))
        values["choices"] = (
            choices if field_type in (FieldType.CHOICE, FieldType.MULTI_CHOICE) else []
        )
    for key in ("is_required", "is_sensitive", "is_active"):
        if creating or key in data:
            values[key] = c.boolean(key, data.get(key, key == "is_active"))
    if creating or "position" in data:
        values["position"] = (
            c.integer("position", data.get("position") or 0, minimum=0, maximum=10000) or 0
        )
    if (
        creating
        and values.get("key")
        and CustomFieldDefinition.objects.filter(
            entity=values.get("entity"), key=values["key"]
        ).exists()
    ):
        c.add("key", _("This entity has a custom field with this key already."))
    c.raise_if_invalid()
    return values


def custom_field_create(*, actor: User, data: dict[str, Any]) -> CustomFieldDefinition:
    """Define a custom field on accounts or contacts; administrators only."""
    _require_admin(actor)
    values = _clean_custom_field(data, None)
    with transaction.atomic():
        definition = CustomFieldDefinition.objects.create(**values)
        history.record_change(
            entity="custom_field",
            object_id=definition.pk,
            action=ChangeAction.CREATE,
            actor=actor,
            after=values,
        )
    return definition


def custom_field_update(
    *, actor: User, field_id: int, data: dict[str, Any], version: Any = None
) -> CustomFieldDefinition:
    _require_admin(actor)
    with transaction.atomic():
        definition = CustomFieldDefinition.objects.select_for_update().filter(pk=field_id).first()
        if definition is None:
            raise NotFound()
        check_version(definition, version)
        values = _clean_custom_field(data, definition)
        before = {k: getattr(definition, k) for k in values}
        for key, value in values.items():
            setattr(definition, key, value)
        if history.diff(before, values):
            definition.version += 1
            definition.save()
            history.record_change(
                entity="custom_field",
                object_id=definition.pk,
                action=ChangeAction.UPDATE,
                actor=actor,
                before=before,
                after=values,
            )
    return definition


def custom_field_delete(*, actor: User, field_id: int) -> None:
    """Deactivate a custom field; stored values stay in the records."""
    custom_field_update(actor=actor, field_id=field_id, data={"is_active": False})


def saved_view_create(
    *, actor: User, entity: str, name: str, query: str, columns: list[str], team_id: Any = None
) -> SavedView:
    c = Cleaner()
    entity = c.choice("entity", entity, ["account", "contact"], required=True)
    name = c.text("name", name, max_length=100, required=True)
    query = c.text("query", query, max_length=2000)
    team = None
    if team_id not in (None, ""):
        tid = c.integer("team_id", team_id, minimum=1, maximum=2**63 - 1)
        if tid not in team_ids(actor) and not is_administrator(actor):
            c.add("team_id", _("Select one of your teams."))
        else:
            team = Team.objects.filter(pk=tid).first()
    c.raise_if_invalid()
    return SavedView.objects.create(
        entity=entity,
        name=name,
        owner=actor,
        query=query.lstrip("?"),
        columns=[str(col)[:50] for col in columns][:30],
        shared_with_team=team,
    )


def saved_view_delete(*, actor: User, view_id: int) -> None:
    deleted, _rows = SavedView.objects.filter(pk=view_id, owner=actor).delete()
    if not deleted:
        raise NotFound()
