"""Every write to activities: tasks (with follow-ups, completion with a next task, recurring
series), appointments with attendees, call logs and notes; delete and restore.

One function per use case, keyword arguments, one transaction each. Every field is checked
here, all errors collected before anything is written. Times without an offset are the
actor's local times (:mod:`farley.core.timezones`); stored in UTC.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core import mail
from django.db import transaction
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from farley.activities import days, recurrence
from farley.activities import selectors as activity_selectors
from farley.activities.models import (
    Activity,
    ActivityKind,
    ActivityLink,
    ActivityStatus,
    Attendee,
    AttendeeResponse,
    CallDirection,
    CallOutcome,
    Priority,
)
from farley.contacts.models import Contact, EmailAddress
from farley.core import entities, history, permissions, search, softdelete, timezones
from farley.core.errors import NotFound, ServiceError, ValidationFailed
from farley.core.models import ChangeAction, Notification, Team, User
from farley.core.validation import Cleaner, check_version
from farley.core.visibility import visible_records

ENTITY = "activity"
MAX_RELATED = 20
MAX_ATTENDEES = 100
# The fields each kind takes (besides assignee_id, team_id, related and, for appointments,
# attendees).
KIND_FIELDS: dict[str, tuple[str, ...]] = {
    ActivityKind.TASK: ("title", "description", "status", "priority", "due_at", "recurrence",
                        "remind_at", "is_follow_up"),
    ActivityKind.APPOINTMENT: ("title", "description", "status", "start_at", "end_at", "all_day",
                               "location", "video_url", "outcome", "remind_at"),
    ActivityKind.CALL: ("title", "description", "start_at", "direction", "phone_number",
                        "duration_seconds", "call_result"),
    ActivityKind.NOTE: ("title", "description", "start_at"),
}  # fmt: skip
LINK_FIELDS = ("assignee_id", "team_id", "related", "attendees")
EARLIEST, LATEST = 1900, 2200


# --- cleaning ---------------------------------------------------------------------------------


def _when(c: Cleaner, field: str, value: Any, *, required: bool = False) -> dt.datetime | None:
    moment = c.datetime(field, value, required=required)
    if moment is not None and not EARLIEST <= moment.year <= LATEST:
        c.add(field, _("Enter a date between %(a)d and %(b)d.") % {"a": EARLIEST, "b": LATEST})
        return None
    return moment


def _clean_fields(
    c: Cleaner, kind: str, data: dict[str, Any], activity: Activity | None
) -> dict[str, Any]:
    allowed = KIND_FIELDS[kind]
    for key in set(data) - set(allowed) - set(LINK_FIELDS) - {"version"}:
        c.add(key, _("Unknown field."))
    if kind != ActivityKind.APPOINTMENT and "attendees" in data:
        c.add("attendees", _("Only appointments have attendees."))

    def has(key: str) -> bool:
        return activity is None or key in data

    values: dict[str, Any] = {}
    if has("title"):
        required = kind in (ActivityKind.TASK, ActivityKind.APPOINTMENT)
        values["title"] = c.text("title", data.get("title"), max_length=300, required=required)
    if has("description"):
        values["description"] = c.text("description", data.get("description"), max_length=20000)
    if "status" in allowed and has("status"):
        values["status"] = c.choice(
            "status", data.get("status") or ActivityStatus.OPEN, ActivityStatus.choices
        )
    if "priority" in allowed and has("priority"):
        values["priority"] = c.choice(
            "priority", data.get("priority") or Priority.NORMAL, Priority.choices
        )
    for key in ("due_at", "start_at", "end_at", "remind_at"):
        if key in allowed and has(key):
            required = key == "start_at" and kind == ActivityKind.APPOINTMENT
            values[key] = _when(c, key, data.get(key), required=required)
    for key in ("all_day", "is_follow_up"):
        if key in allowed and has(key):
            values[key] = c.boolean(key, data.get(key))
    if "location" in allowed and has("location"):
        values["location"] = c.text("location", data.get("location"), max_length=300)
    if "video_url" in allowed and has("video_url"):
        values["video_url"] = c.url("video_url", data.get("video_url"))
    if "outcome" in allowed and has("outcome"):
        values["outcome"] = c.text("outcome", data.get("outcome"), max_length=20000)
    if kind == ActivityKind.CALL:
        if has("direction"):
            values["direction"] = c.choice(
                "direction", data.get("direction") or CallDirection.OUTBOUND,
                CallDirection.choices,
            )  # fmt: skip
        if has("phone_number"):
            raw = data.get("phone_number")
            values["phone_number"] = c.phone("phone_number", raw) if raw else ""
        if has("duration_seconds"):
            values["duration_seconds"] = c.integer(
                "duration_seconds", data.get("duration_seconds"), minimum=0, maximum=86400 * 2
            )
        if has("call_result"):
            result = data.get("call_result") or ""
            values["call_result"] = (
                c.choice("call_result", result, CallOutcome.choices) if result else ""
            )
    if "recurrence" in allowed and has("recurrence"):
        values["recurrence"] = c.text("recurrence", data.get("recurrence"), max_length=500)
    given = {k for k, v in data.items() if activity is not None or v not in (None, "")}
    _check_times(c, kind, values, activity, given)
    return values


def _current(values: dict[str, Any], activity: Activity | None, key: str) -> Any:
    return values[key] if key in values else getattr(activity, key, None)


def _appointment_times(
    c: Cleaner, values: dict[str, Any], activity: Activity | None, given: set[str]
) -> None:
    """Fill in and check start and end. An all-day appointment covers whole days, the dates
    of the actor's calendar (its end given as the last day), stored as dates
    (:mod:`farley.activities.days`); without an end, an appointment lasts an hour (a day);
    moving only the start keeps its length."""
    if activity is not None and not {"start_at", "end_at", "all_day"} & given:
        return
    if {"start_at", "end_at"} & set(c.errors):
        return
    start, end = _current(values, activity, "start_at"), _current(values, activity, "end_at")
    if start is None:
        return
    all_day = bool(_current(values, activity, "all_day"))
    was_all_day = activity is not None and activity.all_day

    def day(key: str, moment: dt.datetime) -> dt.date:
        # A stored all-day boundary is a date already; a given time is read in the actor's zone.
        return days.day_of(moment) if was_all_day and key not in given else days.typed_day(moment)

    if was_all_day and not all_day and "start_at" not in given:
        # Out of the all-day row without a time: from midnight of its first day, for the actor.
        start = timezone.make_aware(dt.datetime.combine(days.day_of(start), dt.time.min))
    same_kind_of_day = activity is not None and was_all_day == all_day
    length = (
        activity.end_at - activity.start_at
        if same_kind_of_day and activity.start_at and activity.end_at
        else None
    )
    if all_day:
        start = days.stored(day("start_at", start))
        if "end_at" in given and end is not None:
            last = days.stored(day("end_at", end))
            if last < start:
                c.add("end_at", _("The end lies before the start."))
                return
            end = last + dt.timedelta(days=1)
        else:
            span = max(1, round(length / dt.timedelta(days=1))) if length else 1
            end = start + dt.timedelta(days=span)
    elif "end_at" not in given or end is None:
        end = start + (length if length is not None else dt.timedelta(hours=1))
    if end < start:
        c.add("end_at", _("The end lies before the start."))
        return
    values["start_at"], values["end_at"] = start, end


def _check_times(
    c: Cleaner, kind: str, values: dict[str, Any], activity: Activity | None, given: set[str]
) -> None:
    if kind == ActivityKind.APPOINTMENT:
        _appointment_times(c, values, activity, given)
    if kind in (ActivityKind.CALL, ActivityKind.NOTE) and activity is None:
        values.setdefault("start_at", None)
        if values["start_at"] is None and "start_at" not in c.errors:
            values["start_at"] = timezone.now()
    text = _current(values, activity, "recurrence") or ""
    if kind == ActivityKind.TASK and text and "recurrence" not in c.errors:
        text = recurrence.normalise(text)
        due = _current(values, activity, "due_at")
        if due is None:
            if "due_at" not in c.errors:
                c.add("recurrence", _("A repeating task needs a due date."))
            return
        try:
            recurrence.parse(text, timezone.localtime(due))
        except recurrence.InvalidRule as exc:
            c.add("recurrence", str(exc))
        else:
            values["recurrence"] = text


def _clean_assignment(
    c: Cleaner, actor: User, data: dict[str, Any], activity: Activity | None
) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if activity is None or "assignee_id" in data:
        raw = data.get("assignee_id")
        if raw in (None, ""):
            values["owner"] = None
        else:
            pk = c.integer("assignee_id", raw, minimum=1, maximum=2**63 - 1)
            user = User.objects.filter(pk=pk, is_active=True).first() if pk else None
            if pk and user is None:
                c.add("assignee_id", _("Select an active user."))
            values["owner"] = user
    if activity is None or "team_id" in data:
        raw = data.get("team_id")
        if raw in (None, ""):
            values["team"] = None
        else:
            pk = c.integer("team_id", raw, minimum=1, maximum=2**63 - 1)
            team = Team.objects.filter(pk=pk).first() if pk else None
            if pk and team is None:
                c.add("team_id", _("Select a team."))
            values["team"] = team
    nobody_named = data.get("assignee_id") in (None, "") and data.get("team_id") in (None, "")
    if activity is None and nobody_named:
        values["owner"] = actor  # the actor's own
    owner = values["owner"] if "owner" in values else getattr(activity, "owner", None)
    team = values["team"] if "team" in values else getattr(activity, "team", None)
    if owner is None and team is None and not {"assignee_id", "team_id"} & set(c.errors):
        c.add("assignee_id", _("Assign it to a user or a team."))
    if activity is None and values.get("owner") is not None and not data.get("team_id"):
        values["team"] = values["owner"].teams.order_by("name").first()  # the assignee's
    return values


def _clean_related(c: Cleaner, actor: User, value: Any) -> list[tuple[str, int]]:
    """``[{"type": "contact", "id": 5}, ...]``: records the actor may see."""
    if value in (None, ""):
        return []
    if not isinstance(value, list):
        c.add("related", _("Enter a list of records."))
        return []
    if len(value) > MAX_RELATED:
        c.add("related", _("Relate at most %(n)d records.") % {"n": MAX_RELATED})
        return []
    found: list[tuple[str, int]] = []
    keys = set(entities.registered_keys()) - {ENTITY}
    for index, item in enumerate(value):
        field = f"related.{index}"
        if not isinstance(item, dict) or set(item) - {"type", "id"}:
            c.add(field, _('Enter a record as {"type": ..., "id": ...}.'))
            continue
        key = item.get("type")
        if key not in keys:
            c.add(f"{field}.type", _("Select a type of record."))
            continue
        pk = c.integer(f"{field}.id", item.get("id"), minimum=1, maximum=2**63 - 1)
        if pk is None:
            continue
        model = entities.get(key).model
        if not visible_records(model.objects.all(), actor).filter(pk=pk).exists():
            c.add(f"{field}.id", _("No such record, or you may not see it."))
            continue
        if (key, pk) not in found:
            found.append((key, pk))
    return found


def _clean_attendees(c: Cleaner, actor: User, value: Any) -> list[tuple[str, int]]:
    """``[{"type": "user" | "contact", "id": ...}]``: active users, contacts the actor sees."""
    if value in (None, ""):
        return []
    if not isinstance(value, list):
        c.add("attendees", _("Enter a list of attendees."))
        return []
    if len(value) > MAX_ATTENDEES:
        c.add("attendees", _("Invite at most %(n)d attendees.") % {"n": MAX_ATTENDEES})
        return []
    found: list[tuple[str, int]] = []
    for index, item in enumerate(value):
        field = f"attendees.{index}"
        if not isinstance(item, dict) or set(item) - {"type", "id"}:
            c.add(field, _('Enter an attendee as {"type": ..., "id": ...}.'))
            continue
        kind = item.get("type")
        pk = c.integer(f"{field}.id", item.get("id"), minimum=1, maximum=2**63 - 1)
        if kind not in ("user", "contact"):
            c.add(f"{field}.type", _("An attendee is a user or a contact."))
            continue
        if pk is None:
            continue
        if kind == "user":
            ok = User.objects.filter(pk=pk, is_active=True).exists()
        else:
            ok = visible_records(Contact.objects.all(), actor).filter(pk=pk).exists()
        if not ok:
            c.add(f"{field}.id", _("No such attendee, or you may not see them."))
        elif (kind, pk) not in found:
            found.append((kind, pk))
    return found


# --- snapshots, search ------------------------------------------------------------------------


def snapshot(activity: Activity) -> dict[str, Any]:
    fields = ("kind", *KIND_FIELDS[activity.kind])
    snap = {f: getattr(activity, f) for f in fields}
    for key, value in snap.items():
        if isinstance(value, dt.datetime):  # one zone, so that only real changes differ
            snap[key] = value.astimezone(dt.UTC)
    if activity.first_day is not None:  # all day: its first and last date
        snap["start_at"], snap["end_at"] = activity.first_day, activity.last_day
    snap["assignee"] = str(activity.owner) if activity.owner_id else None
    snap["team"] = str(activity.team) if activity.team_id else None
    snap["related"] = sorted(f"{link.entity} {link.object_id}" for link in activity.links.all())
    if activity.kind == ActivityKind.APPOINTMENT:
        snap["attendees"] = sorted(str(a) for a in activity.attendees.all())
    return snap


def _index(activity: Activity) -> None:
    search.index_document(
        entity=ENTITY,
        object_id=activity.pk,
        owner_id=activity.owner_id,
        team_id=activity.team_id,
        title=activity.title,
        subtitle="",
        parts=[activity.description[:2000], activity.location, activity.phone_number],
    )


def _set_links(activity: Activity, related: list[tuple[str, int]]) -> None:
    activity.links.all().delete()
    ActivityLink.objects.bulk_create(
        [ActivityLink(activity=activity, entity=key, object_id=pk) for key, pk in related]
    )


def _set_attendees(activity: Activity, attendees: list[tuple[str, int]], actor: User) -> None:
    """The appointment's attendees are ``attendees``; users newly invited (but the actor) get a
    notification (in the same transaction: none if the change fails)."""
    keep = {(("user", a.user_id) if a.user_id else ("contact", a.contact_id)): a
            for a in activity.attendees.all()}  # fmt: skip
    for key, attendee in keep.items():
        if key not in attendees:
            attendee.delete()
    new = [(kind, pk) for kind, pk in attendees if (kind, pk) not in keep]
    Attendee.objects.bulk_create(
        [
            Attendee(activity=activity, user_id=pk if kind == "user" else None,
                     contact_id=pk if kind == "contact" else None)
            for kind, pk in new
        ]
    )  # fmt: skip
    invited = [pk for kind, pk in new if kind == "user" and pk != actor.pk]
    if invited:
        _notify(
            User.objects.filter(pk__in=invited, is_active=True),
            Notification.Kind.INVITATION,
            activity,
            gettext_lazy("%(name)s invited you: %(title)s"),
            {"name": str(actor), "title": activity.title},
        )


def _notify(
    users: Any, kind: str, activity: Activity, message: Any, params: dict[str, str]
) -> None:
    """An in-app notification about ``activity`` for each of ``users``, in their language."""
    url = reverse("activities:detail", args=[activity.pk])
    notifications = []
    for user in users:
        with translation.override(user.language or settings.LANGUAGE_CODE):
            title = str(message) % params
        notifications.append(
            Notification(user=user, kind=kind, title=title[:300], url=url, entity=ENTITY,
                         object_id=activity.pk)
        )  # fmt: skip
    Notification.objects.bulk_create(notifications)


# --- create, update ---------------------------------------------------------------------------


def _default_title(kind: str, values: dict[str, Any]) -> str:
    first_line = (values.get("description") or "").strip().splitlines()
    if first_line:
        return first_line[0][:300]
    return str(ActivityKind(kind).label)


def activity_create(*, actor: User, kind: str, data: dict[str, Any]) -> Activity:
    """Create a task, appointment, call log or note."""
    if kind not in ActivityKind.values:
        raise NotFound()
    permissions.require(actor, "create", ENTITY)
    if not isinstance(data, dict):
        raise ValidationFailed({"": [_("Expected an object.")]})
    c = Cleaner()
    with timezone.override(timezones.zone(actor)):
        values = _clean_fields(c, kind, data, None)
    values.update(_clean_assignment(c, actor, data, None))
    related = _clean_related(c, actor, data.get("related"))
    attendees = _clean_attendees(c, actor, data.get("attendees"))
    c.raise_if_invalid()
    if not values.get("title"):
        values["title"] = _default_title(kind, values)
    with transaction.atomic():
        now = timezone.now()
        activity = Activity.objects.create(
            kind=kind, created_by=actor, created_at=now, updated_at=now, **values
        )
        if activity.status == ActivityStatus.DONE:
            activity.completed_at, activity.completed_by = now, actor
            activity.save(update_fields=["completed_at", "completed_by"])
        _set_links(activity, related)
        _set_attendees(activity, attendees, actor)
        history.record_change(
            entity=ENTITY, object_id=activity.pk, action=ChangeAction.CREATE, actor=actor,
            after=snapshot(activity),
        )  # fmt: skip
        _index(activity)
    return activity


def _for_edit(actor: User, activity_id: int, kind: str | None = None) -> Activity:
    queryset = activity_selectors.activities_visible_to(actor, for_edit=True)
    if kind is not None:
        queryset = queryset.filter(kind=kind)
    activity = queryset.select_for_update().filter(pk=activity_id).first()
    if activity is None:
        raise NotFound()
    return activity


def activity_update(
    *,
    actor: User,
    activity_id: int,
    data: dict[str, Any],
    kind: str | None = None,
    version: Any = None,
) -> Activity:
    """Change an activity; ``version`` (if given) must be the one the caller read, else 409."""
    permissions.require(actor, "edit", ENTITY)
    if not isinstance(data, dict):
        raise ValidationFailed({"": [_("Expected an object.")]})
    with transaction.atomic():
        activity = _for_edit(actor, activity_id, kind)
        check_version(activity, version if version is not None else data.get("version"))
        data = {k: v for k, v in data.items() if k != "version"}
        c = Cleaner()
        with timezone.override(timezones.zone(actor)):
            values = _clean_fields(c, activity.kind, data, activity)
        values.update(_clean_assignment(c, actor, data, activity))
        related = _clean_related(c, actor, data.get("related")) if "related" in data else None
        attendees = (
            _clean_attendees(c, actor, data.get("attendees")) if "attendees" in data else None
        )
        c.raise_if_invalid()
        if "title" in values and not values["title"]:
            values["title"] = _default_title(activity.kind, {**values})
        before = snapshot(activity)
        was_open = activity.status == ActivityStatus.OPEN
        old_remind_at, old_due_at = activity.remind_at, activity.due_at
        for key, value in values.items():
            setattr(activity, key, value)
        if was_open and activity.status == ActivityStatus.DONE:
            activity.completed_at, activity.completed_by = timezone.now(), actor
        elif activity.status == ActivityStatus.OPEN:
            activity.completed_at, activity.completed_by = None, None
        if "remind_at" in values and values["remind_at"] != old_remind_at:
            activity.reminded_at = None  # a new reminder time fires again
        if "due_at" in values and values["due_at"] != old_due_at:
            activity.escalated_at = None  # escalated again if the new date passes too
        if related is not None:
            _set_links(activity, related)
        if attendees is not None:
            _set_attendees(activity, attendees, actor)
        after = snapshot(activity)
        if history.diff(before, after):
            activity.version += 1
            activity.updated_at = timezone.now()
            activity.save()
            history.record_change(
                entity=ENTITY, object_id=activity.pk, action=ChangeAction.UPDATE, actor=actor,
                before=before, after=after,
            )  # fmt: skip
            _index(activity)
    return activity


# --- tasks: follow-ups, completion ------------------------------------------------------------


def follow_up_create(*, actor: User, entity: str, object_id: int, data: dict[str, Any]) -> Activity:
    """ "Remind me about this record on date X": a task of the actor's about the record."""
    c = Cleaner()
    if entity not in set(entities.registered_keys()) - {ENTITY}:
        raise NotFound()
    model = entities.get(entity).model
    if not visible_records(model.objects.all(), actor).filter(pk=object_id).exists():
        raise NotFound()
    with timezone.override(timezones.zone(actor)):
        due = _when(c, "due_at", data.get("due_at"), required=True)
    c.raise_if_invalid()
    record = model.objects.get(pk=object_id)
    title = (data.get("title") or "").strip() or _("Follow up: %(record)s") % {"record": record}
    return activity_create(
        actor=actor,
        kind=ActivityKind.TASK,
        data={
            "title": title[:300],
            "description": data.get("description") or "",
            "due_at": due,
            "remind_at": due,
            "is_follow_up": True,
            "assignee_id": actor.pk,
            "related": [{"type": entity, "id": object_id}],
        },
    )


