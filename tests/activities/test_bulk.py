"""Bulk actions of the task list (farley.activities.bulk): reassign, postpone and complete,
all or nothing, each task through its service; tasks the user may not change are refused."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from farley.activities import bulk, services
from farley.activities.models import Activity, ActivityStatus
from farley.core import sharing
from farley.core.errors import Forbidden, ValidationFailed
from farley.core.history import history_for
from tests.factories import make_contact, make_user

pytestmark = pytest.mark.django_db
BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")


def task(actor, title="Anrufen", **data):
    data.setdefault("due_at", "2026-12-10T15:00")
    return services.activity_create(actor=actor, kind="task", data={"title": title, **data})


def local(activity: Activity, field: str = "due_at") -> dt.datetime:
    activity.refresh_from_db()
    return getattr(activity, field).astimezone(BERLIN)


def test_reassign_moves_every_task_and_records_history(sales1, team1):
    colleague = make_user("sales", team1, full_name="Kai Kollege")
    tasks = [task(sales1, f"Aufgabe {n}") for n in range(3)]
    result = bulk.bulk_tasks(
        actor=sales1, action="reassign", task_ids=[str(t.pk) for t in tasks],
        data={"assignee_id": str(colleague.pk)},
    )  # fmt: skip
    assert result.ok and sorted(result.changed) == sorted(t.pk for t in tasks)
    for t in tasks:
        t.refresh_from_db()
        assert (t.owner, t.version) == (colleague, 2)
        assert history_for("activity", t.pk).count() == 2  # created, reassigned


def test_postpone_by_a_day_or_a_week_keeps_the_local_time_and_moves_the_reminder(sales1):
    first = task(sales1, due_at="2026-03-28T09:00", remind_at="2026-03-28T08:30")
    second = task(sales1, due_at="2026-03-25T16:00")
    bulk.bulk_tasks(actor=sales1, action="postpone", task_ids=[first.pk], data={"postpone": "1d"})
    bulk.bulk_tasks(actor=sales1, action="postpone", task_ids=[second.pk], data={"postpone": "1w"})
    # Across the change to summer time (29 March 2026) 09:00 stays 09:00 in Berlin.
    assert local(first) == dt.datetime(2026, 3, 29, 9, 0, tzinfo=BERLIN)
    assert local(first, "remind_at") == dt.datetime(2026, 3, 29, 8, 30, tzinfo=BERLIN)
    assert local(second) == dt.datetime(2026, 4, 1, 16, 0, tzinfo=BERLIN)
    assert Activity.objects.get(pk=second.pk).remind_at is None


def test_postpone_to_a_date_keeps_the_time_of_day_and_gives_undated_tasks_nine_oclock(sales1):
    dated = task(sales1, due_at="2026-12-10T15:30")
    undated = task(sales1, due_at="")
    result = bulk.bulk_tasks(
        actor=sales1, action="postpone", task_ids=[dated.pk, undated.pk],
        data={"postpone": "date", "postpone_to": "2027-01-04"},
    )  # fmt: skip
    assert result.ok
    assert local(dated) == dt.datetime(2027, 1, 4, 15, 30, tzinfo=BERLIN)
    assert local(undated) == dt.datetime(2027, 1, 4, 9, 0, tzinfo=BERLIN)


def test_postpone_uses_the_actors_time_zone(db, team1):
    new_york = zoneinfo.ZoneInfo("America/New_York")
    user = make_user("sales", team1, time_zone="America/New_York")
    t = task(user, due_at="2026-12-10T08:00")  # New York time
    bulk.bulk_tasks(
        actor=user, action="postpone", task_ids=[t.pk],
        data={"postpone": "date", "postpone_to": "2026-12-11"},
    )  # fmt: skip
    t.refresh_from_db()
    assert t.due_at.astimezone(new_york) == dt.datetime(2026, 12, 11, 8, 0, tzinfo=new_york)


def test_complete_marks_every_task_done_and_brings_the_next_occurrence(sales1):
    plain = task(sales1, "Einmal")
    weekly = task(sales1, "Wöchentlich", recurrence="FREQ=WEEKLY;COUNT=3")
    result = bulk.bulk_tasks(actor=sales1, action="complete", task_ids=[plain.pk, weekly.pk])
    assert result.ok
    assert set(
        Activity.objects.filter(pk__in=[plain.pk, weekly.pk]).values_list("status", flat=True)
    ) == {ActivityStatus.DONE}
    following = Activity.objects.get(title="Wöchentlich", status=ActivityStatus.OPEN)
    assert local(following) == dt.datetime(2026, 12, 17, 15, 0, tzinfo=BERLIN)


def test_a_task_of_another_team_is_refused_and_nothing_is_changed(sales1, sales2):
    mine = task(sales1, "Meine")
    theirs = task(sales2, "Fremde")
    result = bulk.bulk_tasks(actor=sales1, action="complete", task_ids=[mine.pk, theirs.pk])
    assert not result.ok and result.changed == []
    assert result.errors == {theirs.pk: ["No such task, or you may not see it."]}
    assert "Fremde" not in " ".join(result.error_lines())  # its title is not revealed
    mine.refresh_from_db()
    assert (mine.status, mine.version) == (ActivityStatus.OPEN, 1)


def test_a_task_shared_to_read_only_is_refused(sales1, sales2):
    theirs = task(sales2, "Nur lesen")
    sharing.share_create(actor=sales2, entity="activity", object_id=theirs.pk,
                         data={"user_id": sales1.pk})  # fmt: skip
    mine = task(sales1, "Meine")
    result = bulk.bulk_tasks(
        actor=sales1, action="postpone", task_ids=[mine.pk, theirs.pk], data={"postpone": "1d"}
    )
    assert result.errors == {theirs.pk: ["You may not change this task."]}
    assert result.error_lines() == ["Nur lesen: You may not change this task."]
    assert local(mine) == dt.datetime(2026, 12, 10, 15, 0, tzinfo=BERLIN)


def test_one_failing_task_rolls_back_the_others(sales1):
    first, done, last = task(sales1, "Erste"), task(sales1, "Erledigt"), task(sales1, "Letzte")
    services.task_complete(actor=sales1, task_id=done.pk)
    result = bulk.bulk_tasks(actor=sales1, action="complete",
                             task_ids=[first.pk, done.pk, last.pk])  # fmt: skip
    assert result.errors == {done.pk: ["This task is not open any more."]}
    assert result.changed == []
    statuses = dict(Activity.objects.filter(pk__in=[first.pk, last.pk])
                    .values_list("title", "status"))  # fmt: skip
    assert statuses == {"Erste": "open", "Letzte": "open"}
    assert history_for("activity", first.pk).count() == 1


def test_tasks_only_not_other_kinds(sales1):
    note = services.activity_create(actor=sales1, kind="note", data={"description": "Notiz"})
    result = bulk.bulk_tasks(actor=sales1, action="complete", task_ids=[note.pk])
    assert result.errors == {note.pk: ["No such task, or you may not see it."]}


@pytest.mark.parametrize(
    ("action", "ids", "data", "field"),
    [
        ("explode", ["1"], {}, "action"),
        ("complete", [], {}, "ids"),
        ("complete", ["x"], {}, "ids"),
        ("complete", [str(n) for n in range(1, 202)], {}, "ids"),
        ("reassign", ["1"], {}, "assignee_id"),
        ("reassign", ["1"], {"assignee_id": "999999"}, "assignee_id"),
        ("postpone", ["1"], {"postpone": "1y"}, "postpone"),
        ("postpone", ["1"], {"postpone": "date", "postpone_to": "31.02.2027"}, "postpone_to"),
        ("postpone", ["1"], {"postpone": "date", "postpone_to": "9999-01-01"}, "postpone_to"),
    ],
)
def test_bad_input_is_a_field_error_before_anything_happens(sales1, action, ids, data, field):
    t = task(sales1)
    with pytest.raises(ValidationFailed) as info:
        bulk.bulk_tasks(actor=sales1, action=action, task_ids=ids, data=data)
    assert field in info.value.fields
    t.refresh_from_db()
    assert t.version == 1


def test_a_role_that_may_not_edit_gets_forbidden(reader, sales1):
    t = task(sales1)
    with pytest.raises(Forbidden):
        bulk.bulk_tasks(actor=reader, action="complete", task_ids=[t.pk])
    t.refresh_from_db()
    assert t.status == ActivityStatus.OPEN


def test_a_contact_about_the_task_stays_linked_when_postponed(sales1):
    contact = make_contact(sales1, last_name="Kunde")
    t = task(sales1, related=[{"type": "contact", "id": contact.pk}])
    bulk.bulk_tasks(actor=sales1, action="postpone", task_ids=[t.pk], data={"postpone": "1w"})
    assert [(link.entity, link.object_id) for link in t.links.all()] == [("contact", contact.pk)]
