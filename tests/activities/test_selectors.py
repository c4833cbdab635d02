"""Reads of activities: "My day" by the user's local day, the list filters, the calendar
window, the activities of one record, and the number of queries "My day" takes."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from farley.activities import selectors, services
from farley.activities.models import Activity
from farley.core.errors import NotFound, ValidationFailed
from tests.factories import make_contact, make_opportunity, make_user

pytestmark = pytest.mark.django_db

UTC = dt.UTC
BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
NEW_YORK = zoneinfo.ZoneInfo("America/New_York")


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def task(actor, title: str = "Aufgabe", **data) -> Activity:
    return services.activity_create(actor=actor, kind="task", data={"title": title, **data})


def appointment(actor, title: str = "Termin", **data) -> Activity:
    return services.activity_create(actor=actor, kind="appointment", data={"title": title, **data})


def titles(activities) -> list[str]:
    return [a.title for a in activities]


@pytest.fixture
def now(monkeypatch):
    """Freeze "now" at 2026-12-10 15:00 UTC (10:00 in New York, 16:00 in Berlin)."""
    moment = utc(2026, 12, 10, 15, 0)
    monkeypatch.setattr(timezone, "now", lambda: moment)
    return moment


# --- My day -----------------------------------------------------------------------------------


@pytest.fixture
def new_yorker(team1):
    return make_user("sales", team1, full_name="Nina York", time_zone="America/New_York")


def test_my_day_sorts_tasks_by_the_users_local_day(now, new_yorker, team1):
    # Times are New York's: 2026-12-09T23:00 is 04:00 UTC on the 10th (already "today" in
    # Berlin and in UTC), 2026-12-10T23:30 is 04:30 UTC on the 11th.
    task(new_yorker, "Alt", due_at="2026-12-01T09:00")
    task(new_yorker, "Gestern spät", due_at="2026-12-09T23:00")
    task(new_yorker, "Heute früh", due_at="2026-12-10T00:30")
    task(new_yorker, "Heute spät", due_at="2026-12-10T23:30")
    task(new_yorker, "Morgen", due_at="2026-12-11T09:00")
    task(new_yorker, "In einer Woche", due_at="2026-12-17T23:00")
    task(new_yorker, "In acht Tagen", due_at="2026-12-18T00:30")
    task(new_yorker, "Ohne Datum")
    task(new_yorker, "Erledigt", due_at="2026-12-10T12:00", status="done")
    task(new_yorker, "Abgesagt", due_at="2026-12-10T12:00", status="cancelled")
    deleted = task(new_yorker, "Gelöscht", due_at="2026-12-10T12:00")
    services.activity_delete(actor=new_yorker, activity_id=deleted.pk)
    task(new_yorker, "Team", team_id=team1.pk, due_at="2026-12-10T12:00")
    task(make_user("sales", team1), "Kollege", due_at="2026-12-10T12:00")

    day = selectors.my_day(new_yorker)
    assert titles(day.overdue) == ["Alt", "Gestern spät"]
    assert titles(day.today) == ["Heute früh", "Heute spät"]
    assert titles(day.upcoming) == ["Morgen", "In einer Woche"]
    assert day.count == 4
    assert selectors.open_task_count(new_yorker) == 4


def test_my_day_for_a_berliner_is_berlins_day(now, team1):
    berliner = make_user("sales", team1, time_zone="Europe/Berlin")
    task(berliner, "Gestern", due_at="2026-12-09T23:30")
    task(berliner, "Heute", due_at="2026-12-10T00:30")
    task(berliner, "Heute Abend", due_at="2026-12-10T23:59")
    task(berliner, "Morgen", due_at="2026-12-11T00:00")
    day = selectors.my_day(berliner)
    assert titles(day.overdue) == ["Gestern"]
    assert titles(day.today) == ["Heute", "Heute Abend"]
    assert titles(day.upcoming) == ["Morgen"]


def test_my_day_lists_the_follow_ups(now, new_yorker):
    contact = make_contact(new_yorker, last_name="Muster")
    first = services.follow_up_create(
        actor=new_yorker,
        entity="contact",
        object_id=contact.pk,
        data={"due_at": "2026-12-10T11:00"},
    )
    second = services.follow_up_create(
        actor=new_yorker,
        entity="contact",
        object_id=contact.pk,
        data={"due_at": "2026-12-14T11:00"},
    )
    task(new_yorker, "Keine Wiedervorlage", due_at="2026-12-10T12:00")
    day = selectors.my_day(new_yorker)
    assert day.follow_ups == [first, second]
    assert first in day.today and second in day.upcoming


def test_my_day_lists_todays_appointments_and_invitations(now, new_yorker, sales2):
    appointment(new_yorker, "Eigener", start_at="2026-12-10T14:00")
    appointment(
        new_yorker, "Über Mitternacht", start_at="2026-12-09T23:00", end_at="2026-12-10T01:00"
    )
    appointment(
        sales2,
        "Einladung",
        start_at="2026-12-10T16:00Z",
        attendees=[{"type": "user", "id": new_yorker.pk}],
    )
    appointment(sales2, "Nicht eingeladen", start_at="2026-12-10T16:00Z")
    appointment(new_yorker, "Morgen", start_at="2026-12-11T09:00")
    appointment(new_yorker, "Gestern", start_at="2026-12-09T09:00")
    appointment(new_yorker, "Abgesagt", start_at="2026-12-10T15:00", status="cancelled")
    deleted = appointment(new_yorker, "Gelöscht", start_at="2026-12-10T15:00")
    services.activity_delete(actor=new_yorker, activity_id=deleted.pk)

    day = selectors.my_day(new_yorker)
    assert titles(day.appointments) == ["Über Mitternacht", "Einladung", "Eigener"]
    assert day.count == 0  # appointments are not counted


def test_my_day_of_a_user_without_anything_is_empty(now, new_yorker):
    day = selectors.my_day(new_yorker)
    assert (day.overdue, day.today, day.upcoming, day.appointments, day.follow_ups) == (
        [],
        [],
        [],
        [],
        [],
    )
    assert day.count == 0


def queries_of_my_day(user) -> int:
    with CaptureQueriesContext(connection) as queries:
        day = selectors.my_day(user)
        # What a page shows of each entry: its assignee, team and related records.
        for entry in [*day.overdue, *day.today, *day.upcoming, *day.appointments]:
            str(entry.owner)
            str(entry.team)
            list(entry.links.all())
    return len(queries)


def fill_my_day(user, contact, n: int) -> None:
    days = ["2026-12-05", "2026-12-10", "2026-12-12"]  # overdue, today, upcoming
    for i in range(n):
        task(
            user,
            f"Aufgabe {i}",
            due_at=f"{days[i % 3]}T{8 + i % 10:02d}:00",
            is_follow_up=i % 2 == 0,
            related=[{"type": "contact", "id": contact.pk}],
        )
    appointment(
        user,
        "Termin",
        start_at="2026-12-10T11:00",
        related=[{"type": "contact", "id": contact.pk}],
    )


def test_my_day_takes_as_many_queries_for_30_tasks_as_for_3(now, team1):
    few, many = make_user("sales", team1), make_user("sales", team1)
    contact = make_contact(few)
    fill_my_day(few, contact, 3)
    fill_my_day(many, contact, 30)
    assert len(selectors.my_day(many).today) == 10
    assert queries_of_my_day(many) == queries_of_my_day(few) <= 8


# --- the list filters -------------------------------------------------------------------------


@pytest.fixture
def board(sales1, sales2, team1, team2):
    """Tasks of sales1 (Berlin time), a colleague, team 1's queue and sales2 (team 2)."""
    colleague = make_user("sales", team1, full_name="Kai Kollege")
    contact = make_contact(sales1, last_name="Muster")
    deal = make_opportunity(sales1, name="Großauftrag")
    mine = {"assignee_id": sales1.pk, "team_id": team1.pk}
    tasks = {
        "high": task(
            sales1,
            "Angebot schicken",
            **mine,
            priority="high",
            due_at="2026-12-10T10:00",
            related=[{"type": "contact", "id": contact.pk}],
        ),
        "low": task(sales1, "Rechnung prüfen", **mine, priority="low", due_at="2026-12-09T23:30"),
        "done": task(sales1, "Angebot erledigt", **mine, status="done", due_at="2026-12-11T00:30"),
        "visit": task(
            colleague,
            "Kunde besuchen",
            assignee_id=colleague.pk,
            team_id=team1.pk,
            due_at="2026-12-12T10:00",
            related=[{"type": "opportunity", "id": deal.pk}],
        ),
        "queue": task(sales1, "Leads verteilen", team_id=team1.pk),
        "other": task(
            sales2, "Geheimes Angebot", assignee_id=sales2.pk, team_id=team2.pk, due_at="2026-12-10"
        ),
    }
    meeting = appointment(
        sales1,
        "Angebot besprechen",
        start_at="2026-12-10T14:00",
        related=[{"type": "contact", "id": contact.pk}],
    )
    return {"colleague": colleague, "contact": contact, "deal": deal, "meeting": meeting, **tasks}


