"""Reminders and escalations: the background job behind "nobody forgets a call-back".

Every 30 seconds (Celery beat, or the embedded server's job thread, :mod:`farley.jobs`) the
job sends every reminder whose time has come: an in-app notification
(:class:`farley.core.models.Notification`, the bell in the navigation) and an email to the
assignee, or to every member of the team for a task in a team's queue. A reminder is due
while ``remind_at`` has passed and ``reminded_at`` is empty, and both are in the database:
a reminder set before a restart fires after it, and one that fell due while the server was
down fires on its first run.

An open task still overdue ``FARLEY_ESCALATION_HOURS`` after it fell due is escalated once to
the lead of its team.

Batches of 500 in one transaction each; on PostgreSQL with ``SKIP LOCKED``, so that several
workers share the work without sending anything twice. Emails go out after the batch is
committed, over one connection; if the mail server fails, the in-app notification stands and
the failure is logged.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable

from django.conf import settings
from django.core import mail
from django.db import connection, transaction
from django.db.models import F, QuerySet
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from farley.activities.models import Activity, ActivityKind, ActivityStatus
from farley.core import timezones
from farley.core.models import Notification, User

BATCH = 500
log = logging.getLogger("farley.reminders")


def run_due(now: dt.datetime | None = None) -> dict[str, int]:
    """Send the due reminders and escalate overdue tasks; how many of each."""
    now = now or timezone.now()
    return {"reminders": send_reminders(now), "escalations": escalate_overdue(now)}


def _locked(queryset: QuerySet) -> QuerySet:
    if connection.features.has_select_for_update_skip_locked:
        return queryset.select_for_update(skip_locked=True, of=("self",))
    return queryset


def _recipients(activity: Activity) -> list[User]:
    if activity.owner_id:
        return [activity.owner] if activity.owner.is_active else []
    if activity.team_id:
        return [u for u in activity.team.members.all() if u.is_active]
    return []


def _when_text(activity: Activity, user: User) -> str:
    if activity.first_day is not None:  # all day: a date, the same everywhere
        return formats.date_format(activity.first_day, "SHORT_DATE_FORMAT")
    moment = activity.due_at if activity.kind == ActivityKind.TASK else activity.start_at
    if moment is None:
        return ""
    return formats.date_format(moment.astimezone(timezones.zone(user)), "SHORT_DATETIME_FORMAT")


def _message(user: User, activity: Activity, kind: str) -> tuple[Notification, mail.EmailMessage]:
    """The notification and the email for ``user``, in their language and time zone."""
    url = reverse("activities:detail", args=[activity.pk])
    with translation.override(user.language or settings.LANGUAGE_CODE):
        when = _when_text(activity, user)
        if kind == Notification.Kind.ESCALATION:
            title = _("Overdue: %(title)s") % {"title": activity.title}
            assignee = str(activity.owner) if activity.owner_id else str(activity.team)
            body = _("Due %(when)s, assigned to %(who)s, still open.") % {
                "when": when, "who": assignee,
            }  # fmt: skip
        elif activity.kind == ActivityKind.APPOINTMENT:
            title = _("Reminder: %(title)s") % {"title": activity.title}
            body = _("Starts %(when)s.") % {"when": when} if when else ""
        else:
            title = _("Reminder: %(title)s") % {"title": activity.title}
            body = _("Due %(when)s.") % {"when": when} if when else ""
        text = "\n\n".join(p for p in [title, body, settings.FARLEY_BASE_URL + url] if p)
        email = mail.EmailMessage(subject=title[:200], body=text, to=[user.email])
    notification = Notification(
        user=user, kind=kind, title=title[:300], body=body, url=url,
        entity="activity", object_id=activity.pk,
    )  # fmt: skip
    return notification, email


def _deliver(batch: Iterable[tuple[Activity, list[User]]], kind: str, stamp: str) -> int:
    """Notifications for the batch, the stamp field set, in one transaction; then the emails."""
    notifications, emails, ids = [], [], []
    for activity, users in batch:
        ids.append(activity.pk)
        for user in users:
            notification, email = _message(user, activity, kind)
            notifications.append(notification)
            if user.email:
                emails.append(email)
    Notification.objects.bulk_create(notifications, batch_size=BATCH)
    Activity.objects.filter(pk__in=ids).update(**{stamp: timezone.now()})
    transaction.on_commit(lambda: _send(emails))
    return len(ids)


def _send(emails: list[mail.EmailMessage]) -> None:
    if not emails:
        return
    try:
        with mail.get_connection() as smtp:
            smtp.send_messages(emails)
    except Exception:  # the in-app notifications stand; the mail server may be back next time
        log.exception("sending %d reminder emails failed", len(emails))


def send_reminders(now: dt.datetime) -> int:
    due = Activity.objects.filter(
        remind_at__lte=now, reminded_at__isnull=True, remind_at__isnull=False,
        deleted_at__isnull=True,
    ).exclude(status__in=[ActivityStatus.DONE, ActivityStatus.CANCELLED])  # fmt: skip
    sent = 0
    while True:
        with transaction.atomic():
            batch = list(
                _locked(due.order_by("remind_at", "pk"))
                .select_related("owner", "team")
                .prefetch_related("team__members")[:BATCH]
            )
            if not batch:
                return sent
            sent += _deliver(
                ((a, _recipients(a)) for a in batch), Notification.Kind.REMINDER, "reminded_at"
            )


def escalate_overdue(now: dt.datetime) -> int:
    hours = settings.FARLEY_ESCALATION_HOURS
    if hours <= 0:
        return 0
    overdue = Activity.objects.filter(
        kind=ActivityKind.TASK,
        status=ActivityStatus.OPEN,
        deleted_at__isnull=True,
        due_at__lte=now - dt.timedelta(hours=hours),
        escalated_at__isnull=True,
        team__lead__isnull=False,
        team__lead__is_active=True,
    ).exclude(owner_id=F("team__lead_id"))  # fmt: skip  (leads are not told of their own)
    sent = 0
    while True:
        with transaction.atomic():
            batch = list(
                _locked(overdue.order_by("due_at", "pk")).select_related(
                    "owner", "team", "team__lead"
                )[:BATCH]
            )
            if not batch:
                return sent
            sent += _deliver(
                ((a, [a.team.lead]) for a in batch), Notification.Kind.ESCALATION, "escalated_at"
            )
