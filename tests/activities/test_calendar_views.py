"""The calendar: its page (picker, locale, time zone, strict CSP), the events it loads (own, a
colleague's, a team's; what one may not see left out; bad windows refused as JSON), the moves
that drag and drop posts (saved through the service; stale versions, invalid times, records of
other teams and records one may only see refused) and times in each user's own zone."""

from __future__ import annotations

import datetime as dt
import json
import re
import zoneinfo

import pytest
from django.test import Client

from farley.activities import services
from farley.activities.models import Activity
from tests.factories import make_user

pytestmark = pytest.mark.django_db

UTC = dt.UTC
BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
DECEMBER = {"start": "2026-12-01T00:00:00+01:00", "end": "2027-01-01T00:00:00+01:00"}
EVENTS = "/calendar/events/"


def appointment(actor, title="Termin", **data) -> Activity:
    data.setdefault("start_at", "2026-12-10T10:00")
    return services.activity_create(actor=actor, kind="appointment", data={"title": title, **data})


def task(actor, title="Aufgabe", **data) -> Activity:
    data.setdefault("due_at", "2026-12-11T09:00")
    return services.activity_create(actor=actor, kind="task", data={"title": title, **data})


def events(client, **params) -> list[dict]:
    response = client.get(EVENTS, {**DECEMBER, **params})
    assert response.status_code == 200, response.content
    return response.json()["events"]


def titles(found: list[dict]) -> list[str]:
    return [e["title"] for e in found]


def move(client, activity, **data):
    data.setdefault("version", activity.version)
    return client.post(
        f"/calendar/events/{activity.pk}/move/", data, HTTP_ACCEPT="application/json"
    )


@pytest.fixture
def colleague(team1):
    return make_user("sales", team1, full_name="Carla Kollegin")


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- the page ---------------------------------------------------------------------------------


def test_the_page_has_the_calendar_the_picker_and_no_inline_code(client, sales1, colleague, sales2):
    client.force_login(sales1)
    response = client.get("/calendar/")
    assert response.status_code == 200
    assert response.context["nav"] == "calendar"
    html = response.content.decode()
    assert 'id="calendar"' in html
    assert 'data-initial-view="timeGridWeek"' in html
    assert 'data-time-zone="Europe/Berlin"' in html
    assert 'data-events-url="/calendar/events/"' in html
    assert "vendor/fullcalendar/fullcalendar.js" in html
    assert "vendor/fullcalendar/skeleton.css" in html
    assert "activities/calendar.css" in html
    # The picker: the user, the colleagues of their team, their team; not other teams.
    assert f'<option value="user:{colleague.pk}"' in html
    assert f'<option value="team:{sales1.teams.get().pk}"' in html
    assert f'value="user:{sales2.pk}"' not in html
    # The CSP allows no inline scripts or styles.
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert not re.search(r"\sstyle=", html)
    assert "<style" not in html


def test_an_administrator_picks_anyone_and_any_team(client, admin, sales1, sales2, team2):
    client.force_login(admin)
    html = client.get("/calendar/", {"who": f"team:{team2.pk}"}).content.decode()
    assert f'value="user:{sales2.pk}"' in html and f'value="user:{sales1.pk}"' in html
    assert f'<option value="team:{team2.pk}" selected>' in html


def test_the_page_keeps_view_date_and_whose_calendar_from_the_address(client, sales1, colleague):
    client.force_login(sales1)
    html = client.get(
        "/calendar/", {"who": f"user:{colleague.pk}", "view": "month", "date": "2026-12-10"}
    ).content.decode()
    assert 'data-initial-view="dayGridMonth"' in html
    assert 'data-initial-date="2026-12-10"' in html
    assert f'<option value="user:{colleague.pk}" selected>' in html
    # Nonsense in the address shows the user's own week.
    html = client.get(
        "/calendar/", {"who": "user:abc", "view": "year", "date": "gestern"}
    ).content.decode()
    assert 'data-initial-view="timeGridWeek"' in html
    assert 'data-initial-date=""' in html
    assert '<option value="me" selected>' in html