def listed(user, params, kind="task") -> set[str]:
    return set(titles(selectors.filtered(user, params, kind=kind, strict=True)))


def test_the_list_shows_what_the_user_may_see(sales1, sales2, board):
    assert listed(sales1, {}) == {
        "Angebot schicken",
        "Rechnung prüfen",
        "Angebot erledigt",
        "Kunde besuchen",
        "Leads verteilen",
    }
    assert listed(sales2, {}) == {"Geheimes Angebot"}
    assert listed(sales1, {}, kind=None) == listed(sales1, {}) | {"Angebot besprechen"}


def test_the_list_filters_by_assignee(sales1, board):
    assert listed(sales1, {"assignee": "me"}) == {
        "Angebot schicken",
        "Rechnung prüfen",
        "Angebot erledigt",
    }
    assert listed(sales1, {"assignee": str(board["colleague"].pk)}) == {"Kunde besuchen"}
    assert listed(sales1, {"assignee_id": board["colleague"].pk}) == {"Kunde besuchen"}


def test_the_list_filters_by_team(sales1, admin, team1, team2, board):
    assert "Leads verteilen" in listed(sales1, {"team": team1.pk})
    assert listed(sales1, {"team": team2.pk}) == set()  # not visible to sales1
    assert listed(admin, {"team": team2.pk}) == {"Geheimes Angebot"}