def task_complete(
    *, actor: User, task_id: int, data: dict[str, Any] | None = None, version: Any = None
) -> tuple[Activity, Activity | None]:
    """Mark a task done, with an optional outcome note. A repeating task brings its next
    occurrence; ``data["next"]`` (``{"title", "due_at", ...}``) creates a follow-up task
    about the same records ("call again in 2 weeks"). Returns the task and the new one."""
    data = data or {}
    if not isinstance(data, dict):
        raise ValidationFailed({"": [_("Expected an object.")]})
    permissions.require(actor, "edit", ENTITY)
    with transaction.atomic():
        task = _for_edit(actor, task_id, ActivityKind.TASK)
        check_version(task, version)
        if task.status != ActivityStatus.OPEN:
            raise ValidationFailed({"status": [_("This task is not open any more.")]})
        c = Cleaner()
        note = c.text("outcome", data.get("outcome"), max_length=20000)
        next_data = data.get("next")
        if next_data not in (None, "", {}) and not isinstance(next_data, dict):
            c.add("next", _("Expected an object."))
        c.raise_if_invalid()
        related = [{"type": link.entity, "id": link.object_id} for link in task.links.all()]
        following = None
        if isinstance(next_data, dict) and next_data:
            try:
                following = activity_create(
                    actor=actor, kind=ActivityKind.TASK,
                    data={"assignee_id": task.owner_id, "team_id": task.team_id,
                          "related": related, **next_data},
                )  # fmt: skip
            except ValidationFailed as exc:
                raise ValidationFailed({f"next.{k}": v for k, v in exc.fields.items()}) from None
        before = snapshot(task)
        task.status = ActivityStatus.DONE
        task.completed_at, task.completed_by = timezone.now(), actor
        if note:
            task.description = f"{task.description}\n\n{note}".strip()
        task.version += 1
        task.updated_at = timezone.now()
        task.save()
        history.record_change(
            entity=ENTITY, object_id=task.pk, action=ChangeAction.UPDATE, actor=actor,
            before=before, after=snapshot(task),
        )  # fmt: skip
        _index(task)
        occurrence = _next_occurrence(actor, task, related)
    return task, following or occurrence


