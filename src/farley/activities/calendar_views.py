"""The calendar: one page (day, week, month and agenda views, FullCalendar in the browser) for
the user, a colleague or a team, the JSON its events are loaded from, and the move that drag
and drop (or resizing an appointment) posts. Thin: reads through
:func:`farley.activities.selectors.calendar_window`, writes through
:func:`farley.activities.services.activity_update`.

Times and time zones: every time is shown in the user's profile time zone, whatever zone the
browser is in. The page hands the zone's IANA name to FullCalendar (its ``timeZone`` option,
which it supports natively through Temporal), and the events carry the wall-clock times of
that zone with their UTC offset ("2026-12-10T10:00:00+01:00" for a Berlin user,
"2026-12-10T04:00:00-05:00" for a New York user: the same moment), so FullCalendar places them
at that wall-clock time and "today" and the now line are the user's too. A drop sends the new
times back the same way (wall-clock time in the user's zone with its offset); a time without
an offset is read in the user's zone, as every form input is (:mod:`farley.core.timezones`).

All-day appointments are whole days: they are sent as dates (end exclusive, as in iCalendar),
and a dropped one is saved as midnight to midnight in the user's zone by the service.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from farley.activities import selectors, services
from farley.activities.models import Activity, ActivityKind, ActivityStatus
from farley.core import permissions, timezones
from farley.core.errors import Conflict, Forbidden, NotFound, ServiceError, ValidationFailed
from farley.core.models import Team, User, Visibility
from farley.core.validation import Cleaner
from farley.core.visibility import subordinate_role_ids, team_ids, visibility_scope

ENTITY = "activity"
# The page's views (in the URL) and FullCalendar's names for them.
VIEWS = {
    "day": "timeGridDay",
    "week": "timeGridWeek",
    "month": "dayGridMonth",
    "agenda": "listMonth",
}
DEFAULT_VIEW = "week"
# A window (at most 62 days) of a big team could hold thousands of entries; the page says so
# when it shows only the first ones.
MAX_EVENTS = 1000
MAX_CHOICES = 300  # colleagues in the picker (a search field comes when teams grow)
MAX_ID = 2**63 - 1


# --- helpers ----------------------------------------------------------------------------------


def _error(
    exc: ServiceError, message: str | None = None, status: int | None = None
) -> JsonResponse:
    """The JSON error envelope of the API: ``{"error": {"code", "message", "fields"}}``."""
    body: dict[str, Any] = {
        "error": {"code": exc.code, "message": message or exc.message, "fields": exc.fields}
    }
    if isinstance(exc, Conflict) and exc.current_version is not None:
        body["error"]["current_version"] = exc.current_version
    return JsonResponse(body, status=status or exc.status)


def _messages(exc: ValidationFailed) -> str:
    return " ".join(str(m) for messages in exc.fields.values() for m in messages) or exc.message


def _library_locale(language: str | None) -> str:
    """FullCalendar's locale for the user's language (English is built in)."""
    return "de" if (language or "").lower().startswith("de") else "en"


def _local(moment: dt.datetime, zone: dt.tzinfo) -> str:
    """A moment as the wall-clock time of ``zone`` with its offset (ISO 8601)."""
    return moment.astimezone(zone).isoformat(timespec="seconds")


# --- the page ---------------------------------------------------------------------------------


def _choices(user: User) -> tuple[list[User], list[Team]]:
    """The colleagues and teams ``user`` may pick: everyone for a user who sees all records;
    else the members of their teams (and of the roles below theirs) and their own teams. The
    events are filtered by visibility anyway; this only keeps the list short."""
    users = (
        User.objects.filter(is_active=True)
        .exclude(pk=user.pk)
        .order_by("full_name", "email")
        .only("pk", "full_name", "email")
    )
    teams = Team.objects.order_by("name").only("pk", "name")
    scope = visibility_scope(user)
    if scope != Visibility.ALL:
        mine = team_ids(user)
        wanted = User.objects.filter(teams__in=mine)
        if scope == Visibility.SUBORDINATES:
            wanted = wanted | User.objects.filter(role_id__in=subordinate_role_ids(user.role))
        users = users.filter(pk__in=wanted.values("pk"))
        teams = teams.filter(pk__in=mine)
    return list(users[:MAX_CHOICES]), list(teams)


def _chosen(params: Any, users: list[User], teams: list[Team]) -> tuple[str, list[User]]:
    """Whose calendar the URL asks for: ``who`` ("me", "user:5", "team:3", as the picker sends
    it) or ``user``/``team`` (links). A user or team not in the lists is added if it exists
    (their events are filtered by visibility); anything else shows the user's own."""
    who = str(params.get("who") or "")
    if not who and params.get("team"):
        who = f"team:{params.get('team')}"
    elif not who and params.get("user"):
        who = f"user:{params.get('user')}"
    kind, _sep, raw = who.partition(":")
    if kind not in ("user", "team") or not raw.isdigit() or not 0 < int(raw) <= MAX_ID:
        return "me", users
    pk = int(raw)
    if kind == "team":
        return (f"team:{pk}", users) if any(t.pk == pk for t in teams) else ("me", users)
    if any(u.pk == pk for u in users):
        return f"user:{pk}", users
    other = User.objects.filter(pk=pk, is_active=True).only("pk", "full_name", "email").first()
    return (f"user:{pk}", [*users, other]) if other is not None else ("me", users)


