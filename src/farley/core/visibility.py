"""The one place that decides which customer records a user may see.

Every selector, the API, global search, exports and the 360 pages start from
:func:`visible_records`; the search index filters with :func:`visibility_q` on the same
``owner``/``team`` columns. The fuller permission model (issue 3) extends these functions.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from farley.core.models import User, Visibility


def team_ids(user: User) -> list[int]:
    cached = getattr(user, "_farley_team_ids", None)
    if cached is None:
        cached = list(user.teams.values_list("id", flat=True))
        user._farley_team_ids = cached
    return cached


def visibility_scope(user: User) -> str:
    if not user.is_active:
        return "none"
    if user.is_superuser or user.role.is_administrator:
        return Visibility.ALL
    return user.role.visibility


def viewable_entities(user: User) -> list[str]:
    """The registered entities whose records ``user``'s role may view at all."""
    from farley.core import entities, permissions

    return [key for key in entities.registered_keys() if permissions.can(user, "view", key)]


def visibility_q(user: User, *, owner_field: str = "owner_id", team_field: str = "team_id") -> Q:
    """A filter over owner/team columns that keeps exactly the records ``user`` may see."""
    scope = visibility_scope(user)
    if scope == Visibility.ALL:
        return Q()
    if scope == "none":
        return Q(pk__in=[])
    own = Q(**{owner_field: user.pk})
    if scope == Visibility.TEAM:
        ids = team_ids(user)
        if ids:
            return own | Q(**{f"{team_field}__in": ids})
    return own


def visible_records(queryset: QuerySet, user: User, *, include_deleted: bool = False) -> QuerySet:
    from farley.core import entities, permissions

    if not permissions.can(user, "view", entities.key_for(queryset.model)):
        return queryset.none()
    queryset = queryset.filter(visibility_q(user))
    if not include_deleted:
        queryset = queryset.filter(deleted_at__isnull=True)
    return queryset


def is_administrator(user: User) -> bool:
    return user.is_active and (user.is_superuser or user.role.is_administrator)