def _next_occurrence(actor: User, task: Activity, related: list[dict[str, Any]]) -> Activity | None:
    if not task.recurrence or task.due_at is None:
        return None
    first = Activity.objects.filter(pk=task.series_id).first() if task.series_id else task
    zone = timezones.zone(task.owner or actor)
    due = recurrence.next_due(task.recurrence, first.due_at or task.due_at, task.due_at, zone)
    if due is None:
        return None
    lead = (task.due_at - task.remind_at) if task.remind_at else None
    occurrence = activity_create(
        actor=actor,
        kind=ActivityKind.TASK,
        data={
            "title": task.title, "description": "", "priority": task.priority,
            "due_at": due, "remind_at": due - lead if lead is not None else None,
            "recurrence": task.recurrence, "is_follow_up": task.is_follow_up,
            "assignee_id": task.owner_id, "team_id": task.team_id, "related": related,
        },
    )  # fmt: skip
    occurrence.series = first
    occurrence.save(update_fields=["series"])
    return occurrence


# --- delete, restore --------------------------------------------------------------------------


def activity_delete(*, actor: User, activity_id: int) -> Activity:
    """Move an activity to the trash; it can be restored."""
    return softdelete.soft_delete(
        actor, ENTITY, activity_selectors.activities_visible_to(actor, for_edit=True), activity_id
    )


