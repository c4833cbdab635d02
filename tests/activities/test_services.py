"""Writes to activities (tasks, appointments, calls, notes) as a CRM user meets them: defaults,
every kind of bad input, visibility, follow-ups, completion with a next task, time zones,
trash and history. Recurring tasks are in test_recurrence.py."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.utils import timezone

from farley.activities import selectors, services
from farley.activities.models import (
    Activity,
    ActivityKind,
    ActivityLink,
    ActivityStatus,
    Attendee,
    AttendeeResponse,
)
from farley.core.errors import Conflict, NotFound, ServiceError, ValidationFailed
from farley.core.models import ChangeRecord, SearchDocument
from tests.factories import make_contact, make_lead, make_opportunity, make_user

pytestmark = pytest.mark.django_db

UTC = dt.UTC
BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def table_sizes() -> dict[str, int]:
    """Row counts of everything an activity write touches, to prove a failed write wrote
    nothing."""
    models = [Activity, ActivityLink, Attendee, ChangeRecord, SearchDocument]
    return {m.__name__: m.objects.count() for m in models}


def task(actor, **data) -> Activity:
    data.setdefault("title", "Angebot nachfassen")
    return services.activity_create(actor=actor, kind="task", data=data)


def appointment(actor, **data) -> Activity:
    data.setdefault("title", "Termin beim Kunden")
    data.setdefault("start_at", "2026-12-10T10:00")
    return services.activity_create(actor=actor, kind="appointment", data=data)


def refused(actor, kind: str, **data) -> dict[str, list[str]]:
    """The field errors of a create that must fail, after checking that it wrote nothing."""
    sizes = table_sizes()
    with pytest.raises(ValidationFailed) as exc:
        services.activity_create(actor=actor, kind=kind, data=data)
    assert table_sizes() == sizes
    return exc.value.fields


def links(activity: Activity) -> list[tuple[str, int]]:
    return sorted((link.entity, link.object_id) for link in activity.links.all())


def history(activity: Activity) -> list[str]:
    return list(
        ChangeRecord.objects.filter(entity="activity", object_id=activity.pk)
        .order_by("at", "pk")
        .values_list("action", flat=True)
    )


# --- create: the four kinds and their defaults ----------------------------------------------


def test_a_task_is_created_with_its_fields_and_assigned_to_the_actor(sales1, team1):
    contact = make_contact(sales1, first_name="Greta", last_name="Muster")
    created = task(
        sales1,
        title="Angebot nachfassen",
        description="Rabatt ansprechen",
        priority="high",
        due_at="2026-12-07T10:00",
        remind_at="2026-12-07T09:30",
        related=[{"type": "contact", "id": contact.pk}],
    )
    created.refresh_from_db()
    assert created.kind == ActivityKind.TASK
    assert created.owner == sales1
    assert created.created_by == sales1
    assert created.status == ActivityStatus.OPEN
    assert created.priority == "high"
    assert created.due_at == utc(2026, 12, 7, 9, 0)  # 10:00 in Berlin (CET)
    assert created.remind_at == utc(2026, 12, 7, 8, 30)
    assert created.completed_at is None
    assert created.version == 1
    assert links(created) == [("contact", contact.pk)]


def test_an_own_task_is_in_the_assignees_team(sales1, team1):
    created = task(sales1)
    assert created.team == team1
    colleague = make_user("sales", team1)
    assert selectors.activity_detail(colleague, created.pk) == created


def test_a_task_for_a_colleague_is_in_the_colleagues_team(sales1, sales2, team2):
    assert task(sales1, assignee_id=sales2.pk).team == team2


def test_a_task_without_priority_or_status_is_open_and_normal(sales1):
    created = task(sales1)
    assert (created.status, created.priority) == (ActivityStatus.OPEN, "normal")
    assert created.due_at is None
    assert created.is_follow_up is False


def test_a_task_created_as_done_is_completed_at_once(sales1):
    created = task(sales1, status="done")
    assert created.status == ActivityStatus.DONE
    assert created.completed_at is not None
    assert created.completed_by == sales1


def test_a_task_may_be_assigned_to_a_colleague(sales1, team1):
    colleague = make_user("sales", team1, full_name="Kai Kollege")
    created = task(sales1, assignee_id=colleague.pk)
    assert created.owner == colleague
    assert created.created_by == sales1
    assert selectors.activity_detail(colleague, created.pk) == created


def test_an_appointment_ends_an_hour_after_its_start_by_default(sales1):
    created = appointment(sales1, start_at="2026-12-10T10:00", location="Hamburg, Hafen 1")
    created.refresh_from_db()
    assert created.start_at == utc(2026, 12, 10, 9, 0)
    assert created.end_at == utc(2026, 12, 10, 10, 0)
    assert created.location == "Hamburg, Hafen 1"
    assert created.owner == sales1


def test_an_appointment_keeps_the_end_it_is_given(sales1):
    created = appointment(sales1, start_at="2026-12-10T10:00", end_at="2026-12-10T12:30")
    created.refresh_from_db()
    assert created.end_at - created.start_at == dt.timedelta(hours=2, minutes=30)


def test_an_appointment_without_start_is_refused(sales1):
    fields = refused(sales1, "appointment", title="Ohne Zeit")
    assert set(fields) == {"start_at"}


def test_an_all_day_appointment_covers_the_whole_local_day(sales1):
    created = appointment(sales1, start_at="2026-12-10T15:00", all_day=True)
    created.refresh_from_db()
    assert created.all_day is True
    assert (created.first_day, created.last_day) == (dt.date(2026, 12, 10), dt.date(2026, 12, 10))
    # Stored as a date: midnight UTC to midnight UTC, the same day for every viewer.
    assert (created.start_at, created.end_at) == (utc(2026, 12, 10, 0, 0), utc(2026, 12, 11, 0, 0))


def test_an_all_day_appointment_over_several_days_includes_its_last_day(sales1):
    created = appointment(
        sales1, start_at="2026-12-10", end_at="2026-12-12T10:00", all_day=True, title="Messe"
    )
    created.refresh_from_db()
    assert (created.first_day, created.last_day) == (dt.date(2026, 12, 10), dt.date(2026, 12, 12))
    assert created.end_at == utc(2026, 12, 13, 0, 0)


def test_an_all_day_appointment_covers_the_day_in_the_actors_zone(team1):
    """The date is the one of the actor's calendar: 22:00 on the 3rd in New York is the 4th
    in UTC, and the appointment is on the 3rd."""
    new_yorker = make_user("sales", team1, time_zone="America/New_York")
    created = appointment(new_yorker, start_at="2026-07-03T22:00", all_day=True)
    created.refresh_from_db()
    assert (created.first_day, created.last_day) == (dt.date(2026, 7, 3), dt.date(2026, 7, 3))


@pytest.mark.parametrize("zone", ["America/Los_Angeles", "Pacific/Auckland"])
def test_editing_an_all_day_appointment_far_from_utc_keeps_its_dates(team1, zone):
    """Its stored boundaries are dates: changing the title, or turning an appointment into an
    all-day one and back, as a user far from UTC does not move it a day."""
    user = make_user("sales", team1, time_zone=zone)
    created = appointment(user, start_at="2026-12-10T09:00", end_at="2026-12-11T09:00",
                          all_day=True)  # fmt: skip
    with timezone.override(zoneinfo.ZoneInfo(zone)):
        changed = services.activity_update(
            actor=user, activity_id=created.pk, data={"title": "Messe"}
        )
        assert (changed.first_day, changed.last_day) == (
            dt.date(2026, 12, 10),
            dt.date(2026, 12, 11),
        )
        changed = services.activity_update(
            actor=user, activity_id=created.pk, data={"all_day": False}
        )
        # Out of the all-day row without a time: its first day from midnight, an hour long.
        assert changed.start_at == dt.datetime(2026, 12, 10, tzinfo=zoneinfo.ZoneInfo(zone))
        assert changed.end_at - changed.start_at == dt.timedelta(hours=1)
        changed = services.activity_update(
            actor=user, activity_id=created.pk, data={"all_day": True}
        )
        assert (changed.first_day, changed.last_day) == (
            dt.date(2026, 12, 10),
            dt.date(2026, 12, 10),
        )


def test_an_appointment_with_attendees_invites_users_and_contacts(sales1, team1):
    colleague = make_user("sales", team1)
    contact = make_contact(sales1, first_name="Greta", last_name="Muster")
    created = appointment(
        sales1,
        attendees=[{"type": "user", "id": colleague.pk}, {"type": "contact", "id": contact.pk}],
        video_url="meet.example.com/abc",
    )
    invited = {(a.user_id, a.contact_id, a.response) for a in created.attendees.all()}
    assert invited == {
        (colleague.pk, None, AttendeeResponse.NEEDS_ACTION),
        (None, contact.pk, AttendeeResponse.NEEDS_ACTION),
    }
    assert created.video_url == "https://meet.example.com/abc"


def test_a_call_log_gets_a_title_a_direction_and_the_time_it_was_logged(sales1):
    before = timezone.now()
    created = services.activity_create(
        actor=sales1,
        kind="call",
        data={"phone_number": "030 1234567", "duration_seconds": 300, "call_result": "reached"},
    )
    created.refresh_from_db()
    assert created.title == str(ActivityKind.CALL.label)
    assert created.direction == "out"
    assert created.phone_number == "+49301234567"
    assert created.duration_seconds == 300
    assert created.call_result == "reached"
    assert before <= created.start_at <= timezone.now()
    assert created.owner == sales1


def test_a_call_is_titled_by_the_first_line_of_its_description(sales1):
    created = services.activity_create(
        actor=sales1,
        kind="call",
        data={
            "description": "\nRückruf wegen Angebot\nKunde will 5 % Rabatt",
            "direction": "in",
            "call_result": "reached",
        },
    )
    assert created.title == "Rückruf wegen Angebot"
    assert created.direction == "in"


def test_a_note_is_titled_by_its_first_line(sales1):
    contact = make_contact(sales1)
    created = services.activity_create(
        actor=sales1,
        kind="note",
        data={
            "description": "Kunde plant Umzug nach Köln\nAb März neue Adresse",
            "start_at": "2026-12-01T08:15",
            "related": [{"type": "contact", "id": contact.pk}],
        },
    )
    assert created.title == "Kunde plant Umzug nach Köln"
    assert created.start_at == utc(2026, 12, 1, 7, 15)
    assert links(created) == [("contact", contact.pk)]


def test_a_note_without_text_is_titled_note(sales1):
    created = services.activity_create(actor=sales1, kind="note", data={})
    assert created.title == str(ActivityKind.NOTE.label)


def test_a_long_first_line_makes_a_title_of_300_characters(sales1):
    created = services.activity_create(actor=sales1, kind="note", data={"description": "x" * 400})
    assert created.title == "x" * 300


def test_an_unknown_kind_is_not_found(sales1):
    with pytest.raises(NotFound):
        services.activity_create(actor=sales1, kind="meeting", data={"title": "x"})


def test_unicode_titles_round_trip(sales1):
    title = "Müller anrufen 李 📞 – Übergabe ✓"
    created = task(sales1, title=title, description="Grüße an Frau Çelik 😀")
    created.refresh_from_db()
    assert created.title == title
    assert created.description == "Grüße an Frau Çelik 😀"
    assert selectors.filtered(sales1, {"q": "李"}).get() == created


def test_a_title_is_stripped(sales1):
    assert task(sales1, title="  Anrufen  ").title == "Anrufen"


def test_a_title_of_300_characters_is_fine(sales1):
    assert len(task(sales1, title="a" * 300).title) == 300


# --- bad input: each error under its field, nothing written ----------------------------------


def test_an_unknown_field_is_refused(sales1):
    fields = refused(sales1, "task", title="x", colour="red")
    assert set(fields) == {"colour"}


def test_a_field_of_another_kind_is_refused(sales1):
    fields = refused(sales1, "task", title="x", location="Hamburg")
    assert set(fields) == {"location"}


def test_a_task_has_no_attendees(sales1, team1):
    colleague = make_user("sales", team1)
    fields = refused(sales1, "task", title="x", attendees=[{"type": "user", "id": colleague.pk}])
    assert set(fields) == {"attendees"}


@pytest.mark.parametrize("title", ["", "   ", None])
def test_a_task_needs_a_title(sales1, title):
    assert set(refused(sales1, "task", title=title)) == {"title"}


def test_an_appointment_needs_a_title(sales1):
    fields = refused(sales1, "appointment", title="", start_at="2026-12-10T10:00")
    assert set(fields) == {"title"}


@pytest.mark.parametrize("length", [301, 5000])
def test_a_huge_title_is_refused(sales1, length):
    fields = refused(sales1, "task", title="a" * length)
    assert set(fields) == {"title"}
    assert str(length) in fields["title"][0]


def test_a_title_that_is_not_text_is_refused(sales1):
    assert set(refused(sales1, "task", title=["x"])) == {"title"}


@pytest.mark.parametrize(
    "due", ["morgen", "2026-13-45", "2026-13-45T10:00", "2026-02-30T10:00", "10:00", "tomorrow 9am"]
)
def test_an_unparseable_due_date_is_refused(sales1, due):
    fields = refused(sales1, "task", title="x", due_at=due)
    assert set(fields) == {"due_at"}


@pytest.mark.parametrize(
    "due", ["1899-12-31T12:00", "0001-01-01T00:00", "2201-01-01T00:00", "9999-12-31T23:59"]
)
def test_a_year_outside_1900_to_2200_is_refused(sales1, due):
    fields = refused(sales1, "task", title="x", due_at=due)
    assert set(fields) == {"due_at"}


@pytest.mark.parametrize("due", ["1900-01-01T12:00", "2200-12-31T12:00"])
def test_the_years_1900_and_2200_are_fine(sales1, due):
    assert task(sales1, due_at=due).due_at.year in (1900, 2200)


def test_an_appointment_ending_before_its_start_is_refused(sales1):
    fields = refused(
        sales1,
        "appointment",
        title="x",
        start_at="2026-12-10T10:00",
        end_at="2026-12-10T09:59",
    )
    assert set(fields) == {"end_at"}


def test_an_unparseable_start_and_end_are_both_reported(sales1):
    fields = refused(sales1, "appointment", title="x", start_at="morgen", end_at="übermorgen")
    assert set(fields) == {"start_at", "end_at"}


def test_every_error_is_reported_at_once(sales1):
    fields = refused(
        sales1,
        "task",
        title="",
        priority="urgent",
        status="maybe",
        due_at="morgen",
        colour="red",
        related=[{"type": "banana", "id": 1}],
    )
    assert set(fields) == {"title", "priority", "status", "due_at", "colour", "related.0.type"}


def test_a_bad_call_is_refused_field_by_field(sales1):
    fields = refused(
        sales1,
        "call",
        phone_number="keine Nummer",
        duration_seconds=-5,
        direction="sideways",
        call_result="great",
    )
    assert set(fields) == {"phone_number", "duration_seconds", "direction", "call_result"}


def test_data_that_is_not_an_object_is_refused(sales1):
    with pytest.raises(ValidationFailed):
        services.activity_create(actor=sales1, kind="task", data=["title", "x"])


def test_a_related_record_of_an_unregistered_type_is_refused(sales1):
    fields = refused(sales1, "task", title="x", related=[{"type": "invoice", "id": 1}])
    assert set(fields) == {"related.0.type"}


def test_an_activity_cannot_be_related_to_an_activity(sales1):
    other = task(sales1)
    fields = refused(sales1, "task", title="x", related=[{"type": "activity", "id": other.pk}])
    assert set(fields) == {"related.0.type"}


def test_a_related_record_that_does_not_exist_is_refused(sales1):
    contact = make_contact(sales1)
    fields = refused(
        sales1,
        "task",
        title="x",
        related=[{"type": "contact", "id": contact.pk}, {"type": "contact", "id": 10**9}],
    )
    assert set(fields) == {"related.1.id"}


@pytest.mark.parametrize("pk", ["abc", 0, -1, 2**64, True])
def test_a_related_record_with_a_bad_id_is_refused(sales1, pk):
    fields = refused(sales1, "task", title="x", related=[{"type": "contact", "id": pk}])
    assert set(fields) == {"related.0.id"}


@pytest.mark.parametrize(
    "related",
    [{"type": "contact", "id": 1}, "contact:1", [["contact", 1]], [{"type": "contact", "x": 1}]],
)
def test_related_records_in_the_wrong_shape_are_refused(sales1, related):
    fields = refused(sales1, "task", title="x", related=related)
    assert set(fields) <= {"related", "related.0"} and fields


def test_a_private_contact_of_another_team_cannot_be_related(sales1, sales2):
    secret = make_contact(sales2, first_name="Gerda", last_name="Geheim")
    mine = make_contact(sales1)
    count = Activity.objects.count()
    fields = refused(
        sales1,
        "task",
        title="Ausspähen",
        related=[{"type": "contact", "id": mine.pk}, {"type": "contact", "id": secret.pk}],
    )
    assert set(fields) == {"related.1.id"}
    assert Activity.objects.count() == count
    assert not ActivityLink.objects.filter(entity="contact", object_id=secret.pk).exists()


def test_too_many_related_records_are_refused(sales1):
    contact = make_contact(sales1)
    fields = refused(
        sales1, "task", title="x", related=[{"type": "contact", "id": contact.pk}] * 21
    )
    assert set(fields) == {"related"}


def test_duplicate_related_records_collapse_into_one(sales1):
    contact = make_contact(sales1)
    created = task(
        sales1,
        related=[
            {"type": "contact", "id": contact.pk},
            {"type": "contact", "id": str(contact.pk)},
            {"type": "contact", "id": contact.pk},
        ],
    )
    assert links(created) == [("contact", contact.pk)]


def test_records_of_several_types_can_be_related(sales1):
    contact = make_contact(sales1)
    deal = make_opportunity(sales1)
    lead = make_lead(sales1)
    created = task(
        sales1,
        related=[
            {"type": "contact", "id": contact.pk},
            {"type": "opportunity", "id": deal.pk},
            {"type": "lead", "id": lead.pk},
            {"type": "account", "id": deal.account_id},
        ],
    )
    assert links(created) == sorted(
        [
            ("contact", contact.pk),
            ("opportunity", deal.pk),
            ("lead", lead.pk),
            ("account", deal.account_id),
        ]
    )


def test_a_contact_of_another_team_cannot_be_invited(sales1, sales2):
    stranger = make_contact(sales2)
    fields = refused(
        sales1,
        "appointment",
        title="x",
        start_at="2026-12-10T10:00",
        attendees=[{"type": "user", "id": sales1.pk}, {"type": "contact", "id": stranger.pk}],
    )
    assert set(fields) == {"attendees.1.id"}


def test_a_user_of_another_team_can_be_invited(sales1, sales2):
    created = appointment(sales1, attendees=[{"type": "user", "id": sales2.pk}])
    assert [a.user_id for a in created.attendees.all()] == [sales2.pk]


def test_an_attendee_of_an_unknown_type_is_reported_by_its_position(sales1):
    fields = refused(
        sales1,
        "appointment",
        title="x",
        start_at="2026-12-10T10:00",
        attendees=[{"type": "user", "id": sales1.pk}, {"type": "robot", "id": 1}],
    )
    assert set(fields) == {"attendees.1.type"}


def test_an_inactive_user_cannot_be_invited(sales1, team1):
    gone = make_user("sales", team1, is_active=False)
    fields = refused(
        sales1,
        "appointment",
        title="x",
        start_at="2026-12-10T10:00",
        attendees=[{"type": "user", "id": gone.pk}],
    )
    assert set(fields) == {"attendees.0.id"}


def test_an_inactive_user_cannot_be_the_assignee(sales1, team1):
    gone = make_user("sales", team1, is_active=False)
    fields = refused(sales1, "task", title="x", assignee_id=gone.pk)
    assert set(fields) == {"assignee_id"}


@pytest.mark.parametrize("pk", ["abc", 10**9])
def test_an_unknown_assignee_or_team_is_refused(sales1, pk):
    assert set(refused(sales1, "task", title="x", assignee_id=pk)) == {"assignee_id"}
    assert set(refused(sales1, "task", title="x", team_id=pk)) == {"team_id"}


def test_duplicate_attendees_collapse_into_one(sales1, team1):
    colleague = make_user("sales", team1)
    contact = make_contact(sales1)
    created = appointment(
        sales1,
        attendees=[
            {"type": "user", "id": colleague.pk},
            {"type": "contact", "id": contact.pk},
            {"type": "user", "id": str(colleague.pk)},
            {"type": "contact", "id": contact.pk},
        ],
    )
    assert created.attendees.count() == 2


def test_the_dotted_paths_name_the_bad_entries(sales1, sales2):
    secret = make_contact(sales2)
    mine = make_contact(sales1)
    fields = refused(
        sales1,
        "appointment",
        title="x",
        start_at="2026-12-10T10:00",
        end_at="2026-12-10T08:00",
        related=[{"type": "contact", "id": mine.pk}, {"type": "contact", "id": secret.pk}],
        attendees=[{"type": "user", "id": sales1.pk}, {"type": "team", "id": 1}],
    )
    assert set(fields) == {"end_at", "related.1.id", "attendees.1.type"}
    assert all(isinstance(m, str) and m for messages in fields.values() for m in messages)


# --- update ------------------------------------------------------------------------------------


def test_an_update_changes_the_given_fields_and_keeps_the_others(sales1):
    created = task(sales1, description="Alt", due_at="2026-12-07T10:00", priority="high")
    updated = services.activity_update(
        actor=sales1, activity_id=created.pk, data={"title": "Neu", "version": 1}
    )
    updated.refresh_from_db()
    assert updated.title == "Neu"
    assert updated.description == "Alt"
    assert updated.priority == "high"
    assert updated.due_at == utc(2026, 12, 7, 9, 0)
    assert updated.version == 2


def test_an_update_with_a_stale_version_is_a_conflict_and_changes_nothing(sales1):
    created = task(sales1, title="Erste Fassung")
    services.activity_update(actor=sales1, activity_id=created.pk, data={"title": "Zweite"})
    sizes = table_sizes()
    with pytest.raises(Conflict) as exc:
        services.activity_update(
            actor=sales1, activity_id=created.pk, data={"title": "Dritte"}, version=1
        )
    assert exc.value.current_version == 2
    with pytest.raises(Conflict):
        services.activity_update(
            actor=sales1, activity_id=created.pk, data={"title": "Dritte", "version": "1"}
        )
    created.refresh_from_db()
    assert (created.title, created.version) == ("Zweite", 2)
    assert table_sizes() == sizes


def test_an_update_without_changes_keeps_the_version_and_the_history(sales1):
    created = task(sales1, title="Gleich", priority="high")
    updated = services.activity_update(
        actor=sales1,
        activity_id=created.pk,
        data={"title": "Gleich", "priority": "high", "version": 1},
    )
    assert updated.version == 1
    assert history(created) == ["create"]


def test_resending_the_same_times_in_local_form_is_no_change(sales1):
    """A form sends every field back, times in the user's zone; only real changes count."""
    created = task(sales1, due_at="2026-12-07T10:00", remind_at="2026-12-07T09:30")
    updated = services.activity_update(
        actor=sales1,
        activity_id=created.pk,
        data={
            "title": created.title,
            "due_at": "2026-12-07T10:00",
            "remind_at": "2026-12-07T09:30",
        },
    )
    assert updated.version == 1
    assert history(created) == ["create"]


