"""Reads of activities shared by the pages and the API: what a user may see (the same
visibility as every customer record: own, team's, shared), "My day", the task list with its
filters, the calendar's window, the activities of one record."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Case, Exists, F, IntegerField, OuterRef, Q, QuerySet, Value, When
from django.db.models.functions import Coalesce
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from farley.activities import days
from farley.activities.models import (
    Activity,
    ActivityKind,
    ActivityLink,
    ActivityStatus,
    Attendee,
    Priority,
)
from farley.core import entities, permissions, timezones
from farley.core.errors import NotFound
from farley.core.models import Team, User
from farley.core.validation import Cleaner
from farley.core.visibility import visibility_q, visible_records

ENTITY = "activity"
RELATIONS = ("owner", "team")
MAX_WINDOW_DAYS = 62  # a month view with its neighbouring weeks


def activities_visible_to(
    user: User, *, include_deleted: bool = False, for_edit: bool = False
) -> QuerySet[Activity]:
    """Every activity ``user`` may see (or change): assigned to them or their team, shared
    with them, or (to see, not to change) an appointment they are invited to."""
    if not permissions.can(user, "view", ENTITY):
        return Activity.objects.none()
    q = visibility_q(user, entity=ENTITY, object_id=OuterRef("pk"), for_edit=for_edit)
    if q.children and not for_edit:  # restricted: the invitations too
        q = q | Q(Exists(Attendee.objects.filter(activity=OuterRef("pk"), user_id=user.pk)))
    queryset = Activity.objects.filter(q)
    return queryset if include_deleted else queryset.filter(deleted_at__isnull=True)


def activity_detail(user: User, activity_id: int, kind: str | None = None) -> Activity:
    queryset = activities_visible_to(user).select_related(*RELATIONS)
    if kind is not None:
        queryset = queryset.filter(kind=kind)
    activity = (
        queryset.prefetch_related("links", "attendees__user", "attendees__contact")
        .filter(pk=activity_id)
        .first()
    )
    if activity is None:
        raise NotFound()
    return activity


@dataclass
class MyDay:
    overdue: list[Activity] = field(default_factory=list)
    today: list[Activity] = field(default_factory=list)
    upcoming: list[Activity] = field(default_factory=list)
    appointments: list[Activity] = field(default_factory=list)
    follow_ups: list[Activity] = field(default_factory=list)

    @property
    def count(self) -> int:
        """What needs doing today: overdue and due today (the number in the navigation)."""
        return len(self.overdue) + len(self.today)


def day_bounds(user: User, day: dt.date | None = None) -> tuple[dt.datetime, dt.datetime]:
    """Start and end of ``day`` (default: today) in ``user``'s time zone, as aware times."""
    zone = timezones.zone(user)
    day = day or timezone.now().astimezone(zone).date()
    start = dt.datetime.combine(day, dt.time.min, tzinfo=zone)
    return start, dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=zone)


MY_DAY_LIMIT = 50
UPCOMING_DAYS = 7


def my_day(user: User) -> MyDay:
    """The user's own open tasks (overdue, due today, the next week's), today's
    appointments they organise or attend, and their follow-ups; each list cut at 50."""
    start, end = day_bounds(user)
    tasks = (
        Activity.objects.filter(
            kind=ActivityKind.TASK, owner=user, status=ActivityStatus.OPEN,
            deleted_at__isnull=True,
        )
        .select_related(*RELATIONS)
        .prefetch_related("links")
        .order_by("due_at", "pk")
    )  # fmt: skip
    day = MyDay(
        overdue=list(tasks.filter(due_at__lt=start)[:MY_DAY_LIMIT]),
        today=list(tasks.filter(due_at__gte=start, due_at__lt=end)[:MY_DAY_LIMIT]),
        upcoming=list(
            tasks.filter(due_at__gte=end, due_at__lt=end + dt.timedelta(days=UPCOMING_DAYS))[
                :MY_DAY_LIMIT
            ]
        ),
    )
    day.follow_ups = [t for t in [*day.overdue, *day.today, *day.upcoming] if t.is_follow_up]
    today = start.date()
    day.appointments = [
        a
        for a in Activity.objects.filter(
            pk__in=_appointments_of(user, start, end), deleted_at__isnull=True
        )
        .exclude(status=ActivityStatus.CANCELLED)
        .select_related(*RELATIONS)
        .prefetch_related("links")
        .order_by("start_at", "pk")[:MY_DAY_LIMIT]
        # An all-day appointment is on its dates: a day stored in UTC overlaps the day before
        # or after of a user far from it by some hours.
        if not a.all_day or days.covers(a.start_at, a.end_at, today)
    ]
    return day


