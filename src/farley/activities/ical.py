"""iCalendar (RFC 5545) with the icalendar library: each user's private feed, the .ics of one
appointment, and the import of .ics files (invitations) into appointments.

The feed's address is ``/calendar/<feed id>-<secret>.ics``. The secret is an HMAC of the
server's SECRET_KEY over the feed's id and a random nonce: the database alone does not reveal
it, the server can show the address again, and revoking the feed (a new one gets a new nonce)
makes the old address answer 404.

Imports are checked before anything is written (all or nothing): at most 1 MB, UTF-8, at
most 100 events, components nested at most three deep (VCALENDAR > VEVENT > VALARM), every
event with a summary and a start, the end not before the start.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field
from typing import Any

import icalendar
from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from farley.activities import services
from farley.activities.models import (
    Activity,
    ActivityKind,
    ActivityStatus,
    Attendee,
    CalendarFeed,
)
from farley.activities.selectors import activities_visible_to
from farley.contacts.models import Contact, EmailAddress
from farley.core import timezones
from farley.core.errors import NotFound, ValidationFailed
from farley.core.models import User
from farley.core.visibility import visible_records

PRODID = "-//Farley CRM//Farley//EN"
MAX_BYTES = 1024 * 1024
MAX_EVENTS = 100
MAX_DEPTH = 3
FEED_PAST_DAYS = 30
FEED_FUTURE_DAYS = 400
FEED_LIMIT = 5000
TASK_MINUTES = 15  # a task shows in calendars as a short event at its due time


# --- the private feed -------------------------------------------------------------------------


def _secret(feed: CalendarFeed) -> str:
    digest = hmac.new(
        settings.SECRET_KEY.encode(), f"calendar-feed:{feed.pk}:{feed.nonce}".encode(),
        hashlib.sha256,
    ).hexdigest()  # fmt: skip
    return digest[:40]


def feed_path(feed: CalendarFeed) -> str:
    return reverse("calendar_feed", args=[f"{feed.pk}-{_secret(feed)}"])


def feed_of(user: User, *, create: bool = True) -> CalendarFeed | None:
    """The user's active feed (made on first use)."""
    feed = CalendarFeed.objects.filter(user=user, revoked_at__isnull=True).order_by("-pk").first()
    if feed is None and create:
        feed = CalendarFeed.objects.create(user=user, nonce=secrets.token_urlsafe(32))
    return feed


def feed_url(user: User) -> str:
    return settings.FARLEY_BASE_URL + feed_path(feed_of(user))