def test_a_bad_update_is_refused_and_changes_nothing(sales1):
    created = task(sales1, title="Bleibt")
    sizes = table_sizes()
    with pytest.raises(ValidationFailed) as exc:
        services.activity_update(
            actor=sales1,
            activity_id=created.pk,
            data={"title": "Neu", "due_at": "2026-13-45", "colour": "red"},
        )
    assert set(exc.value.fields) == {"due_at", "colour"}
    created.refresh_from_db()
    assert (created.title, created.version) == ("Bleibt", 1)
    assert table_sizes() == sizes


def test_an_update_may_not_empty_a_title(sales1):
    created = task(sales1, title="Bleibt")
    with pytest.raises(ValidationFailed) as exc:
        services.activity_update(actor=sales1, activity_id=created.pk, data={"title": " "})
    assert set(exc.value.fields) == {"title"}


def test_setting_a_task_done_records_when_and_by_whom(sales1):
    created = task(sales1)
    before = timezone.now()
    updated = services.activity_update(
        actor=sales1, activity_id=created.pk, data={"status": "done"}
    )
    updated.refresh_from_db()
    assert updated.status == ActivityStatus.DONE
    assert before <= updated.completed_at <= timezone.now()
    assert updated.completed_by == sales1


def test_reopening_a_task_clears_its_completion(sales1):
    created = task(sales1, status="done")
    updated = services.activity_update(
        actor=sales1, activity_id=created.pk, data={"status": "open"}
    )
    updated.refresh_from_db()
    assert updated.completed_at is None
    assert updated.completed_by is None