@pytest.mark.parametrize(
    ("language", "locale", "first_day", "script"),
    [("de", "de", "1", True), ("en", "en", "", False)],
)
def test_the_library_speaks_the_users_language(client, sales1, language, locale, first_day, script):
    sales1.language = language
    sales1.save(update_fields=["language"])
    client.force_login(sales1)
    html = client.get("/calendar/").content.decode()
    assert f'data-locale="{locale}"' in html
    assert f'data-first-day="{first_day}"' in html
    assert ("fullcalendar/locales/de.js" in html) is script
    assert f'<html lang="{language}">' in html


def test_the_page_needs_a_sign_in(client):
    response = client.get("/calendar/")
    assert response.status_code == 302 and "/login/" in response["Location"]
    response = client.get(EVENTS, DECEMBER)
    assert response.status_code == 302


# --- the events -------------------------------------------------------------------------------


def test_own_events_with_title_times_kind_link_and_version(client, sales1, sales2):
    meeting = appointment(
        sales1, "Kundentermin", start_at="2026-12-10T10:00", end_at="2026-12-10T11:30"
    )
    call_back = task(sales1, "Rückruf", due_at="2026-12-11T09:00")
    done = task(sales1, "Erledigt", due_at="2026-12-11T10:00", status="done")
    task(sales1, "Ohne Datum", due_at=None)
    appointment(sales1, "Im Januar", start_at="2027-01-10T10:00")
    appointment(sales1, "Abgesagt", status="cancelled")
    appointment(sales2, "Fremd")
    client.force_login(sales1)

    found = {e["title"]: e for e in events(client)}
    assert set(found) == {"Kundentermin", "Rückruf", "Erledigt"}
    assert found["Kundentermin"] == {
        "id": str(meeting.pk),
        "title": "Kundentermin",
        "url": f"/activities/{meeting.pk}/",
        "className": "fc-kind-appointment",
        "editable": True,
        "start": "2026-12-10T10:00:00+01:00",
        "end": "2026-12-10T11:30:00+01:00",
        "allDay": False,
        "extendedProps": {
            "kind": "appointment",
            "kindLabel": "Appointment",
            "status": "open",
            "version": meeting.version,
            "owner": "Sven Sales",
            "team": "Vertrieb Nord",
            "moveUrl": f"/calendar/events/{meeting.pk}/move/",
        },
    }
    rueckruf = found["Rückruf"]
    assert rueckruf["className"] == "fc-kind-task"
    assert (rueckruf["start"], rueckruf["allDay"], rueckruf["durationEditable"]) == (
        "2026-12-11T09:00:00+01:00", False, False,
    )  # fmt: skip
    assert "end" not in rueckruf
    assert rueckruf["url"] == f"/activities/{call_back.pk}/"
    assert found["Erledigt"]["className"] == "fc-kind-task fc-is-done"
    assert found["Erledigt"]["id"] == str(done.pk)


def test_a_colleagues_calendar(client, sales1, colleague):
    appointment(colleague, "Beim Kunden")
    task(colleague, "Angebot schreiben")
    appointment(sales1, "Meiner")
    client.force_login(sales1)
    found = events(client, user=colleague.pk)
    assert titles(found) == ["Beim Kunden", "Angebot schreiben"]
    # Sales users of a team change their team's records: they may drag them.
    assert [e["editable"] for e in found] == [True, True]


def test_a_teams_calendar(client, sales1, colleague, team1, sales2, team2):
    appointment(colleague, "Kollegin")
    task(sales1, "Warteschlange", team_id=team1.pk, assignee_id="")
    appointment(sales2, "Anderes Team")
    client.force_login(sales1)
    assert titles(events(client, team=team1.pk)) == ["Kollegin", "Warteschlange"]
    assert titles(events(client, team=team2.pk)) == []


