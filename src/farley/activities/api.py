"""API: tasks (with completion and follow-ups), appointments, calls and notes, and the
calendar window. The four kinds share one table and one output shape; each has its own
collection with the fields it takes.

No `from __future__ import annotations` here: the collections are made by one function per
kind, and django-ninja must see the request schemas as objects, not as names.
"""

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import File, Router, Schema, Status, UploadedFile
from pydantic import ConfigDict

from farley.activities import bulk, ical, selectors, services
from farley.activities.models import Activity, ActivityKind
from farley.core import sensitive
from farley.core.apiutil import (
    ERRORS,
    HISTORY_DOC,
    ChangeOut,
    Id,
    api_page,
    change_out,
    history_page,
    query_params,
    requested_version,
)
from farley.core.errors import NotFound, ValidationFailed
from farley.core.models import User
from farley.core.prefetch import release

router = Router()
PLURALS = {
    ActivityKind.TASK: "tasks",
    ActivityKind.APPOINTMENT: "appointments",
    ActivityKind.CALL: "calls",
    ActivityKind.NOTE: "notes",
}
SORTS = {
    "due": (["due_at"], False),
    "-due": (["due_at"], True),
    "start": (["start_at"], False),
    "-start": (["start_at"], True),
    "created": (["created_at"], True),
}


class Strict(Schema):
    model_config = ConfigDict(extra="forbid")


# --- schemas ----------------------------------------------------------------------------------


class RelatedIn(Strict):
    type: str
    id: int


class AttendeeIn(Strict):
    type: str  # "user" or "contact"
    id: int


class RelatedOut(Schema):
    type: str
    id: int
    title: str | None = None  # None: a record you may not see
    url: str | None = None


class AttendeeOut(Schema):
    type: str
    id: int
    name: str
    response: str


class ActivityOut(Schema):
    id: int
    kind: str
    title: str
    description: str
    status: str
    priority: str
    due_at: dt.datetime | None
    start_at: dt.datetime | None
    end_at: dt.datetime | None
    all_day: bool
    location: str
    video_url: str
    outcome: str
    direction: str
    phone_number: str
    duration_seconds: int | None
    call_result: str
    recurrence: str
    is_follow_up: bool
    remind_at: dt.datetime | None
    completed_at: dt.datetime | None
    assignee_id: int | None
    assignee_name: str | None
    team_id: int | None
    team_name: str | None
    related: list[RelatedOut]
    attendees: list[AttendeeOut]
    custom: dict[str, Any]
    created_at: dt.datetime
    updated_at: dt.datetime
    version: int


class ActivityList(Schema):
    items: list[ActivityOut]
    next_cursor: str | None
    limit: int


class TaskIn(Strict):
    title: str = ""
    description: str = ""
    status: str = "open"
    priority: str = "normal"
    due_at: str | None = None
    recurrence: str = ""
    remind_at: str | None = None
    is_follow_up: bool = False
    assignee_id: int | None = None
    team_id: int | None = None
    related: list[RelatedIn] = []


class TaskPatch(Strict):
    title: str | None = None
    description: str | None = None
    status: str | None = None
    priority: str | None = None
    due_at: str | None = None
    recurrence: str | None = None
    remind_at: str | None = None
    is_follow_up: bool | None = None
    assignee_id: int | None = None
    team_id: int | None = None
    related: list[RelatedIn] | None = None
    version: int | None = None


class AppointmentIn(Strict):
    title: str = ""
    description: str = ""
    status: str = "open"
    start_at: str | None = None
    end_at: str | None = None
    all_day: bool = False
    location: str = ""
    video_url: str = ""
    outcome: str = ""
    remind_at: str | None = None
    assignee_id: int | None = None
    team_id: int | None = None
    related: list[RelatedIn] = []
    attendees: list[AttendeeIn] = []