def test_cancelling_a_task_does_not_complete_it(sales1):
    created = task(sales1)
    updated = services.activity_update(
        actor=sales1, activity_id=created.pk, data={"status": "cancelled"}
    )
    assert updated.status == ActivityStatus.CANCELLED
    assert updated.completed_at is None


def test_the_assignee_can_be_changed(sales1, team1):
    colleague = make_user("sales", team1, full_name="Kai Kollege")
    created = task(sales1)
    services.activity_update(
        actor=sales1, activity_id=created.pk, data={"assignee_id": colleague.pk}
    )
    created.refresh_from_db()
    assert created.owner == colleague
    assert list(selectors.filtered(colleague, {"assignee": "me"})) == [created]
    assert list(selectors.filtered(sales1, {"assignee": "me"})) == []


def test_a_task_handed_to_another_team_is_seen_by_its_new_assignee(sales1, sales2):
    created = task(sales1)
    services.activity_update(actor=sales1, activity_id=created.pk, data={"assignee_id": sales2.pk})
    assert selectors.activity_detail(sales2, created.pk) == created


def test_an_inactive_user_cannot_become_the_assignee(sales1, team1):
    gone = make_user("sales", team1, is_active=False)
    created = task(sales1)
    with pytest.raises(ValidationFailed) as exc:
        services.activity_update(
            actor=sales1, activity_id=created.pk, data={"assignee_id": gone.pk}
        )
    assert set(exc.value.fields) == {"assignee_id"}
    created.refresh_from_db()
    assert created.owner == sales1