def test_the_list_filters_by_status_and_priority(sales1, board):
    assert listed(sales1, {"status": "done"}) == {"Angebot erledigt"}
    assert listed(sales1, {"priority": "high"}) == {"Angebot schicken"}
    assert listed(sales1, {"priority": "low", "status": "open"}) == {"Rechnung prüfen"}
    assert listed(sales1, {"priority": "low", "status": "done"}) == set()


def test_the_list_filters_by_due_dates_of_the_users_days(sales1, board):
    # 2026-12-09T23:30 and 2026-12-11T00:30 Berlin time lie just outside the 10th.
    assert listed(sales1, {"due_from": "2026-12-10", "due_to": "2026-12-10"}) == {
        "Angebot schicken"
    }
    assert listed(sales1, {"due_from": "2026-12-11"}) == {"Angebot erledigt", "Kunde besuchen"}
    assert listed(sales1, {"due_to": "09.12.2026"}) == {"Rechnung prüfen"}


def test_the_due_date_filter_uses_the_users_zone(now, new_yorker):
    task(new_yorker, "Spät am Abend", due_at="2026-12-10T23:30")  # 04:30 UTC on the 11th
    task(new_yorker, "Früh", due_at="2026-12-10T00:30")
    assert listed(new_yorker, {"due_from": "2026-12-10", "due_to": "2026-12-10"}) == {
        "Spät am Abend",
        "Früh",
    }
    assert listed(new_yorker, {"due_from": "2026-12-11"}) == set()


def test_the_list_of_appointments_filters_by_start(sales1, board):
    params = {"from": "2026-12-10", "to": "2026-12-10"}
    assert listed(sales1, params, kind="appointment") == {"Angebot besprechen"}
    assert listed(sales1, {"from": "2026-12-11"}, kind="appointment") == set()


def test_the_list_shows_overdue_tasks(now, sales1, board):
    assert listed(sales1, {"overdue": "1"}) == {"Angebot schicken", "Rechnung prüfen"}


def test_the_list_filters_by_related_record(sales1, board):
    contact = board["contact"]
    assert listed(sales1, {"related": f"contact:{contact.pk}"}) == {"Angebot schicken"}
    assert listed(sales1, {"related": f"contact:{contact.pk}"}, kind=None) == {
        "Angebot schicken",
        "Angebot besprechen",
    }
    assert listed(sales1, {"related": f"opportunity:{board['deal'].pk}"}) == {"Kunde besuchen"}
    assert listed(sales1, {"related": f"contact:{contact.pk + 1000}"}) == set()


def test_the_list_filters_by_type_of_related_record(sales1, board):
    assert listed(sales1, {"related_type": "opportunity"}) == {"Kunde besuchen"}
    assert listed(sales1, {"related_type": "contact"}) == {"Angebot schicken"}
    assert listed(sales1, {"related_type": "lead"}) == set()


def test_the_list_searches_titles(sales1, sales2, board):
    assert listed(sales1, {"q": "angebot"}) == {"Angebot schicken", "Angebot erledigt"}
    assert listed(sales1, {"q": "prüfen"}) == {"Rechnung prüfen"}
    assert listed(sales2, {"q": "Angebot"}) == {"Geheimes Angebot"}
    assert listed(sales1, {"q": "Nichts dergleichen"}) == set()


