"""Pages of activities: "My day", the task list with its bulk actions, the forms of the four
kinds (task, appointment, call, note), completing a task (with a next one), follow-ups from a
record's page, and one activity's page with its records, attendees and history; delete and
restore. Thin: every write goes through :mod:`farley.activities.services` (or
:mod:`farley.activities.bulk`), every read through the selectors."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from farley.activities import bulk, selectors, services
from farley.activities.models import (
    Activity,
    ActivityKind,
    ActivityStatus,
    AttendeeResponse,
    CallDirection,
    CallOutcome,
    Priority,
)
from farley.activities.recurrence import PRESETS
from farley.core import entities, permissions, timezones
from farley.core import selectors as core_selectors
from farley.core.errors import Conflict, Forbidden, NotFound, ServiceError, ValidationFailed
from farley.core.history import history_for, with_change_lines
from farley.core.models import User
from farley.core.validation import Cleaner
from farley.core.visibility import visible_records

ENTITY = "activity"
PAGE_SIZE = 50
NINE = dt.time(9, 0)


# --- helpers ----------------------------------------------------------------------------------


def _htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _refresh() -> HttpResponse:
    """An htmx answer that reloads the page the request came from (it shows the message)."""
    response = HttpResponse(status=204)
    response["HX-Refresh"] = "true"
    return response


def _next_url(request: HttpRequest, default: str) -> str:
    """Where to go after a form: ``next`` if it is a path of this site, else ``default``."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default


def local_input(moment: dt.datetime | None) -> str:
    """A time as the value of a ``datetime-local`` input, in the current (the user's) zone."""
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M") if moment else ""


def _shown_time(moment: dt.datetime) -> str:
    """A time as the pages show it: in the user's zone and language."""
    return formats.date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT")


def days_ahead(user: User, days: int, time: dt.time = NINE) -> dt.datetime:
    """``days`` days from today at ``time``, in ``user``'s zone."""
    zone = timezones.zone(user)
    today = timezone.now().astimezone(zone).date()
    return dt.datetime.combine(today + dt.timedelta(days=days), time, tzinfo=zone)


def quick_dates(user: User) -> list[tuple[str, str]]:
    """The shortcuts next to a due date: (label, value of the input)."""
    return [
        (_("Tomorrow"), local_input(days_ahead(user, 1))),
        (_("In 1 week"), local_input(days_ahead(user, 7))),
        (_("In 2 weeks"), local_input(days_ahead(user, 14))),
        (_("In 1 month"), local_input(days_ahead(user, 30))),
    ]


def related_of(user: User, activities: Iterable[Activity]) -> dict[int, list[dict[str, Any]]]:
    """The records each activity is about that ``user`` may see (one query per type of
    record; the links must be prefetched)."""
    activities = list(activities)
    titles = selectors.related_titles(user, activities)
    return {
        activity.pk: [
            {"type": link.entity, "title": titles[(link.entity, link.object_id)],
             "url": selectors.record_url(link.entity, link.object_id)}
            for link in activity.links.all()
            if (link.entity, link.object_id) in titles
        ]
        for activity in activities
    }  # fmt: skip


def _pair(text: str) -> tuple[str, str] | None:
    """``"contact:5"`` → ("contact", "5")."""
    key, sep, pk = str(text).partition(":")
    return (key, pk) if sep and key else None