class AppointmentPatch(Strict):
    title: str | None = None
    description: str | None = None
    status: str | None = None
    start_at: str | None = None
    end_at: str | None = None
    all_day: bool | None = None
    location: str | None = None
    video_url: str | None = None
    outcome: str | None = None
    remind_at: str | None = None
    assignee_id: int | None = None
    team_id: int | None = None
    related: list[RelatedIn] | None = None
    attendees: list[AttendeeIn] | None = None
    version: int | None = None


class CallIn(Strict):
    title: str = ""
    description: str = ""
    start_at: str | None = None
    direction: str = "out"
    phone_number: str = ""
    duration_seconds: int | None = None
    call_result: str = ""
    assignee_id: int | None = None
    team_id: int | None = None
    related: list[RelatedIn] = []


class CallPatch(Strict):
    title: str | None = None
    description: str | None = None
    start_at: str | None = None
    direction: str | None = None
    phone_number: str | None = None
    duration_seconds: int | None = None
    call_result: str | None = None
    assignee_id: int | None = None
    team_id: int | None = None
    related: list[RelatedIn] | None = None
    version: int | None = None


class NoteIn(Strict):
    title: str = ""
    description: str = ""
    start_at: str | None = None
    assignee_id: int | None = None
    team_id: int | None = None
    related: list[RelatedIn] = []


class NotePatch(Strict):
    title: str | None = None
    description: str | None = None
    start_at: str | None = None
    assignee_id: int | None = None
    team_id: int | None = None
    related: list[RelatedIn] | None = None
    version: int | None = None


class CompleteIn(Strict):
    outcome: str = ""
    next: TaskIn | None = None
    version: int | None = None


class CompleteOut(Schema):
    task: ActivityOut
    next: ActivityOut | None


class BulkIn(Strict):
    action: str
    ids: list[int]
    assignee_id: int | None = None
    postpone: str | None = None
    postpone_to: str | None = None


class BulkOut(Schema):
    action: str
    changed: list[int]


class ResponseIn(Strict):
    response: str


class InvitationsOut(Schema):
    sent: list[str]


class FollowUpIn(Strict):
    type: str
    id: int
    due_at: str | None = None
    title: str = ""
    description: str = ""


# --- output -----------------------------------------------------------------------------------


def activity_out(
    activity: Activity, user: User, titles: dict[tuple[str, int], str] | None = None
) -> dict[str, Any]:
    if titles is None:
        titles = selectors.related_titles(user, [activity])
    plain = [f for f in ActivityOut.model_fields if hasattr(activity, f)]
    data = {key: getattr(activity, key) for key in plain if key not in ("related", "attendees")}
    for key, value in data.items():
        if not isinstance(value, dt.datetime):
            continue
        if activity.all_day and key in ("start_at", "end_at"):
            # All day: dates, stored as midnight UTC of the first day and of the day after the
            # last (farley.activities.days), answered as they are.
            data[key] = value.astimezone(dt.UTC)
        else:  # in the caller's time zone, with its offset
            data[key] = timezone.localtime(value)
    data["assignee_id"] = activity.owner_id
    data["assignee_name"] = str(activity.owner) if activity.owner_id else None
    data["team_name"] = str(activity.team) if activity.team_id else None
    data["related"] = [
        {
            "type": link.entity,
            "id": link.object_id,
            "title": titles.get((link.entity, link.object_id)),
            "url": selectors.record_url(link.entity, link.object_id)
            if (link.entity, link.object_id) in titles
            else None,
        }
        for link in activity.links.all()
    ]
    data["attendees"] = [
        {
            "type": "user" if a.user_id else "contact",
            "id": a.user_id or a.contact_id,
            "name": str(a.user or a.contact),
            "response": a.response,
        }
        for a in activity.attendees.all()
    ]
    data["custom"] = sensitive.visible_custom(user, "activity", activity.custom)
    return data


def _payload(payload: Schema) -> dict[str, Any]:
    return payload.model_dump(exclude_unset=True)


def _prefetched(queryset):
    return queryset.select_related("owner", "team").prefetch_related(
        "links", "attendees__user", "attendees__contact"
    )