@login_required
@require_GET
def calendar(request: HttpRequest) -> HttpResponse:
    """The calendar page; FullCalendar (calendar.js) loads the events from
    :func:`calendar_events` and posts moves to :func:`calendar_move`."""
    user = request.user
    permissions.require(user, "view", ENTITY)
    users, teams = _choices(user)
    who, users = _chosen(request.GET, users, teams)
    view = request.GET.get("view")
    view = view if view in VIEWS else DEFAULT_VIEW
    day = Cleaner().date("date", request.GET.get("date"))
    language = getattr(request, "LANGUAGE_CODE", None) or get_language()
    locale = _library_locale(language)
    context = {
        "nav": "calendar",
        "who": who,
        "who_kind": who.partition(":")[0],
        "who_pk": int(who.partition(":")[2] or 0),
        "colleagues": users,
        "teams": teams,
        "views": VIEWS,
        "view": view,
        "initial_view": VIEWS[view],
        "initial_date": day.isoformat() if day else "",
        "locale": locale,
        # Monday for German (the locale says so too); the library's default otherwise.
        "first_day": 1 if locale == "de" else "",
        "time_zone": timezones.zone_name(user),
        "may_edit": permissions.can(user, "edit", ENTITY),
        "max_events": MAX_EVENTS,
    }
    return render(request, "activities/calendar.html", context)


# --- the events -------------------------------------------------------------------------------


def _event(activity: Activity, zone: dt.tzinfo, editable: bool, urls: dict[str, str]) -> dict:
    """One activity as a FullCalendar event: title, start, end, all day, a class per kind
    (``fc-kind-appointment``, ``fc-kind-task``; the colours are in calendar.css), the link to
    its page, whether it may be dragged, and what a move needs (its version, the move URL)."""
    classes = [f"fc-kind-{activity.kind}"]
    if activity.status == ActivityStatus.DONE:
        classes.append("fc-is-done")
    event: dict[str, Any] = {
        "id": str(activity.pk),
        "title": activity.title,
        "url": urls["detail"].format(activity.pk),
        "className": " ".join(classes),  # FullCalendar v7 takes a string
        "editable": editable,
        "extendedProps": {
            "kind": activity.kind,
            "kindLabel": str(ActivityKind(activity.kind).label),
            "status": activity.status,
            "version": activity.version,
            "owner": str(activity.owner) if activity.owner_id else "",
            "team": str(activity.team) if activity.team_id else "",
            "moveUrl": urls["move"].format(activity.pk),
        },
    }
    if activity.kind == ActivityKind.TASK:
        # A task is due at a moment: no end, so it cannot be resized.
        event.update(start=_local(activity.due_at, zone), allDay=False, durationEditable=False)
    elif activity.all_day:
        # Dates, the same for every viewer; FullCalendar's end is exclusive.
        after = activity.last_day + dt.timedelta(days=1)
        event.update(start=activity.first_day.isoformat(), end=after.isoformat(), allDay=True)
    else:
        end = activity.end_at or activity.start_at + dt.timedelta(hours=1)
        event.update(start=_local(activity.start_at, zone), end=_local(end, zone), allDay=False)
    return event


