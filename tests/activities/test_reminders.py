"""Reminders fire at their time, in the app and by email (through a real SMTP server), once;
team queues remind every member; overdue tasks escalate to the team lead once."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from farley.activities import reminders, services
from farley.activities.models import Activity
from farley.core import notifications
from farley.core.models import Notification
from tests.apiclient import Api
from tests.factories import TeamFactory, make_user
from tests.smtp_sink import smtp_fixture  # noqa: F401  (the "smtp" fixture)

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC)


def task(actor, **data) -> Activity:
    return services.activity_create(actor=actor, kind="task", data={"title": "Rückruf", **data})


def test_a_due_reminder_is_a_notification_and_an_email_once(
    smtp, sales1, django_capture_on_commit_callbacks
):
    sales1.language, sales1.time_zone = "de", "Europe/Berlin"
    sales1.save()
    due = task(sales1, title="Frau Müller zurückrufen", due_at="2026-12-07T10:30",
               remind_at="2026-12-07T09:45")  # fmt: skip
    later = task(sales1, remind_at="2026-12-07T11:00")
    with django_capture_on_commit_callbacks(execute=True):
        assert reminders.run_due(NOW) == {"reminders": 1, "escalations": 0}
    (note,) = notifications.of_user(sales1)
    assert note.title == "Erinnerung: Frau Müller zurückrufen"
    assert note.url == f"/activities/{due.pk}/"
    (message,) = smtp.messages
    assert message["To"] == sales1.email
    assert message["Subject"] == "Erinnerung: Frau Müller zurückrufen"
    assert "07.12.2026 10:30" in message.get_content()  # Berlin time
    assert f"/activities/{due.pk}/" in message.get_content()
    with django_capture_on_commit_callbacks(execute=True):
        assert reminders.run_due(NOW) == {"reminders": 0, "escalations": 0}
    assert len(smtp.messages) == 1
    later.refresh_from_db()
    assert later.reminded_at is None


def test_a_task_in_a_team_queue_reminds_every_active_member(sales1, team1):
    colleague = make_user("sales", team1)
    gone = make_user("sales", team1, is_active=False)
    task(sales1, assignee_id="", team_id=team1.pk, remind_at="2026-12-07T08:00+00:00")
    assert reminders.run_due(NOW)["reminders"] == 1
    told = set(Notification.objects.values_list("user_id", flat=True))
    assert told == {sales1.pk, colleague.pk}
    assert gone.pk not in told


def test_done_deleted_and_unset_reminders_stay_quiet(sales1):
    done = task(sales1, remind_at="2026-12-07T08:00+00:00")
    services.task_complete(actor=sales1, task_id=done.pk)
    deleted = task(sales1, remind_at="2026-12-07T08:00+00:00")
    services.activity_delete(actor=sales1, activity_id=deleted.pk)
    task(sales1, due_at="2026-12-07T08:00+00:00")
    assert reminders.run_due(NOW)["reminders"] == 0
    assert not Notification.objects.exists()


def test_a_new_reminder_time_fires_again(sales1):
    reminded = task(sales1, remind_at="2026-12-07T08:00+00:00")
    reminders.run_due(NOW)
    services.activity_update(
        actor=sales1, activity_id=reminded.pk, data={"remind_at": "2026-12-07T08:30+00:00"}
    )
    assert reminders.run_due(NOW)["reminders"] == 1
    assert Notification.objects.count() == 2


def test_an_overdue_task_escalates_to_the_team_lead_once(sales1, settings):
    settings.FARLEY_ESCALATION_HOURS = 24
    lead = make_user("manager")
    team = TeamFactory(name="Vertrieb West", lead=lead)
    worker = make_user("sales", team)
    late = task(worker, title="Angebot schicken", due_at="2026-12-05T09:00+00:00")
    task(worker, title="Noch nicht", due_at="2026-12-06T10:00+00:00")
    own = task(lead, title="Eigene Aufgabe", team_id=team.pk, assignee_id=lead.pk,
               due_at="2026-12-01T09:00+00:00")  # fmt: skip
    assert reminders.run_due(NOW)["escalations"] == 1
    (note,) = notifications.of_user(lead)
    assert note.kind == "escalation"
    assert note.title == "Overdue: Angebot schicken"
    assert str(worker) in note.body
    assert reminders.run_due(NOW)["escalations"] == 0
    own.refresh_from_db()
    assert own.escalated_at is None
    late.refresh_from_db()
    assert late.escalated_at is not None


def test_ten_thousand_reminders_in_batches(sales1):
    now = timezone.now()
    Activity.objects.bulk_create(
        [Activity(kind="task", title=f"T{i}", owner=sales1, remind_at=now - dt.timedelta(
            minutes=1)) for i in range(1200)]
    )  # fmt: skip
    assert reminders.run_due(now)["reminders"] == 1200
    assert Notification.objects.filter(user=sales1).count() == 1200


def test_the_notifications_api(sales1, sales2):
    task(sales1, title="Eins", remind_at="2026-12-07T08:00+00:00")
    task(sales1, title="Zwei", remind_at="2026-12-07T08:01+00:00")
    task(sales2, title="Fremd", remind_at="2026-12-07T08:00+00:00")
    reminders.run_due(NOW)
    api = Api(sales1)
    body = api.get("/notifications").json()
    assert body["unread"] == 2
    assert [n["title"] for n in body["items"]] == ["Reminder: Zwei", "Reminder: Eins"]
    first = body["items"][0]["id"]
    assert api.post(f"/notifications/{first}/read").status_code == 204
    assert api.get("/notifications", {"unread": "true"}).json()["unread"] == 1
    foreign = Notification.objects.get(user=sales2).pk
    assert api.post(f"/notifications/{foreign}/read").status_code == 404
    assert Notification.objects.get(pk=foreign).read_at is None
    assert api.post("/notifications/read").status_code == 204
    assert api.get("/notifications").json()["unread"] == 0
    assert api.get("/notifications", {"limit": "0"}).status_code == 422