def test_what_one_may_not_see_is_left_out_and_invitations_are_not_draggable(client, sales1, sales2):
    appointment(sales2, "Privat", start_at="2026-12-09T10:00")
    task(sales2, "Geheime Aufgabe")
    appointment(sales2, "Gemeinsam", start_at="2026-12-12T10:00",
                attendees=[{"type": "user", "id": sales1.pk}])  # fmt: skip
    client.force_login(sales1)
    found = events(client, user=sales2.pk)
    assert titles(found) == ["Gemeinsam"]
    assert found[0]["editable"] is False
    # In the user's own calendar the invitation shows too, still not draggable.
    assert [(e["title"], e["editable"]) for e in events(client)] == [("Gemeinsam", False)]


def test_a_reader_sees_everything_and_may_drag_nothing(client, reader, sales1):
    appointment(sales1, "Termin")
    client.force_login(reader)
    found = events(client, user=sales1.pk)
    assert [(e["title"], e["editable"]) for e in found] == [("Termin", False)]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"start": "2026-12-01T00:00Z", "end": "2027-02-01T00:01Z"}, "end"),
        ({"start": "2026-12-10T00:00Z", "end": "2026-12-01T00:00Z"}, "end"),
        ({"end": "2026-12-10T00:00Z"}, "start"),
        ({"start": "morgen", "end": "2026-12-10T00:00Z"}, "start"),
        ({**DECEMBER, "team": "Nord"}, "team"),
        ({**DECEMBER, "team": 10**9}, "team"),
        ({**DECEMBER, "user": 10**9}, "user"),
    ],
)
def test_a_bad_window_is_refused_as_json(client, sales1, params, field):
    client.force_login(sales1)
    response = client.get(EVENTS, params)
    assert response.status_code == 422
    assert response["Content-Type"] == "application/json"
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert set(error["fields"]) == {field}
    assert error["message"]