def activity_restore(*, actor: User, activity_id: int) -> Activity:
    return softdelete.restore(
        actor,
        ENTITY,
        activity_selectors.activities_visible_to(actor, include_deleted=True, for_edit=True),
        activity_id,
        _index,
    )


# --- invitations ------------------------------------------------------------------------------

ANSWERS = (AttendeeResponse.ACCEPTED, AttendeeResponse.TENTATIVE, AttendeeResponse.DECLINED)
REPLIES = {
    AttendeeResponse.ACCEPTED: gettext_lazy("%(name)s accepted: %(title)s"),
    AttendeeResponse.TENTATIVE: gettext_lazy("%(name)s accepted tentatively: %(title)s"),
    AttendeeResponse.DECLINED: gettext_lazy("%(name)s declined: %(title)s"),
}


def _appointment(actor: User, activity_id: int, *, for_edit: bool = False) -> Activity:
    """The appointment ``activity_id`` as far as ``actor`` may see (or change) it, else 404."""
    activity = (
        activity_selectors.activities_visible_to(actor, for_edit=for_edit)
        .filter(kind=ActivityKind.APPOINTMENT, pk=activity_id)
        .select_related("owner")
        .first()
    )
    if activity is None:
        raise NotFound()
    return activity


def attendee_respond(*, actor: User, activity_id: int, response: Any) -> Activity:
    """The actor's answer to an invitation to an appointment: accepted, tentative or declined.
    Recorded in the appointment's history; the organiser (its assignee) is notified. Anyone
    who may see the appointment but is not invited gets a field error, anyone else 404."""
    c = Cleaner()
    if response not in ANSWERS:
        c.add("response", _("Answer accepted, tentative or declined."))
    c.raise_if_invalid()
    with transaction.atomic():
        activity = _appointment(actor, activity_id)
        attendee = (
            Attendee.objects.select_for_update().filter(activity=activity, user=actor).first()
        )
        if attendee is None:
            raise ValidationFailed({"response": [_("You are not invited to this appointment.")]})
        _record_answer(actor, activity, attendee, str(actor), response)
    return activity