LIST_DOC = (
    "Filters: assignee (a user id or `me`), team, status (open, done, cancelled), priority "
    "(low, normal, high), due_from / due_to (tasks' due date, YYYY-MM-DD in your time zone), "
    "from / to (the start of appointments, calls and notes), overdue=true, related (a record "
    "as type:id, e.g. contact:5), related_type (e.g. opportunity), q (title contains). "
    "Sort: due, -due, start, -start, created. Pagination: limit (1-200), cursor."
)
TIME_DOC = (
    "Times are ISO 8601; without an offset they are the caller's local time (the time zone "
    "of the token's user)."
)


# --- one collection per kind ------------------------------------------------------------------


def _add_collection(kind: str, create_schema: type[Schema], patch_schema: type[Schema]) -> None:
    plural = PLURALS[kind]
    tag = plural

    def list_items(request: HttpRequest):
        params = query_params(request)
        default = "due" if kind == ActivityKind.TASK else "-start"
        sort = params.pop("sort", "") or default
        if sort not in SORTS:
            raise ValidationFailed({"sort": ["Select due, -due, start, -start or created."]})
        params = {k: v for k, v in params.items() if k not in ("limit", "cursor")}
        queryset = selectors.filtered(request.user, params, kind=kind, strict=True)
        fields, descending = SORTS[sort]
        page = api_page(request, _prefetched(queryset), fields, descending=descending)
        titles = selectors.related_titles(request.user, page.items)
        items = [activity_out(a, request.user, titles) for a in page.items]
        release(page.items)
        return {"items": items, "next_cursor": page.next_cursor, "limit": page.limit}

    def create_item(request: HttpRequest, payload: create_schema):  # type: ignore[valid-type]
        activity = services.activity_create(actor=request.user, kind=kind, data=_payload(payload))
        return Status(201, _out(request, activity.pk))

    def get_item(request: HttpRequest, activity_id: Id):
        return _out(request, activity_id)

    def update_item(request: HttpRequest, activity_id: Id, payload: patch_schema):  # type: ignore[valid-type]
        data = _payload(payload)
        version = requested_version(request, data.pop("version", None))
        services.activity_update(
            actor=request.user, activity_id=activity_id, data=data, kind=kind, version=version
        )
        return _out(request, activity_id)

    def delete_item(request: HttpRequest, activity_id: Id):
        selectors.activity_detail(request.user, activity_id, kind)
        services.activity_delete(actor=request.user, activity_id=activity_id)
        return Status(204, None)

    def restore_item(request: HttpRequest, activity_id: Id):
        trashed = selectors.activities_visible_to(request.user, include_deleted=True)
        if not trashed.filter(pk=activity_id, kind=kind).exists():
            raise NotFound()
        services.activity_restore(actor=request.user, activity_id=activity_id)
        return _out(request, activity_id)

    def item_history(
        request: HttpRequest, activity_id: Id, limit: int = 100, before: int | None = None
    ):
        visible = selectors.activities_visible_to(request.user, include_deleted=True)
        if not visible.filter(pk=activity_id, kind=kind).exists():
            raise NotFound()
        return [
            {**change_out(c), "changes": sensitive.mask_changes(request.user, "activity",
                                                                c.changes)}
            for c in history_page("activity", activity_id, limit, before)
        ]  # fmt: skip

    def _out(request: HttpRequest, activity_id: int) -> dict[str, Any]:
        return activity_out(selectors.activity_detail(request.user, activity_id, kind),
                            request.user)  # fmt: skip

    path = f"/{plural}"
    one = f"{path}/{{activity_id}}"
    router.get(path, response={200: ActivityList, **ERRORS}, tags=[tag], description=LIST_DOC,
               operation_id=f"list_{plural}")(list_items)  # fmt: skip
    router.post(path, response={201: ActivityOut, **ERRORS}, tags=[tag], description=TIME_DOC,
                operation_id=f"create_{plural}")(create_item)  # fmt: skip
    router.get(one, response={200: ActivityOut, **ERRORS}, tags=[tag],
               operation_id=f"get_{plural}")(get_item)  # fmt: skip
    router.patch(one, response={200: ActivityOut, **ERRORS}, tags=[tag], description=TIME_DOC,
                 operation_id=f"update_{plural}")(update_item)  # fmt: skip
    router.delete(one, response={204: None, **ERRORS}, tags=[tag],
                  operation_id=f"delete_{plural}")(delete_item)  # fmt: skip
    router.post(f"{one}/restore", response={200: ActivityOut, **ERRORS}, tags=[tag],
                operation_id=f"restore_{plural}")(restore_item)  # fmt: skip
    router.get(f"{one}/history", response={200: list[ChangeOut], **ERRORS}, tags=[tag],
               description=HISTORY_DOC, operation_id=f"history_{plural}")(item_history)  # fmt: skip