def test_the_events_take_a_constant_number_of_queries(client, sales1, colleague, team1):
    """As many queries for 48 entries as for 2 (no query per entry), and only a few."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(sales1)
    client.get(EVENTS, {**DECEMBER, "team": team1.pk})  # the session, the user: warm

    def counted() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as queries:
            found = events(client, team=team1.pk)
        return len(found), len(queries)

    appointment(colleague, "Termin", start_at="2026-12-01T10:00")
    task(sales1, "Aufgabe", due_at="2026-12-01T15:00")
    few, few_queries = counted()
    for day in range(2, 25):
        appointment(colleague, f"Termin {day}", start_at=f"2026-12-{day:02d}T10:00")
        task(sales1, f"Aufgabe {day}", due_at=f"2026-12-{day:02d}T15:00")
    many, many_queries = counted()
    assert (few, many) == (2, 48)
    assert many_queries == few_queries <= 12


def test_the_number_of_events_is_capped(client, sales1, monkeypatch):
    from farley.activities import calendar_views

    monkeypatch.setattr(calendar_views, "MAX_EVENTS", 2)
    for day in (1, 2, 3):
        appointment(sales1, f"Termin {day}", start_at=f"2026-12-0{day}T10:00")
    client.force_login(sales1)
    body = client.get(EVENTS, DECEMBER).json()
    assert (titles(body["events"]), body["truncated"]) == (["Termin 1", "Termin 2"], True)


# --- moving -----------------------------------------------------------------------------------


def test_drag_an_appointment_to_another_day_and_time(client, sales1):
    meeting = appointment(
        sales1, "Kundentermin", start_at="2026-12-10T10:00", end_at="2026-12-10T11:00"
    )
    client.force_login(sales1)
    response = move(client, meeting, start_at="2026-12-11T14:30:00+01:00",
                    end_at="2026-12-11T15:30:00+01:00", all_day="0")  # fmt: skip
    assert response.status_code == 200, response.content
    meeting.refresh_from_db()
    assert (meeting.start_at, meeting.end_at) == (
        dt.datetime(2026, 12, 11, 13, 30, tzinfo=UTC), dt.datetime(2026, 12, 11, 14, 30, tzinfo=UTC),
    )  # fmt: skip
    body = response.json()
    assert body["version"] == meeting.version == 2
    assert body["event"]["start"] == "2026-12-11T14:30:00+01:00"
    # The move is in the history like every change.
    from farley.core.models import ChangeRecord

    assert ChangeRecord.objects.filter(entity="activity", object_id=meeting.pk).count() == 2


def test_resize_an_appointment_and_move_a_task(client, sales1):
    meeting = appointment(sales1, start_at="2026-12-10T10:00", end_at="2026-12-10T11:00")
    todo = task(sales1, "Rückruf", due_at="2026-12-11T09:00")
    client.force_login(sales1)
    response = move(client, meeting, start_at="2026-12-10T10:00:00+01:00",
                    end_at="2026-12-10T12:15:00+01:00")  # fmt: skip
    assert response.status_code == 200
    meeting.refresh_from_db()
    assert meeting.end_at == dt.datetime(2026, 12, 10, 11, 15, tzinfo=UTC)
    # A task moves its due time; a time without an offset is the user's (Berlin).
    response = move(client, todo, start_at="2026-12-14T08:00")
    assert response.status_code == 200
    todo.refresh_from_db()
    assert todo.due_at == dt.datetime(2026, 12, 14, 7, 0, tzinfo=UTC)
    # ... but it needs a time of day.
    response = move(client, todo, start_at="2026-12-15", all_day="1")
    assert response.status_code == 422
    assert "start_at" in response.json()["error"]["fields"]


def test_all_day_appointments_move_as_whole_days(client, sales1):
    meeting = appointment(sales1, "Messe", start_at="2026-12-10T00:00", end_at="2026-12-11T00:00",
                          all_day=True)  # fmt: skip
    client.force_login(sales1)
    (event,) = events(client)
    assert (event["start"], event["end"], event["allDay"]) == ("2026-12-10", "2026-12-12", True)
    # Two days moved to the 14th and 15th (the end is exclusive, as FullCalendar sends it).
    response = move(client, meeting, start_at="2026-12-14", end_at="2026-12-16", all_day="1")
    assert response.status_code == 200, response.content
    meeting.refresh_from_db()
    assert (meeting.first_day, meeting.last_day) == (dt.date(2026, 12, 14), dt.date(2026, 12, 15))
    assert response.json()["event"]["end"] == "2026-12-16"
    # From the all-day row to 9 o'clock: an hour long.
    response = move(client, meeting, start_at="2026-12-14T09:00:00+01:00", all_day="0")
    assert response.status_code == 200, response.content
    meeting.refresh_from_db()
    assert meeting.all_day is False
    assert meeting.end_at - meeting.start_at == dt.timedelta(hours=1)


def test_a_stale_version_answers_409_and_changes_nothing(client, sales1, colleague):
    meeting = appointment(sales1, "Kundentermin")
    read_version = meeting.version
    services.activity_update(actor=colleague, activity_id=meeting.pk, data={"location": "Köln"})
    client.force_login(sales1)
    response = move(client, meeting, version=read_version,
                    start_at="2026-12-11T10:00:00+01:00", end_at="2026-12-11T11:00:00+01:00")  # fmt: skip
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "conflict"
    assert "Kundentermin" in error["message"]
    assert error["current_version"] == read_version + 1
    meeting.refresh_from_db()
    assert meeting.start_at == dt.datetime(2026, 12, 10, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (
            {"start_at": "2026-12-10T12:00:00+01:00", "end_at": "2026-12-10T11:00:00+01:00"},
            "end_at",
        ),
        ({"start_at": "2026-12-10", "end_at": "2026-12-10", "all_day": "1"}, "end_at"),
        ({"start_at": "übermorgen", "end_at": "2026-12-10T11:00:00+01:00"}, "start_at"),
        ({"start_at": "", "end_at": "2026-12-10T11:00:00+01:00"}, "start_at"),
        ({"start_at": "2026-12-10T10:00", "version": ""}, "version"),
        ({"start_at": "2026-12-10T10:00", "version": "zwei"}, "version"),
        ({"start_at": "2026-12-10T10:00", "all_day": "vielleicht"}, "all_day"),
    ],
)
def test_invalid_times_answer_422_and_change_nothing(client, sales1, data, field):
    meeting = appointment(sales1, "Kundentermin")
    client.force_login(sales1)
    response = move(client, meeting, **data)
    assert response.status_code == 422, response.content
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert field in error["fields"]
    assert error["message"]
    meeting.refresh_from_db()
    assert (meeting.version, meeting.start_at) == (1, dt.datetime(2026, 12, 10, 9, 0, tzinfo=UTC))


def test_another_teams_event_answers_404(client, sales1, sales2):
    theirs = appointment(sales2, "Fremd")
    client.force_login(sales1)
    response = move(client, theirs, start_at="2026-12-11T10:00:00+01:00")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert (
        move(client, theirs.__class__(pk=10**9, version=1), start_at="2026-12-11T10:00").status_code
        == 404
    )
    theirs.refresh_from_db()
    assert theirs.version == 1


def test_an_invitation_may_be_seen_but_not_moved(client, sales1, sales2, reader):
    theirs = appointment(sales2, "Gemeinsam", attendees=[{"type": "user", "id": sales1.pk}])
    client.force_login(sales1)
    response = move(client, theirs, start_at="2026-12-11T10:00:00+01:00")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    # A reader's role may change nothing.
    client.force_login(reader)
    assert move(client, theirs, start_at="2026-12-11T10:00:00+01:00").status_code == 403
    theirs.refresh_from_db()
    assert theirs.version == 1


def test_only_appointments_and_tasks_move(client, sales1):
    note = services.activity_create(actor=sales1, kind="note", data={"title": "Notiz"})
    client.force_login(sales1)
    assert move(client, note, start_at="2026-12-11T10:00:00+01:00").status_code == 404


def test_a_move_needs_post_and_the_csrf_token(sales1):
    meeting = appointment(sales1, "Kundentermin")
    client = Client(enforce_csrf_checks=True)
    client.force_login(sales1)
    url = f"/calendar/events/{meeting.pk}/move/"
    assert client.get(url).status_code == 405
    data = {
        "version": 1,
        "start_at": "2026-12-11T10:00:00+01:00",
        "end_at": "2026-12-11T11:00:00+01:00",
    }
    assert client.post(url, data).status_code == 403
    client.get("/calendar/")  # sets the CSRF cookie, as the page does
    token = client.cookies["csrftoken"].value
    assert client.post(url, data, HTTP_X_CSRFTOKEN=token).status_code == 200


# --- time zones -------------------------------------------------------------------------------


def test_a_berliner_and_a_new_yorker_see_the_same_event_at_their_wall_clock_times(team1):
    berliner = make_user("sales", team1, full_name="Bernd Berlin", time_zone="Europe/Berlin")
    new_yorker = make_user("sales", team1, full_name="Nina York", time_zone="America/New_York")
    meeting = appointment(berliner, "Telefonkonferenz", start_at="2026-12-10T15:00",
                          end_at="2026-12-10T16:00", attendees=[{"type": "user", "id": new_yorker.pk}])  # fmt: skip
    fair = appointment(berliner, "Messe", start_at="2026-12-11T00:00", all_day=True)

    in_berlin = {e["title"]: e for e in events(signed_in(berliner))}
    in_new_york = {e["title"]: e for e in events(signed_in(new_yorker), user=berliner.pk)}
    assert (in_berlin["Telefonkonferenz"]["start"], in_berlin["Telefonkonferenz"]["end"]) == (
        "2026-12-10T15:00:00+01:00", "2026-12-10T16:00:00+01:00",
    )  # fmt: skip
    assert (in_new_york["Telefonkonferenz"]["start"], in_new_york["Telefonkonferenz"]["end"]) == (
        "2026-12-10T09:00:00-05:00", "2026-12-10T10:00:00-05:00",
    )  # fmt: skip
    # An all-day appointment is on the same date for both.
    assert in_berlin["Messe"]["start"] == in_new_york["Messe"]["start"] == "2026-12-11"
    assert in_berlin["Messe"]["end"] == in_new_york["Messe"]["end"] == "2026-12-12"
    assert fair.all_day

    # The New Yorker drags it to 11:00 their time (a wall-clock time without an offset is read in
    # their zone): the Berliner sees 17:00.
    client = signed_in(new_yorker)
    response = move(client, meeting, start_at="2026-12-10T11:00", end_at="2026-12-10T12:00")
    assert response.status_code == 200, response.content
    assert response.json()["event"]["start"] == "2026-12-10T11:00:00-05:00"
    meeting.refresh_from_db()
    assert meeting.start_at == dt.datetime(2026, 12, 10, 16, 0, tzinfo=UTC)
    in_berlin = {e["title"]: e for e in events(signed_in(berliner))}
    assert in_berlin["Telefonkonferenz"]["start"] == "2026-12-10T17:00:00+01:00"


def test_the_window_without_offsets_is_the_users_local_window(team1):
    new_yorker = make_user("sales", team1, time_zone="America/New_York")
    # 22:00 to 23:00 in New York on 9 December is 04:00 to 05:00 in Berlin on the 10th.
    appointment(new_yorker, "Spät", start_at="2026-12-09T22:00")
    client = signed_in(new_yorker)
    response = client.get(EVENTS, {"start": "2026-12-10T00:00:00", "end": "2026-12-11T00:00:00"})
    assert titles(response.json()["events"]) == []
    response = client.get(EVENTS, {"start": "2026-12-09T00:00:00", "end": "2026-12-10T00:00:00"})
    assert titles(response.json()["events"]) == ["Spät"]
    assert json.loads(response.content)["time_zone"] == "America/New_York"


@pytest.mark.parametrize("zone", ["Asia/Tokyo", "America/Los_Angeles", "Pacific/Kiritimati"])
def test_an_all_day_appointment_is_on_the_same_date_for_a_colleague_anywhere(team1, zone):
    """Saved in Tokyo, seen in Los Angeles (17 hours behind) or on Kiritimati (UTC+14): the
    calendar, the appointment's page, its .ics, the colleague's "My day" and the reminder text
    all name the same dates."""
    from django.utils import timezone

    from farley.activities import reminders, selectors

    organiser = make_user("sales", team1, full_name="Taro Tokio", time_zone="Asia/Tokyo")
    colleague = make_user("sales", team1, full_name="Kim Anywhere", time_zone=zone)
    with timezone.override(zoneinfo.ZoneInfo("Asia/Tokyo")):
        fair = appointment(organiser, "Messe", start_at="2026-12-11T00:00",
                           end_at="2026-12-12T00:00", all_day=True,
                           attendees=[{"type": "user", "id": colleague.pk}])  # fmt: skip
    client = signed_in(colleague)
    (event,) = [e for e in events(client, user=organiser.pk) if e["title"] == "Messe"]
    assert (event["start"], event["end"], event["allDay"]) == ("2026-12-11", "2026-12-13", True)
    page = client.get(f"/activities/{fair.pk}/").content.decode()
    assert "12/11/2026" in page or "11.12.2026" in page
    ics = client.get(f"/activities/{fair.pk}/ics/").content.decode()
    assert "DTSTART;VALUE=DATE:20261211" in ics and "DTEND;VALUE=DATE:20261213" in ics
    form = client.get(f"/activities/{fair.pk}/edit/").content.decode()
    assert 'value="2026-12-11T00:00"' in form and 'value="2026-12-12T00:00"' in form
    fair.refresh_from_db()
    assert "12/11/2026" in reminders._when_text(fair, colleague)
    # "My day" on each of the colleague's days: on the 11th and 12th, not the 10th or 13th.
    local = zoneinfo.ZoneInfo(zone)
    for day, expected in [(10, []), (11, ["Messe"]), (12, ["Messe"]), (13, [])]:
        noon = dt.datetime(2026, 12, day, 12, tzinfo=local)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(timezone, "now", lambda noon=noon: noon)
            assert [a.title for a in selectors.my_day(colleague).appointments] == expected, day