def test_a_task_needs_an_assignee_or_a_team(sales1):
    created = task(sales1, team_id=None)
    with pytest.raises(ValidationFailed) as exc:
        services.activity_update(
            actor=sales1, activity_id=created.pk, data={"assignee_id": None, "team_id": None}
        )
    assert set(exc.value.fields) == {"assignee_id"}


def test_an_update_replaces_the_related_records(sales1):
    first, second = make_contact(sales1), make_contact(sales1)
    created = task(sales1, related=[{"type": "contact", "id": first.pk}])
    services.activity_update(
        actor=sales1,
        activity_id=created.pk,
        data={"related": [{"type": "contact", "id": second.pk}]},
    )
    assert links(created) == [("contact", second.pk)]
    services.activity_update(actor=sales1, activity_id=created.pk, data={"title": "Nur Titel"})
    assert links(created) == [("contact", second.pk)]


def test_an_update_replaces_the_attendees_and_keeps_the_answers_of_those_who_stay(sales1, team1):
    stays, goes, comes = (
        make_user("sales", team1),
        make_user("sales", team1),
        make_user("sales", team1),
    )
    created = appointment(
        sales1, attendees=[{"type": "user", "id": stays.pk}, {"type": "user", "id": goes.pk}]
    )
    Attendee.objects.filter(activity=created, user=stays).update(response=AttendeeResponse.ACCEPTED)
    services.activity_update(
        actor=sales1,
        activity_id=created.pk,
        data={"attendees": [{"type": "user", "id": stays.pk}, {"type": "user", "id": comes.pk}]},
    )
    answers = dict(created.attendees.values_list("user_id", "response"))
    assert answers == {stays.pk: AttendeeResponse.ACCEPTED, comes.pk: AttendeeResponse.NEEDS_ACTION}