def _window(activities: QuerySet, start: dt.datetime, end: dt.datetime) -> list[QuerySet]:
    """The ids of ``activities`` in the window: appointments overlapping it, tasks due in it.
    Each part is a query of its own, answered from the (owner, start) or (owner, status, due)
    indexes; one query with "owner or invited" and "appointment or task" scans the table."""
    live = activities.filter(deleted_at__isnull=True)  # the indexes are of live rows only
    return [
        live.filter(kind=ActivityKind.APPOINTMENT, start_at__lt=end, end_at__gt=start)
        .values("pk"),
        live.filter(kind=ActivityKind.TASK, due_at__gte=start, due_at__lt=end).values("pk"),
    ]  # fmt: skip


def _appointments_of(
    user: User, start: dt.datetime, end: dt.datetime, *, own: bool = True
) -> QuerySet:
    """The ids of the appointments ``user`` has in the window: organised (``own``) and
    invited to."""
    invited = Activity.objects.filter(
        pk__in=Attendee.objects.filter(user_id=user.pk).values("activity_id"),
        kind=ActivityKind.APPOINTMENT, start_at__lt=end, end_at__gt=start,
    ).values("pk")  # fmt: skip
    if not own:
        return invited
    organised = Activity.objects.filter(
        owner=user, kind=ActivityKind.APPOINTMENT, start_at__lt=end, end_at__gt=start,
        deleted_at__isnull=True,  # the (owner, start) index is of live rows only
    ).values("pk")  # fmt: skip
    return organised.union(invited)


def open_task_count(user: User) -> int:
    """Overdue and due today: the count in the navigation."""
    _start, end = day_bounds(user)
    return Activity.objects.filter(
        kind=ActivityKind.TASK, owner=user, status=ActivityStatus.OPEN,
        deleted_at__isnull=True, due_at__lt=end,
    ).count()  # fmt: skip


# --- lists ------------------------------------------------------------------------------------

SORTS = {
    "due": (F("due_at").asc(nulls_last=True), "pk"),
    "-due": (F("due_at").desc(nulls_last=True), "-pk"),
    "start": (F("start_at").asc(nulls_last=True), "pk"),
    "-start": (F("start_at").desc(nulls_last=True), "-pk"),
    "priority": ("-priority_rank", F("due_at").asc(nulls_last=True), "pk"),
    "created": ("-created_at", "-pk"),
}
FILTERS = {
    "kind", "assignee", "assignee_id", "team", "team_id", "status", "priority", "due_from",
    "due_to", "from", "to", "overdue", "related", "related_type", "q", "sort",
}  # fmt: skip
ID_MAX = 2**63 - 1


def filtered(
    user: User, params: Mapping[str, Any], *, kind: str | None = None, strict: bool = False
) -> QuerySet[Activity]:
    """The activities ``user`` sees that match the list filters: assignee (an id or "me"),
    team, status, priority, due_from/due_to (tasks) or from/to (start, others; dates in the
    user's zone), overdue, related (``contact:5``) and related_type (``contact``), q (title).

    A bad value is a ValidationFailed (the pages show it at its filter and list with the
    others); with ``strict`` (the API) an unknown filter is one too."""
    c = Cleaner()
    conditions: list[Q] = []

    def keep(field: str, condition: Q) -> None:
        if field not in c.errors:
            conditions.append(condition)

    if strict:
        for name in set(params) - FILTERS:
            c.add(name, _("Unknown filter."))
    if kind is None and params.get("kind"):
        keep("kind", Q(kind=c.choice("kind", params.get("kind"), ActivityKind.choices)))
    assignee = params.get("assignee") or params.get("assignee_id")
    if assignee == "me":
        conditions.append(Q(owner=user))
    elif assignee:
        keep("assignee", Q(owner_id=c.integer("assignee", assignee, minimum=1, maximum=ID_MAX)))
    team = params.get("team") or params.get("team_id")
    if team:
        keep("team", Q(team_id=c.integer("team", team, minimum=1, maximum=ID_MAX)))
    for name, choices in (("status", ActivityStatus.choices), ("priority", Priority.choices)):
        if params.get(name):
            keep(name, Q(**{name: c.choice(name, params.get(name), choices)}))
    zone = timezones.zone(user)
    field_name = "due_at" if kind == ActivityKind.TASK else "start_at"
    for key, lookup, shift in (("from", "gte", 0), ("to", "lt", 1)):
        for name in (f"due_{key}", key):
            if not params.get(name):
                continue
            day = c.date(name, params.get(name))
            if day is not None:
                moment = dt.datetime.combine(
                    day + dt.timedelta(days=shift), dt.time.min, tzinfo=zone
                )
                target = "due_at" if name.startswith("due_") else field_name
                conditions.append(Q(**{f"{target}__{lookup}": moment}))
    if str(params.get("overdue", "")).lower() in ("1", "true", "yes"):
        conditions.append(Q(due_at__lt=timezone.now(), status=ActivityStatus.OPEN))
    if params.get("related"):
        key, _sep, pk_text = str(params.get("related")).partition(":")
        pk = c.integer("related", pk_text, minimum=1, maximum=ID_MAX) if pk_text else None
        if key not in entities.registered_keys() or pk is None:
            c.errors.pop("related", None)
            c.add("related", _("Enter a record as type:id, e.g. contact:5."))
        else:
            links = ActivityLink.objects.filter(activity=OuterRef("pk"), entity=key, object_id=pk)
            conditions.append(Q(Exists(links)))
    if params.get("related_type"):
        key = params.get("related_type")
        if key not in entities.registered_keys():
            c.add("related_type", _("Select a type of record."))
        else:
            links = ActivityLink.objects.filter(activity=OuterRef("pk"), entity=key)
            conditions.append(Q(Exists(links)))
    if params.get("q"):
        conditions.append(Q(title__icontains=str(params.get("q"))[:200]))
    sort = params.get("sort") or ("due" if kind == ActivityKind.TASK else "-start")
    if sort not in SORTS:
        c.add("sort", _("Select a valid sort order."))
        sort = "due" if kind == ActivityKind.TASK else "-start"
    c.raise_if_invalid()
    queryset = activities_visible_to(user).select_related(*RELATIONS)
    if kind is not None:
        queryset = queryset.filter(kind=kind)
    for condition in conditions:
        queryset = queryset.filter(condition)
    if sort == "priority":
        queryset = queryset.annotate(
            priority_rank=Case(
                When(priority=Priority.HIGH, then=Value(2)),
                When(priority=Priority.NORMAL, then=Value(1)),
                default=Value(0), output_field=IntegerField(),
            )
        )  # fmt: skip
    return queryset.order_by(*SORTS[sort])


