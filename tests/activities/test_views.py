"""Pages of activities: "My day", the navigation's count, the task list with its filters and
bulk actions, the forms of the four kinds (field errors, nothing written on bad input, stale
versions), completing a task with a next one, follow-ups and the panel on the 360 pages."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from farley.activities import services
from farley.activities.models import Activity, ActivityStatus
from farley.core import sharing
from tests.factories import make_account, make_contact, make_lead, make_opportunity, make_user

pytestmark = pytest.mark.django_db
BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
HTMX = {"HTTP_HX_REQUEST": "true"}


def local_day(days: int = 0, hour: int = 10, minute: int = 0, zone=BERLIN) -> str:
    """A local time ``days`` from today, as a datetime-local input sends it."""
    today = timezone.now().astimezone(zone).date() + dt.timedelta(days=days)
    return dt.datetime.combine(today, dt.time(hour, minute)).strftime("%Y-%m-%dT%H:%M")


def task(actor, title="Anrufen", **data):
    data.setdefault("due_at", local_day(1))
    return services.activity_create(actor=actor, kind="task", data={"title": title, **data})


def section(html: str, name: str) -> str:
    """The HTML of one section of "My day"."""
    start = html.index(f'id="section-{name}"')
    end = html.find("<section", start)
    return html[start : end if end != -1 else len(html)]


@pytest.fixture
def contact(sales1):
    return make_contact(sales1, first_name="Greta", last_name="Grün")


def about(record, entity="contact"):
    return [{"type": entity, "id": record.pk}]


# --- My day -----------------------------------------------------------------------------------


def test_my_day_shows_each_task_in_its_section_with_its_records(client, sales1, contact):
    task(sales1, "Überfällig", due_at=local_day(-2), related=about(contact))
    task(sales1, "Heute fällig", due_at=local_day(0, 23, 30))
    task(sales1, "Nächste Woche", due_at=local_day(3))
    task(sales1, "Später", due_at=local_day(30))
    services.activity_create(actor=sales1, kind="appointment", data={
        "title": "Termin bei Grün", "start_at": local_day(0, 12), "location": "Köln",
    })  # fmt: skip
    services.follow_up_create(actor=sales1, entity="contact", object_id=contact.pk,
                              data={"due_at": local_day(2, 9)})  # fmt: skip
    client.force_login(sales1)
    html = client.get("/my-day/").content.decode()
    assert "Überfällig" in section(html, "overdue")
    assert f'href="/contacts/{contact.pk}/">Greta Grün' in section(html, "overdue")
    assert "Heute fällig" in section(html, "today")
    assert "Nächste Woche" in section(html, "upcoming")
    assert "Später" not in html
    assert "Termin bei Grün" in section(html, "appointments")
    assert "Köln" in section(html, "appointments")
    follow_ups = section(html, "follow-ups")
    assert "Follow up: Greta Grün" in follow_ups
    assert f'href="/contacts/{contact.pk}/"' in follow_ups
    # Every task has its "Done" button, which opens the dialog (htmx) or its own page.
    done = Activity.objects.get(title="Überfällig")
    assert f'hx-get="/activities/{done.pk}/complete/"' in html
    assert 'id="complete-dialog"' in html


def test_my_day_shows_only_the_users_own_tasks(client, sales1, team1):
    colleague = make_user("sales", team1)
    task(colleague, "Kollegenaufgabe", due_at=local_day(0, 12))
    client.force_login(sales1)
    assert "Kollegenaufgabe" not in client.get("/my-day/").content.decode()


def test_my_day_needs_no_more_queries_for_more_tasks(client, sales1, contact):
    account = make_account(sales1, name="Grün AG")

    def add(n: int) -> None:
        for i in range(n):
            for days in (-1, 0, 2):
                task(sales1, f"Aufgabe {days} {i}", due_at=local_day(days, 9, i % 60),
                     related=about(contact) + about(account, "account"))  # fmt: skip
            services.follow_up_create(actor=sales1, entity="contact", object_id=contact.pk,
                                      data={"due_at": local_day(1, 9, i % 60)})  # fmt: skip
            services.activity_create(actor=sales1, kind="appointment", data={
                "title": f"Termin {i}", "start_at": local_day(0, 8, i % 60),
                "related": about(account, "account"),
            })  # fmt: skip

    client.force_login(sales1)
    counts = []
    for n in (1, 8):
        add(n)
        client.get("/my-day/")  # warm the session and caches alike
        with CaptureQueriesContext(connection) as ctx:
            response = client.get("/my-day/")
        assert response.status_code == 200
        counts.append(len(ctx.captured_queries))
    html = response.content.decode()
    # 9 of each: overdue, today, upcoming, and the follow-ups (due tomorrow, so upcoming)
    assert html.count('data-task="') == 9 * 4
    assert html.count('data-follow-up="') == 9
    assert counts[0] == counts[1], counts


def test_my_day_needs_the_view_permission(client, db):
    from farley.core.models import Role

    role = Role.objects.create(key="custom", name="Custom", permissions={"contact": ["view"]})
    user = make_user("sales")
    user.role = role
    user.save()
    client.force_login(user)
    assert client.get("/my-day/").status_code == 403
    assert "nav-my-day" not in client.get("/").content.decode()


# --- the navigation ---------------------------------------------------------------------------


def test_the_navigation_counts_overdue_and_todays_tasks(client, sales1):
    task(sales1, "Überfällig", due_at=local_day(-1))
    task(sales1, "Heute", due_at=local_day(0, 23, 59))
    task(sales1, "Morgen", due_at=local_day(1))
    done = task(sales1, "Erledigt", due_at=local_day(-1))
    services.task_complete(actor=sales1, task_id=done.pk)
    client.force_login(sales1)
    html = client.get("/").content.decode()
    assert 'id="nav-my-day"' in html
    assert re.search(r'id="my-day-count">2<', html)


def test_the_navigation_shows_no_count_without_due_tasks(client, sales1):
    task(sales1, "Morgen", due_at=local_day(1))
    client.force_login(sales1)
    html = client.get("/").content.decode()
    assert 'id="nav-my-day"' in html and "my-day-count" not in html


def test_the_count_is_one_query_and_not_made_for_fragments(client, sales1):
    task(sales1, "Überfällig", due_at=local_day(-1))
    client.force_login(sales1)
    client.get("/")

    def counts(path, **headers) -> int:
        with CaptureQueriesContext(connection) as ctx:
            client.get(path, **headers)
        return sum(
            1 for q in ctx.captured_queries
            if '"activities_activity"' in q["sql"] and "COUNT(" in q["sql"].upper()
        )  # fmt: skip

    assert counts("/") == 1
    assert counts("/activities/lookup/?q=Gr%C3%BCn", **HTMX) == 0


# --- visibility -------------------------------------------------------------------------------


def test_another_teams_private_activity_is_not_found(client, sales1, sales2):
    theirs = task(sales2, "Geheim")
    client.force_login(sales1)
    for path in (f"/activities/{theirs.pk}/", f"/activities/{theirs.pk}/edit/",
                 f"/activities/{theirs.pk}/complete/"):  # fmt: skip
        assert client.get(path).status_code == 404, path
    assert client.post(f"/activities/{theirs.pk}/complete/", {}).status_code == 404
    assert client.post(f"/activities/{theirs.pk}/edit/", {"title": "X"}).status_code == 404
    assert "Geheim" not in client.get("/tasks/?assignee=anyone").content.decode()
    theirs.refresh_from_db()
    assert (theirs.title, theirs.status) == ("Geheim", ActivityStatus.OPEN)


def test_a_task_shared_to_read_is_shown_but_not_changed(client, sales1, sales2):
    theirs = task(sales2, "Nur lesen")
    sharing.share_create(actor=sales2, entity="activity", object_id=theirs.pk,
                         data={"user_id": sales1.pk})  # fmt: skip
    client.force_login(sales1)
    page = client.get(f"/activities/{theirs.pk}/").content.decode()
    assert "Nur lesen" in page and f"/activities/{theirs.pk}/edit/" not in page
    assert client.get(f"/activities/{theirs.pk}/edit/").status_code == 403
    assert client.post(f"/activities/{theirs.pk}/complete/", {}).status_code == 403
    listing = client.get("/tasks/?assignee=anyone").content.decode()
    assert "Nur lesen" in listing and f'value="{theirs.pk}" id="check-' not in listing


# --- the task list ----------------------------------------------------------------------------


def test_the_task_list_starts_with_my_open_tasks(client, sales1, team1):
    colleague = make_user("sales", team1)
    task(sales1, "Meine offene")
    done = task(sales1, "Meine erledigte")
    services.task_complete(actor=sales1, task_id=done.pk)
    task(colleague, "Teamaufgabe")
    client.force_login(sales1)
    html = client.get("/tasks/").content.decode()
    assert "Meine offene" in html
    assert "Meine erledigte" not in html and "Teamaufgabe" not in html
    html = client.get("/tasks/?assignee=anyone&status=").content.decode()
    assert all(t in html for t in ("Meine offene", "Meine erledigte", "Teamaufgabe"))
    html = client.get(f"/tasks/?assignee={colleague.pk}").content.decode()
    assert "Teamaufgabe" in html and "Meine offene" not in html


def test_the_task_list_filters(client, sales1, sales2, team1, contact):
    task(sales1, "Wichtig", priority="high", due_at=local_day(5), related=about(contact))
    task(sales1, "Unwichtig", priority="low", due_at=local_day(20))
    services.activity_create(actor=sales1, kind="task", data={
        "title": "Teamqueue", "assignee_id": None, "team_id": team1.pk,
    })  # fmt: skip
    client.force_login(sales1)

    def titles(query: str) -> set[str]:
        html = client.get("/tasks/?" + query).content.decode()
        return {t for t in ("Wichtig", "Unwichtig", "Teamqueue") if f">{t}</a>" in html}

    assert titles("assignee=anyone&priority=high") == {"Wichtig"}
    assert titles("assignee=anyone&q=wicht") == {"Wichtig", "Unwichtig"}
    assert titles("assignee=anyone&related_type=contact") == {"Wichtig"}
    assert titles(f"assignee=anyone&related=contact:{contact.pk}") == {"Wichtig"}
    assert titles(f"assignee=anyone&due_from={local_day(10)[:10]}") == {"Unwichtig"}
    assert titles(f"assignee=anyone&due_to={local_day(10)[:10]}") == {"Wichtig"}
    assert titles(f"assignee=anyone&team={team1.pk}") == {"Wichtig", "Unwichtig", "Teamqueue"}
    assert titles("assignee=me") == {"Wichtig", "Unwichtig"}


def test_a_bad_filter_is_marked_and_the_others_still_apply(client, sales1):
    task(sales1, "Wichtig", priority="high")
    task(sales1, "Normal")
    client.force_login(sales1)
    response = client.get("/tasks/?assignee=anyone&priority=high&due_from=gestern&status=weird")
    html = response.content.decode()
    assert response.status_code == 200
    assert re.search(r'id="f-due_from" name="due_from" value="gestern"', html)
    assert 'is-invalid" type="date" id="f-due_from"' in html
    assert "Wichtig" in html and ">Normal</a>" not in html


def test_the_task_list_is_paged(client, sales1):
    for n in range(55):
        task(sales1, f"Aufgabe {n:02d}", due_at=local_day(1, 9, n))
    client.force_login(sales1)
    first = client.get("/tasks/").content.decode()
    assert first.count('name="ids"') == 50 and "1 / 2" in first
    second = client.get("/tasks/?assignee=me&status=open&page=2").content.decode()
    assert second.count('name="ids"') == 5


def test_the_task_list_needs_no_more_queries_for_more_tasks(client, sales1, contact):
    client.force_login(sales1)
    counts = []
    for n in (2, 20):
        for i in range(n):
            task(sales1, f"Aufgabe {i}", related=about(contact))
        client.get("/tasks/")
        with CaptureQueriesContext(connection) as ctx:
            client.get("/tasks/")
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1], counts


def test_bulk_actions_from_the_list(client, sales1, team1):
    colleague = make_user("sales", team1, full_name="Kai Kollege")
    first, second = task(sales1, "Erste"), task(sales1, "Zweite")
    client.force_login(sales1)
    html = client.get("/tasks/").content.decode()
    assert 'id="bulk-form"' in html and f'name="ids" value="{first.pk}"' in html
    response = client.post("/tasks/bulk/", {
        "action": "reassign", "ids": [first.pk, second.pk], "assignee_id": colleague.pk,
        "next": "/tasks/?assignee=anyone",
    }, follow=True)  # fmt: skip
    assert response.redirect_chain[-1][0] == "/tasks/?assignee=anyone"
    assert "2 tasks were changed." in response.content.decode()
    assert set(Activity.objects.values_list("owner_id", flat=True)) == {colleague.pk}


def test_bulk_postpone_and_complete_from_the_list(client, sales1):
    first, second = task(sales1, "Erste", due_at="2026-12-10T15:00"), task(sales1, "Zweite")
    client.force_login(sales1)
    client.post("/tasks/bulk/", {"action": "postpone", "ids": [first.pk], "postpone": "1w"})
    first.refresh_from_db()
    assert first.due_at.astimezone(BERLIN) == dt.datetime(2026, 12, 17, 15, 0, tzinfo=BERLIN)
    client.post("/tasks/bulk/", {"action": "complete", "ids": [first.pk, second.pk]})
    assert set(Activity.objects.values_list("status", flat=True)) == {ActivityStatus.DONE}


def test_a_refused_bulk_action_changes_nothing_and_says_why(client, sales1, sales2):
    mine, theirs = task(sales1, "Meine"), task(sales2, "Fremde")
    client.force_login(sales1)
    response = client.post("/tasks/bulk/", {"action": "complete", "ids": [mine.pk, theirs.pk]},
                           follow=True)  # fmt: skip
    html = response.content.decode()
    assert "Nothing was changed" in html and "No such task, or you may not see it." in html
    mine.refresh_from_db()
    assert mine.status == ActivityStatus.OPEN
    response = client.post("/tasks/bulk/", {"action": "reassign", "ids": [mine.pk]}, follow=True)
    assert "Select a user." in response.content.decode()


def test_bulk_goes_back_only_to_this_site(client, sales1):
    client.force_login(sales1)
    response = client.post("/tasks/bulk/", {"action": "complete", "ids": [],
                                            "next": "https://evil.example/"})  # fmt: skip
    assert response["Location"] == "/tasks/"


# --- the forms --------------------------------------------------------------------------------


def test_the_new_task_form_presets_the_record_and_shortcuts(client, sales1, contact):
    client.force_login(sales1)
    html = client.get(f"/activities/new/?kind=task&related=contact:{contact.pk}").content.decode()
    assert f'name="related" value="contact:{contact.pk}"' in html and "Greta Grün" in html
    assert 'type="datetime-local" id="f-due_at"' in html
    assert f'value="{local_day(14, 9)}"' in html  # "in 2 weeks"
    assert f'<option value="{sales1.pk}" selected>' in html
    assert 'id="f-recurrence_preset"' in html


def test_a_record_one_may_not_see_is_not_preset(client, sales1, sales2):
    hidden = make_contact(sales2, last_name="Versteckt")
    client.force_login(sales1)
    html = client.get(f"/activities/new/?kind=task&related=contact:{hidden.pk}").content.decode()
    assert "Versteckt" not in html and f"contact:{hidden.pk}" not in html.split("<form")[1]


def test_a_task_is_created_in_the_users_time_zone(client, team1, contact):
    user = make_user("sales", team1, time_zone="America/New_York")
    client.force_login(user)
    response = client.post("/activities/new/?kind=task", {
        "title": "Rückruf ☎", "description": "Öl & Gas", "priority": "high",
        "due_at": "2026-12-10T09:00", "remind_at": "2026-12-10T08:45",
        "recurrence_preset": "weekly", "recurrence_count": "4",
        "assignee_id": user.pk, "team_id": "",
    })  # fmt: skip
    saved = Activity.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/activities/{saved.pk}/"
    assert saved.due_at == dt.datetime(2026, 12, 10, 14, 0, tzinfo=dt.UTC)
    assert (saved.title, saved.priority, saved.owner, saved.team) == (
        "Rückruf ☎", "high", user, team1)  # fmt: skip
    assert saved.recurrence == "FREQ=WEEKLY;COUNT=4"
    # The edit form shows it again as entered, in New York time.
    html = client.get(f"/activities/{saved.pk}/edit/").content.decode()
    assert 'value="2026-12-10T09:00"' in html
    assert '<option value="weekly" selected>' in html and 'value="4"' in html


def test_a_preset_until_a_date_ends_that_day_in_the_users_zone(client, sales1):
    client.force_login(sales1)
    client.post("/activities/new/?kind=task", {
        "title": "Täglich", "due_at": "2026-12-10T09:00", "recurrence_preset": "daily",
        "recurrence_until": "2026-12-20", "assignee_id": sales1.pk,
    })  # fmt: skip
    saved = Activity.objects.get()
    assert saved.recurrence == "FREQ=DAILY;UNTIL=20261220T225959Z"
    html = client.get(f"/activities/{saved.pk}/edit/").content.decode()
    assert 'value="2026-12-20"' in html and '<option value="daily" selected>' in html


def test_a_rule_ending_on_a_date_from_the_api_shows_as_its_preset(client, sales1):
    t = task(sales1, due_at="2026-12-10T09:00", recurrence="FREQ=MONTHLY;UNTIL=20270610")
    client.force_login(sales1)
    html = client.get(f"/activities/{t.pk}/edit/").content.decode()
    assert '<option value="monthly" selected>' in html and 'value="2027-06-10"' in html


def test_a_custom_rule_is_kept_and_a_bad_one_is_shown_at_the_field(client, sales1):
    client.force_login(sales1)
    response = client.post("/activities/new/?kind=task", {
        "title": "Zweimal die Woche", "due_at": "2026-12-10T09:00",
        "recurrence_preset": "custom", "recurrence": "FREQ=WEEKLY;BYDAY=MO,TH",
    })  # fmt: skip
    assert response.status_code == 422
    html = response.content.decode()
    assert 'is-invalid" id="f-recurrence_preset"' in html
    assert "A repeat rule must end: add COUNT or UNTIL." in html
    assert Activity.objects.count() == 0
    client.post("/activities/new/?kind=task", {
        "title": "Zweimal die Woche", "due_at": "2026-12-10T09:00",
        "recurrence_preset": "custom", "recurrence": "FREQ=WEEKLY;BYDAY=MO,TH;COUNT=8",
    })  # fmt: skip
    saved = Activity.objects.get()
    assert saved.recurrence == "FREQ=WEEKLY;BYDAY=MO,TH;COUNT=8"
    html = client.get(f"/activities/{saved.pk}/edit/").content.decode()
    assert '<option value="custom" selected>' in html


def test_bad_input_is_shown_at_the_fields_and_nothing_is_written(client, sales1, contact):
    client.force_login(sales1)
    response = client.post(f"/activities/new/?kind=task&related=contact:{contact.pk}", {
        "title": "", "due_at": "morgen", "priority": "urgent",
        "related": [f"contact:{contact.pk}"], "assignee_id": sales1.pk,
    })  # fmt: skip
    assert response.status_code == 422
    html = response.content.decode()
    assert 'id="form-errors"' in html and "Nothing was saved." in html
    for name in ("title", "due_at", "priority"):
        assert re.search(rf'is-invalid"[^>]*id="f-{name}"', html), name
    assert 'value="morgen"' in html  # what was typed stays
    assert f'value="contact:{contact.pk}"' in html and "Greta Grün" in html
    assert Activity.objects.count() == 0


def test_a_bad_recurrence_count_writes_nothing(client, sales1):
    client.force_login(sales1)
    response = client.post("/activities/new/?kind=task", {
        "title": "X", "due_at": "2026-12-10T09:00", "recurrence_preset": "daily",
        "recurrence_count": "viele",
    })  # fmt: skip
    assert response.status_code == 422
    assert re.search(r'is-invalid"[^>]*id="f-recurrence_count"', response.content.decode())
    assert Activity.objects.count() == 0


def test_an_appointment_with_attendees(client, sales1, team1, contact):
    colleague = make_user("sales", team1, full_name="Kai Kollege")
    client.force_login(sales1)
    html = client.get(
        f"/activities/new/?kind=appointment&related=contact:{contact.pk}"
    ).content.decode()
    # The contact the appointment is about is invited by default.
    assert f'name="attendee_contacts" value="{contact.pk}"' in html
    response = client.post("/activities/new/?kind=appointment", {
        "title": "Besuch", "start_at": "2026-12-10T14:00", "end_at": "2026-12-10T15:30",
        "location": "Düsseldorf", "related": f"contact:{contact.pk}",
        "attendee_users": [colleague.pk], "attendee_contacts": [contact.pk],
        "assignee_id": sales1.pk,
    })  # fmt: skip
    assert response.status_code == 302
    saved = Activity.objects.get()
    assert sorted(str(a) for a in saved.attendees.all()) == ["Greta Grün", "Kai Kollege"]
    assert saved.end_at - saved.start_at == dt.timedelta(minutes=90)


def test_an_appointment_ending_before_it_starts_is_refused(client, sales1):
    client.force_login(sales1)
    response = client.post("/activities/new/?kind=appointment", {
        "title": "Falsch herum", "start_at": "2026-12-10T14:00", "end_at": "2026-12-10T13:00",
    })  # fmt: skip
    assert response.status_code == 422
    assert re.search(r'is-invalid"[^>]*id="f-end_at"', response.content.decode())
    assert Activity.objects.count() == 0


def test_an_all_day_appointment_keeps_its_days_when_edited(client, sales1):
    client.force_login(sales1)
    client.post("/activities/new/?kind=appointment", {
        "title": "Messe", "start_at": "2026-12-10T00:00", "end_at": "2026-12-12T00:00",
        "all_day": "1",
    })  # fmt: skip
    fair = Activity.objects.get()
    html = client.get(f"/activities/{fair.pk}/edit/").content.decode()
    assert 'value="2026-12-12T00:00"' in html  # the last day, as entered
    form = {"title": "Messe Köln", "start_at": "2026-12-10T00:00", "end_at": "2026-12-12T00:00",
            "all_day": "1", "version": fair.version, "assignee_id": sales1.pk,
            "team_id": fair.team_id or "", "status": "open"}  # fmt: skip
    assert client.post(f"/activities/{fair.pk}/edit/", form).status_code == 302
    fair.refresh_from_db()
    assert (fair.first_day, fair.last_day) == (dt.date(2026, 12, 10), dt.date(2026, 12, 12))
    assert fair.end_at == dt.datetime(2026, 12, 13, tzinfo=dt.UTC)  # stored as dates


def test_a_call_is_logged_with_its_minutes(client, sales1, contact):
    client.force_login(sales1)
    html = client.get(f"/activities/new/?kind=call&related=contact:{contact.pk}").content.decode()
    assert 'id="f-direction"' in html and 'id="f-duration_minutes"' in html
    response = client.post("/activities/new/?kind=call", {
        "description": "Angebot besprochen", "start_at": "2026-12-10T10:00", "direction": "out",
        "phone_number": "0221 1234567", "duration_minutes": "7,5", "call_result": "reached",
        "related": f"contact:{contact.pk}", "next": f"/contacts/{contact.pk}/",
    })  # fmt: skip
    assert response["Location"] == f"/contacts/{contact.pk}/"
    call = Activity.objects.get()
    assert (call.kind, call.title, call.duration_seconds, call.phone_number) == (
        "call", "Angebot besprochen", 450, "+492211234567")  # fmt: skip
    html = client.get(f"/activities/{call.pk}/edit/").content.decode()
    assert 'value="7.5"' in html


def test_a_call_without_a_result(client, sales1):
    client.force_login(sales1)
    response = client.post("/activities/new/?kind=call", {
        "title": "Zentrale", "direction": "in", "call_result": "",
    })  # fmt: skip
    assert response.status_code == 302
    assert Activity.objects.get().call_result == ""


def test_a_bad_call_duration_is_shown_at_the_minutes(client, sales1):
    client.force_login(sales1)
    response = client.post("/activities/new/?kind=call", {"duration_minutes": "lang",
                                                          "phone_number": "abc"})  # fmt: skip
    html = response.content.decode()
    assert response.status_code == 422
    assert re.search(r'is-invalid"[^>]*id="f-duration_minutes"', html)
    assert re.search(r'is-invalid"[^>]*id="f-phone_number"', html)
    assert Activity.objects.count() == 0


def test_a_note(client, sales1, contact):
    client.force_login(sales1)
    client.post("/activities/new/?kind=note", {
        "description": "Kundin bevorzugt Termine am Vormittag.\nZweite Zeile",
        "related": f"contact:{contact.pk}",
    })  # fmt: skip
    note = Activity.objects.get()
    assert (note.kind, note.title) == ("note", "Kundin bevorzugt Termine am Vormittag.")


def test_an_unknown_kind_is_not_found(client, sales1):
    client.force_login(sales1)
    assert client.get("/activities/new/?kind=meeting").status_code == 404


def test_a_read_only_user_may_not_create(client, reader):
    client.force_login(reader)
    assert client.get("/activities/new/?kind=task").status_code == 403


def test_a_stale_version_is_refused_with_a_message(client, sales1):
    t = task(sales1, "Alt", due_at="2026-12-10T09:00")
    client.force_login(sales1)
    form = {"title": "Meine Änderung", "due_at": "2026-12-10T09:00", "priority": "normal",
            "status": "open", "version": t.version, "assignee_id": sales1.pk,
            "team_id": t.team_id or ""}  # fmt: skip
    services.activity_update(actor=sales1, activity_id=t.pk, data={"title": "Ihre Änderung"})
    response = client.post(f"/activities/{t.pk}/edit/", form)
    html = response.content.decode()
    assert response.status_code == 409
    assert "Someone else saved this activity meanwhile" in html
    assert 'value="Meine Änderung"' in html and f'name="version" value="{t.version + 1}"' in html
    t.refresh_from_db()
    assert t.title == "Ihre Änderung"
    # Saving again replaces the other change.
    form["version"] = t.version
    assert client.post(f"/activities/{t.pk}/edit/", form).status_code == 302
    t.refresh_from_db()
    assert t.title == "Meine Änderung"


def test_times_left_as_shown_are_not_changed(client, sales1):
    t = task(sales1, "Mit Sekunden", due_at="2026-12-10T09:00:30", remind_at="2026-12-10T08:45:10")
    Activity.objects.filter(pk=t.pk).update(reminded_at=timezone.now())
    client.force_login(sales1)
    html = client.get(f"/activities/{t.pk}/edit/").content.decode()
    assert 'value="2026-12-10T09:00"' in html and 'value="2026-12-10T08:45"' in html
    response = client.post(f"/activities/{t.pk}/edit/", {
        "title": "Umbenannt", "due_at": "2026-12-10T09:00", "remind_at": "2026-12-10T08:45",
        "priority": "normal", "status": "open", "version": t.version,
        "assignee_id": sales1.pk, "team_id": t.team_id or "",
    })  # fmt: skip
    assert response.status_code == 302
    before = (t.due_at, t.remind_at)
    t.refresh_from_db()
    assert (t.title, t.due_at, t.remind_at) == ("Umbenannt", *before)
    assert t.reminded_at is not None  # the reminder that went out is not sent again


def test_editing_removes_an_unchecked_record(client, sales1, contact):
    account = make_account(sales1, name="Grün AG")
    t = task(sales1, related=about(contact) + about(account, "account"))
    client.force_login(sales1)
    html = client.get(f"/activities/{t.pk}/edit/").content.decode()
    assert "Grün AG" in html and "Greta Grün" in html
    client.post(f"/activities/{t.pk}/edit/", {
        "title": t.title, "due_at": local_day(1), "priority": "normal", "status": "open",
        "version": t.version, "assignee_id": sales1.pk, "team_id": t.team_id or "",
        "related": [f"account:{account.pk}"],
    })  # fmt: skip
    assert [(link.entity, link.object_id) for link in t.links.all()] == [("account", account.pk)]


def test_the_lookup_offers_records_the_user_may_see(client, sales1, sales2, contact):
    make_contact(sales2, first_name="Greta", last_name="Grünfremd")
    make_account(sales1, name="Grünwald GmbH")
    client.force_login(sales1)
    html = client.get("/activities/lookup/?what=related&related_q=Gr%C3%BCn", **HTMX)
    html = html.content.decode()
    assert f'value="contact:{contact.pk}"' in html and "Grünwald GmbH" in html
    assert "Grünfremd" not in html
    html = client.get("/activities/lookup/?what=contact&contact_q=Gr%C3%BCn").content.decode()
    assert f'<option value="{contact.pk}">' in html and "Grünwald" not in html


# --- completing a task ------------------------------------------------------------------------


def test_the_completion_dialog_comes_as_a_fragment(client, sales1, contact):
    t = task(sales1, related=about(contact))
    client.force_login(sales1)
    html = client.get(f"/activities/{t.pk}/complete/", **HTMX).content.decode()
    assert html.startswith("<form") and "<html" not in html
    assert f'value="{local_day(14, 9)}"' in html  # the next task: in two weeks, 09:00
    assert "Greta Grün" in html
    page = client.get(f"/activities/{t.pk}/complete/").content.decode()
    assert "<html" in page and 'id="complete-form"' in page


def test_completing_with_a_next_task(client, sales1, contact):
    t = task(sales1, "Angebot nachfassen", related=about(contact))
    client.force_login(sales1)
    response = client.post(f"/activities/{t.pk}/complete/", {
        "outcome": "Erreicht, will Bedenkzeit", "next_create": "1",
        "next_title": "Nochmal anrufen", "next_due_at": "2026-12-24T10:00",
        "version": t.version,
    }, **HTMX)  # fmt: skip
    assert response.status_code == 204 and response["HX-Refresh"] == "true"
    t.refresh_from_db()
    assert t.status == ActivityStatus.DONE and "Erreicht, will Bedenkzeit" in t.description
    following = Activity.objects.get(title="Nochmal anrufen")
    assert following.due_at.astimezone(BERLIN) == dt.datetime(2026, 12, 24, 10, tzinfo=BERLIN)
    assert [(link.entity, link.object_id) for link in following.links.all()] == [
        ("contact", contact.pk)
    ]
    assert "Done. Next: Nochmal anrufen" in client.get("/my-day/").content.decode()


def test_completing_without_a_next_task_ignores_its_fields(client, sales1):
    t = task(sales1)
    client.force_login(sales1)
    response = client.post(f"/activities/{t.pk}/complete/", {
        "next_title": "Nicht anlegen", "next_due_at": "2026-12-24T10:00", "next": "/tasks/",
    })  # fmt: skip
    assert response["Location"] == "/tasks/"
    assert Activity.objects.filter(title="Nicht anlegen").count() == 0


def test_a_bad_next_task_keeps_the_task_open(client, sales1):
    t = task(sales1)
    client.force_login(sales1)
    response = client.post(f"/activities/{t.pk}/complete/", {
        "outcome": "Erreicht", "next_create": "1", "next_title": "", "next_due_at": "bald",
        "version": t.version,
    }, **HTMX)  # fmt: skip
    html = response.content.decode()
    assert response.status_code == 422 and html.startswith("<form")
    assert re.search(r'is-invalid"[^>]*id="f-next_title"', html)
    assert re.search(r'is-invalid"[^>]*id="f-next_due_at"', html)
    assert 'value="bald"' in html and "Erreicht" in html
    t.refresh_from_db()
    assert t.status == ActivityStatus.OPEN and Activity.objects.count() == 1


def test_completing_a_changed_or_finished_task(client, sales1):
    t = task(sales1)
    client.force_login(sales1)
    services.activity_update(actor=sales1, activity_id=t.pk, data={"title": "Geändert"})
    response = client.post(f"/activities/{t.pk}/complete/", {"version": 1}, **HTMX)
    assert response.status_code == 409
    assert "Someone else changed this task meanwhile" in response.content.decode()
    assert 'name="version" value="2"' in response.content.decode()
    services.task_complete(actor=sales1, task_id=t.pk)
    response = client.post(f"/activities/{t.pk}/complete/", {"version": 3}, **HTMX)
    assert response.status_code == 422
    assert "This task is not open any more." in response.content.decode()


# --- follow-ups and the panel on the 360 pages ------------------------------------------------


def test_the_contact_page_has_the_activities_panel(client, sales1, contact):
    open_task = task(sales1, "Angebot schicken", related=about(contact))
    services.activity_create(actor=sales1, kind="appointment", data={
        "title": "Vor-Ort-Termin", "start_at": local_day(3, 10), "related": about(contact),
    })  # fmt: skip
    services.activity_create(actor=sales1, kind="call", data={
        "description": "Kurz gesprochen", "call_result": "reached", "related": about(contact),
    })  # fmt: skip
    done = task(sales1, "Schon erledigt", related=about(contact))
    services.task_complete(actor=sales1, task_id=done.pk)
    client.force_login(sales1)
    html = client.get(f"/contacts/{contact.pk}/").content.decode()
    panel = html[html.index('id="panel-activities"') : html.index('id="complete-dialog"')]
    assert "Angebot schicken" in panel and f'data-complete-task="{open_task.pk}"' in panel
    assert "Vor-Ort-Termin" in panel and "Kurz gesprochen" in panel
    assert "Schon erledigt" not in panel
    assert f'value="{local_day(7, 9)}"' in panel  # the follow-up: a week from today, 09:00
    for kind in ("task", "appointment", "call", "note"):
        assert f"/activities/new/?kind={kind}&amp;related=contact%3A{contact.pk}" in panel


@pytest.mark.parametrize("kind", ["account", "lead", "opportunity"])
def test_accounts_leads_and_deals_have_the_panel(client, sales1, kind):
    record = {"account": make_account, "lead": make_lead, "opportunity": make_opportunity}[kind](
        sales1
    )
    task(sales1, "Darum kümmern", related=about(record, kind))
    client.force_login(sales1)
    path = {"account": "/accounts/{}/", "lead": "/leads/{}/", "opportunity": "/opportunities/{}/"}
    html = client.get(path[kind].format(record.pk)).content.decode()
    assert 'id="panel-activities"' in html and "Darum kümmern" in html
    assert f'name="related" value="{kind}:{record.pk}"' in html


def test_a_read_only_user_sees_the_panel_without_buttons(client, sales1, reader, contact):
    task(sales1, "Angebot schicken", related=about(contact))
    client.force_login(reader)
    html = client.get(f"/contacts/{contact.pk}/").content.decode()
    panel = html[html.index('id="panel-activities"') : html.index('id="complete-dialog"')]
    assert "Angebot schicken" in panel
    assert "follow-up-form" not in panel and "data-complete-task" not in panel


def test_a_follow_up_in_one_click(client, sales1, contact):
    client.force_login(sales1)
    response = client.post("/activities/follow-up/", {
        "related": f"contact:{contact.pk}", "due_at": local_day(7, 9),
        "next": f"/contacts/{contact.pk}/",
    })  # fmt: skip
    assert response["Location"] == f"/contacts/{contact.pk}/"
    follow_up = Activity.objects.get()
    assert (follow_up.is_follow_up, follow_up.owner, follow_up.title) == (
        True, sales1, "Follow up: Greta Grün")  # fmt: skip
    assert [(link.entity, link.object_id) for link in follow_up.links.all()] == [
        ("contact", contact.pk)
    ]
    assert follow_up.remind_at == follow_up.due_at


def test_a_follow_up_with_a_bad_date_is_refused_at_the_field(client, sales1, contact):
    client.force_login(sales1)
    response = client.post("/activities/follow-up/", {
        "related": f"contact:{contact.pk}", "due_at": "irgendwann",
    }, **HTMX)  # fmt: skip
    html = response.content.decode()
    assert response.status_code == 422 and html.startswith("<form")
    assert 'is-invalid" type="datetime-local" id="f-follow-up-due"' in html
    response = client.post("/activities/follow-up/", {
        "related": f"contact:{contact.pk}", "due_at": "",
    })  # fmt: skip
    assert response.status_code == 422 and "This field is required." in response.content.decode()
    assert Activity.objects.count() == 0


def test_a_follow_up_on_a_hidden_record_is_not_found(client, sales1, sales2):
    hidden = make_contact(sales2, last_name="Versteckt")
    client.force_login(sales1)
    for related in (f"contact:{hidden.pk}", "contact:x", "planet:1", "contact:" + "9" * 30):
        response = client.post("/activities/follow-up/", {"related": related,
                                                          "due_at": local_day(7)})  # fmt: skip
        assert response.status_code == 404, related
    assert Activity.objects.count() == 0


def test_the_detail_page_offers_done_and_edit(client, sales1):
    t = task(sales1)
    client.force_login(sales1)
    html = client.get(f"/activities/{t.pk}/").content.decode()
    assert "<title>Anrufen · Farley</title>" in html
    assert f"/activities/{t.pk}/edit/" in html and f'data-complete-task="{t.pk}"' in html
    assert html.count('id="complete-dialog"') == 1
    services.task_complete(actor=sales1, task_id=t.pk)
    html = client.get(f"/activities/{t.pk}/").content.decode()
    assert "data-complete-task" not in html


def test_pages_load_their_script_and_have_no_inline_code(client, sales1, contact):
    t = task(sales1, related=about(contact))
    client.force_login(sales1)
    for path in ("/my-day/", "/tasks/", f"/activities/{t.pk}/", "/activities/new/?kind=task",
                 f"/contacts/{contact.pk}/"):  # fmt: skip
        html = client.get(path).content.decode()
        assert "/static/activities/activities.js" in html, path
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), path
        assert not re.search(r"\sstyle=|\son[a-z]+=", html), path


def test_an_invited_user_answers_on_the_appointment_page(client, sales1, team1):
    colleague = make_user("sales", team1)
    meeting = services.activity_create(actor=sales1, kind="appointment", data={
        "title": "Planung", "start_at": local_day(2),
        "attendees": [{"type": "user", "id": colleague.pk}],
    })  # fmt: skip
    client.force_login(sales1)
    assert (
        'id="activity-invitation"' not in client.get(f"/activities/{meeting.pk}/").content.decode()
    )
    client.force_login(colleague)
    page = client.get(f"/activities/{meeting.pk}/").content.decode()
    assert 'id="activity-invitation"' in page
    assert 'data-response="accepted"' in page and 'aria-pressed="true"' not in page
    response = client.post(f"/activities/{meeting.pk}/respond/", {"response": "accepted"})
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "Your answer was saved" in page
    assert re.search(r'aria-pressed="true" data-response="accepted"', page)
    assert f'{colleague} <span class="text-muted small">(Accepted)</span>' in page
    bad = client.post(f"/activities/{meeting.pk}/respond/", {"response": "<script>"}, follow=True)
    assert "Answer accepted, tentative or declined." in bad.content.decode()
    assert meeting.attendees.get().response == "accepted"


def test_the_invitation_is_emailed_from_the_appointment_page(client, sales1, mailoutbox):
    contact = make_contact(sales1, last_name="Muster", emails=[{"address": "m@example.de"}])
    meeting = services.activity_create(actor=sales1, kind="appointment", data={
        "title": "Vorführung", "start_at": local_day(2),
        "attendees": [{"type": "contact", "id": contact.pk}],
    })  # fmt: skip
    client.force_login(sales1)
    page = client.get(f"/activities/{meeting.pk}/").content.decode()
    assert 'id="activity-send-invitations"' in page
    response = client.post(f"/activities/{meeting.pk}/invite/", follow=True)
    assert "Invitation sent to m@example.de." in response.content.decode()
    assert [m.to for m in mailoutbox] == [["m@example.de"]]
