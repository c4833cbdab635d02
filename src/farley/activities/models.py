"""Time management: tasks (with follow-ups and recurrence), appointments, call logs and notes.

All four are rows of one table, :class:`Activity`, told apart by ``kind``: "My day", the
calendar, the reminders and the timelines read one table with one set of indexes, and a task
that becomes a call stays one record. Fields that belong to one kind only are empty on the
others. An activity relates to any number of records of any registered entity
(:class:`ActivityLink`), and an appointment has attendees: users and contacts
(:class:`Attendee`).

The assignee is the owner (``owner``); a task in a team's queue has a team and no owner, so
visibility (own, team's, shared) works as for every customer record. Times are stored in UTC
and shown in each user's time zone.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from farley.activities import days
from farley.contacts.models import Contact
from farley.core.models import CustomerRecord


class ActivityKind(models.TextChoices):
    TASK = "task", _("Task")
    APPOINTMENT = "appointment", _("Appointment")
    CALL = "call", _("Call")
    NOTE = "note", _("Note")


class ActivityStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")


class CallDirection(models.TextChoices):
    INBOUND = "in", _("Inbound")
    OUTBOUND = "out", _("Outbound")


class CallOutcome(models.TextChoices):
    REACHED = "reached", _("Reached")
    NO_ANSWER = "no_answer", _("No answer")
    BUSY = "busy", _("Busy")
    VOICEMAIL = "voicemail", _("Left a voicemail")
    WRONG_NUMBER = "wrong_number", _("Wrong number")


LIVE = Q(deleted_at__isnull=True)


class Activity(CustomerRecord):
    kind = models.CharField(_("type"), max_length=12, choices=ActivityKind.choices)
    # The assignee; empty for a task in a team's queue (then ``team`` is set).
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned to"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    title = models.CharField(_("title"), max_length=300)
    description = models.TextField(_("description"), blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=ActivityStatus.choices, default=ActivityStatus.OPEN
    )
    priority = models.CharField(
        _("priority"), max_length=6, choices=Priority.choices, default=Priority.NORMAL
    )
    # Tasks: when due; follow-ups are tasks about a record ("remind me about it then").
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    is_follow_up = models.BooleanField(_("follow-up"), default=False)
    # An RRULE (RFC 5545) with COUNT or UNTIL; completing one occurrence creates the next.
    recurrence = models.CharField(_("repeats"), max_length=500, blank=True)
    series = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Appointments (calls and notes use start_at as "when").
    start_at = models.DateTimeField(_("start"), null=True, blank=True)
    end_at = models.DateTimeField(_("end"), null=True, blank=True)
    all_day = models.BooleanField(_("all day"), default=False)
    location = models.CharField(_("location"), max_length=300, blank=True)
    video_url = models.URLField(_("video link"), max_length=500, blank=True)
    outcome = models.TextField(_("outcome"), blank=True)
    # Calls.
    direction = models.CharField(
        _("direction"), max_length=3, choices=CallDirection.choices, blank=True
    )
    phone_number = models.CharField(_("number"), max_length=32, blank=True)
    duration_seconds = models.PositiveIntegerField(_("duration"), null=True, blank=True)
    call_result = models.CharField(
        _("result"), max_length=12, choices=CallOutcome.choices, blank=True
    )
    # Reminders: when to remind the assignee (in the app and by email); when it went out.
    remind_at = models.DateTimeField(_("reminder"), null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True, editable=False)
    escalated_at = models.DateTimeField(null=True, blank=True, editable=False)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True, editable=False)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
        db_index=False,
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
        db_index=False,
    )
    # The UID of an imported invitation (.ics): importing it again updates the appointment.
    ical_uid = models.CharField(max_length=255, blank=True, editable=False)

    class Meta:
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        indexes = [
            # "My day" and the task list: a user's or a team's open tasks by due date.
            models.Index(
                fields=["owner", "status", "due_at"], name="activity_owner_due_idx", condition=LIVE
            ),
            models.Index(
                fields=["team", "status", "due_at"], name="activity_team_due_idx", condition=LIVE
            ),
            # The calendar: a user's or a team's appointments by start.
            models.Index(
                fields=["owner", "start_at"], name="activity_owner_start_idx", condition=LIVE
            ),
            models.Index(
                fields=["team", "start_at"], name="activity_team_start_idx", condition=LIVE
            ),
            models.Index(
                fields=["owner", "ical_uid"],
                name="activity_ical_uid_idx",
                condition=~Q(ical_uid=""),
            ),
            # The reminder job: reminders due and not sent yet.
            models.Index(
                fields=["remind_at"],
                name="activity_reminder_idx",
                condition=LIVE & Q(reminded_at__isnull=True, remind_at__isnull=False),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_at__isnull=True)
                | Q(start_at__isnull=True)
                | Q(end_at__gte=models.F("start_at")),
                name="activity_end_after_start",
            ),
            models.CheckConstraint(
                condition=Q(owner__isnull=False) | Q(team__isnull=False),
                name="activity_assigned",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def when(self):
        """The time the activity is about: due (tasks), start (the others)."""
        return self.due_at if self.kind == ActivityKind.TASK else self.start_at

    @property
    def first_day(self):
        """The first date of an all-day appointment (the same for every viewer), else None."""
        return days.days_of(self.start_at, self.end_at)[0] if self._is_dated() else None

    @property
    def last_day(self):
        """The last date an all-day appointment covers, else None."""
        return days.days_of(self.start_at, self.end_at)[1] if self._is_dated() else None

    def _is_dated(self) -> bool:
        return self.all_day and self.kind == ActivityKind.APPOINTMENT and bool(self.start_at)


class ActivityLink(models.Model):
    """An activity is about this record (of any registered entity)."""

    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="links")
    entity = models.CharField(max_length=40)
    object_id = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["entity", "object_id"], name="activity_link_record_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["activity", "entity", "object_id"], name="activity_link_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.entity} {self.object_id}"


class AttendeeResponse(models.TextChoices):
    NEEDS_ACTION = "needs_action", _("No answer yet")
    ACCEPTED = "accepted", _("Accepted")
    TENTATIVE = "tentative", _("Tentative")
    DECLINED = "declined", _("Declined")


class Attendee(models.Model):
    """A user or a contact invited to an appointment."""

    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="attendees")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    response = models.CharField(
        max_length=12, choices=AttendeeResponse.choices, default=AttendeeResponse.NEEDS_ACTION
    )

    class Meta:
        indexes = [models.Index(fields=["user", "activity"], name="attendee_user_idx")]
        constraints = [
            models.CheckConstraint(
                condition=(Q(user__isnull=False) & Q(contact__isnull=True))
                | (Q(user__isnull=True) & Q(contact__isnull=False)),
                name="attendee_user_or_contact",
            ),
            models.UniqueConstraint(
                fields=["activity", "user"],
                name="attendee_user_once",
                condition=Q(user__isnull=False),
            ),
            models.UniqueConstraint(
                fields=["activity", "contact"],
                name="attendee_contact_once",
                condition=Q(contact__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return str(self.user or self.contact)


class CalendarFeed(models.Model):
    """A user's private iCalendar feed (tasks with a due date and appointments) for Outlook,
    Google Calendar or Thunderbird. Its address holds a secret derived from the server's
    secret key and ``nonce`` (:mod:`farley.activities.ical`); revoking it makes the address
    answer 404, and a new feed gets a new address."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feeds"
    )
    nonce = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "revoked_at"], name="calendar_feed_user_idx")]

    def __str__(self) -> str:
        return f"{self.user} ({self.created_at:%Y-%m-%d})"
