"""REST API for tasks, appointments, calls and notes: the fixed field names, filters, the
error JSON of every refusal, time zones, completion with a next task, follow-ups, the
calendar window and constant query counts."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from farley.activities.models import Activity
from farley.core.models import User
from tests.apiclient import Api, assert_error
from tests.factories import make_contact, make_opportunity, make_user

pytestmark = pytest.mark.django_db


def zone(user: User, name: str) -> User:
    user.time_zone = name
    user.save(update_fields=["time_zone"])
    return user


def test_a_task_with_the_fixed_field_names_round_trips(sales1):
    contact = make_contact(sales1, first_name="Greta", last_name="Müller")
    api = Api(sales1)
    response = api.post("/tasks", {
        "title": "Rückruf 📞 李", "due_at": "2026-12-07T10:00:00+01:00",
        "assignee_id": sales1.pk, "related": [{"type": "contact", "id": contact.pk}],
        "status": "open", "recurrence": "FREQ=WEEKLY;COUNT=4",
    })  # fmt: skip
    assert response.status_code == 201, response.content
    task = response.json()
    assert task["title"] == "Rückruf 📞 李"
    assert task["kind"] == "task"
    assert task["assignee_id"] == sales1.pk
    assert task["recurrence"] == "FREQ=WEEKLY;COUNT=4"
    assert dt.datetime.fromisoformat(task["due_at"]) == dt.datetime(2026, 12, 7, 9, tzinfo=dt.UTC)
    assert task["related"] == [{"type": "contact", "id": contact.pk, "title": "Greta Müller",
                                "url": f"/contacts/{contact.pk}/"}]  # fmt: skip
    assert api.get(f"/tasks/{task['id']}").json() == task
    changed = api.patch(f"/tasks/{task['id']}", {"priority": "high", "version": task["version"]})
    assert changed.status_code == 200
    assert changed.json()["priority"] == "high"
    history = api.get(f"/tasks/{task['id']}/history").json()
    assert [h["action"] for h in history][:2] == ["update", "create"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": "", "due_at": "2026-12-07T10:00"}, "title"),
        ({"title": "x" * 301}, "title"),
        ({"title": "A", "due_at": "nächsten Dienstag"}, "due_at"),
        ({"title": "A", "due_at": "2026-02-30T10:00"}, "due_at"),
        ({"title": "A", "due_at": "0999-01-01T10:00"}, "due_at"),
        ({"title": "A", "due_at": "2026-12-07T10:00", "recurrence": "FREQ=SOMETIMES"},
         "recurrence"),
        ({"title": "A", "due_at": "2026-12-07T10:00", "recurrence": "FREQ=DAILY"}, "recurrence"),
        ({"title": "A", "recurrence": "FREQ=DAILY;COUNT=3"}, "recurrence"),
        ({"title": "A", "related": [{"type": "planet", "id": 1}]}, "related.0.type"),
        ({"title": "A", "related": [{"type": "contact", "id": 2**70}]}, "related.0.id"),
        ({"title": "A", "assignee_id": 999999}, "assignee_id"),
        ({"title": "A", "status": "maybe"}, "status"),
    ],
)  # fmt: skip
def test_bad_task_input_is_a_field_error_and_nothing_is_written(sales1, body, field):
    response = Api(sales1).post("/tasks", body)
    error = assert_error(response, 422)
    assert field in error["fields"], error
    assert not Activity.objects.exists()


def test_unknown_fields_and_mass_assignment_are_refused(sales1):
    api = Api(sales1)
    for body in ({"title": "A", "version": 7}, {"title": "A", "created_by": 1},
                 {"title": "A", "start_at": "2026-12-07T10:00"}):  # fmt: skip
        assert api.post("/tasks", body).status_code == 422, body
    assert not Activity.objects.exists()


def test_appointments_check_times_and_attendees(sales1, sales2):
    hidden = make_contact(sales2, last_name="Verborgen")
    api = Api(sales1)
    error = assert_error(api.post("/appointments", {
        "title": "Termin", "start_at": "2026-12-10T15:00", "end_at": "2026-12-10T14:00",
    }), 422)  # fmt: skip
    assert "end_at" in error["fields"]
    error = assert_error(api.post("/appointments", {
        "title": "Termin", "start_at": "2026-12-10T15:00",
        "attendees": [{"type": "contact", "id": hidden.pk}, {"type": "robot", "id": 1}],
    }), 422)  # fmt: skip
    assert {"attendees.0.id", "attendees.1.type"} <= set(error["fields"])
    assert not Activity.objects.exists()
    response = api.post("/appointments", {
        "title": "Termin", "start_at": "2026-12-10T15:00", "location": "Hamburg",
        "attendees": [{"type": "user", "id": sales2.pk}],
    })  # fmt: skip
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["attendees"] == [
        {"type": "user", "id": sales2.pk, "name": str(sales2), "response": "needs_action"}
    ]
    # Default length one hour; the invited colleague sees it too.
    assert dt.datetime.fromisoformat(body["end_at"]) - dt.datetime.fromisoformat(
        body["start_at"]
    ) == dt.timedelta(hours=1)
    assert Api(sales2).get(f"/appointments/{body['id']}").status_code == 200
    assert Api(sales2).patch(f"/appointments/{body['id']}", {"title": "Mine"}).status_code == 404


def test_berlin_and_new_york_see_the_same_appointment_at_their_local_times(sales1, sales2):
    zone(sales1, "Europe/Berlin")
    zone(sales2, "America/New_York")
    created = Api(sales1).post("/appointments", {
        "title": "Abstimmung", "start_at": "2026-12-10T15:00", "end_at": "2026-12-10T16:00",
        "attendees": [{"type": "user", "id": sales2.pk}],
    }).json()  # fmt: skip
    berlin = dt.datetime.fromisoformat(created["start_at"])
    new_york = dt.datetime.fromisoformat(
        Api(sales2).get(f"/appointments/{created['id']}").json()["start_at"]
    )
    assert (berlin.hour, berlin.utcoffset()) == (15, dt.timedelta(hours=1))
    assert (new_york.hour, new_york.utcoffset()) == (9, dt.timedelta(hours=-5))
    assert berlin == new_york
    # In summer both are an hour further from UTC, and the local hour stays.
    summer = Api(sales2).post("/appointments", {
        "title": "Summer", "start_at": "2026-07-10T09:00"}).json()  # fmt: skip
    assert dt.datetime.fromisoformat(summer["start_at"]).utcoffset() == dt.timedelta(hours=-4)


def test_an_all_day_appointment_answers_its_dates_to_everyone(sales1, sales2):
    """Entered in Tokyo as the 11th and 12th; answered to Tokyo and to Los Angeles alike as
    midnight UTC of the 11th and of the 13th (the end is the day after the last)."""
    zone(sales1, "Asia/Tokyo")
    zone(sales2, "America/Los_Angeles")
    created = Api(sales1).post("/appointments", {
        "title": "Messe", "start_at": "2026-12-11T00:00", "end_at": "2026-12-12T00:00",
        "all_day": True, "attendees": [{"type": "user", "id": sales2.pk}],
    }).json()  # fmt: skip
    seen = Api(sales2).get(f"/appointments/{created['id']}").json()
    for body in (created, seen):
        start, end = (dt.datetime.fromisoformat(body[k]) for k in ("start_at", "end_at"))
        assert (start.date(), end.date()) == (dt.date(2026, 12, 11), dt.date(2026, 12, 13))
        assert start.utcoffset() == end.utcoffset() == dt.timedelta(0)
    # Moved a day later by its organiser, as dates.
    moved = Api(sales1).patch(f"/appointments/{created['id']}", {
        "start_at": "2026-12-12T00:00", "end_at": "2026-12-13T00:00", "version": created["version"],
    }).json()  # fmt: skip
    assert moved["start_at"].startswith("2026-12-12T00:00:00")


def test_other_teams_private_activities_are_not_found(sales1, sales2):
    mine = Api(sales2).post("/tasks", {"title": "Geheim", "due_at": "2026-12-07T10:00"}).json()
    api = Api(sales1)
    for response in (
        api.get(f"/tasks/{mine['id']}"),
        api.patch(f"/tasks/{mine['id']}", {"title": "Hacked"}),
        api.delete(f"/tasks/{mine['id']}"),
        api.post(f"/tasks/{mine['id']}/complete", {}),
        api.get(f"/tasks/{mine['id']}/history"),
        api.get(f"/calls/{mine['id']}"),
    ):
        assert_error(response, 404)
    assert api.get("/tasks").json()["items"] == []
    assert Activity.objects.get().title == "Geheim"


def test_a_stale_version_is_a_conflict(sales1):
    api = Api(sales1)
    task = api.post("/tasks", {"title": "A"}).json()
    first = api.patch(f"/tasks/{task['id']}", {"title": "B", "version": task["version"]})
    assert first.status_code == 200
    stale = api.patch(f"/tasks/{task['id']}", {"title": "C", "version": task["version"]})
    assert_error(stale, 409)
    assert Activity.objects.get().title == "B"


def test_completing_a_task_creates_the_next_one_about_the_same_records(sales1):
    deal = make_opportunity(sales1, name="Großauftrag")
    api = Api(sales1)
    task = api.post("/tasks", {"title": "Anrufen", "due_at": "2026-12-07T10:00",
                               "related": [{"type": "opportunity", "id": deal.pk}]}).json()  # fmt: skip
    bad = api.post(f"/tasks/{task['id']}/complete", {"next": {"title": "", "due_at": "nie"}})
    assert {"next.title", "next.due_at"} <= set(assert_error(bad, 422)["fields"])
    assert api.get(f"/tasks/{task['id']}").json()["status"] == "open"
    done = api.post(f"/tasks/{task['id']}/complete", {
        "outcome": "Erreicht", "next": {"title": "Wieder anrufen", "due_at": "2026-12-21T10:00"},
    })  # fmt: skip
    assert done.status_code == 200, done.content
    body = done.json()
    assert body["task"]["status"] == "done"
    assert body["next"]["title"] == "Wieder anrufen"
    assert body["next"]["related"][0]["id"] == deal.pk
    again = api.post(f"/tasks/{task['id']}/complete", {})
    assert "status" in assert_error(again, 422)["fields"]


def test_a_follow_up_from_any_record(sales1, sales2):
    contact = make_contact(sales1, last_name="Kunde")
    hidden = make_contact(sales2, last_name="Fremd")
    api = Api(sales1)
    response = api.post("/follow-ups", {"type": "contact", "id": contact.pk,
                                        "due_at": "2026-12-14T09:00"})  # fmt: skip
    assert response.status_code == 201, response.content
    task = response.json()
    assert task["is_follow_up"] is True
    assert task["remind_at"] == task["due_at"]
    assert task["related"][0]["id"] == contact.pk
    assert_error(api.post("/follow-ups", {"type": "contact", "id": hidden.pk,
                                          "due_at": "2026-12-14T09:00"}), 404)  # fmt: skip
    assert (
        "due_at"
        in assert_error(api.post("/follow-ups", {"type": "contact", "id": contact.pk}), 422)[
            "fields"
        ]
    )


def test_lists_filter_by_assignee_related_record_and_date_range(sales1, manager):
    contact = make_contact(sales1, last_name="Kunde")
    api = Api(sales1)
    for day, title in ((7, "Montag"), (8, "Dienstag"), (20, "Später")):
        api.post("/tasks", {"title": title, "due_at": f"2026-12-{day:02d}T10:00",
                            "related": [{"type": "contact", "id": contact.pk}]
                            if title != "Dienstag" else []})  # fmt: skip
    Api(manager).post("/tasks", {"title": "Fremd", "due_at": "2026-12-07T10:00",
                                 "assignee_id": manager.pk})  # fmt: skip

    def titles(**params):
        response = api.get("/tasks", params)
        assert response.status_code == 200, response.content
        return [t["title"] for t in response.json()["items"]]

    assert titles() == ["Montag", "Dienstag", "Später"]
    assert titles(assignee="me", due_from="2026-12-08", due_to="2026-12-31") == [
        "Dienstag",
        "Später",
    ]
    assert titles(related=f"contact:{contact.pk}", sort="-due") == ["Später", "Montag"]
    assert titles(related_type="contact", limit=1) == ["Montag"]
    assert titles(q="tag") == ["Montag", "Dienstag"]
    for params in ({"status": "maybe"}, {"due_from": "gestern"}, {"related": "planet:1"},
                   {"sort": "random"}, {"limit": "0"}):  # fmt: skip
        assert_error(api.get("/tasks", params), 422)


def test_calls_and_notes(sales1):
    contact = make_contact(sales1, last_name="Kunde")
    api = Api(sales1)
    call = api.post("/calls", {"direction": "in", "phone_number": "030 1234567",
                               "duration_seconds": 125, "call_result": "reached",
                               "description": "Fragt nach dem Angebot",
                               "related": [{"type": "contact", "id": contact.pk}]})  # fmt: skip
    assert call.status_code == 201, call.content
    assert call.json()["phone_number"] == "+49301234567"
    assert call.json()["title"] == "Fragt nach dem Angebot"
    note = api.post("/notes", {"description": "Mag keinen Kaffee"}).json()
    assert note["kind"] == "note"
    assert note["start_at"] is not None
    for body in ({"phone_number": "abc"}, {"duration_seconds": -1}, {"direction": "up"}):
        assert_error(api.post("/calls", body), 422)
    assert [c["kind"] for c in api.get("/calls").json()["items"]] == ["call"]


def test_the_calendar_window(sales1, sales2, team1):
    colleague = make_user("sales", team1)
    Api(colleague).post("/appointments", {"title": "Kollege", "start_at": "2026-12-10T10:00"})
    Api(sales2).post("/appointments", {"title": "Fremd", "start_at": "2026-12-10T10:00"})
    api = Api(sales1)
    api.post("/appointments", {"title": "Meins", "start_at": "2026-12-09T10:00"})
    api.post("/tasks", {"title": "Fällig", "due_at": "2026-12-11T10:00"})
    window = {"start": "2026-12-07T00:00", "end": "2026-12-14T00:00"}
    assert [a["title"] for a in api.get("/calendar", window).json()["items"]] == ["Meins", "Fällig"]
    team = api.get("/calendar", {**window, "team": team1.pk}).json()["items"]
    assert {a["title"] for a in team} == {"Meins", "Fällig", "Kollege"}
    too_long = {"start": "2026-01-01T00:00", "end": "2026-06-01T00:00"}
    assert "end" in assert_error(api.get("/calendar", too_long), 422)["fields"]


def test_list_queries_do_not_grow_with_the_page(sales1):
    contact = make_contact(sales1, last_name="Kunde")
    api = Api(sales1)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert api.get("/tasks").status_code == 200
        return len(queries)

    for number in range(2):
        api.post("/tasks", {"title": f"T{number}", "related": [{"type": "contact",
                                                                "id": contact.pk}]})  # fmt: skip
    few = count()
    for number in range(10):
        api.post("/tasks", {"title": f"U{number}", "related": [{"type": "contact",
                                                                "id": contact.pk}]})  # fmt: skip
    assert count() == few


def test_delete_and_restore(sales1):
    api = Api(sales1)
    task = api.post("/tasks", {"title": "Weg"}).json()
    assert api.delete(f"/tasks/{task['id']}").status_code == 204
    assert_error(api.get(f"/tasks/{task['id']}"), 404)
    restored = api.post(f"/tasks/{task['id']}/restore")
    assert restored.status_code == 200
    assert restored.json()["title"] == "Weg"


def test_bulk_actions_reassign_postpone_and_complete(sales1, team1):
    colleague = make_user("sales", team1)
    api = Api(zone(sales1, "Europe/Berlin"))
    ids = [
        api.post("/tasks", {"title": f"Anruf {n}", "due_at": "2026-12-07T10:00:00+01:00"}).json()[
            "id"
        ]
        for n in range(3)
    ]
    response = api.post("/tasks/bulk", {"action": "postpone", "ids": ids, "postpone": "1w"})
    assert response.status_code == 200, response.content
    assert response.json() == {"action": "postpone", "changed": ids}
    assert {api.get(f"/tasks/{pk}").json()["due_at"] for pk in ids} == {"2026-12-14T10:00:00+01:00"}
    moved = api.post(
        "/tasks/bulk", {"action": "reassign", "ids": ids[:2], "assignee_id": colleague.pk}
    )
    assert moved.json()["changed"] == ids[:2]
    assert [api.get(f"/tasks/{pk}").json()["assignee_id"] for pk in ids] == [
        colleague.pk, colleague.pk, sales1.pk,
    ]  # fmt: skip
    done = api.post("/tasks/bulk", {"action": "complete", "ids": [ids[2]]})
    assert done.json()["changed"] == [ids[2]]
    assert api.get(f"/tasks/{ids[2]}").json()["status"] == "done"


def test_a_bulk_action_is_all_or_nothing_and_names_the_failing_tasks(sales1, sales2):
    api = Api(sales1)
    mine = api.post("/tasks", {"title": "Meins", "due_at": "2026-12-07T10:00"}).json()
    theirs = Api(sales2).post("/tasks", {"title": "Fremd"}).json()
    response = api.post(
        "/tasks/bulk", {"action": "postpone", "ids": [mine["id"], theirs["id"]], "postpone": "1d"}
    )
    error = assert_error(response, 422, "validation_error")
    assert list(error["fields"]) == ["ids.1"]
    assert "Fremd" not in str(error)  # the other team's task is not revealed
    assert api.get(f"/tasks/{mine['id']}").json()["due_at"] == mine["due_at"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"action": "archive", "ids": [1]}, "action"),
        ({"action": "complete", "ids": []}, "ids"),
        ({"action": "complete", "ids": list(range(1, 202))}, "ids"),
        ({"action": "reassign", "ids": [1]}, "assignee_id"),
        ({"action": "postpone", "ids": [1], "postpone": "soon"}, "postpone"),
        ({"action": "postpone", "ids": [1], "postpone": "date", "postpone_to": "31.02."}, "postpone_to"),
    ],
)  # fmt: skip
def test_bad_bulk_input_is_a_field_error(sales1, body, field):
    error = assert_error(Api(sales1).post("/tasks/bulk", body), 422, "validation_error")
    assert field in error["fields"]


def test_bulk_actions_need_the_right_to_edit_activities(sales1):
    task = Api(sales1).post("/tasks", {"title": "A"}).json()
    reader = make_user("read_only")
    assert_error(Api(reader).post("/tasks/bulk", {"action": "complete", "ids": [task["id"]]}), 403)
    assert Activity.objects.get().status == "open"


def test_an_invited_user_answers_an_invitation(sales1, sales2, team1):
    colleague = make_user("sales", team1)
    meeting = Api(sales1).post("/appointments", {
        "title": "Planung", "start_at": "2026-12-10T10:00",
        "attendees": [{"type": "user", "id": colleague.pk}],
    }).json()  # fmt: skip
    api = Api(colleague)
    response = api.post(f"/appointments/{meeting['id']}/response", {"response": "tentative"})
    assert response.status_code == 200, response.content
    assert response.json()["attendees"] == [
        {"type": "user", "id": colleague.pk, "name": str(colleague), "response": "tentative"}
    ]
    bell = Api(sales1).get("/notifications").json()
    assert f"{colleague} accepted tentatively: Planung" in [n["title"] for n in bell["items"]]
    error = assert_error(api.post(f"/appointments/{meeting['id']}/response", {"response": "ja"}),
                         422, "validation_error")  # fmt: skip
    assert list(error["fields"]) == ["response"]
    assert_error(
        Api(sales2).post(f"/appointments/{meeting['id']}/response", {"response": "accepted"}), 404
    )


def test_invitations_are_emailed_to_the_invited_contacts(sales1, sales2, mailoutbox):
    contact = make_contact(sales1, last_name="Muster", emails=[{"address": "m@example.de"}])
    api = Api(sales1)
    meeting = api.post("/appointments", {
        "title": "Vorführung", "start_at": "2026-12-10T10:00",
        "attendees": [{"type": "contact", "id": contact.pk}],
    }).json()  # fmt: skip
    response = api.post(f"/appointments/{meeting['id']}/invitations")
    assert response.status_code == 200, response.content
    assert response.json() == {"sent": ["m@example.de"]}
    assert [m.to for m in mailoutbox] == [["m@example.de"]]
    assert_error(Api(sales2).post(f"/appointments/{meeting['id']}/invitations"), 404)
    alone = api.post("/appointments", {"title": "Allein", "start_at": "2026-12-11T10:00"}).json()
    error = assert_error(api.post(f"/appointments/{alone['id']}/invitations"), 422)
    assert list(error["fields"]) == ["attendees"]
    assert len(mailoutbox) == 1