# --- tasks: completion, follow-ups ------------------------------------------------------------


@router.post(
    "/tasks/{task_id}/complete",
    response={200: CompleteOut, **ERRORS},
    tags=["tasks"],
    description="Mark an open task done, with an optional outcome; `next` creates the next "
    "task about the same records (e.g. call again in 2 weeks). A repeating task brings its "
    "next occurrence, returned as `next`.",
)
def complete_task(request: HttpRequest, task_id: Id, payload: CompleteIn):
    data = _payload(payload)
    version = requested_version(request, data.pop("version", None))
    task, following = services.task_complete(
        actor=request.user, task_id=task_id, data=data, version=version
    )
    items = [selectors.activity_detail(request.user, task.pk)]
    if following is not None:
        items.append(selectors.activity_detail(request.user, following.pk))
    titles = selectors.related_titles(request.user, items)
    return {
        "task": activity_out(items[0], request.user, titles),
        "next": activity_out(items[1], request.user, titles) if following else None,
    }


@router.post(
    "/tasks/bulk",
    response={200: BulkOut, **ERRORS},
    tags=["tasks"],
    description="Change many tasks at once, all or nothing (at most 200): `action` `reassign` "
    "(with `assignee_id`), `postpone` (with `postpone` `1d` or `1w` from each task's due date, "
    "or `date` and `postpone_to` YYYY-MM-DD, keeping each task's time of day) or `complete`. "
    "If any task cannot be changed (not visible, not yours to change, not open), nothing is "
    "changed and the 422 answer names each such task by its place in `ids` (`ids.0`, ...).",
)
def bulk_tasks(request: HttpRequest, payload: BulkIn):
    data = _payload(payload)
    action, ids = data.pop("action"), data.pop("ids")
    result = bulk.bulk_tasks(actor=request.user, action=action, task_ids=ids, data=data)
    if not result.ok:
        raise ValidationFailed(
            {f"ids.{ids.index(pk)}": messages for pk, messages in result.errors.items()},
            _("No task was changed."),
        )
    return {"action": result.action, "changed": result.changed}


@router.post(
    "/appointments/{appointment_id}/response",
    response={200: ActivityOut, **ERRORS},
    tags=["appointments"],
    description="Your answer to an invitation: `response` `accepted`, `tentative` or "
    "`declined`. The organiser is notified; an appointment you are not invited to: 422.",
)
def respond_to_invitation(request: HttpRequest, appointment_id: Id, payload: ResponseIn):
    appointment = services.attendee_respond(
        actor=request.user, activity_id=appointment_id, response=payload.response
    )
    return activity_out(selectors.activity_detail(request.user, appointment.pk), request.user)


@router.post(
    "/appointments/{appointment_id}/invitations",
    response={200: InvitationsOut, **ERRORS},
    tags=["appointments"],
    description="Email an invitation (.ics, METHOD:REQUEST) to every invited contact with an "
    "email address; answers the addresses. None to send to: 422 `attendees`.",
)
def send_invitations(request: HttpRequest, appointment_id: Id):
    sent = services.contacts_invite(actor=request.user, activity_id=appointment_id)
    return {"sent": sent}