@login_required
@require_GET
def calendar_events(request: HttpRequest) -> HttpResponse:
    """``GET /calendar/events/?start=&end=[&user=|&team=]``: the appointments and due tasks of
    the window (at most 62 days; ISO dates or times, without an offset in the user's zone) as
    JSON: ``{"events": [...], "truncated": false, "time_zone": "Europe/Berlin"}``. A bad window
    answers 422 with the error envelope of the API."""
    user = request.user
    if not permissions.can(user, "view", ENTITY):
        return _error(Forbidden())
    try:
        queryset, _start, _end = selectors.calendar_window(user, request.GET)
    except ValidationFailed as exc:
        return _error(exc, _messages(exc))
    activities = list(queryset[: MAX_EVENTS + 1])
    truncated = len(activities) > MAX_EVENTS
    activities = activities[:MAX_EVENTS]
    editable: set[int] = set()
    if activities and permissions.can(user, "edit", ENTITY):
        editable = set(
            selectors.activities_visible_to(user, for_edit=True)
            .filter(pk__in=[a.pk for a in activities])
            .values_list("pk", flat=True)
        )
    zone = timezones.zone(user)
    # Reversing two URLs per event would cost a busy month more than its queries.
    urls = {
        "detail": reverse("activities:detail", args=[0]).replace("/0/", "/{}/"),
        "move": reverse("calendar_move", args=[0]).replace("/0/", "/{}/"),
    }
    events = [_event(a, zone, a.pk in editable, urls) for a in activities]
    return JsonResponse(
        {"events": events, "truncated": truncated, "time_zone": timezones.zone_name(user)}
    )


# --- moving -----------------------------------------------------------------------------------


def _move_data(c: Cleaner, activity: Activity, post: Any) -> dict[str, Any]:
    """What the move changes, from the dropped event: ``start_at`` (the due time of a task),
    ``end_at`` and ``all_day`` (appointments; an all-day event's dates with the end exclusive,
    as FullCalendar sends them)."""
    start, end = post.get("start_at"), post.get("end_at")
    all_day = c.boolean("all_day", post.get("all_day"))
    if start in (None, ""):
        c.add("start_at", _("This field is required."))
    if activity.kind == ActivityKind.TASK:
        if all_day:
            c.add("start_at", _("A task is due at a time: drop it on a time of day."))
        return {"due_at": start}
    if not all_day:
        # No end (moved out of the all-day row): the service makes it an hour.
        return {"start_at": start, "end_at": end or None, "all_day": False}
    first = c.date("start_at", str(start or "")[:10]) if start else None
    after = c.date("end_at", str(end)[:10]) if end else None
    if first is not None and after is not None and after <= first:
        c.add("end_at", _("The end lies before the start."))
    last = after - dt.timedelta(days=1) if after is not None else None
    return {
        "start_at": f"{first.isoformat()}T00:00" if first else None,
        "end_at": f"{last.isoformat()}T00:00" if last else None,
        "all_day": True,
    }


@login_required
@require_POST
def calendar_move(request: HttpRequest, activity_id: int) -> HttpResponse:
    """``POST /calendar/events/<id>/move/`` with ``start_at``, ``end_at``, ``all_day`` and
    ``version`` (form-encoded; CSRF token in ``X-CSRFToken``): reschedule an appointment or a
    task dragged (or resized) in the calendar. Answers the event as the calendar shows it now,
    or the error envelope: 404 (not visible), 403 (visible, not to be changed), 409 (changed by
    someone else since it was loaded), 422 (invalid times)."""
    user = request.user
    try:
        activity = selectors.activity_detail(user, activity_id)
    except NotFound as exc:
        return _error(exc)
    if activity.kind not in (ActivityKind.APPOINTMENT, ActivityKind.TASK):
        return _error(NotFound())
    c = Cleaner()
    version = request.POST.get("version")
    if version in (None, ""):
        c.add("version", _("This field is required."))
    data = _move_data(c, activity, request.POST)
    try:
        c.raise_if_invalid()
        activity = services.activity_update(
            actor=user, activity_id=activity.pk, data=data, kind=activity.kind, version=version
        )
    except Conflict as exc:
        message = _(
            "Someone else changed “%(title)s” in the meantime; nothing was saved. The calendar "
            "shows its current time now."
        ) % {"title": activity.title}
        return _error(exc, message)
    except ValidationFailed as exc:
        return _error(exc, _messages(exc))
    except NotFound:
        # Visible (it was found above) but not the user's to change.
        return _error(Forbidden(_("You may not change this activity.")))
    except ServiceError as exc:  # Forbidden: the role may not edit activities
        return _error(exc)
    urls = {
        "detail": reverse("activities:detail", args=[0]).replace("/0/", "/{}/"),
        "move": reverse("calendar_move", args=[0]).replace("/0/", "/{}/"),
    }
    event = _event(activity, timezones.zone(user), True, urls)
    return JsonResponse({"id": activity.pk, "version": activity.version, "event": event})