def _record_answer(
    actor: User, activity: Activity, attendee: Attendee, name: str, response: str
) -> None:
    """An attendee's answer: saved, in the history, and told to the organiser (unless the
    organiser recorded it)."""
    if attendee.response == response:
        return
    before = {"responses": f"{name}: {attendee.get_response_display()}"}
    attendee.response = response
    attendee.save(update_fields=["response"])
    history.record_change(
        entity=ENTITY, object_id=activity.pk, action=ChangeAction.UPDATE, actor=actor,
        before=before, after={"responses": f"{name}: {attendee.get_response_display()}"},
    )  # fmt: skip
    organiser = activity.owner
    if organiser is not None and organiser.pk != actor.pk and organiser.is_active:
        _notify(
            [organiser], Notification.Kind.REPLY, activity, REPLIES[response],
            {"name": name, "title": activity.title},
        )  # fmt: skip


def contact_answers_record(
    *, actor: User, activity_id: int, answers: list[tuple[str, str]]
) -> Activity:
    """The answers of contacts invited to an appointment, each (email address, accepted |
    tentative | declined), e.g. from their replies to the emailed invitation. Needs the right
    to change the appointment; an address of no invited contact is a field error and nothing
    is recorded."""
    permissions.require(actor, "edit", ENTITY)
    c = Cleaner()
    for index, (_email, response) in enumerate(answers):
        if response not in ANSWERS:
            c.add(f"answers.{index}", _("Answer accepted, tentative or declined."))
    c.raise_if_invalid()
    with transaction.atomic():
        activity = _appointment(actor, activity_id, for_edit=True)
        invited = {
            a.contact_id: a
            for a in Attendee.objects.select_for_update()
            .filter(activity=activity, contact__isnull=False)
            .select_related("contact")
        }
        by_address: dict[str, Attendee] = {}
        for address, contact_id in EmailAddress.objects.filter(
            contact_id__in=list(invited)
        ).values_list("address", "contact_id"):
            by_address.setdefault(address.lower(), invited[contact_id])
        for email, response in answers:
            attendee = by_address.get(email.lower())
            if attendee is None:
                raise ValidationFailed({"attendee": [
                    _("%(email)s is not invited to this appointment.") % {"email": email}]})  # fmt: skip
            _record_answer(actor, activity, attendee, str(attendee.contact), response)
    return activity


