"""All-day appointments as dates (midnight UTC of the first day to midnight UTC of the day after
the last, see farley.activities.days), no longer as midnights of whoever saved them."""

import datetime as dt
import zoneinfo

from django.conf import settings
from django.db import migrations


def _zone(name):
    try:
        return zoneinfo.ZoneInfo(name or settings.TIME_ZONE)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def _day(moment, zone):
    # A midnight of the zone it was saved in, read in the owner's: the nearest midnight.
    return (moment.astimezone(zone) + dt.timedelta(hours=12)).date()


def _stored(day):
    return dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)


def to_dates(apps, schema_editor):
    Activity = apps.get_model("activities", "Activity")
    rows = Activity.objects.filter(all_day=True, start_at__isnull=False).select_related("owner")
    for activity in rows.iterator(chunk_size=2000):
        zone = _zone(activity.owner.time_zone if activity.owner_id else "")
        first = _day(activity.start_at, zone)
        after = _day(activity.end_at, zone) if activity.end_at else first
        after = max(after, first + dt.timedelta(days=1))
        Activity.objects.filter(pk=activity.pk).update(
            start_at=_stored(first), end_at=_stored(after)
        )


class Migration(migrations.Migration):
    dependencies = [("activities", "0002_ical")]

    operations = [migrations.RunPython(to_dates, migrations.RunPython.noop)]