def test_the_list_is_sorted(sales1, board):
    def ordered(sort):
        params = {"status": "open", "due_from": "2026-12-01"}
        if sort:
            params.update({"assignee": "me", "sort": sort})
        return titles(selectors.filtered(sales1, params, kind="task", strict=True))

    assert ordered("due") == ["Rechnung prüfen", "Angebot schicken"]
    assert ordered("-due") == ["Angebot schicken", "Rechnung prüfen"]
    assert ordered("priority") == ["Angebot schicken", "Rechnung prüfen"]
    assert ordered("created") == ["Rechnung prüfen", "Angebot schicken"]
    assert ordered(None) == ["Rechnung prüfen", "Angebot schicken", "Kunde besuchen"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "bogus"}, "status"),
        ({"priority": "urgent"}, "priority"),
        ({"kind": "meeting"}, "kind"),
        ({"assignee": "jemand"}, "assignee"),
        ({"assignee": "0"}, "assignee"),
        ({"team": "Nord"}, "team"),
        ({"due_from": "2026-02-30"}, "due_from"),
        ({"due_to": "morgen"}, "due_to"),
        ({"from": "1700-01-01"}, "from"),
        ({"related": "contact:abc"}, "related"),
        ({"related": "banana:1"}, "related"),
        ({"related_type": "banana"}, "related_type"),
        ({"sort": "sideways"}, "sort"),
    ],
)
def test_an_invalid_filter_value_is_refused(sales1, params, field):
    with pytest.raises(ValidationFailed) as exc:
        list(selectors.filtered(sales1, params, strict=True))
    assert set(exc.value.fields) == {field}


def test_several_invalid_filters_are_reported_together(sales1):
    with pytest.raises(ValidationFailed) as exc:
        selectors.filtered(sales1, {"status": "x", "priority": "y", "sort": "z"}, strict=True)
    assert set(exc.value.fields) == {"status", "priority", "sort"}


def test_an_activity_is_found_by_id_only_where_visible(sales1, sales2, board):
    assert selectors.activity_detail(sales1, board["high"].pk) == board["high"]
    with pytest.raises(NotFound):
        selectors.activity_detail(sales1, board["other"].pk)
    with pytest.raises(NotFound):
        selectors.activity_detail(sales1, board["high"].pk, kind="appointment")


# --- the calendar -----------------------------------------------------------------------------


DECEMBER = {"start": "2026-12-01T00:00+01:00", "end": "2026-12-31T00:00+01:00"}


def test_the_calendar_shows_own_appointments_tasks_and_invitations(sales1, sales2):
    appointment(sales1, "Eigener Termin", start_at="2026-12-10T10:00")
    task(sales1, "Fällige Aufgabe", due_at="2026-12-11T09:00")
    task(sales1, "Ohne Datum")
    appointment(sales1, "Im Januar", start_at="2027-01-10T10:00")
    appointment(sales1, "Abgesagt", start_at="2026-12-12T10:00", status="cancelled")
    appointment(
        sales2,
        "Einladung",
        start_at="2026-12-09T10:00",
        attendees=[{"type": "user", "id": sales1.pk}],
    )
    appointment(sales2, "Fremd", start_at="2026-12-09T10:00")
    appointment(sales1, "Seit November", start_at="2026-11-30T10:00", end_at="2026-12-02T10:00")

    queryset, start, end = selectors.calendar_window(sales1, DECEMBER)
    assert titles(queryset) == ["Seit November", "Einladung", "Eigener Termin", "Fällige Aufgabe"]
    assert (start, end) == (utc(2026, 11, 30, 23, 0), utc(2026, 12, 30, 23, 0))


def test_the_calendar_of_a_colleague_in_the_same_team(sales1, team1):
    colleague = make_user("sales", team1)
    appointment(colleague, "Beim Kunden", start_at="2026-12-10T10:00")
    appointment(sales1, "Meiner", start_at="2026-12-10T10:00")
    queryset, _start, _end = selectors.calendar_window(sales1, {**DECEMBER, "user": colleague.pk})
    assert titles(queryset) == ["Beim Kunden"]


def test_the_calendar_of_another_teams_user_shows_only_what_one_may_see(sales1, sales2):
    appointment(sales2, "Privat", start_at="2026-12-10T10:00")
    task(sales2, "Geheime Aufgabe", due_at="2026-12-10T10:00")
    appointment(
        sales2,
        "Gemeinsam",
        start_at="2026-12-11T10:00",
        attendees=[{"type": "user", "id": sales1.pk}],
    )
    queryset, _start, _end = selectors.calendar_window(sales1, {**DECEMBER, "user": sales2.pk})
    assert titles(queryset) == ["Gemeinsam"]


