"""All-day appointments are dates, not moments.

An all-day appointment is stored from midnight UTC of its first day to midnight UTC of the day
after its last (a "floating" date, as iCalendar's ``VALUE=DATE``): the same dates for every
viewer, wherever they are. A local midnight of whoever saved it would be the previous day for
a colleague more than a few hours west of them (a Tokyo midnight is the afternoon before in
Los Angeles). The dates a user types are read in their zone; the dates shown are these, in
no zone.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

ONE_DAY = dt.timedelta(days=1)


def stored(day: dt.date) -> dt.datetime:
    """How ``day`` is stored: its midnight in UTC."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)


def day_of(moment: dt.datetime) -> dt.date:
    """The date a stored boundary stands for."""
    return moment.astimezone(dt.UTC).date()


def typed_day(moment: dt.datetime) -> dt.date:
    """The date of a time a user gave (a form's or the API's): in the current zone, theirs."""
    return timezone.localtime(moment).date()


def days_of(start: dt.datetime, end: dt.datetime | None) -> tuple[dt.date, dt.date]:
    """First and last day (inclusive) of an all-day appointment."""
    first = day_of(start)
    last = day_of(end) - ONE_DAY if end is not None else first
    return first, max(first, last)


def covers(start: dt.datetime, end: dt.datetime | None, day: dt.date) -> bool:
    first, last = days_of(start, end)
    return first <= day <= last