def test_an_update_cannot_relate_a_record_the_actor_may_not_see(sales1, sales2):
    secret = make_contact(sales2)
    created = task(sales1)
    with pytest.raises(ValidationFailed) as exc:
        services.activity_update(
            actor=sales1,
            activity_id=created.pk,
            data={"related": [{"type": "contact", "id": secret.pk}]},
        )
    assert set(exc.value.fields) == {"related.0.id"}
    assert links(created) == []


def test_an_appointment_cannot_be_moved_to_end_before_it_starts(sales1):
    created = appointment(sales1, start_at="2026-12-10T10:00", end_at="2026-12-10T11:00")
    with pytest.raises(ValidationFailed) as exc:
        services.activity_update(
            actor=sales1, activity_id=created.pk, data={"end_at": "2026-12-10T09:00"}
        )
    assert set(exc.value.fields) == {"end_at"}


def test_an_update_of_one_kind_does_not_find_another(sales1):
    created = task(sales1)
    with pytest.raises(NotFound):
        services.activity_update(
            actor=sales1, activity_id=created.pk, data={"title": "x"}, kind="appointment"
        )


# --- team queues and visibility -------------------------------------------------------------


def test_a_task_in_a_team_queue_has_no_assignee(sales1, team1):
    created = task(sales1, team_id=team1.pk)
    assert created.owner is None
    assert created.team == team1


def test_a_team_queue_task_is_seen_and_worked_by_the_team_only(sales1, sales2, team1):
    colleague = make_user("sales", team1)
    created = task(sales1, team_id=team1.pk, title="Für das Team")
    assert selectors.activity_detail(colleague, created.pk) == created
    assert list(selectors.filtered(colleague, {"team": team1.pk})) == [created]
    services.task_complete(actor=colleague, task_id=created.pk)
    with pytest.raises(NotFound):
        selectors.activity_detail(sales2, created.pk)
    assert list(selectors.filtered(sales2, {})) == []


def test_another_teams_private_task_is_not_found_for_anything(sales1, sales2):
    secret = task(sales2, title="Geheim", due_at="2026-12-07T10:00")
    sizes = table_sizes()
    with pytest.raises(NotFound):
        selectors.activity_detail(sales1, secret.pk)
    with pytest.raises(NotFound):
        services.activity_update(actor=sales1, activity_id=secret.pk, data={"title": "Meins"})
    with pytest.raises(NotFound):
        services.task_complete(actor=sales1, task_id=secret.pk)
    with pytest.raises(NotFound):
        services.activity_delete(actor=sales1, activity_id=secret.pk)
    secret.refresh_from_db()
    assert (secret.title, secret.status, secret.deleted_at) == ("Geheim", "open", None)
    assert table_sizes() == sizes
    assert secret not in selectors.filtered(sales1, {})


def test_an_invited_user_sees_the_appointment_but_cannot_change_it(sales1, sales2):
    meeting = appointment(
        sales2, title="Jahresgespräch", attendees=[{"type": "user", "id": sales1.pk}]
    )
    assert selectors.activity_detail(sales1, meeting.pk) == meeting
    assert list(selectors.filtered(sales1, {})) == [meeting]
    with pytest.raises(NotFound):
        services.activity_update(actor=sales1, activity_id=meeting.pk, data={"title": "Anders"})
    with pytest.raises(NotFound):
        services.activity_delete(actor=sales1, activity_id=meeting.pk)
    meeting.refresh_from_db()
    assert (meeting.title, meeting.deleted_at) == ("Jahresgespräch", None)


def test_an_administrator_sees_and_changes_everything(admin, sales1, sales2):
    first, second = task(sales1), task(sales2)
    assert set(selectors.filtered(admin, {})) == {first, second}
    services.activity_update(actor=admin, activity_id=second.pk, data={"priority": "high"})
    second.refresh_from_db()
    assert second.priority == "high"


def test_a_manager_sees_every_team(manager, sales1, sales2):
    first, second = task(sales1), task(sales2)
    assert set(selectors.filtered(manager, {})) == {first, second}


def test_a_read_only_user_may_not_create_or_change(reader, sales1):
    from farley.core.errors import Forbidden

    with pytest.raises(Forbidden):
        task(reader)
    created = task(sales1)
    with pytest.raises(Forbidden):
        services.activity_update(actor=reader, activity_id=created.pk, data={"title": "x"})


# --- follow-ups -------------------------------------------------------------------------------


def test_a_follow_up_on_a_contact_is_a_task_reminding_the_actor(sales1):
    contact = make_contact(sales1, first_name="Greta", last_name="Muster")
    follow_up = services.follow_up_create(
        actor=sales1, entity="contact", object_id=contact.pk, data={"due_at": "2026-12-14T09:00"}
    )
    follow_up.refresh_from_db()
    assert follow_up.kind == ActivityKind.TASK
    assert follow_up.is_follow_up is True
    assert follow_up.owner == sales1
    assert follow_up.due_at == utc(2026, 12, 14, 8, 0)
    assert follow_up.remind_at == follow_up.due_at
    assert links(follow_up) == [("contact", contact.pk)]
    assert "Muster" in follow_up.title