def test_the_calendar_of_a_team(sales1, admin, team1, team2, sales2):
    colleague = make_user("sales", team1)
    appointment(colleague, "Kollege", start_at="2026-12-10T10:00")
    task(sales1, "Warteschlange", team_id=team1.pk, due_at="2026-12-11T10:00")
    appointment(sales2, "Anderes Team", start_at="2026-12-10T10:00")
    queryset, _start, _end = selectors.calendar_window(sales1, {**DECEMBER, "team": team1.pk})
    assert titles(queryset) == ["Kollege", "Warteschlange"]
    queryset, _start, _end = selectors.calendar_window(sales1, {**DECEMBER, "team": team2.pk})
    assert titles(queryset) == []
    queryset, _start, _end = selectors.calendar_window(admin, {**DECEMBER, "team": team2.pk})
    assert titles(queryset) == ["Anderes Team"]


def test_the_calendar_window_accepts_62_days(sales1):
    selectors.calendar_window(sales1, {"start": "2026-12-01T00:00Z", "end": "2027-02-01T00:00Z"})


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"start": "2026-12-01T00:00Z", "end": "2027-02-01T00:01Z"}, "end"),
        ({"start": "2026-01-01T00:00Z", "end": "2026-12-31T00:00Z"}, "end"),
        ({"start": "2026-12-10T00:00Z", "end": "2026-12-01T00:00Z"}, "end"),
        ({"start": "2026-12-10T00:00Z", "end": "2026-12-10T00:00Z"}, "end"),
        ({"end": "2026-12-10T00:00Z"}, "start"),
        ({"start": "morgen", "end": "2026-12-10T00:00Z"}, "start"),
        ({**DECEMBER, "team": "Nord"}, "team"),
        ({**DECEMBER, "team": 10**9}, "team"),
        ({**DECEMBER, "user": 10**9}, "user"),
    ],
)
def test_a_bad_calendar_window_is_refused(sales1, params, field):
    with pytest.raises(ValidationFailed) as exc:
        selectors.calendar_window(sales1, params)
    assert set(exc.value.fields) == {field}


def test_the_calendar_in_the_users_zone_as_a_request_activates_it(new_yorker):
    """Pages and the API activate the user's zone; then dates are the user's days."""
    appointment(new_yorker, "Abends", start_at="2026-12-10T18:00")  # 23:00 UTC
    appointment(new_yorker, "Am Vorabend", start_at="2026-12-09T19:00")  # 00:00 UTC on the 10th
    with timezone.override(NEW_YORK):
        queryset, start, _end = selectors.calendar_window(
            new_yorker, {"start": "2026-12-10", "end": "2026-12-11"}
        )
        assert titles(queryset) == ["Abends"]
    assert start == utc(2026, 12, 10, 5, 0)


# --- the activities of one record -------------------------------------------------------------


def test_the_activities_of_a_record_open_first_then_the_latest_done(sales1, sales2, admin):
    contact = make_contact(sales1)
    about = [{"type": "contact", "id": contact.pk}]
    later = task(sales1, "Später", due_at="2026-12-20T10:00", related=about)
    sooner = task(sales1, "Bald", due_at="2026-12-12T10:00", related=about)
    done_first = task(sales1, "Zuerst erledigt", due_at="2026-12-01T10:00", related=about)
    done_last = task(sales1, "Zuletzt erledigt", due_at="2026-11-01T10:00", related=about)
    for done, day in ((done_first, 2), (done_last, 3)):
        services.task_complete(actor=sales1, task_id=done.pk)
        Activity.objects.filter(pk=done.pk).update(completed_at=utc(2026, 12, day, 12, 0))
    task(sales1, "Anderer Kontakt", related=[{"type": "contact", "id": make_contact(sales1).pk}])
    # A task about the contact that sales1 may not see: assigned to sales2 by an admin.
    task(admin, "Für Sara", assignee_id=sales2.pk, due_at="2026-12-25T10:00", related=about)

    assert titles(selectors.of_record(sales1, "contact", contact.pk)) == [
        "Bald",
        "Später",
        "Zuletzt erledigt",
        "Zuerst erledigt",
    ]
    assert titles(selectors.of_record(admin, "contact", contact.pk))[:2] == [
        sooner.title,
        later.title,
    ]
    assert "Für Sara" in titles(selectors.of_record(admin, "contact", contact.pk))


def test_a_record_without_activities_has_none(sales1):
    contact = make_contact(sales1)
    assert list(selectors.of_record(sales1, "contact", contact.pk)) == []