def contacts_invite(*, actor: User, activity_id: int) -> list[str]:
    """Email an invitation (an .ics attachment with METHOD:REQUEST, which mail programs show
    with Accept and Decline) to every contact invited to the appointment who has an email
    address; the addresses it went to. Recorded in the appointment's history once sent. Needs
    the right to change the appointment; a mail server that cannot be reached is an error and
    nothing is recorded. The mails go out outside any transaction: SQLite has one writer, and
    a slow mail server must not hold it."""
    from farley.activities import ical

    permissions.require(actor, "edit", ENTITY)
    activity = _appointment(actor, activity_id, for_edit=True)
    invited = [
        a.contact
        for a in activity.attendees.select_related("contact").filter(contact__isnull=False)
        if a.contact.primary_email and a.contact.deleted_at is None
    ]
    if not invited:
        raise ValidationFailed({"attendees": [_("No invited contact has an email address.")]})
    messages = [_invitation_mail(actor, activity, contact) for contact in invited]
    attachment = ical.invitation_bytes(activity)
    for message in messages:
        message.attach("invitation.ics", attachment, "text/calendar; method=REQUEST")
    try:
        with mail.get_connection() as smtp:
            smtp.send_messages(messages)
    except OSError as exc:
        raise ServiceError(_("The mail server could not be reached; nothing was sent.")) from exc
    addresses = [contact.primary_email for contact in invited]
    history.record_change(
        entity=ENTITY, object_id=activity.pk, action=ChangeAction.UPDATE, actor=actor,
        before={"invitations": None}, after={"invitations": ", ".join(addresses)},
    )  # fmt: skip
    return addresses


def _invitation_mail(actor: User, activity: Activity, contact: Contact) -> Any:
    """The invitation to ``activity`` for ``contact``, in the contact's language."""
    when = activity.first_day or timezone.localtime(activity.start_at, timezones.zone(actor))
    with translation.override(contact.language or settings.LANGUAGE_CODE):
        lines = [
            _("You are invited: %(title)s, %(when)s.") % {
                "title": activity.title,
                "when": formats.date_format(
                    when, "SHORT_DATE_FORMAT" if activity.all_day else "SHORT_DATETIME_FORMAT"
                ),
            }
        ]  # fmt: skip
        if activity.location:
            lines.append(_("Location: %(place)s") % {"place": activity.location})
        if activity.video_url:
            lines.append(activity.video_url)
        subject = _("Invitation: %(title)s") % {"title": activity.title}
    organiser = activity.owner.email if activity.owner and activity.owner.email else None
    return mail.EmailMessage(
        subject=subject[:200], body="\n".join(lines), to=[contact.primary_email],
        reply_to=[organiser] if organiser else None,
    )  # fmt: skip