def test_a_follow_up_on_an_opportunity_has_its_own_title(sales1):
    deal = make_opportunity(sales1, name="Großauftrag 2027")
    follow_up = services.follow_up_create(
        actor=sales1,
        entity="opportunity",
        object_id=deal.pk,
        data={"due_at": "2026-12-14T09:00", "title": "Nach Budget fragen", "description": "Q1"},
    )
    assert follow_up.title == "Nach Budget fragen"
    assert follow_up.description == "Q1"
    assert follow_up.is_follow_up is True
    assert follow_up.remind_at == follow_up.due_at
    assert links(follow_up) == [("opportunity", deal.pk)]
    assert list(selectors.of_record(sales1, "opportunity", deal.pk)) == [follow_up]


def test_a_follow_up_on_a_record_the_actor_cannot_see_is_not_found(sales1, sales2):
    secret = make_contact(sales2)
    deal = make_opportunity(sales2)
    sizes = table_sizes()
    with pytest.raises(NotFound):
        services.follow_up_create(
            actor=sales1, entity="contact", object_id=secret.pk, data={"due_at": "2026-12-14"}
        )
    with pytest.raises(NotFound):
        services.follow_up_create(
            actor=sales1, entity="opportunity", object_id=deal.pk, data={"due_at": "2026-12-14"}
        )
    assert table_sizes() == sizes


@pytest.mark.parametrize("entity", ["invoice", "activity"])
def test_a_follow_up_on_an_unknown_type_of_record_is_not_found(sales1, entity):
    with pytest.raises(NotFound):
        services.follow_up_create(
            actor=sales1, entity=entity, object_id=1, data={"due_at": "2026-12-14"}
        )


@pytest.mark.parametrize("due", [None, "", "morgen", "2301-01-01T09:00"])
def test_a_follow_up_needs_a_valid_due_date(sales1, due):
    contact = make_contact(sales1)
    sizes = table_sizes()
    with pytest.raises(ValidationFailed) as exc:
        services.follow_up_create(
            actor=sales1, entity="contact", object_id=contact.pk, data={"due_at": due}
        )
    assert set(exc.value.fields) == {"due_at"}
    assert table_sizes() == sizes


# --- completing tasks -------------------------------------------------------------------------


def test_completing_a_task_appends_the_outcome(sales1):
    created = task(sales1, description="Preis nennen")
    done, following = services.task_complete(
        actor=sales1, task_id=created.pk, data={"outcome": "Erreicht, will Angebot"}
    )
    done.refresh_from_db()
    assert following is None
    assert done.status == ActivityStatus.DONE
    assert done.description == "Preis nennen\n\nErreicht, will Angebot"
    assert done.completed_by == sales1
    assert done.completed_at is not None
    assert done.version == 2


def test_completing_a_task_with_a_next_task_about_the_same_records(sales1):
    contact = make_contact(sales1)
    deal = make_opportunity(sales1)
    related = [{"type": "contact", "id": contact.pk}, {"type": "opportunity", "id": deal.pk}]
    created = task(sales1, due_at="2026-12-07T10:00", related=related)
    _done, following = services.task_complete(
        actor=sales1,
        task_id=created.pk,
        data={"next": {"title": "Wieder anrufen", "due_at": "2026-12-21T10:00"}},
    )
    assert following.title == "Wieder anrufen"
    assert following.status == ActivityStatus.OPEN
    assert following.owner == sales1
    assert following.due_at == utc(2026, 12, 21, 9, 0)
    assert links(following) == links(created)


def test_the_next_task_of_a_team_queue_task_stays_in_the_queue(sales1, team1):
    created = task(sales1, team_id=team1.pk)
    _done, following = services.task_complete(
        actor=sales1, task_id=created.pk, data={"next": {"title": "Weiter", "due_at": "2026-12-21"}}
    )
    assert (following.owner, following.team) == (None, team1)


def test_errors_in_the_next_task_are_reported_under_next_and_nothing_is_written(sales1):
    created = task(sales1, description="Vorher")
    sizes = table_sizes()
    with pytest.raises(ValidationFailed) as exc:
        services.task_complete(
            actor=sales1,
            task_id=created.pk,
            data={"outcome": "Erreicht", "next": {"title": "", "due_at": "morgen", "colour": 1}},
        )
    assert set(exc.value.fields) == {"next.title", "next.due_at", "next.colour"}
    created.refresh_from_db()
    assert created.status == ActivityStatus.OPEN
    assert created.description == "Vorher"
    assert created.completed_at is None
    assert table_sizes() == sizes


def test_a_next_task_that_is_not_an_object_is_refused(sales1):
    created = task(sales1)
    with pytest.raises(ValidationFailed) as exc:
        services.task_complete(actor=sales1, task_id=created.pk, data={"next": "Morgen anrufen"})
    assert set(exc.value.fields) == {"next"}
    created.refresh_from_db()
    assert created.status == ActivityStatus.OPEN


def test_a_task_cannot_be_completed_twice(sales1):
    created = task(sales1)
    services.task_complete(actor=sales1, task_id=created.pk)
    sizes = table_sizes()
    with pytest.raises(ValidationFailed) as exc:
        services.task_complete(
            actor=sales1, task_id=created.pk, data={"next": {"title": "Noch eine"}}
        )
    assert set(exc.value.fields) == {"status"}
    assert table_sizes() == sizes


def test_a_cancelled_task_cannot_be_completed(sales1):
    created = task(sales1, status="cancelled")
    with pytest.raises(ValidationFailed):
        services.task_complete(actor=sales1, task_id=created.pk)


def test_completing_with_a_stale_version_is_a_conflict(sales1):
    created = task(sales1)
    services.activity_update(actor=sales1, activity_id=created.pk, data={"title": "Geändert"})
    with pytest.raises(Conflict):
        services.task_complete(actor=sales1, task_id=created.pk, version=1)
    created.refresh_from_db()
    assert created.status == ActivityStatus.OPEN


def test_only_tasks_are_completed(sales1):
    meeting = appointment(sales1)
    with pytest.raises(NotFound):
        services.task_complete(actor=sales1, task_id=meeting.pk)


def test_an_overlong_outcome_is_refused(sales1):
    created = task(sales1)
    with pytest.raises(ValidationFailed) as exc:
        services.task_complete(actor=sales1, task_id=created.pk, data={"outcome": "x" * 20001})
    assert set(exc.value.fields) == {"outcome"}


# --- time zones -------------------------------------------------------------------------------


def test_a_new_yorkers_local_time_is_stored_in_utc(team1):
    new_yorker = make_user("sales", team1, time_zone="America/New_York")
    created = appointment(new_yorker, start_at="2026-12-10T09:00")
    created.refresh_from_db()
    assert created.start_at == utc(2026, 12, 10, 14, 0)
    assert created.end_at == utc(2026, 12, 10, 15, 0)


