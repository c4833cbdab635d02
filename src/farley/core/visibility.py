"""The one place that decides which customer records a user may see (and change).

A user sees a record if their role may *view* its entity (:mod:`farley.core.permissions`)
and the record is theirs, their team's, owned by a user of a role below theirs (for the
"subordinates" scope), visible to everyone (the "all" scope), or shared with them or one of
their teams, by hand or by a sharing rule (:class:`farley.core.models.RecordShare`).

Every selector, the API, global search, exports and the 360 pages start from
:func:`visible_records`; the search index filters with :func:`visibility_q` on the same
owner/team columns and the same shares.
"""

from __future__ import annotations

from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet

from farley.core.models import RecordShare, Role, User, Visibility

CACHED = ("_farley_team_ids", "_farley_subordinates", "_farley_shared_entities",
          "_farley_visibility_q")  # fmt: skip


def forget(user: User) -> None:
    """Drop what this module keeps on ``user`` for the length of a request (after their
    teams or shares changed in the middle of one)."""
    for name in CACHED:
        user.__dict__.pop(name, None)


def team_ids(user: User) -> list[int]:
    cached = getattr(user, "_farley_team_ids", None)
    if cached is None:
        # The membership table alone: no join with the teams, no ordering by name.
        memberships = User.teams.through.objects.filter(user_id=user.pk)
        cached = list(memberships.values_list("team_id", flat=True))
        user._farley_team_ids = cached
    return cached


def visibility_scope(user: User) -> str:
    if not user.is_active:
        return "none"
    if user.is_superuser or user.role.is_administrator:
        return Visibility.ALL
    return user.role.visibility


def subordinate_role_ids(role: Role) -> list[int]:
    """The roles below ``role`` in the hierarchy, at any depth."""
    children: dict[int, list[int]] = {}
    for pk, parent in Role.objects.values_list("pk", "reports_to_id"):
        if parent is not None:
            children.setdefault(parent, []).append(pk)
    found: list[int] = []
    todo = list(children.get(role.pk, []))
    while todo:
        pk = todo.pop()
        if pk not in found and pk != role.pk:
            found.append(pk)
            todo.extend(children.get(pk, []))
    return found


def subordinate_user_ids(user: User) -> list[int]:
    cached = getattr(user, "_farley_subordinates", None)
    if cached is None:
        roles = subordinate_role_ids(user.role)
        cached = list(User.objects.filter(role_id__in=roles).values_list("pk", flat=True))
        user._farley_subordinates = cached
    return cached


def shared_entities(user: User) -> set[str]:
    """The entities of which anything is shared with ``user`` or their teams (for most users
    and most entities none, and then the share test is left out of their queries). One query,
    each part an index probe."""
    cached = getattr(user, "_farley_shared_entities", None)
    if cached is None:
        from farley.core import entities

        probes, params = [], []
        for key in entities.registered_keys():
            probes.append(SHARED_WITH_USER_SQL)
            params += [key, user.pk]
            for team in team_ids(user):
                probes.append(SHARED_WITH_TEAM_SQL)
                params += [key, team]
        with connection.cursor() as cursor:
            cursor.execute(" UNION ".join(probes), params)
            cached = {key for (key,) in cursor.fetchall()}
        user._farley_shared_entities = cached
    return cached


# Parameterised; the only values are bound with %s.
SHARED_WITH_USER_SQL = (
    "SELECT * FROM (SELECT entity FROM core_recordshare WHERE entity = %s AND user_id = %s "
    "LIMIT 1) AS shared_with_user"
)
SHARED_WITH_TEAM_SQL = (
    "SELECT * FROM (SELECT entity FROM core_recordshare WHERE entity = %s AND team_id = %s "
    "LIMIT 1) AS shared_with_team"
)


def has_shares(user: User, entity: object = None) -> bool:
    """Whether anything of ``entity`` (a key; anything at all for None or an expression) is
    shared with ``user`` or one of their teams."""
    shared = shared_entities(user)
    return entity in shared if isinstance(entity, str) else bool(shared)


def shares_with(user: User, entity: object, *, for_edit: bool = False) -> list[QuerySet]:
    """The shares of records of ``entity`` with ``user`` and with their teams, as separate
    querysets: each is served by its own covering index (``share_user_idx``,
    ``share_team_idx``), where one query for "the user or a team" reads every share of the
    entity through ``share_record_idx``."""
    parts = [RecordShare.objects.filter(entity=entity, user=user)]
    if team_ids(user):
        parts.append(RecordShare.objects.filter(entity=entity, team_id__in=team_ids(user)))
    return [part.filter(can_edit=True) for part in parts] if for_edit else parts


def shares_q(user: User, *, entity: object, object_id: object, for_edit: bool = False) -> Q:
    """Records shared with ``user`` or their teams; ``entity``/``object_id`` are the values or
    ``OuterRef``s that name the record."""
    q = Q()
    for shares in shares_with(user, entity, for_edit=for_edit):
        q |= Q(Exists(shares.filter(object_id=object_id)))
    return q


