"""Recurring tasks: which rules are accepted (the RRULE checks, alone and through the
services), and the series that completing occurrences brings, at the same local time across
the changes to and from daylight-saving time."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from farley.activities import recurrence, services
from farley.activities.models import Activity, ActivityStatus
from farley.core.errors import ValidationFailed
from tests.factories import make_contact, make_user

UTC = dt.UTC
BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
NEW_YORK = zoneinfo.ZoneInfo("America/New_York")


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


# --- the rules alone ----------------------------------------------------------------------


START = dt.datetime(2026, 12, 7, 9, 0, tzinfo=BERLIN)  # a Monday


@pytest.mark.parametrize(
    "text",
    [
        "FREQ=WEEKLY;BYDAY=MO;COUNT=10",
        "RRULE:FREQ=DAILY;COUNT=3",
        "FREQ=MONTHLY;BYMONTHDAY=-1;COUNT=12",
        "FREQ=DAILY;UNTIL=20261231T230000Z",
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TH;COUNT=1000",
        "  FREQ=YEARLY;COUNT=1  ",
    ],
)
def test_a_bounded_rule_is_accepted(text):
    rule = recurrence.parse(text, START)
    assert rule[0] >= START


@pytest.mark.parametrize(
    "text",
    [
        "FREQ=SOMETIMES",
        "FREQ=SOMETIMES;COUNT=3",
        "FREQ=DAILY;COUNT=3;BYDAY=XX",
        "FREQ=DAILY;COUNT=drei",
        "jeden Montag",
        "",
    ],
)
def test_an_invalid_rule_is_refused(text):
    with pytest.raises(recurrence.InvalidRule):
        recurrence.parse(text, START)


@pytest.mark.parametrize("text", ["FREQ=DAILY", "FREQ=WEEKLY;BYDAY=MO", "FREQ=MONTHLY;INTERVAL=2"])
def test_an_endless_rule_is_refused(text):
    with pytest.raises(recurrence.InvalidRule, match="COUNT or UNTIL"):
        recurrence.parse(text, START)


@pytest.mark.parametrize(
    "text",
    [
        "DTSTART:20260101T090000Z\nRRULE:FREQ=DAILY;COUNT=3",
        "DTSTART=20260101T090000Z;FREQ=DAILY;COUNT=3",
        "FREQ=DAILY;COUNT=3\nEXDATE:20261208T080000Z",
        "FREQ=DAILY;COUNT=3\nRDATE:20261224T080000Z",
    ],
)
def test_a_rule_with_dtstart_rdate_or_exdate_is_refused(text):
    with pytest.raises(recurrence.InvalidRule, match="DTSTART"):
        recurrence.parse(text, START)


@pytest.mark.parametrize("count", [0, 1001, 5000])
def test_a_count_outside_1_to_1000_is_refused(count):
    with pytest.raises(recurrence.InvalidRule, match="COUNT"):
        recurrence.parse(f"FREQ=DAILY;COUNT={count}", START)


def test_until_before_the_first_due_date_is_refused():
    with pytest.raises(recurrence.InvalidRule, match="UNTIL"):
        recurrence.parse("FREQ=DAILY;UNTIL=20261201T000000Z", START)


def test_a_series_of_more_than_20_years_is_refused():
    with pytest.raises(recurrence.InvalidRule, match="20"):
        recurrence.parse("FREQ=YEARLY;UNTIL=20500101T000000Z", START)


def test_an_overlong_rule_is_refused():
    text = "FREQ=WEEKLY;COUNT=3;BYDAY=" + ",".join(["MO"] * 200)
    with pytest.raises(recurrence.InvalidRule, match="500"):
        recurrence.parse(text, START)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("freq=weekly;count=3", "FREQ=WEEKLY;COUNT=3"),
        ("rrule:FREQ=DAILY;COUNT=2", "FREQ=DAILY;COUNT=2"),
        ("  FREQ=DAILY;COUNT=2 ", "FREQ=DAILY;COUNT=2"),
        ("Weekly", "FREQ=WEEKLY"),
    ],
)
def test_rules_are_normalised(text, expected):
    assert recurrence.normalise(text) == expected


def test_the_next_occurrence_follows_the_completed_one():
    after = recurrence.next_due("FREQ=WEEKLY;COUNT=3", START, START, BERLIN)
    assert after == START + dt.timedelta(weeks=1)
    last = recurrence.next_due("FREQ=WEEKLY;COUNT=3", START, after, BERLIN)
    assert last == START + dt.timedelta(weeks=2)
    assert recurrence.next_due("FREQ=WEEKLY;COUNT=3", START, last, BERLIN) is None


def test_a_monthly_series_on_the_31st_stays_on_the_31st():
    first = dt.datetime(2027, 1, 31, 9, 0, tzinfo=BERLIN)
    following = recurrence.next_due("FREQ=MONTHLY;COUNT=6", first, first, BERLIN)
    assert following == dt.datetime(2027, 3, 31, 9, 0, tzinfo=BERLIN)
    month_end = recurrence.next_due("FREQ=MONTHLY;BYMONTHDAY=-1;COUNT=6", first, first, BERLIN)
    assert month_end == dt.datetime(2027, 2, 28, 9, 0, tzinfo=BERLIN)
    after_february = recurrence.next_due(
        "FREQ=MONTHLY;BYMONTHDAY=-1;COUNT=6", first, month_end, BERLIN
    )
    assert after_february == dt.datetime(2027, 3, 31, 9, 0, tzinfo=BERLIN)


def test_the_next_occurrence_keeps_the_local_time_across_the_change_to_summer_time():
    first = dt.datetime(2026, 3, 28, 8, 0, tzinfo=UTC)  # 09:00 CET
    following = recurrence.next_due("FREQ=DAILY;COUNT=3", first, first, BERLIN)
    assert following == utc(2026, 3, 29, 7, 0)  # 09:00 CEST
    assert following.astimezone(BERLIN).hour == 9


def test_the_next_occurrence_of_an_invalid_rule_is_none():
    assert recurrence.next_due("FREQ=DAILY", START, START, BERLIN) is None


# --- through the services -------------------------------------------------------------------


def create(actor, **data) -> Activity:
    data.setdefault("title", "Wochenbericht")
    return services.activity_create(actor=actor, kind="task", data=data)


def refused(actor, **data) -> dict[str, list[str]]:
    count = Activity.objects.count()
    with pytest.raises(ValidationFailed) as exc:
        create(actor, **data)
    assert Activity.objects.count() == count
    return exc.value.fields


@pytest.mark.django_db
@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=SOMETIMES",
        "FREQ=DAILY",
        "DTSTART:20260101T090000Z\nRRULE:FREQ=DAILY;COUNT=3",
        "FREQ=DAILY;COUNT=5000",
        "FREQ=DAILY;UNTIL=20260101T000000Z",
        "x" * 501,
    ],
)
def test_a_task_with_a_bad_rule_is_refused(sales1, rule):
    fields = refused(sales1, due_at="2026-12-07T09:00", recurrence=rule)
    assert set(fields) == {"recurrence"}
    assert fields["recurrence"][0]


@pytest.mark.django_db
def test_a_repeating_task_needs_a_due_date(sales1):
    fields = refused(sales1, recurrence="FREQ=WEEKLY;COUNT=3")
    assert set(fields) == {"recurrence"}


@pytest.mark.django_db
def test_a_bad_due_date_is_reported_without_a_second_error_for_the_rule(sales1):
    fields = refused(sales1, due_at="morgen", recurrence="FREQ=WEEKLY;COUNT=3")
    assert set(fields) == {"due_at"}


@pytest.mark.django_db
def test_a_rule_is_stored_normalised(sales1):
    created = create(sales1, due_at="2026-12-07T09:00", recurrence="rrule:freq=weekly;count=3")
    assert created.recurrence == "FREQ=WEEKLY;COUNT=3"


@pytest.mark.django_db
def test_removing_the_due_date_of_a_repeating_task_is_refused(sales1):
    created = create(sales1, due_at="2026-12-07T09:00", recurrence="FREQ=WEEKLY;COUNT=3")
    with pytest.raises(ValidationFailed) as exc:
        services.activity_update(actor=sales1, activity_id=created.pk, data={"due_at": None})
    assert set(exc.value.fields) == {"recurrence"}


@pytest.mark.django_db
def test_a_weekly_series_of_three_brings_exactly_two_more_occurrences(sales1):
    contact = make_contact(sales1)
    first = create(
        sales1,
        due_at="2026-12-07T09:00",
        remind_at="2026-12-07T08:30",
        priority="high",
        recurrence="FREQ=WEEKLY;COUNT=3",
        related=[{"type": "contact", "id": contact.pk}],
    )
    _done, second = services.task_complete(actor=sales1, task_id=first.pk)
    assert second is not None
    assert second.due_at == utc(2026, 12, 14, 8, 0)
    assert second.remind_at == utc(2026, 12, 14, 7, 30)  # the same lead time
    assert (second.title, second.priority, second.owner) == ("Wochenbericht", "high", sales1)
    assert second.status == ActivityStatus.OPEN
    assert second.series_id == first.pk
    assert [(link.entity, link.object_id) for link in second.links.all()] == [
        ("contact", contact.pk)
    ]

    _done, third = services.task_complete(actor=sales1, task_id=second.pk)
    assert third.due_at == utc(2026, 12, 21, 8, 0)
    assert third.series_id == first.pk

    _done, fourth = services.task_complete(actor=sales1, task_id=third.pk)
    assert fourth is None
    assert Activity.objects.filter(owner=sales1).count() == 3
    assert not Activity.objects.filter(status=ActivityStatus.OPEN).exists()


@pytest.mark.django_db
def test_a_task_without_a_rule_brings_no_occurrence(sales1):
    created = create(sales1, due_at="2026-12-07T09:00")
    assert services.task_complete(actor=sales1, task_id=created.pk)[1] is None
    assert Activity.objects.count() == 1


def complete_series(actor, first: Activity) -> list[Activity]:
    """Complete each occurrence until the series ends; every occurrence, in order."""
    series, current = [first], first
    for _ in range(50):
        _done, current = services.task_complete(actor=actor, task_id=current.pk)
        if current is None:
            return series
        current.refresh_from_db()
        series.append(current)
    raise AssertionError("The series did not end.")


@pytest.mark.django_db
def test_a_daily_task_stays_at_nine_in_berlin_when_summer_time_begins(team1):
    berliner = make_user("sales", team1, time_zone="Europe/Berlin")
    first = create(berliner, due_at="2026-03-27T09:00", recurrence="FREQ=DAILY;COUNT=5")
    series = complete_series(berliner, first)
    assert [task.due_at for task in series] == [
        utc(2026, 3, 27, 8, 0),
        utc(2026, 3, 28, 8, 0),
        utc(2026, 3, 29, 7, 0),  # CEST from 29 March
        utc(2026, 3, 30, 7, 0),
        utc(2026, 3, 31, 7, 0),
    ]
    assert {task.due_at.astimezone(BERLIN).time() for task in series} == {dt.time(9, 0)}


@pytest.mark.django_db
def test_a_daily_task_stays_at_nine_in_berlin_when_summer_time_ends(team1):
    berliner = make_user("sales", team1, time_zone="Europe/Berlin")
    first = create(berliner, due_at="2026-10-24T09:00", recurrence="FREQ=DAILY;COUNT=3")
    series = complete_series(berliner, first)
    assert [task.due_at for task in series] == [
        utc(2026, 10, 24, 7, 0),
        utc(2026, 10, 25, 8, 0),  # CET from 25 October
        utc(2026, 10, 26, 8, 0),
    ]


@pytest.mark.django_db
def test_a_daily_task_stays_at_nine_in_new_york_when_summer_time_begins(team1):
    new_yorker = make_user("sales", team1, time_zone="America/New_York")
    first = create(new_yorker, due_at="2026-03-06T09:00", recurrence="FREQ=DAILY;COUNT=5")
    series = complete_series(new_yorker, first)
    assert [task.due_at for task in series] == [
        utc(2026, 3, 6, 14, 0),
        utc(2026, 3, 7, 14, 0),
        utc(2026, 3, 8, 13, 0),  # EDT from 8 March
        utc(2026, 3, 9, 13, 0),
        utc(2026, 3, 10, 13, 0),
    ]
    assert {task.due_at.astimezone(NEW_YORK).time() for task in series} == {dt.time(9, 0)}


@pytest.mark.django_db
def test_a_daily_task_stays_at_nine_in_new_york_when_summer_time_ends(team1):
    new_yorker = make_user("sales", team1, time_zone="America/New_York")
    first = create(new_yorker, due_at="2026-10-30T09:00", recurrence="FREQ=DAILY;COUNT=5")
    series = complete_series(new_yorker, first)
    assert [task.due_at for task in series] == [
        utc(2026, 10, 30, 13, 0),
        utc(2026, 10, 31, 13, 0),
        utc(2026, 11, 1, 14, 0),  # EST from 1 November
        utc(2026, 11, 2, 14, 0),
        utc(2026, 11, 3, 14, 0),
    ]
    assert {task.due_at.astimezone(NEW_YORK).time() for task in series} == {dt.time(9, 0)}


@pytest.mark.django_db
def test_the_series_repeats_in_the_assignees_zone_when_someone_else_completes(manager, team1):
    """A manager in Berlin completes a New Yorker's task: 09:00 stays 09:00 New York time."""
    new_yorker = make_user("sales", team1, time_zone="America/New_York")
    first = create(new_yorker, due_at="2026-03-07T09:00", recurrence="FREQ=DAILY;COUNT=2")
    _done, second = services.task_complete(actor=manager, task_id=first.pk)
    assert second.owner == new_yorker
    assert second.due_at == utc(2026, 3, 8, 13, 0)


