"""Reads for users, teams, custom fields and saved views."""

from __future__ import annotations

from typing import NamedTuple

from django.db.models import Q, QuerySet

from farley.core.models import CustomFieldDefinition, SavedView, Team, User
from farley.core.visibility import team_ids


def users_active() -> QuerySet[User]:
    return User.objects.filter(is_active=True).select_related("role").order_by("full_name", "email")


def users_all() -> QuerySet[User]:
    """Active users first, then deactivated ones, by name."""
    return User.objects.select_related("role").order_by("-is_active", "full_name", "email")


class Choice(NamedTuple):
    """An option of a select: the id it submits and the label it shows."""

    pk: int
    label: str

    def __str__(self) -> str:
        return self.label


def user_choices(*, exclude: int | None = None) -> list[Choice]:
    """The active users as options, by name: two columns, no model instances. A select of
    800 users as instances with their roles was some 8,000 objects on every list and 360 page,
    left for the garbage collector with the rest of the template's context."""
    users = User.objects.filter(is_active=True)
    if exclude is not None:
        users = users.exclude(pk=exclude)
    rows = users.order_by("full_name", "email").values_list("pk", "full_name", "email")
    return [Choice(pk, name or email) for pk, name, email in rows]


def team_choices() -> list[Choice]:
    return [
        Choice(pk, name) for pk, name in Team.objects.order_by("name").values_list("pk", "name")
    ]


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