def calendar_window(
    user: User, params: Mapping[str, Any]
) -> tuple[QuerySet[Activity], dt.datetime, dt.datetime]:
    """Appointments and due tasks between ``start`` and ``end`` (ISO dates or times) for
    ``user`` (default), a colleague (``user``) or a team (``team``), as far as ``user`` may
    see them. At most 62 days."""
    c = Cleaner()
    with timezone.override(timezones.zone(user)):  # dates without a zone: the user's
        start = c.datetime("start", params.get("start"), required=True)
        end = c.datetime("end", params.get("end"), required=True)
    if start and end and not start < end <= start + dt.timedelta(days=MAX_WINDOW_DAYS):
        c.add("end", _("Show at most %(n)d days.") % {"n": MAX_WINDOW_DAYS})
    target_user, target_team = user, None
    if params.get("team"):
        pk = c.integer("team", params.get("team"), minimum=1, maximum=2**63 - 1)
        target_team = Team.objects.filter(pk=pk).first() if pk else None
        if pk and target_team is None:
            c.add("team", _("Select a team."))
        target_user = None
    elif params.get("user"):
        pk = c.integer("user", params.get("user"), minimum=1, maximum=2**63 - 1)
        target_user = User.objects.filter(pk=pk).first() if pk else None
        if pk and target_user is None:
            c.add("user", _("Select a user."))
    c.raise_if_invalid()
    if target_team is not None:
        members = list(target_team.members.values_list("pk", flat=True))
        parts = [
            *_window(Activity.objects.filter(team=target_team), start, end),
            *_window(Activity.objects.filter(owner_id__in=members), start, end),
        ]
    else:
        parts = [
            *_window(Activity.objects.filter(owner=target_user), start, end),
            _appointments_of(target_user, start, end, own=False),
        ]
    candidates = parts[0].union(*parts[1:])
    queryset = (
        activities_visible_to(user)
        .filter(pk__in=candidates)
        .exclude(status=ActivityStatus.CANCELLED)
        .select_related(*RELATIONS)
        .order_by(Coalesce("start_at", "due_at"), "pk")
    )
    return queryset, start, end


def of_record(user: User, entity: str, object_id: int) -> QuerySet[Activity]:
    """The activities about one record (its 360 page's panel and timeline)."""
    return (
        activities_visible_to(user)
        .filter(
            Exists(
                ActivityLink.objects.filter(
                    activity=OuterRef("pk"), entity=entity, object_id=object_id
                )
            )
        )
        .select_related(*RELATIONS)
        # Open ones first (by due date), then what is done or past, newest first.
        .order_by(
            F("completed_at").desc(nulls_first=True),
            F("due_at").asc(nulls_last=True),
            F("start_at").desc(nulls_last=True),
            "-pk",
        )
    )


def related_titles(user: User, activities: Iterable[Activity]) -> dict[tuple[str, int], str]:
    """Titles of the related records ``user`` may see, one query per type of record."""
    wanted: dict[str, set[int]] = defaultdict(set)
    for activity in activities:
        for link in activity.links.all():
            wanted[link.entity].add(link.object_id)
    titles: dict[tuple[str, int], str] = {}
    for key, ids in wanted.items():
        if key not in entities.registered_keys():
            continue
        model = entities.get(key).model
        for record in visible_records(model.objects.all(), user).filter(pk__in=ids):
            titles[(key, record.pk)] = str(record)
    return titles


def record_url(key: str, pk: int) -> str | None:
    try:
        return reverse(entities.get(key).url_name, args=[pk])
    except (KeyError, NoReverseMatch):
        return None