@pytest.mark.django_db
def test_a_team_queue_series_stays_in_the_queue(sales1, team1):
    first = create(
        sales1, team_id=team1.pk, due_at="2026-12-07T09:00", recurrence="FREQ=DAILY;COUNT=2"
    )
    _done, second = services.task_complete(actor=sales1, task_id=first.pk)
    assert (second.owner, second.team) == (None, team1)


@pytest.mark.django_db
def test_a_series_with_until_ends_on_its_last_day(sales1):
    first = create(
        sales1, due_at="2026-12-07T09:00", recurrence="FREQ=DAILY;UNTIL=20261209T080000Z"
    )
    series = complete_series(sales1, first)
    assert [task.due_at for task in series] == [
        utc(2026, 12, 7, 8, 0),
        utc(2026, 12, 8, 8, 0),
        utc(2026, 12, 9, 8, 0),
    ]


@pytest.mark.django_db
def test_a_monthly_series_from_the_31st_skips_short_months(sales1):
    first = create(sales1, due_at="2027-01-31T09:00", recurrence="FREQ=MONTHLY;COUNT=3")
    series = complete_series(sales1, first)
    assert [task.due_at.astimezone(BERLIN).date() for task in series] == [
        dt.date(2027, 1, 31),
        dt.date(2027, 3, 31),
        dt.date(2027, 5, 31),
    ]
