"""Reads for users, teams, custom fields and saved views."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from farley.core.models import CustomFieldDefinition, SavedView, Team, User
from farley.core.visibility import team_ids


def users_active() -> QuerySet[User]:
    return User.objects.filter(is_active=True).select_related("role").order_by("full_name", "email")


def users_all() -> QuerySet[User]:
    """Active users first, then deactivated ones, by name."""
    return User.objects.select_related("role").order_by("-is_active", "full_name", "email")


def teams_all() -> QuerySet[Team]:
    return Team.objects.select_related("lead").order_by("name")


def custom_fields(
    entity: str | None = None, *, include_inactive: bool = False
) -> QuerySet[CustomFieldDefinition]:
    queryset = CustomFieldDefinition.objects.all()
    if entity:
        queryset = queryset.filter(entity=entity)
    if not include_inactive:
        queryset = queryset.filter(is_active=True)
    return queryset


def saved_views_for(user: User, entity: str) -> QuerySet[SavedView]:
    return (
        SavedView.objects.filter(entity=entity)
        .filter(Q(owner=user) | Q(shared_with_team_id__in=team_ids(user)))
        .select_related("owner", "shared_with_team")
    )
