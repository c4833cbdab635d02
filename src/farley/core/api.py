"""API for users (read), teams, custom-field definitions, sharing and global search."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from ninja import Router, Schema, Status
from pydantic import ConfigDict

from farley.core import entities, notifications, permissions, selectors, services, sharing
from farley.core.apiutil import ERRORS, ChangeOut, Id, api_page, change_out, requested_version
from farley.core.errors import NotFound
from farley.core.history import history_for
from farley.core.models import CustomFieldDefinition, SharingRule, Team, User
from farley.core.search import search
from farley.core.validation import Cleaner

router = Router()


class Strict(Schema):
    model_config = ConfigDict(extra="forbid")


# --- users ----------------------------------------------------------------------------------


class UserOut(Schema):
    id: int
    email: str
    full_name: str
    role: str
    team_ids: list[int]
    language: str
    is_active: bool
    created_at: dt.datetime
    updated_at: dt.datetime


def user_out(user: User) -> dict[str, Any]:
    return {
        "id": user.pk,
        "email": user.email,
        "full_name": user.full_name,
        "role": user.role.key,
        "team_ids": [t.pk for t in user.teams.all()],
        "language": user.language,
        "is_active": user.is_active,
        "created_at": user.created_at,
        "updated_at": user.updated_at,
    }


class UserList(Schema):
    items: list[UserOut]
    next_cursor: str | None


@router.get("/users", response={200: UserList, **ERRORS}, tags=["users"])
def list_users(request: HttpRequest):
    queryset = User.objects.select_related("role").prefetch_related("teams")
    if team := request.GET.get("team"):
        queryset = queryset.filter(teams__id=Cleaner().integer("team", team) or 0)
    if role := request.GET.get("role"):
        queryset = queryset.filter(role__key=role)
    page = api_page(request, queryset, ["email"])
    return {"items": [user_out(u) for u in page.items], "next_cursor": page.next_cursor}


@router.get("/users/me", response={200: UserOut, **ERRORS}, tags=["users"])
def me(request: HttpRequest):
    return user_out(request.user)


@router.get("/users/{user_id}", response={200: UserOut, **ERRORS}, tags=["users"])
def get_user(request: HttpRequest, user_id: Id):
    user = User.objects.select_related("role").prefetch_related("teams").filter(pk=user_id).first()
    if user is None:
        raise NotFound()
    return user_out(user)


# --- teams ----------------------------------------------------------------------------------


class TeamOut(Schema):
    id: int
    name: str
    lead_id: int | None
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


class TeamIn(Strict):
    name: str
    lead_id: int | None = None


class TeamPatch(Strict):
    name: str | None = None
    lead_id: int | None = None
    version: int | None = None


class TeamList(Schema):
    items: list[TeamOut]
    next_cursor: str | None


@router.get("/teams", response={200: TeamList, **ERRORS}, tags=["teams"])
def list_teams(request: HttpRequest):
    page = api_page(request, Team.objects.all(), ["name"])
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.post("/teams", response={201: TeamOut, **ERRORS}, tags=["teams"])
def create_team(request: HttpRequest, payload: TeamIn):
    return Status(
        201, services.team_create(actor=request.user, data=payload.model_dump(exclude_unset=True))
    )


@router.get("/teams/{team_id}", response={200: TeamOut, **ERRORS}, tags=["teams"])
def get_team(request: HttpRequest, team_id: Id):
    team = Team.objects.filter(pk=team_id).first()
    if team is None:
        raise NotFound()
    return team


@router.patch("/teams/{team_id}", response={200: TeamOut, **ERRORS}, tags=["teams"])
def update_team(request: HttpRequest, team_id: Id, payload: TeamPatch):
    data = payload.model_dump(exclude_unset=True)
    version = requested_version(request, data.pop("version", None))
    return services.team_update(actor=request.user, team_id=team_id, data=data, version=version)


@router.delete("/teams/{team_id}", response={204: None, **ERRORS}, tags=["teams"])
def delete_team(request: HttpRequest, team_id: Id):
    services.team_delete(actor=request.user, team_id=team_id)
    return Status(204, None)


@router.get("/teams/{team_id}/history", response={200: list[ChangeOut], **ERRORS}, tags=["teams"])
def team_history(request: HttpRequest, team_id: Id):
    if not Team.objects.filter(pk=team_id).exists():
        raise NotFound()
    return [change_out(c) for c in history_for("team", team_id)[:500]]


# --- custom fields --------------------------------------------------------------------------


class CustomFieldOut(Schema):
    id: int
    entity: str
    key: str
    label: str
    label_de: str
    field_type: str
    choices: list[str]
    is_required: bool
    is_sensitive: bool
    help_text: str
    position: int
    is_active: bool
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


class CustomFieldIn(Strict):
    entity: str
    key: str
    label: str
    label_de: str = ""
    field_type: str
    choices: list[str] = []
    is_required: bool = False
    is_sensitive: bool = False
    help_text: str = ""
    position: int = 0
    is_active: bool = True


class CustomFieldPatch(Strict):
    label: str | None = None
    label_de: str | None = None
    choices: list[str] | None = None
    is_required: bool | None = None
    is_sensitive: bool | None = None
    help_text: str | None = None
    position: int | None = None
    is_active: bool | None = None
    version: int | None = None


class CustomFieldList(Schema):
    items: list[CustomFieldOut]
    next_cursor: str | None


@router.get("/custom-fields", response={200: CustomFieldList, **ERRORS}, tags=["custom fields"])
def list_custom_fields(
    request: HttpRequest, entity: str | None = None, include_inactive: bool = False
):
    page = api_page(
        request,
        selectors.custom_fields(entity, include_inactive=include_inactive),
        ["entity", "key"],
    )
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.post("/custom-fields", response={201: CustomFieldOut, **ERRORS}, tags=["custom fields"])
def create_custom_field(request: HttpRequest, payload: CustomFieldIn):
    return Status(201, services.custom_field_create(actor=request.user, data=payload.model_dump()))


@router.get(
    "/custom-fields/{field_id}", response={200: CustomFieldOut, **ERRORS}, tags=["custom fields"]
)
def get_custom_field(request: HttpRequest, field_id: Id):
    definition = CustomFieldDefinition.objects.filter(pk=field_id).first()
    if definition is None:
        raise NotFound()
    return definition


@router.patch(
    "/custom-fields/{field_id}", response={200: CustomFieldOut, **ERRORS}, tags=["custom fields"]
)
def update_custom_field(request: HttpRequest, field_id: Id, payload: CustomFieldPatch):
    data = payload.model_dump(exclude_unset=True)
    version = requested_version(request, data.pop("version", None))
    return services.custom_field_update(
        actor=request.user, field_id=field_id, data=data, version=version
    )


@router.delete("/custom-fields/{field_id}", response={204: None, **ERRORS}, tags=["custom fields"])
def delete_custom_field(request: HttpRequest, field_id: Id):
    services.custom_field_delete(actor=request.user, field_id=field_id)
    return Status(204, None)


# --- search ---------------------------------------------------------------------------------


class SearchHitOut(Schema):
    type: str
    id: int
    title: str
    subtitle: str
    url: str
    score: float


class SearchOut(Schema):
    query: str
    items: list[SearchHitOut]


def hit_url(entity_key: str, object_id: int) -> str:
    try:
        return reverse(entities.get(entity_key).url_name, args=[object_id])
    except (KeyError, NoReverseMatch):
        return ""


@router.get("/search", response={200: SearchOut, **ERRORS}, tags=["search"])
def global_search(request: HttpRequest, q: str = "", type: str | None = None, limit: int = 20):
    c = Cleaner()
    query = c.text("q", q, max_length=200)
    limit = c.integer("limit", limit, minimum=1, maximum=100) or 20
    c.raise_if_invalid()
    kinds = [t for t in (type or "").split(",") if t] or None
    hits = search(request.user, query, entities=kinds, limit=limit)
    return {
        "query": query,
        "items": [
            {
                "type": h.entity,
                "id": h.object_id,
                "title": h.title,
                "subtitle": h.subtitle,
                "url": hit_url(h.entity, h.object_id),
                "score": round(h.score, 1),
            }
            for h in hits
        ],
    }


# --- sharing --------------------------------------------------------------------------------


class ShareIn(Strict):
    entity: str
    object_id: int
    user_id: int | None = None
    team_id: int | None = None
    can_edit: bool = False


class ShareOut(Schema):
    id: int
    entity: str
    object_id: int
    user_id: int | None
    team_id: int | None
    can_edit: bool
    rule_id: int | None
    created_at: dt.datetime


@router.get("/shares", response={200: list[ShareOut], **ERRORS}, tags=["sharing"])
def list_shares(request: HttpRequest, entity: str, object_id: Id):
    """Whom one record is shared with (by hand or by a sharing rule)."""
    return list(sharing.shares_of(request.user, entity, object_id))


@router.post("/shares", response={201: ShareOut, **ERRORS}, tags=["sharing"])
def create_share(request: HttpRequest, payload: ShareIn):
    data = payload.model_dump(exclude={"entity", "object_id"}, exclude_unset=True)
    share = sharing.share_create(
        actor=request.user, entity=payload.entity, object_id=payload.object_id, data=data
    )
    return Status(201, share)


@router.delete("/shares/{share_id}", response={204: None, **ERRORS}, tags=["sharing"])
def delete_share(request: HttpRequest, share_id: Id):
    sharing.share_delete(actor=request.user, share_id=share_id)
    return Status(204, None)


class SharingRuleIn(Strict):
    entity: str
    name: str
    criteria: dict[str, str]
    team_id: int
    can_edit: bool = False


class SharingRulePatch(Strict):
    name: str | None = None
    criteria: dict[str, str] | None = None
    team_id: int | None = None
    can_edit: bool | None = None
    version: int | None = None


class SharingRuleOut(Schema):
    id: int
    entity: str
    name: str
    criteria: dict[str, str]
    team_id: int
    can_edit: bool
    version: int
    shared_records: int


def rule_out(rule: SharingRule) -> dict[str, Any]:
    return {
        "id": rule.pk,
        "entity": rule.entity,
        "name": rule.name,
        "criteria": rule.criteria,
        "team_id": rule.team_id,
        "can_edit": rule.can_edit,
        "version": rule.version,
        "shared_records": rule.recordshare_set.count(),
    }


@router.get("/sharing-rules", response={200: list[SharingRuleOut], **ERRORS}, tags=["sharing"])
def list_rules(request: HttpRequest):
    rules = [
        r
        for r in SharingRule.objects.all()
        if permissions.can(request.user, "administer", r.entity)
    ]
    return [rule_out(r) for r in rules]


@router.post("/sharing-rules", response={201: SharingRuleOut, **ERRORS}, tags=["sharing"])
def create_rule(request: HttpRequest, payload: SharingRuleIn):
    return Status(201, rule_out(sharing.rule_create(actor=request.user, data=payload.model_dump())))


@router.patch(
    "/sharing-rules/{rule_id}", response={200: SharingRuleOut, **ERRORS}, tags=["sharing"]
)
def update_rule(request: HttpRequest, rule_id: Id, payload: SharingRulePatch):
    data = payload.model_dump(exclude_unset=True)
    version = requested_version(request, data.pop("version", None))
    return rule_out(
        sharing.rule_update(actor=request.user, rule_id=rule_id, data=data, version=version)
    )


@router.delete("/sharing-rules/{rule_id}", response={204: None, **ERRORS}, tags=["sharing"])
def delete_rule(request: HttpRequest, rule_id: Id):
    sharing.rule_delete(actor=request.user, rule_id=rule_id)
    return Status(204, None)


# --- notifications --------------------------------------------------------------------------


class NotificationOut(Schema):
    id: int
    kind: str
    title: str
    body: str
    url: str
    entity: str
    object_id: int | None
    created_at: dt.datetime
    read_at: dt.datetime | None


class NotificationList(Schema):
    items: list[NotificationOut]
    unread: int


@router.get(
    "/notifications",
    response={200: NotificationList, **ERRORS},
    tags=["notifications"],
    description="Your in-app reminders and escalations, newest first (`unread=true`: only "
    "those not read yet; at most `limit`, 1-200, default 50).",
)
def list_notifications(request: HttpRequest, unread: bool = False, limit: int = 50):
    c = Cleaner()
    limit = c.integer("limit", limit, minimum=1, maximum=200) or 50
    c.raise_if_invalid()
    items = list(notifications.of_user(request.user, unread_only=unread)[:limit])
    return {"items": items, "unread": notifications.unread_count(request.user)}


@router.post(
    "/notifications/{notification_id}/read", response={204: None, **ERRORS},
    tags=["notifications"],
)  # fmt: skip
def read_notification(request: HttpRequest, notification_id: Id):
    notifications.mark_read(user=request.user, notification_id=notification_id)
    return Status(204, None)


@router.post("/notifications/read", response={204: None, **ERRORS}, tags=["notifications"])
def read_all_notifications(request: HttpRequest):
    notifications.mark_read(user=request.user)
    return Status(204, None)
