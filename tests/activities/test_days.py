"""All-day appointments as dates (farley.activities.days) and the migration to them."""

from __future__ import annotations

import datetime as dt
import importlib
import zoneinfo

from django.apps import apps

from farley.activities import days, services
from farley.activities.models import Activity
from tests.factories import make_user

TOKYO = zoneinfo.ZoneInfo("Asia/Tokyo")


def test_a_day_is_stored_as_its_midnight_in_utc_and_read_back():
    stored = days.stored(dt.date(2026, 12, 31))
    assert stored == dt.datetime(2026, 12, 31, tzinfo=dt.UTC)
    assert days.day_of(stored) == dt.date(2026, 12, 31)
    assert days.days_of(stored, stored + dt.timedelta(days=2)) == (
        dt.date(2026, 12, 31), dt.date(2027, 1, 1),
    )  # fmt: skip
    assert days.days_of(stored, None) == (dt.date(2026, 12, 31),) * 2
    assert days.covers(stored, None, dt.date(2026, 12, 31))
    assert not days.covers(stored, None, dt.date(2027, 1, 1))


def test_the_migration_turns_midnights_of_their_owners_into_dates(team1):
    """Before: midnight in the zone of whoever saved it (Tokyo: the 9th, 15:00 UTC, for the
    10th). After: the 10th in UTC, which every viewer reads as the 10th."""
    owner = make_user("sales", team1, time_zone="Asia/Tokyo")
    fair = services.activity_create(
        actor=owner, kind="appointment",
        data={"title": "Messe", "start_at": "2026-12-10T10:00", "all_day": True},
    )  # fmt: skip
    timed = services.activity_create(
        actor=owner, kind="appointment",
        data={"title": "Termin", "start_at": "2026-12-10T10:00", "end_at": "2026-12-10T11:00"},
    )  # fmt: skip
    Activity.objects.filter(pk=fair.pk).update(
        start_at=dt.datetime(2026, 12, 10, tzinfo=TOKYO),
        end_at=dt.datetime(2026, 12, 12, tzinfo=TOKYO),
    )
    before = Activity.objects.get(pk=timed.pk)
    migration = importlib.import_module("farley.activities.migrations.0003_all_day_dates")
    migration.to_dates(apps, None)
    fair = Activity.objects.get(pk=fair.pk)
    assert (fair.start_at, fair.end_at) == (
        dt.datetime(2026, 12, 10, tzinfo=dt.UTC), dt.datetime(2026, 12, 12, tzinfo=dt.UTC),
    )  # fmt: skip
    assert (fair.first_day, fair.last_day) == (dt.date(2026, 12, 10), dt.date(2026, 12, 11))
    after = Activity.objects.get(pk=timed.pk)
    assert (after.start_at, after.end_at) == (before.start_at, before.end_at)  # untouched