def renew_feed(user: User) -> str:
    """Revoke the user's feed address and make a new one."""
    with transaction.atomic():
        CalendarFeed.objects.filter(user=user, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        return feed_url(user)


def revoke_feed(user: User) -> None:
    CalendarFeed.objects.filter(user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )


def feed_by_key(key: str) -> CalendarFeed:
    """The active feed an address names; NotFound for anything else."""
    feed_id, _sep, secret = key.partition("-")
    if not feed_id.isdigit() or len(feed_id) > 18 or not secret:
        raise NotFound()
    feed = (
        CalendarFeed.objects.select_related("user")
        .filter(pk=int(feed_id), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if feed is None or not hmac.compare_digest(_secret(feed), secret):
        raise NotFound()
    now = timezone.now()
    if feed.last_used_at is None or now - feed.last_used_at > dt.timedelta(hours=1):
        CalendarFeed.objects.filter(pk=feed.pk).update(last_used_at=now)
    return feed


def feed_items(user: User) -> QuerySet[Activity]:
    """What the feed holds: the user's open tasks with a due date and the appointments they
    organise or attend, from a month ago to a year ahead."""
    now = timezone.now()
    start, end = now - dt.timedelta(days=FEED_PAST_DAYS), now + dt.timedelta(days=FEED_FUTURE_DAYS)
    invited = Attendee.objects.filter(user=user).values("activity_id")
    tasks = Q(kind=ActivityKind.TASK, owner=user, status=ActivityStatus.OPEN,
              due_at__gte=start, due_at__lt=end)  # fmt: skip
    appointments = Q(kind=ActivityKind.APPOINTMENT, start_at__lt=end, end_at__gte=start) & (
        Q(owner=user) | Q(pk__in=invited)
    )
    return (
        Activity.objects.filter(tasks | appointments, deleted_at__isnull=True)
        .prefetch_related("attendees__user", "attendees__contact")
        .order_by("pk")[:FEED_LIMIT]
    )


def _uid(activity: Activity) -> str:
    return activity.ical_uid or f"farley-activity-{activity.pk}@farley"


def _event(activity: Activity, *, external: bool = False) -> icalendar.Event:
    """The VEVENT of ``activity``; ``external``: for people outside Farley (invited contacts),
    without the link to its page in Farley."""
    event = icalendar.Event()
    event.add("uid", _uid(activity))
    event.add("dtstamp", activity.updated_at)
    event.add("sequence", activity.version)
    event.add("summary", activity.title)
    link = (
        ""
        if external
        else settings.FARLEY_BASE_URL + reverse("activities:detail", args=[activity.pk])
    )
    description = "\n\n".join(p for p in [activity.description, link] if p)
    if description:
        event.add("description", description)
    if activity.video_url or link:
        event.add("url", activity.video_url or link)
    if activity.kind == ActivityKind.TASK:
        event.add("dtstart", activity.due_at)
        event.add("dtend", activity.due_at + dt.timedelta(minutes=TASK_MINUTES))
        event.add("categories", ["TASK"])
        event.add("transp", "TRANSPARENT")
        return event
    if activity.all_day:
        event.add("dtstart", activity.first_day)
        event.add("dtend", activity.last_day + dt.timedelta(days=1))  # exclusive
    else:
        event.add("dtstart", activity.start_at)
        event.add("dtend", activity.end_at or activity.start_at + dt.timedelta(hours=1))
    if activity.location:
        event.add("location", activity.location)
    event.add("status", "CANCELLED" if activity.status == ActivityStatus.CANCELLED else "CONFIRMED")
    for attendee in activity.attendees.all():
        person = attendee.user or attendee.contact
        address = getattr(person, "email", "") or getattr(person, "primary_email", "")
        if address:
            entry = icalendar.vCalAddress(f"mailto:{address}")
            entry.params["cn"] = str(person)
            # RFC 5545 participation status: NEEDS-ACTION, ACCEPTED, TENTATIVE, DECLINED.
            entry.params["partstat"] = attendee.response.upper().replace("_", "-")
            event.add("attendee", entry, encode=0)
    return event


def calendar_bytes(activities: list[Activity], name: str) -> bytes:
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    for activity in activities:
        calendar.add_component(_event(activity))
    return calendar.to_ical()


def invitation_bytes(activity: Activity) -> bytes:
    """An invitation to ``activity`` (METHOD:REQUEST) as mail programs answer it, for its
    invited contacts: organised by its assignee."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "REQUEST")
    event = _event(activity, external=True)
    if activity.owner is not None and activity.owner.email:
        organiser = icalendar.vCalAddress(f"mailto:{activity.owner.email}")
        organiser.params["cn"] = str(activity.owner)
        event.add("organizer", organiser, encode=0)
    calendar.add_component(event)
    return calendar.to_ical()


def feed_bytes(feed: CalendarFeed) -> bytes:
    return calendar_bytes(list(feed_items(feed.user)), f"Farley · {feed.user}")


# --- import -----------------------------------------------------------------------------------


@dataclass
class ImportResult:
    created: list[Activity]
    updated: list[Activity]
    answered: list[Activity] = field(default_factory=list)  # replies of invited contacts


def _depth(component: Any, level: int = 1) -> int:
    children = getattr(component, "subcomponents", [])
    return max([level, *(_depth(child, level + 1) for child in children)])


def _text(component: Any, key: str) -> str:
    value = component.get(key)
    return str(value).strip() if value is not None else ""


def _moment(value: Any, zone: dt.tzinfo) -> tuple[dt.datetime | None, bool]:
    """(aware datetime, all-day?) of a DTSTART/DTEND value."""
    raw = getattr(value, "dt", None)
    if isinstance(raw, dt.datetime):
        return (raw if timezone.is_aware(raw) else raw.replace(tzinfo=zone)), False
    if isinstance(raw, dt.date):
        return dt.datetime.combine(raw, dt.time.min, tzinfo=zone), True
    return None, False


def parse_invitations(data: bytes, user: User) -> list[dict[str, Any]]:
    """The events of an .ics file as service data for appointments; ValidationFailed with
    ``file`` or ``events.<n>.<field>`` errors if anything is wrong."""
    if not data:
        raise ValidationFailed({"file": [_("The file is empty.")]})
    if len(data) > MAX_BYTES:
        raise ValidationFailed({"file": [_("The file is larger than %(size)d kB.") % {
            "size": MAX_BYTES // 1024}]})  # fmt: skip
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationFailed(
            {"file": [_("The file is not UTF-8 encoded, as iCalendar files must be.")]}
        ) from None
    try:
        calendars = icalendar.Calendar.from_ical(text, multiple=True)
    except (ValueError, KeyError, IndexError, TypeError, RecursionError) as exc:
        raise ValidationFailed({"file": [_("This is not an iCalendar file: %(error)s") % {
            "error": str(exc)[:200]}]}) from None  # fmt: skip
    if not calendars or any(c.name != "VCALENDAR" for c in calendars):
        raise ValidationFailed({"file": [_("This is not an iCalendar file.")]})
    if any(_depth(c) > MAX_DEPTH for c in calendars):
        raise ValidationFailed({"file": [_("The file nests its parts too deeply.")]})
    events = [e for c in calendars for e in c.walk("VEVENT")]
    replies = {
        id(e) for c in calendars if str(c.get("method", "")).upper() == "REPLY"
        for e in c.walk("VEVENT")
    }  # fmt: skip
    if not events:
        raise ValidationFailed({"file": [_("The file holds no events.")]})
    if len(events) > MAX_EVENTS:
        raise ValidationFailed({"file": [_("Import at most %(n)d events at a time.") % {
            "n": MAX_EVENTS}]})  # fmt: skip
    zone = timezones.zone(user)
    errors: dict[str, list[str]] = {}
    found = []
    for index, event in enumerate(events):
        prefix = f"events.{index}"
        if id(event) in replies:
            found.append(_reply(event, prefix, errors))
            continue
        start, all_day = _moment(event.get("dtstart"), zone)
        end, _all = _moment(event.get("dtend"), zone)
        if end is None and event.get("duration") is not None and start is not None:
            duration = getattr(event.get("duration"), "dt", None)
            if isinstance(duration, dt.timedelta):
                end = start + duration
        if start is None:
            errors[f"{prefix}.dtstart"] = [_("An event needs a start (DTSTART).")]
        if not _text(event, "summary"):
            errors[f"{prefix}.summary"] = [_("An event needs a title (SUMMARY).")]
        if start is not None and end is not None and end < start:
            errors[f"{prefix}.dtend"] = [_("The end lies before the start.")]
        if errors:
            continue
        if all_day and end is not None:
            end = end - dt.timedelta(days=1)  # DTEND of a date is exclusive
        found.append({
            "uid": _text(event, "uid")[:255],
            "data": {
                "title": _text(event, "summary")[:300],
                "description": _text(event, "description")[:20000],
                "location": _text(event, "location")[:300],
                "start_at": start,
                "end_at": end,
                "all_day": all_day,
                "status": "cancelled" if _text(event, "status").upper() == "CANCELLED"
                else "open",
            },
            "emails": [str(a).removeprefix("mailto:").removeprefix("MAILTO:").strip().lower()
                       for a in _as_list(event.get("attendee"))],
        })  # fmt: skip
    if errors:
        raise ValidationFailed(errors)
    return found


# An attendee's PARTSTAT in a reply (iTIP, RFC 5546) and the answer it records.
PARTSTATS = {"ACCEPTED": "accepted", "TENTATIVE": "tentative", "DECLINED": "declined"}


def _reply(event: Any, prefix: str, errors: dict[str, list[str]]) -> dict[str, Any]:
    """An answer to an invitation (METHOD:REPLY): the invitation's UID and the attendees'
    answers as (email, response)."""
    uid = _text(event, "uid")[:255]
    if not uid:
        errors[f"{prefix}.uid"] = [_("A reply needs the UID of the invitation it answers.")]
    answers = []
    for attendee in _as_list(event.get("attendee")):
        email = str(attendee).removeprefix("mailto:").removeprefix("MAILTO:").strip().lower()
        params = getattr(attendee, "params", {})
        answer = PARTSTATS.get(str(params.get("PARTSTAT", "")).upper())
        if email and answer:
            answers.append((email[:254], answer))
    if not answers:
        errors[f"{prefix}.attendee"] = [_("The reply holds no answer (ATTENDEE with PARTSTAT).")]
    return {"reply": True, "uid": uid, "answers": answers}


def _replied_to(actor: User, uid: str) -> Activity | None:
    """The appointment a reply answers: imported with this UID, or sent from here with ours.
    Only one the actor may change."""
    match = re.fullmatch(r"farley-activity-(\d+)@farley", uid)
    same = Q(ical_uid=uid)
    if match:
        same |= Q(ical_uid="", pk=int(match[1]))
    return (
        activities_visible_to(actor, for_edit=True)
        .filter(same, kind=ActivityKind.APPOINTMENT)
        .first()
    )


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _attendees(user: User, emails: list[str]) -> list[dict[str, Any]]:
    """Users and contacts (that ``user`` may see) with these addresses; others are left out."""
    if not emails:
        return []
    people = [{"type": "user", "id": pk} for pk in User.objects.filter(
        email__in=emails, is_active=True).exclude(pk=user.pk).values_list("pk", flat=True)]  # fmt: skip
    contact_ids = EmailAddress.objects.filter(address__in=emails, contact__isnull=False).values(
        "contact_id"
    )
    visible = visible_records(Contact.objects.filter(pk__in=contact_ids), user)
    people += [{"type": "contact", "id": pk} for pk in visible.values_list("pk", flat=True)]
    return people


def import_invitations(*, actor: User, data: bytes) -> ImportResult:
    """Appointments from an .ics file; an event imported before (same UID) is updated. A
    reply (METHOD:REPLY, what a contact's mail program sends back to an emailed invitation)
    records their answer on the appointment it answers."""
    events = parse_invitations(data, actor)
    result = ImportResult(created=[], updated=[])
    with transaction.atomic():
        for index, event in enumerate(events):
            if event.get("reply"):
                activity = _replied_to(actor, event["uid"])
                if activity is None:
                    raise ValidationFailed({f"events.{index}.uid": [
                        _("No appointment you may change has this UID.")]})  # fmt: skip
                try:
                    result.answered.append(services.contact_answers_record(
                        actor=actor, activity_id=activity.pk, answers=event["answers"],
                    ))  # fmt: skip
                except ValidationFailed as exc:
                    raise ValidationFailed(
                        {f"events.{index}.{k}": v for k, v in exc.fields.items()}
                    ) from None
                continue
            values = {**event["data"], "attendees": _attendees(actor, event["emails"])}
            existing = (
                Activity.objects.filter(
                    owner=actor, ical_uid=event["uid"], kind=ActivityKind.APPOINTMENT,
                    deleted_at__isnull=True,
                ).first()
                if event["uid"] else None
            )  # fmt: skip
            try:
                if existing is not None:
                    result.updated.append(services.activity_update(
                        actor=actor, activity_id=existing.pk, data=values,
                        kind=ActivityKind.APPOINTMENT,
                    ))  # fmt: skip
                else:
                    created = services.activity_create(
                        actor=actor, kind=ActivityKind.APPOINTMENT, data=values
                    )
                    Activity.objects.filter(pk=created.pk).update(ical_uid=event["uid"])
                    result.created.append(created)
            except ValidationFailed as exc:
                raise ValidationFailed(
                    {f"events.{index}.{k}": v for k, v in exc.fields.items()}
                ) from None
    return result