@router.post(
    "/follow-ups",
    response={201: ActivityOut, **ERRORS},
    tags=["tasks"],
    description="Remind me about this record on a date: a task of yours about the record "
    "(`type`: e.g. contact, `id`), due and reminding at `due_at`.",
)
def create_follow_up(request: HttpRequest, payload: FollowUpIn):
    data = _payload(payload)
    task = services.follow_up_create(
        actor=request.user,
        entity=data.pop("type"),
        object_id=data.pop("id"),
        data=data,
    )
    return Status(201, activity_out(selectors.activity_detail(request.user, task.pk),
                                    request.user))  # fmt: skip


class CalendarOut(Schema):
    start: dt.datetime
    end: dt.datetime
    items: list[ActivityOut]


@router.get(
    "/calendar",
    response={200: CalendarOut, **ERRORS},
    tags=["appointments"],
    description="Appointments and due tasks between `start` and `end` (ISO 8601, at most 62 "
    "days) of yours, of a colleague (`user`) or of a team (`team`), as far as you may see "
    "them.",
)
def calendar(request: HttpRequest):
    queryset, start, end = selectors.calendar_window(request.user, query_params(request))
    items = list(_prefetched(queryset)[:2000])
    titles = selectors.related_titles(request.user, items)
    return {"start": start, "end": end,
            "items": [activity_out(a, request.user, titles) for a in items]}  # fmt: skip


# --- iCalendar --------------------------------------------------------------------------------


class FeedOut(Schema):
    url: str


@router.get(
    "/me/calendar-feed",
    response={200: FeedOut, **ERRORS},
    tags=["calendar"],
    description="Your private iCalendar feed (open tasks with a due date and your appointments) "
    "for Outlook, Google Calendar or Thunderbird. Whoever knows the address can read it: "
    "renew it if it got out.",
)
def calendar_feed(request: HttpRequest):
    return {"url": ical.feed_url(request.user)}


@router.post(
    "/me/calendar-feed/renew", response={200: FeedOut, **ERRORS}, tags=["calendar"],
    description="A new address for your feed; the old one answers 404 from now on.",
)  # fmt: skip
def renew_calendar_feed(request: HttpRequest):
    return {"url": ical.renew_feed(request.user)}


@router.delete("/me/calendar-feed", response={204: None, **ERRORS}, tags=["calendar"])
def revoke_calendar_feed(request: HttpRequest):
    ical.revoke_feed(request.user)
    return Status(204, None)


class AppointmentImportOut(Schema):
    created: list[int]
    updated: list[int]
    answered: list[int]


@router.post(
    "/appointments/import",
    response={200: AppointmentImportOut, **ERRORS},
    tags=["appointments"],
    description="Appointments from an .ics file (multipart field `file`, UTF-8, at most 1 MB "
    "and 100 events): all or nothing, 422 with `file` or `events.<n>.<field>` errors. An "
    "event imported before (same UID) updates its appointment. A reply (METHOD:REPLY) records "
    "the answers of invited contacts on the appointment it answers (`answered`).",
)
def import_appointments(request: HttpRequest, file: File[UploadedFile]):
    data = file.read(ical.MAX_BYTES + 1)
    result = ical.import_invitations(actor=request.user, data=data)
    return {
        "created": [a.pk for a in result.created],
        "updated": [a.pk for a in result.updated],
        "answered": [a.pk for a in result.answered],
    }


# Last: "/appointments/import" above must be matched before "/appointments/{activity_id}".
_add_collection(ActivityKind.TASK, TaskIn, TaskPatch)
_add_collection(ActivityKind.APPOINTMENT, AppointmentIn, AppointmentPatch)
_add_collection(ActivityKind.CALL, CallIn, CallPatch)
_add_collection(ActivityKind.NOTE, NoteIn, NotePatch)