def test_a_berliners_local_time_is_stored_in_utc(team1):
    berliner = make_user("sales", team1, time_zone="Europe/Berlin")
    created = appointment(berliner, start_at="2026-12-10T15:00")
    created.refresh_from_db()
    assert created.start_at == utc(2026, 12, 10, 14, 0)


def test_summer_time_is_taken_into_account(team1):
    berliner = make_user("sales", team1, time_zone="Europe/Berlin")
    created = task(berliner, due_at="2026-07-10T15:00")
    created.refresh_from_db()
    assert created.due_at == utc(2026, 7, 10, 13, 0)


def test_a_user_without_a_zone_has_the_installations(sales1):
    assert sales1.time_zone == ""
    created = task(sales1, due_at="2026-12-10T15:00")
    created.refresh_from_db()
    assert created.due_at == utc(2026, 12, 10, 14, 0)  # Europe/Berlin


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-10T09:00+05:30", utc(2026, 12, 10, 3, 30)),
        ("2026-12-10T09:00Z", utc(2026, 12, 10, 9, 0)),
        ("2026-12-10T09:00:00-08:00", utc(2026, 12, 10, 17, 0)),
        ("2026-12-10T09:00+00:00", utc(2026, 12, 10, 9, 0)),
    ],
)
def test_times_with_an_offset_are_taken_as_given(team1, text, expected):
    new_yorker = make_user("sales", team1, time_zone="America/New_York")
    created = appointment(new_yorker, start_at=text)
    created.refresh_from_db()
    assert created.start_at == expected


def test_the_actors_zone_wins_over_the_zone_that_is_active(team1):
    """A job or another user's request may have another zone active: the actor's counts."""
    new_yorker = make_user("sales", team1, time_zone="America/New_York")
    with timezone.override(zoneinfo.ZoneInfo("Asia/Tokyo")):
        created = task(new_yorker, due_at="2026-12-10T09:00")
        updated = services.activity_update(
            actor=new_yorker, activity_id=created.pk, data={"remind_at": "2026-12-10T08:00"}
        )
    updated.refresh_from_db()
    assert updated.due_at == utc(2026, 12, 10, 14, 0)
    assert updated.remind_at == utc(2026, 12, 10, 13, 0)


def test_a_follow_up_date_is_the_actors_local_time(team1):
    new_yorker = make_user("sales", team1, time_zone="America/New_York")
    contact = make_contact(new_yorker)
    follow_up = services.follow_up_create(
        actor=new_yorker,
        entity="contact",
        object_id=contact.pk,
        data={"due_at": "2026-12-14T09:00"},
    )
    follow_up.refresh_from_db()
    assert follow_up.due_at == utc(2026, 12, 14, 14, 0)


def test_an_aware_datetime_object_is_taken_as_given(team1):
    new_yorker = make_user("sales", team1, time_zone="America/New_York")
    created = task(new_yorker, due_at=dt.datetime(2026, 12, 10, 9, 0, tzinfo=BERLIN))
    created.refresh_from_db()
    assert created.due_at == utc(2026, 12, 10, 8, 0)


# --- trash, restore, history ------------------------------------------------------------------


def test_a_deleted_activity_goes_to_the_trash_and_comes_back(sales1):
    contact = make_contact(sales1)
    created = task(sales1, title="Wegwerfen", related=[{"type": "contact", "id": contact.pk}])
    services.activity_delete(actor=sales1, activity_id=created.pk)
    created.refresh_from_db()
    assert created.deleted_at is not None
    assert created.deleted_by == sales1
    with pytest.raises(NotFound):
        selectors.activity_detail(sales1, created.pk)
    assert list(selectors.filtered(sales1, {})) == []
    assert list(selectors.of_record(sales1, "contact", contact.pk)) == []
    with pytest.raises(NotFound):
        services.activity_update(actor=sales1, activity_id=created.pk, data={"title": "x"})

    services.activity_restore(actor=sales1, activity_id=created.pk)
    restored = selectors.activity_detail(sales1, created.pk)
    assert restored.deleted_at is None
    assert restored.title == "Wegwerfen"
    assert list(selectors.of_record(sales1, "contact", contact.pk)) == [created]
    assert links(restored) == [("contact", contact.pk)]


def test_deleting_twice_or_restoring_a_live_activity_is_not_found(sales1):
    created = task(sales1)
    with pytest.raises(NotFound):
        services.activity_restore(actor=sales1, activity_id=created.pk)
    services.activity_delete(actor=sales1, activity_id=created.pk)
    with pytest.raises(NotFound):
        services.activity_delete(actor=sales1, activity_id=created.pk)


def test_another_team_cannot_restore_an_activity(sales1, sales2):
    created = task(sales2)
    services.activity_delete(actor=sales2, activity_id=created.pk)
    with pytest.raises(NotFound):
        services.activity_restore(actor=sales1, activity_id=created.pk)
    created.refresh_from_db()
    assert created.deleted_at is not None


def test_a_deleted_activity_leaves_search_and_returns_with_its_restore(sales1):
    created = task(sales1, title="Suchbar")
    assert SearchDocument.objects.filter(entity="activity", object_id=created.pk).exists()
    services.activity_delete(actor=sales1, activity_id=created.pk)
    assert not SearchDocument.objects.filter(entity="activity", object_id=created.pk).exists()
    services.activity_restore(actor=sales1, activity_id=created.pk)
    assert SearchDocument.objects.filter(entity="activity", object_id=created.pk).exists()


def test_the_history_records_create_update_delete_and_restore(sales1):
    created = task(sales1, title="Alt", due_at="2026-12-07T10:00")
    services.activity_update(actor=sales1, activity_id=created.pk, data={"title": "Neu"})
    services.task_complete(actor=sales1, task_id=created.pk)
    services.activity_delete(actor=sales1, activity_id=created.pk)
    services.activity_restore(actor=sales1, activity_id=created.pk)
    assert history(created) == ["create", "update", "update", "delete", "restore"]
    records = ChangeRecord.objects.filter(entity="activity", object_id=created.pk).order_by(
        "at", "pk"
    )
    assert all(r.actor == sales1 for r in records)
    assert records[0].changes["title"] == [None, "Alt"]
    assert records[1].changes == {"title": ["Alt", "Neu"]}
    assert records[2].changes["status"] == ["open", "done"]


