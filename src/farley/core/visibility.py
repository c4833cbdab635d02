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

from collections.abc import Callable, Iterable

from django.db import connection
from django.db.models import BooleanField, Expression, F, OuterRef, Q, QuerySet, Value

from farley.core.models import Role, User, Visibility
from farley.core.sqlparts import Condition

# Narrows a principal's shares: ("user" or "team", their ids) -> a filter on RecordShare.
SharesFilter = Callable[[str, list[int]], Q]

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


class SharedWith(Expression):
    """Whether the record named by ``entity`` and ``object_id`` (values or expressions of the
    query this filters) is shared with the user ``user_id`` or one of ``team_ids`` (with
    ``for_edit``: so that they may change it).

    Written as SQL: one ``EXISTS`` per principal, each served by its covering index
    (``share_user_idx``, ``share_team_idx``; one test for "the user or a team" would read every
    share of the record through ``share_record_idx``). As querysets of :class:`RecordShare`
    these subqueries cost Django several times as much to build and compile, for every
    entity of every request of a user with shares."""

    conditional = True

    def __init__(
        self,
        entity: object,
        object_id: object,
        *,
        user_id: int,
        team_ids: Iterable[int] = (),
        for_edit: bool = False,
    ) -> None:
        super().__init__(output_field=BooleanField())
        self.entity = _expression(entity)
        self.object_id = _expression(object_id)
        self.user_id = user_id
        self.team_ids = tuple(team_ids)
        self.for_edit = for_edit

    def get_source_expressions(self) -> list:
        return [self.entity, self.object_id]

    def set_source_expressions(self, exprs: list) -> None:
        self.entity, self.object_id = exprs

    def as_sql(self, compiler, connection) -> tuple[str, list]:
        entity_sql, entity_params = compiler.compile(self.entity)
        object_sql, object_params = compiler.compile(self.object_id)
        edit = ' AND "farley_share"."can_edit" = %s' if self.for_edit else ""
        edit_params = [True] if self.for_edit else []
        principals = [('"farley_share"."user_id" = %s', [self.user_id])]
        if self.team_ids:
            marks = ", ".join(["%s"] * len(self.team_ids))
            principals.append((f'"farley_share"."team_id" IN ({marks})', list(self.team_ids)))
        tests, params = [], []
        for principal_sql, principal_params in principals:
            tests.append(
                f'EXISTS (SELECT 1 FROM "core_recordshare" "farley_share" WHERE '  # noqa: S608
                f'"farley_share"."entity" = {entity_sql} AND {principal_sql} AND '
                f'"farley_share"."object_id" = {object_sql}{edit})'
            )
            params += [*entity_params, *principal_params, *object_params, *edit_params]
        return "(" + " OR ".join(tests) + ")", params


def _expression(value: object) -> object:
    """``value`` as an expression of the query a :class:`SharedWith` filters: an ``OuterRef``
    (as the callers name the record for the subqueries that were there before) is a column of
    that query itself."""
    if isinstance(value, OuterRef):
        return F(value.name) if isinstance(value.name, str) else value.name
    return value if hasattr(value, "resolve_expression") else Value(value)


def shares_q(user: User, *, entity: object, object_id: object, for_edit: bool = False) -> Q:
    """Records shared with ``user`` or their teams; ``entity``/``object_id`` are the values or
    ``OuterRef``s that name the record."""
    return Q(
        SharedWith(entity, object_id, user_id=user.pk, team_ids=team_ids(user), for_edit=for_edit)
    )


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
    shares_filter: Q | SharesFilter | None = None,
) -> tuple[QuerySet, list[Condition] | None]:
    """:func:`visible_records` as a union: ``queryset`` (without the trash unless
    ``include_deleted``; none at all if the user's role may not view the entity) and the
    conditions on its table (SQL), one per way of seeing a record: own, the teams', the
    subordinates', shared with the user or their teams. None for a user who sees every record.

    Each condition is served by an index of its own, so a page of a list can take the first
    rows of each part and then of their union (:func:`farley.core.pagination.keyset_page_union`)
    instead of walking the whole table in list order and testing every row for visibility,
    which costs a user who sees few records the most. ``shares_filter`` (a filter on
    :class:`RecordShare`, e.g. ``Exists(... object_id=OuterRef("object_id"))``, or a function
    of the principal, "user" or "team", and their ids that returns one) narrows the shared
    records before their rows are read: the part of a team with a territory rule names
    thousands of records."""
    from farley.core import entities, permissions

    key = entities.key_for(queryset.model)
    if not permissions.can(user, "view", key):
        return queryset.none(), []
    if not include_deleted:
        queryset = queryset.filter(deleted_at__isnull=True)
    scope = visibility_scope(user)
    if scope == Visibility.ALL:
        return queryset, None
    if scope == "none":
        return queryset.none(), []
    meta, quote = queryset.model._meta, connection.ops.quote_name
    table = quote(meta.db_table)
    owner, team = (f"{table}.{quote(meta.get_field(name).column)}" for name in ("owner", "team"))
    teams = team_ids(user) if scope in (Visibility.TEAM, Visibility.SUBORDINATES) else []
    if teams:
        # Own records of the user's teams come with the team part; the own part is then
        # answered from the (owner, team) index alone for most users.
        parts = [
            Condition(
                f"{owner} = %s AND ({team} IS NULL OR {team} NOT IN ({_marks(teams)}))",
                [user.pk, *teams],
            ),
            Condition(f"{team} IN ({_marks(teams)})", list(teams)),
        ]
    else:
        parts = [Condition(f"{owner} = %s", [user.pk])]
    if scope == Visibility.SUBORDINATES and (subordinates := subordinate_user_ids(user)):
        parts.append(Condition(f"{owner} IN ({_marks(subordinates)})", list(subordinates)))
    if has_shares(user, key):
        record = f"{table}.{quote(meta.pk.column)}"
        parts.append(_shared_part(record, key, user, teams, for_edit, shares_filter))
    return queryset, parts


def _marks(values: list) -> str:
    return ", ".join(["%s"] * len(values))


def _shared_part(
    record: str,
    entity: str,
    user: User,
    teams: list[int],
    for_edit: bool,
    narrow: Q | SharesFilter | None,
) -> Condition:
    """``record`` (the id column) is one of those shared with ``user`` or ``teams`` (that match
    ``narrow``): the shares read first, on their covering indexes."""
    from farley.core.models import RecordShare
    from farley.core.sqlparts import compile_with_slot

    edit = ' AND "core_recordshare"."can_edit" = %s' if for_edit else ""
    principals = [("user", [user.pk])]
    if teams:
        principals.append(("team", teams))
    slotted, compiled_q = None, None
    selects = []
    for principal, ids in principals:
        q = narrow(principal, ids) if callable(narrow) else narrow
        if slotted is None or q is not compiled_q:  # the same filter is compiled once
            shares = RecordShare.objects.filter(q) if q is not None else RecordShare.objects.all()
            slotted, compiled_q = compile_with_slot(shares.values("object_id")), q
        column = f'"core_recordshare"."{principal}_id"'
        test = f"{column} = %s" if len(ids) == 1 else f"{column} IN ({_marks(ids)})"
        selects.append(
            slotted.fill(
                Condition(
                    f'"core_recordshare"."entity" = %s AND {test}{edit}',
                    [entity, *ids, *([True] if for_edit else [])],
                )
            )
        )
    union = " UNION ALL ".join(select.sql for select in selects)
    return Condition(f"{record} IN ({union})", [p for select in selects for p in select.params])


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