def visibility_q(
    user: User,
    *,
    owner_field: str = "owner_id",
    team_field: str = "team_id",
    entity: object = None,
    object_id: object = None,
    for_edit: bool = False,
) -> Q:
    """A filter over owner/team columns (and, given ``entity`` and ``object_id``, the shares)
    that keeps exactly the records ``user`` may see, or with ``for_edit`` may change.

    Kept on ``user`` (a request's user) per arguments: a 360 page asks for it some fifteen
    times, and building the share subqueries is most of its cost. Django copies the
    expressions of a filter when it uses them, so the same ``Q`` serves every query."""
    key = (owner_field, team_field, _cache_key(entity), _cache_key(object_id), for_edit)
    cache = user.__dict__.setdefault("_farley_visibility_q", {})
    if key in cache:
        return cache[key]
    q = _visibility_q(user, owner_field, team_field, entity, object_id, for_edit)
    if None not in key[2:4]:
        cache[key] = q
    return q


def _cache_key(value: object) -> object:
    """``value`` (a value or an ``OuterRef``) as part of a cache key; None: not cached."""
    if isinstance(value, OuterRef):
        return ("ref", value.name) if isinstance(value.name, str) else None
    return ("value", value) if isinstance(value, str | int) or value is None else None


def _visibility_q(
    user: User,
    owner_field: str,
    team_field: str,
    entity: object,
    object_id: object,
    for_edit: bool,
) -> Q:
    scope = visibility_scope(user)
    if scope == Visibility.ALL:
        return Q()
    if scope == "none":
        return Q(pk__in=[])
    q = Q(**{owner_field: user.pk})
    if scope in (Visibility.TEAM, Visibility.SUBORDINATES) and team_ids(user):
        q |= Q(**{f"{team_field}__in": team_ids(user)})
    if scope == Visibility.SUBORDINATES and subordinate_user_ids(user):
        q |= Q(**{f"{owner_field}__in": subordinate_user_ids(user)})
    if entity is not None and has_shares(user, entity):
        q |= shares_q(user, entity=entity, object_id=object_id, for_edit=for_edit)
    return q


def visible_records(
    queryset: QuerySet, user: User, *, include_deleted: bool = False, for_edit: bool = False
) -> QuerySet:
    from farley.core import entities, permissions

    key = entities.key_for(queryset.model)
    if not permissions.can(user, "view", key):
        return queryset.none()
    queryset = queryset.filter(
        visibility_q(user, entity=key, object_id=OuterRef("pk"), for_edit=for_edit)
    )
    if not include_deleted:
        queryset = queryset.filter(deleted_at__isnull=True)
    return queryset


def visible_parts(
    queryset: QuerySet,
    user: User,
    *,
    include_deleted: bool = False,
    for_edit: bool = False,
    shares_filter: Q | None = None,
) -> list[QuerySet]:
    """:func:`visible_records` as querysets whose union it is, one per way of seeing a record:
    own, the teams', the subordinates', shared with the user or their teams (one queryset,
    ``queryset`` itself, for a user who sees everything; none for one who sees nothing).

    Each part is served by an index of its own, so a page of a list can take the first rows
    of each part and then of their union (:func:`farley.core.pagination.keyset_page_union`)
    instead of walking the whole table in list order and testing every row for visibility,
    which costs a user who sees few records the most. ``shares_filter`` (a filter on
    :class:`RecordShare`, e.g. ``Exists(... object_id=OuterRef("object_id"))``) narrows the
    shared records before their rows are read: the part of a team with a territory rule
    names thousands of records."""
    from farley.core import entities, permissions

    key = entities.key_for(queryset.model)
    if not permissions.can(user, "view", key):
        return []
    if not include_deleted:
        queryset = queryset.filter(deleted_at__isnull=True)
    scope = visibility_scope(user)
    if scope == Visibility.ALL:
        return [queryset]
    if scope == "none":
        return []
    teams = team_ids(user) if scope in (Visibility.TEAM, Visibility.SUBORDINATES) else []
    own = queryset.filter(owner_id=user.pk)
    if teams:
        # Own records of the user's teams come with the team part; the own part is then
        # answered from the (owner, team) index alone for most users.
        own = own.filter(Q(team_id__isnull=True) | ~Q(team_id__in=teams))
    parts = [own]
    if teams:
        parts.append(queryset.filter(team_id__in=teams))
    if scope == Visibility.SUBORDINATES and subordinate_user_ids(user):
        parts.append(queryset.filter(owner_id__in=subordinate_user_ids(user)))
    if has_shares(user, key):
        ids = [
            (shares if shares_filter is None else shares.filter(shares_filter)).values("object_id")
            for shares in shares_with(user, key, for_edit=for_edit)
        ]
        parts.append(queryset.filter(pk__in=ids[0].union(*ids[1:], all=True)))
    return parts


def viewable_entities(user: User) -> list[str]:
    """The registered entities whose records ``user``'s role may view at all."""
    from farley.core import entities, permissions

    return [key for key in entities.registered_keys() if permissions.can(user, "view", key)]


def is_administrator(user: User) -> bool:
    """May administer Farley (users, roles, teams, settings). Not through an API token that is
    limited to scopes: those cover records only."""
    if getattr(user, "_farley_scopes", None) is not None:
        return False
    return user.is_active and (user.is_superuser or user.role.is_administrator)