def _record_titles(user: User, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """Titles of records (type, id) ``user`` may see; others are left out."""
    wanted: dict[str, set[int]] = {}
    for key, pk in pairs:
        if key in entities.registered_keys() and key != ENTITY and pk.isdigit() and len(pk) < 19:
            wanted.setdefault(key, set()).add(int(pk))
    found: dict[tuple[str, str], str] = {}
    for key, ids in wanted.items():
        model = entities.get(key).model
        for record in visible_records(model.objects.all(), user).filter(pk__in=ids):
            found[(key, str(record.pk))] = str(record)
    return found


def _related_rows(user: User, pairs: list[tuple[str, str]]) -> list[dict[str, str]]:
    """The related records of a form as checkboxes: value, title and type."""
    titles = _record_titles(user, pairs)
    rows = []
    for key, pk in pairs:
        if (key, pk) in titles:
            rows.append({"value": f"{key}:{pk}", "title": titles[(key, pk)],
                         "type": str(entities.get(key).label)})  # fmt: skip
    return rows


def _messages_of(exc: ServiceError) -> list[str]:
    return [str(m) for ms in exc.fields.values() for m in ms] or [exc.message]


def _editable(user: User, activity: Activity) -> bool:
    return (
        permissions.can(user, "edit", ENTITY)
        and selectors.activities_visible_to(user, for_edit=True).filter(pk=activity.pk).exists()
    )


def _not_yours() -> Forbidden:
    return Forbidden(_("This record is shared with you to read, not to change."))


# --- one activity -----------------------------------------------------------------------------


@login_required
def activity_detail(request: HttpRequest, activity_id: int) -> HttpResponse:
    visible = selectors.activities_visible_to(request.user, include_deleted=True)
    activity = (
        visible.select_related("owner", "team")
        .prefetch_related("links", "attendees__user", "attendees__contact")
        .filter(pk=activity_id)
        .first()
    )
    if activity is None:
        raise NotFound()
    may_edit = (
        permissions.can(request.user, "edit", ENTITY)
        and selectors.activities_visible_to(request.user, include_deleted=True, for_edit=True)
        .filter(pk=activity.pk)
        .exists()
    )
    return render(
        request,
        "activities/detail.html",
        {
            "nav": "my_day",
            "activity": activity,
            "related": related_of(request.user, [activity])[activity.pk],
            "may_edit": may_edit,
            "may_delete": may_edit and permissions.can(request.user, "delete", ENTITY),
            "invited_contacts": [
                a.contact for a in activity.attendees.all() if a.contact_id is not None
            ],
            "invitation": next(
                (a for a in activity.attendees.all() if a.user_id == request.user.pk), None
            ),
            "answers": [
                (AttendeeResponse.ACCEPTED, _("Accept"), "check-lg"),
                (AttendeeResponse.TENTATIVE, _("Tentative"), "question-lg"),
                (AttendeeResponse.DECLINED, _("Decline"), "x-lg"),
            ],
            "duration_minutes": None
            if activity.duration_seconds is None
            else round(activity.duration_seconds / 60),
            "history": with_change_lines(ENTITY, list(history_for(ENTITY, activity.pk)[:200])),
        },
    )


@login_required
@require_POST
def activity_delete(request: HttpRequest, activity_id: int) -> HttpResponse:
    services.activity_delete(actor=request.user, activity_id=activity_id)
    messages.success(request, _("The activity was moved to the trash."))
    return redirect("activities:detail", activity_id)


def _flash_error(request: HttpRequest, exc: ServiceError) -> None:
    """A refused action of a button on the page, as messages above it: each field's problem,
    or the error's message."""
    problems = [problem for field in exc.fields.values() for problem in field]
    for problem in problems or [exc.message]:
        messages.error(request, problem)


@login_required
@require_POST
def activity_respond(request: HttpRequest, activity_id: int) -> HttpResponse:
    """An invited user's answer to an appointment (accept, tentative, decline)."""
    try:
        services.attendee_respond(
            actor=request.user, activity_id=activity_id, response=request.POST.get("response")
        )
    except ValidationFailed as exc:
        _flash_error(request, exc)
    else:
        messages.success(request, _("Your answer was saved; the organiser is notified."))
    return redirect("activities:detail", activity_id)


@login_required
@require_POST
def activity_invite(request: HttpRequest, activity_id: int) -> HttpResponse:
    """Email the invitation to the appointment's invited contacts."""
    try:
        sent = services.contacts_invite(actor=request.user, activity_id=activity_id)
    except (Forbidden, NotFound):
        raise
    except ServiceError as exc:
        _flash_error(request, exc)
    else:
        messages.success(
            request, _("Invitation sent to %(addresses)s.") % {"addresses": ", ".join(sent)}
        )
    return redirect("activities:detail", activity_id)


@login_required
@require_POST
def activity_restore(request: HttpRequest, activity_id: int) -> HttpResponse:
    services.activity_restore(actor=request.user, activity_id=activity_id)
    messages.success(request, _("The activity was restored."))
    return redirect("activities:detail", activity_id)


# --- My day -----------------------------------------------------------------------------------


@login_required
def my_day(request: HttpRequest) -> HttpResponse:
    """Overdue, today's and the next week's tasks, today's appointments and the follow-ups."""
    user = request.user
    permissions.require(user, "view", ENTITY)
    day = selectors.my_day(user)
    shown = [*day.overdue, *day.today, *day.upcoming, *day.appointments]
    return render(
        request,
        "activities/my_day.html",
        {
            "nav": "my_day",
            "day": day,
            "related": related_of(user, shown),
            "today": timezone.now().astimezone(timezones.zone(user)).date(),
            "may_create": permissions.can(user, "create", ENTITY),
            "may_edit": permissions.can(user, "edit", ENTITY),
            "limit": selectors.MY_DAY_LIMIT,
            "now": timezone.now(),
        },
    )


# --- the task list ----------------------------------------------------------------------------

TASK_FILTERS = ("assignee", "team", "status", "priority", "due_from", "due_to", "related_type",
                "related", "q", "sort")  # fmt: skip


def _sort_choices() -> list[tuple[str, str]]:
    return [("due", _("Due date, earliest first")), ("-due", _("Due date, latest first")),
            ("priority", _("Priority")), ("created", _("Newest first"))]  # fmt: skip


def _task_params(request: HttpRequest) -> dict[str, str]:
    """The filters in the query string; without any, "my open tasks"."""
    if not any(key in request.GET for key in TASK_FILTERS):
        return {"assignee": "me", "status": ActivityStatus.OPEN}
    return {k: v.strip() for k in TASK_FILTERS if (v := request.GET.get(k, "")).strip()}


@login_required
def task_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    permissions.require(user, "view", ENTITY)
    params = _task_params(request)
    query = {k: v for k, v in params.items() if not (k == "assignee" and v == "anyone")}
    errors: dict[str, list[str]] = {}
    try:
        queryset = selectors.filtered(user, query, kind=ActivityKind.TASK)
    except ValidationFailed as exc:
        # Show what was wrong at its filter and list with the others.
        errors = exc.fields
        query = {k: v for k, v in query.items() if k not in errors}
        queryset = selectors.filtered(user, query, kind=ActivityKind.TASK)
    page = Paginator(queryset.prefetch_related("links"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    tasks = list(page.object_list)
    editable = set(
        selectors.activities_visible_to(user, for_edit=True)
        .filter(pk__in=[t.pk for t in tasks])
        .values_list("pk", flat=True)
    ) if permissions.can(user, "edit", ENTITY) else set()  # fmt: skip
    related_filter = None
    if params.get("related") and "related" not in errors:
        pair = _pair(params["related"])
        titles = _record_titles(user, [pair]) if pair else {}
        if pair and pair in titles:
            related_filter = {
                "title": titles[pair],
                "url": selectors.record_url(pair[0], int(pair[1])),
            }
    return render(
        request,
        "activities/task_list.html",
        {
            "nav": "tasks",
            "page": page,
            "tasks": tasks,
            "params": params,
            "errors": errors,
            "related": related_of(user, tasks),
            "editable": editable,
            "related_filter": related_filter,
            "users": core_selectors.users_active(),
            "teams": core_selectors.teams_all(),
            "statuses": ActivityStatus.choices,
            "priorities": Priority.choices,
            "record_types": [(e.key, e.label) for e in entities.all_entities() if e.key != ENTITY],
            "sorts": _sort_choices(),
            "now": timezone.now(),
            "actions": list(bulk.ACTIONS.items()),
            "postpone_choices": list(bulk.POSTPONE_CHOICES.items()),
            "may_create": permissions.can(user, "create", ENTITY),
            "back": request.get_full_path(),
        },
    )


@login_required
@require_POST
def task_bulk(request: HttpRequest) -> HttpResponse:
    """Reassign, postpone or complete the checked tasks (all or nothing)."""
    back = _next_url(request, reverse("activities:task_list"))
    post = request.POST
    try:
        result = bulk.bulk_tasks(
            actor=request.user,
            action=post.get("action", ""),
            task_ids=post.getlist("ids"),
            data={k: post.get(k, "") for k in ("assignee_id", "postpone", "postpone_to")},
        )
    except (ValidationFailed, Forbidden) as exc:
        for text in _messages_of(exc):
            messages.error(request, text)
        return redirect(back)
    if result.ok:
        count = len(result.changed)
        messages.success(
            request,
            ngettext("%(n)d task was changed.", "%(n)d tasks were changed.", count) % {"n": count},
        )
    else:
        messages.error(request, _("Nothing was changed:"))
        for line in result.error_lines():
            messages.error(request, line)
    return redirect(back)


# --- the forms of the four kinds --------------------------------------------------------------

FORM_FIELDS: dict[str, tuple[str, ...]] = {
    ActivityKind.TASK: ("title", "description", "priority", "due_at", "remind_at", "is_follow_up"),
    ActivityKind.APPOINTMENT: ("title", "description", "start_at", "end_at", "all_day",
                               "location", "video_url", "remind_at"),
    ActivityKind.CALL: ("title", "description", "start_at", "direction", "phone_number",
                        "call_result"),
    ActivityKind.NOTE: ("title", "description", "start_at"),
}  # fmt: skip
EDIT_ONLY: dict[str, tuple[str, ...]] = {
    ActivityKind.TASK: ("status",),
    ActivityKind.APPOINTMENT: ("status", "outcome"),
}
BOOLEANS = ("is_follow_up", "all_day")
TIMES = ("due_at", "remind_at", "start_at", "end_at")
# Fields shown with their own error; any other error goes to the top of the form.
EXTRA_FIELDS = ("assignee_id", "team_id", "related", "attendees", "recurrence",
                "recurrence_preset", "recurrence_count", "recurrence_until", "duration_minutes")  # fmt: skip
# A preset with its end, as the form writes it: FREQ=WEEKLY;COUNT=10 or ...;UNTIL=...Z
PRESET_RULE = re.compile(
    r"^FREQ=(DAILY|WEEKLY|MONTHLY);(?:COUNT=(\d+)|UNTIL=(\d{8}T\d{6}Z)|UNTIL=(\d{8}))$"
)
DEFAULT_COUNT = "10"


def _field_names(kind: str, activity: Activity | None) -> tuple[str, ...]:
    return FORM_FIELDS[kind] + (EDIT_ONLY.get(kind, ()) if activity is not None else ())


def _form_errors(
    kind: str, activity: Activity | None, fields: dict[str, list[str]]
) -> dict[str, list[str]]:
    """The service's errors by the form's fields; ``related.0.id`` shows at the records,
    anything without a field of its own at the top of the form."""
    shown = set(_field_names(kind, activity)) | set(EXTRA_FIELDS)
    errors: dict[str, list[str]] = {}
    for key, texts in fields.items():
        head = key.split(".")[0]
        if head in ("related", "attendees"):
            target = head
        elif key == "duration_seconds":
            target = "duration_minutes"
        else:
            target = key if key in shown else ""
        errors.setdefault(target, []).extend(str(t) for t in texts)
    return errors


def _rule_parts(user: User, rule: str) -> dict[str, str]:
    """The form's recurrence fields for a stored rule."""
    if not rule:
        return {"recurrence_preset": "", "recurrence": "", "recurrence_count": DEFAULT_COUNT,
                "recurrence_until": ""}  # fmt: skip
    match = PRESET_RULE.match(rule)
    if not match:
        return {"recurrence_preset": "custom", "recurrence": rule,
                "recurrence_count": DEFAULT_COUNT, "recurrence_until": ""}  # fmt: skip
    until = ""
    if match[3]:
        moment = dt.datetime.strptime(match[3], "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
        until = moment.astimezone(timezones.zone(user)).date().isoformat()
    elif match[4]:  # a date: to the end of that day
        until = dt.datetime.strptime(match[4], "%Y%m%d").date().isoformat()
    return {"recurrence_preset": match[1].lower(), "recurrence": "",
            "recurrence_count": match[2] or DEFAULT_COUNT, "recurrence_until": until}  # fmt: skip


def _posted_rule(user: User, post, c: Cleaner) -> str:
    """The RRULE the recurrence fields describe. A preset ends after a number of times or on
    a date (the rules must end); "custom" takes the RRULE as typed."""
    preset = post.get("recurrence_preset", "")
    if preset == "custom":
        return post.get("recurrence", "")
    if preset not in PRESETS:
        return ""
    until = c.date("recurrence_until", post.get("recurrence_until"))
    if until is not None:
        end = dt.datetime.combine(until, dt.time(23, 59, 59), tzinfo=timezones.zone(user))
        return f"{PRESETS[preset]};UNTIL={end.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}"
    count = c.integer("recurrence_count", post.get("recurrence_count") or DEFAULT_COUNT,
                      minimum=1, maximum=1000)  # fmt: skip
    return f"{PRESETS[preset]};COUNT={count}" if count is not None else ""


def _minutes_to_seconds(raw: str) -> Any:
    """The call's duration in minutes (as typed) in seconds; anything else goes to the service
    as typed, which says what is wrong with it."""
    text = raw.strip().replace(",", ".")
    if not text:
        return None
    try:
        return round(float(text) * 60)
    except (ValueError, OverflowError):
        return raw


def _posted(
    request: HttpRequest, kind: str, activity: Activity | None
) -> tuple[dict[str, Any], dict[str, Any], dict[str, list[str]]]:
    """The service's data, the values to show again and the form's own errors."""
    post, user = request.POST, request.user
    data: dict[str, Any] = {}
    for name in _field_names(kind, activity):
        data[name] = name in post if name in BOOLEANS else post.get(name, "")
    values: dict[str, Any] = dict(data)
    if activity is not None:
        # A time left as shown keeps its stored value (with its seconds): no change recorded,
        # no reminder sent again. (An all-day appointment's days are shown as dates.)
        for name in TIMES:
            stored = getattr(activity, name, None)
            shifted = name in ("start_at", "end_at") and activity.all_day
            if name in data and stored and not shifted and data[name] == local_input(stored):
                data[name] = stored
    data["assignee_id"] = post.get("assignee_id") or None
    team = post.get("team_id", "")
    if team or activity is not None:  # new: no team given → the assignee's team
        data["team_id"] = team or None
    values.update(assignee_id=post.get("assignee_id", ""), team_id=team)
    pairs = [p for p in (_pair(v) for v in post.getlist("related") if v) if p]
    data["related"] = [{"type": key, "id": pk} for key, pk in pairs]
    values["related"] = _related_rows(user, pairs)
    c = Cleaner()
    if kind == ActivityKind.TASK:
        data["recurrence"] = _posted_rule(user, post, c)
        values.update({k: post.get(k, "") for k in ("recurrence_preset", "recurrence",
                                                    "recurrence_count", "recurrence_until")})  # fmt: skip
    if kind == ActivityKind.CALL:
        values["duration_minutes"] = post.get("duration_minutes", "")
        data["duration_seconds"] = _minutes_to_seconds(values["duration_minutes"])
    if kind == ActivityKind.APPOINTMENT:
        users = [u for u in post.getlist("attendee_users") if u]
        contacts = [x for x in post.getlist("attendee_contacts") if x]
        data["attendees"] = [{"type": "user", "id": u} for u in users] + [
            {"type": "contact", "id": x} for x in contacts
        ]
        values["attendee_users"] = users
        titles = _record_titles(user, [("contact", x) for x in contacts])
        values["attendee_contacts"] = [
            {"id": x, "title": titles[("contact", x)]} for x in contacts if ("contact", x) in titles
        ]
    return data, values, c.errors


def _initial(request: HttpRequest, kind: str, activity: Activity | None) -> dict[str, Any]:
    user = request.user
    if activity is None:
        now = timezone.now().astimezone(timezones.zone(user))
        values: dict[str, Any] = {"priority": Priority.NORMAL, "assignee_id": str(user.pk),
                                  "team_id": "", "direction": CallDirection.OUTBOUND,
                                  "call_result": CallOutcome.REACHED}  # fmt: skip
        if kind == ActivityKind.APPOINTMENT:
            start = (now + dt.timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
            values.update(start_at=local_input(start),
                          end_at=local_input(start + dt.timedelta(hours=1)))  # fmt: skip
        elif kind in (ActivityKind.CALL, ActivityKind.NOTE):
            values["start_at"] = local_input(now)
        pair = _pair(request.GET.get("related", ""))
        values["related"] = _related_rows(user, [pair]) if pair else []
        values["attendee_users"], values["attendee_contacts"] = [], []
        if kind == ActivityKind.APPOINTMENT and values["related"] and pair[0] == "contact":
            values["attendee_contacts"] = [{"id": pair[1], "title": values["related"][0]["title"]}]
        if kind == ActivityKind.TASK:
            values.update(_rule_parts(user, ""))
        return values
    values = {name: getattr(activity, name) for name in _field_names(kind, activity)}
    for name in TIMES:
        if name in values:
            values[name] = local_input(values[name])
    if activity.first_day is not None:
        # Dates, the same for every viewer; shown: the first and the last day it covers.
        values["start_at"] = f"{activity.first_day.isoformat()}T00:00"
        values["end_at"] = f"{activity.last_day.isoformat()}T00:00"
    values.update(assignee_id=str(activity.owner_id or ""), team_id=str(activity.team_id or ""))
    pairs = [(link.entity, str(link.object_id)) for link in activity.links.all()]
    values["related"] = _related_rows(user, pairs)
    if kind == ActivityKind.TASK:
        values.update(_rule_parts(user, activity.recurrence))
    if kind == ActivityKind.CALL:
        seconds = activity.duration_seconds
        values["duration_minutes"] = "" if seconds is None else f"{seconds / 60:g}"
    if kind == ActivityKind.APPOINTMENT:
        attendees = list(activity.attendees.all())
        values["attendee_users"] = [str(a.user_id) for a in attendees if a.user_id]
        contact_ids = [str(a.contact_id) for a in attendees if a.contact_id]
        titles = _record_titles(user, [("contact", x) for x in contact_ids])
        values["attendee_contacts"] = [
            {"id": x, "title": titles[("contact", x)]}
            for x in contact_ids if ("contact", x) in titles
        ]  # fmt: skip
    return values


def _activity_form(request: HttpRequest, kind: str, activity: Activity | None) -> HttpResponse:
    user = request.user
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        data, values, own_errors = _posted(request, kind, activity)
        if own_errors:
            errors, status = _form_errors(kind, activity, own_errors), 422
        else:
            try:
                if activity is None:
                    saved = services.activity_create(actor=user, kind=kind, data=data)
                else:
                    saved = services.activity_update(
                        actor=user, activity_id=activity.pk, data=data, kind=kind,
                        version=request.POST.get("version"),
                    )  # fmt: skip
            except ValidationFailed as exc:
                errors, status = _form_errors(kind, activity, exc.fields), 422
            except Conflict:
                errors = {"": [_("Someone else saved this activity meanwhile; saving again "
                                 "replaces their changes.")]}  # fmt: skip
                status = 409
                activity = selectors.activity_detail(user, activity.pk)
            except Forbidden as exc:
                errors, status = {"": [exc.message]}, 403
            else:
                messages.success(request, _("Saved."))
                return redirect(_next_url(request, reverse("activities:detail", args=[saved.pk])))
    else:
        values = _initial(request, kind, activity)
    back = _next_url(
        request, reverse("activities:detail", args=[activity.pk]) if activity else
        reverse("activities:my_day"),
    )  # fmt: skip
    return render(
        request,
        "activities/form.html",
        {
            "nav": "tasks" if kind == ActivityKind.TASK else "my_day",
            "kind": kind,
            "kinds": ActivityKind.choices,
            "kind_label": ActivityKind(kind).label,
            "activity": activity,
            "values": values,
            "errors": errors,
            "users": core_selectors.users_active(),
            "teams": core_selectors.teams_all(),
            "priorities": Priority.choices,
            "statuses": ActivityStatus.choices,
            "directions": CallDirection.choices,
            "call_results": CallOutcome.choices,
            "presets": [("daily", _("Daily")), ("weekly", _("Weekly")), ("monthly", _("Monthly"))],
            "quick_dates": quick_dates(user) if kind == ActivityKind.TASK else [],
            "next": request.POST.get("next") or request.GET.get("next") or "",
            "back": back,
            "related_query": request.GET.get("related", ""),
        },
        status=status,
    )


@login_required
def activity_create(request: HttpRequest) -> HttpResponse:
    """``/activities/new/?kind=task|appointment|call|note&related=contact:5``."""
    kind = request.GET.get("kind") or ActivityKind.TASK
    if kind not in ActivityKind.values:
        raise NotFound()
    permissions.require(request.user, "create", ENTITY)
    return _activity_form(request, kind, None)


@login_required
def activity_edit(request: HttpRequest, activity_id: int) -> HttpResponse:
    activity = selectors.activity_detail(request.user, activity_id)
    permissions.require(request.user, "edit", ENTITY)
    if not _editable(request.user, activity):
        raise _not_yours()
    return _activity_form(request, activity.kind, activity)


# --- completing a task ------------------------------------------------------------------------


def _task_to_change(request: HttpRequest, task_id: int) -> Activity:
    task = (
        selectors.activities_visible_to(request.user)
        .filter(kind=ActivityKind.TASK, pk=task_id)
        .select_related("owner", "team")
        .prefetch_related("links")
        .first()
    )
    if task is None:
        raise NotFound()
    permissions.require(request.user, "edit", ENTITY)
    if not _editable(request.user, task):
        raise _not_yours()
    return task


def _complete_errors(fields: dict[str, list[str]]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for key, texts in fields.items():
        target = {"outcome": "outcome", "next.title": "next_title",
                  "next.due_at": "next_due_at"}.get(key, "")  # fmt: skip
        errors.setdefault(target, []).extend(str(t) for t in texts)
    return errors


@login_required
def task_complete(request: HttpRequest, task_id: int) -> HttpResponse:
    """The completion dialog (htmx, in a modal) or page: an outcome and, if wanted, the next
    task about the same records (due in two weeks unless changed)."""
    user = request.user
    task = _task_to_change(request, task_id)
    inline = _htmx(request)
    errors: dict[str, list[str]] = {}
    status = 200
    values: dict[str, Any] = {"outcome": "", "next_create": False, "next_title": task.title,
                              "next_due_at": local_input(days_ahead(user, 14))}  # fmt: skip
    if request.method == "POST":
        post = request.POST
        values = {"outcome": post.get("outcome", ""), "next_create": "next_create" in post,
                  "next_title": post.get("next_title", ""),
                  "next_due_at": post.get("next_due_at", "")}  # fmt: skip
        data: dict[str, Any] = {"outcome": values["outcome"]}
        if values["next_create"]:
            data["next"] = {"title": values["next_title"], "due_at": values["next_due_at"]}
        try:
            _done, following = services.task_complete(
                actor=user, task_id=task.pk, data=data, version=post.get("version")
            )
        except ValidationFailed as exc:
            errors, status = _complete_errors(exc.fields), 422
        except Conflict:
            errors = {"": [_("Someone else changed this task meanwhile; check it and try "
                             "again.")]}  # fmt: skip
            status = 409
            task = _task_to_change(request, task.pk)
        except Forbidden as exc:
            errors, status = {"": [exc.message]}, 403
        else:
            if following is not None and following.due_at:
                messages.success(request, _("Done. Next: %(title)s, due %(due)s.") % {
                    "title": following.title,
                    "due": _shown_time(following.due_at),
                })  # fmt: skip
            elif following is not None:
                messages.success(request, _("Done. Next: %(title)s.") % {"title": following.title})
            else:
                messages.success(request, _("Done."))
            if inline:
                return _refresh()
            return redirect(_next_url(request, reverse("activities:my_day")))
    context = {
        "task": task,
        "related": related_of(user, [task])[task.pk],
        "values": values,
        "errors": errors,
        "inline": inline,
        "quick_dates": quick_dates(user),
        "next": request.POST.get("next") or request.GET.get("next") or "",
        "nav": "my_day",
    }
    template = "activities/_complete_form.html" if inline else "activities/complete.html"
    return render(request, template, context, status=status)


# --- follow-ups from a record's page ----------------------------------------------------------


def follow_up_context(user: User, entity: str, object_id: int, **extra: Any) -> dict[str, Any]:
    """What the follow-up form of a record needs (its default: a week from today, 09:00)."""
    return {
        "related": f"{entity}:{object_id}",
        "due_at": local_input(days_ahead(user, 7)),
        "next": selectors.record_url(entity, object_id) or "",
        "errors": {},
        **extra,
    }


@login_required
@require_POST
def follow_up(request: HttpRequest) -> HttpResponse:
    """ "Remind me about this record then": a task of the user's about the record."""
    pair = _pair(request.POST.get("related", ""))
    if pair is None or pair[0] not in entities.registered_keys() or not pair[1].isdigit():
        raise NotFound()
    if len(pair[1]) > 18:
        raise NotFound()
    entity, object_id = pair[0], int(pair[1])
    due = request.POST.get("due_at", "")
    back = _next_url(
        request, selectors.record_url(entity, object_id) or reverse("activities:my_day")
    )
    try:
        task = services.follow_up_create(
            actor=request.user,
            entity=entity,
            object_id=object_id,
            data={"due_at": due, "title": request.POST.get("title", "")[:300]},
        )
    except (ValidationFailed, Forbidden) as exc:
        fields = exc.fields if isinstance(exc, ValidationFailed) else {"": [exc.message]}
        errors = {("due_at" if k == "due_at" else ""): [str(t) for t in v]
                  for k, v in fields.items()}  # fmt: skip
        context = {
            "follow_up": follow_up_context(
                request.user, entity, object_id, due_at=due, errors=errors, next=back
            ),
            "inline": _htmx(request),
            "nav": "my_day",
        }
        template = (
            "activities/_follow_up_form.html" if _htmx(request) else "activities/follow_up.html"
        )
        return render(request, template, context, status=exc.status)
    messages.success(request, _("Follow-up set for %(due)s.") % {
        "due": _shown_time(task.due_at),
    })  # fmt: skip
    if _htmx(request):
        return _refresh()
    return redirect(back)


# --- pickers ----------------------------------------------------------------------------------


@login_required
def lookup(request: HttpRequest) -> HttpResponse:
    """Options for the pickers of the form: records to relate (``what=related``) or contacts
    to invite (``what=contact``), matching the typed text, as far as the user may see them."""
    from farley.core.search import search

    what = request.GET.get("what", "related")
    query = (request.GET.get("q") or request.GET.get("related_q") or
             request.GET.get("contact_q") or "")[:100]  # fmt: skip
    keys = (["contact"] if what == "contact"
            else [k for k in entities.registered_keys() if k != ENTITY])  # fmt: skip
    hits = search(request.user, query, entities=keys, limit=10) if query.strip() else []
    labels = {k: str(entities.get(k).label) for k in keys}
    return render(
        request, "activities/_lookup_options.html",
        {"hits": hits, "labels": labels, "what": what},
    )  # fmt: skip