def test_the_history_of_an_all_day_appointment_names_its_dates(sales1):
    from farley.core.history import with_change_lines

    fair = appointment(sales1, start_at="2026-12-10T00:00", end_at="2026-12-11T00:00",
                       all_day=True)  # fmt: skip
    services.activity_update(actor=sales1, activity_id=fair.pk, data={"end_at": "2026-12-12"})
    records = list(ChangeRecord.objects.filter(entity="activity", object_id=fair.pk).order_by("pk"))
    assert records[-1].changes == {"end_at": ["2026-12-11", "2026-12-12"]}  # the last day
    (line,) = with_change_lines("activity", records[-1:])[0].lines
    assert (line.old, line.new) == ("12/11/2026", "12/12/2026")


def test_the_history_names_the_related_records_and_attendees(sales1, team1):
    colleague = make_user("sales", team1, full_name="Kai Kollege")
    contact = make_contact(sales1)
    created = appointment(
        sales1,
        related=[{"type": "contact", "id": contact.pk}],
        attendees=[{"type": "user", "id": colleague.pk}],
    )
    record = ChangeRecord.objects.get(entity="activity", object_id=created.pk, action="create")
    assert record.changes["related"] == [None, [f"contact {contact.pk}"]]
    assert record.changes["attendees"] == [None, ["Kai Kollege"]]
    assert record.changes["assignee"] == [None, "Sven Sales"]


# --- invitations ------------------------------------------------------------------------------


def test_invited_colleagues_are_notified_in_their_language_once(sales1, team1):
    from farley.core.models import Notification

    colleague = make_user("sales", team1, language="de")
    meeting = appointment(sales1, attendees=[{"type": "user", "id": colleague.pk},
                                             {"type": "user", "id": sales1.pk}])  # fmt: skip
    notes = list(Notification.objects.filter(kind="invitation"))
    assert [(n.user_id, n.object_id) for n in notes] == [(colleague.pk, meeting.pk)]
    assert notes[0].title == f"{sales1} hat Sie eingeladen: Termin beim Kunden"
    assert notes[0].url == f"/activities/{meeting.pk}/"
    services.activity_update(actor=sales1, activity_id=meeting.pk, data={"title": "Neu"})
    assert Notification.objects.filter(kind="invitation").count() == 1  # not invited again


def test_an_invited_user_answers_and_the_organiser_is_told(sales1, team1):
    from farley.core.models import Notification

    colleague = make_user("sales", team1)
    meeting = appointment(sales1, attendees=[{"type": "user", "id": colleague.pk}])
    services.attendee_respond(actor=colleague, activity_id=meeting.pk, response="accepted")
    services.attendee_respond(actor=colleague, activity_id=meeting.pk, response="accepted")
    services.attendee_respond(actor=colleague, activity_id=meeting.pk, response="declined")
    assert meeting.attendees.get().response == AttendeeResponse.DECLINED
    replies = Notification.objects.filter(kind="reply", user=sales1).order_by("pk")
    assert [n.title for n in replies] == [
        f"{colleague} accepted: Termin beim Kunden",
        f"{colleague} declined: Termin beim Kunden",
    ]  # the repeated answer changed nothing
    changes = ChangeRecord.objects.filter(entity="activity", object_id=meeting.pk).order_by("pk")
    assert changes.last().changes == {
        "responses": [f"{colleague}: Accepted", f"{colleague}: Declined"]
    }


def test_only_invited_users_answer_and_only_with_a_known_answer(sales1, sales2, team1):
    colleague = make_user("sales", team1)
    meeting = appointment(sales1, attendees=[{"type": "user", "id": colleague.pk}])
    with pytest.raises(ValidationFailed) as exc:
        services.attendee_respond(actor=colleague, activity_id=meeting.pk, response="maybe")
    assert "response" in exc.value.fields
    with pytest.raises(ValidationFailed) as exc:  # sees it (same team), but is not invited
        services.attendee_respond(actor=make_user("sales", team1), activity_id=meeting.pk,
                                  response="accepted")  # fmt: skip
    assert "not invited" in exc.value.fields["response"][0]
    with pytest.raises(NotFound):  # another team: may not even learn that it exists
        services.attendee_respond(actor=sales2, activity_id=meeting.pk, response="accepted")
    to_do = task(sales1)
    with pytest.raises(NotFound):
        services.attendee_respond(actor=sales1, activity_id=to_do.pk, response="accepted")
    assert meeting.attendees.get().response == AttendeeResponse.NEEDS_ACTION


def test_invited_contacts_get_the_invitation_by_email_with_an_ics(sales1, mailoutbox):
    import icalendar

    greta = make_contact(sales1, first_name="Greta", last_name="Muster", language="de",
                         emails=[{"address": "greta@example.de"}])  # fmt: skip
    no_mail = make_contact(sales1, last_name="Ohnemail")
    meeting = appointment(sales1, location="Halle 7", attendees=[
        {"type": "contact", "id": greta.pk}, {"type": "contact", "id": no_mail.pk}])  # fmt: skip
    assert services.contacts_invite(actor=sales1, activity_id=meeting.pk) == ["greta@example.de"]
    (message,) = mailoutbox
    assert message.to == ["greta@example.de"]
    assert message.subject == "Einladung: Termin beim Kunden"
    assert "Halle 7" in message.body
    filename, content, mimetype = message.attachments[0]
    assert filename == "invitation.ics"
    assert mimetype.startswith("text/calendar")
    calendar = icalendar.Calendar.from_ical(content)
    assert str(calendar["method"]) == "REQUEST"
    (event,) = calendar.walk("VEVENT")
    assert str(event["organizer"]) == f"mailto:{sales1.email}"
    assert "/activities/" not in event.to_ical().decode()  # no link into Farley for outsiders
    last = (
        ChangeRecord.objects.filter(entity="activity", object_id=meeting.pk).order_by("pk").last()
    )
    assert last.changes == {"invitations": [None, "greta@example.de"]}


def test_no_invitation_without_a_contact_with_email_or_the_right_to_change(sales1, team1):
    colleague = make_user("sales", team1)
    meeting = appointment(sales1, attendees=[{"type": "user", "id": colleague.pk}])
    with pytest.raises(ValidationFailed) as exc:
        services.contacts_invite(actor=sales1, activity_id=meeting.pk)
    assert "attendees" in exc.value.fields
    reader = make_user("read_only")
    with pytest.raises(Exception) as denied:
        services.contacts_invite(actor=reader, activity_id=meeting.pk)
    assert type(denied.value).__name__ in ("Forbidden", "NotFound")


def test_an_unreachable_mail_server_sends_nothing_and_records_nothing(sales1, settings):
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 2
    contact = make_contact(sales1, last_name="Muster", emails=[{"address": "m@example.de"}])
    meeting = appointment(sales1, attendees=[{"type": "contact", "id": contact.pk}])
    before = history(meeting)
    with pytest.raises(ServiceError) as exc:
        services.contacts_invite(actor=sales1, activity_id=meeting.pk)
    assert "nothing was sent" in exc.value.message
    assert history(meeting) == before
