"""Recurring tasks: an RRULE (RFC 5545) such as ``FREQ=WEEKLY;BYDAY=MO;COUNT=10``, checked
with python-dateutil. A rule must end (COUNT or UNTIL): an endless series would fill the task
list with occurrences nobody asked for, one at a time, for ever.

The next occurrence of a series is the first one after the completed one, computed from the
series' first due date, so that "every month on the 31st" stays on month ends.
"""

from __future__ import annotations

import datetime as dt
import re

from dateutil import rrule
from django.utils.translation import gettext as _

MAX_LENGTH = 500
MAX_COUNT = 1000
MAX_YEARS = 20
# The forms' presets; a form adds the end (COUNT or UNTIL), as every rule must end.
PRESETS = {"daily": "FREQ=DAILY", "weekly": "FREQ=WEEKLY", "monthly": "FREQ=MONTHLY"}
UNTIL_DATE = re.compile(r"UNTIL=(\d{8})(?=;|$)")
UNTIL_LOCAL = re.compile(r"UNTIL=(\d{8}T\d{6})(?=;|$)")


class InvalidRule(ValueError):
    pass


def parse(text: str, start: dt.datetime) -> rrule.rrule:
    """The rule ``text`` starting at ``start``; :class:`InvalidRule` with a message for the
    user if it is not a valid, bounded RRULE."""
    text = text.strip()
    if text.upper().startswith("RRULE:"):
        text = text[6:]
    if len(text) > MAX_LENGTH:
        raise InvalidRule(_("Enter at most %(n)d characters.") % {"n": MAX_LENGTH})
    if any(part.strip().upper().startswith(("DTSTART", "EXDATE", "RDATE")) for part in
           text.replace("\n", ";").split(";")):  # fmt: skip
        raise InvalidRule(_("Enter one RRULE without DTSTART, RDATE or EXDATE."))
    text = _until_in_utc(text, start)
    try:
        rule = rrule.rrulestr(text, dtstart=start, forceset=False, ignoretz=False)
    except (ValueError, TypeError, OverflowError) as exc:
        raise InvalidRule(_("This is not a valid repeat rule (RRULE): %(error)s") % {
            "error": str(exc)[:200]
        }) from None  # fmt: skip
    if not isinstance(rule, rrule.rrule):
        raise InvalidRule(_("Enter one RRULE."))
    count, until = rule._count, rule._until  # dateutil keeps them private, but stable
    if count is None and until is None:
        raise InvalidRule(_("A repeat rule must end: add COUNT or UNTIL."))
    if count is not None and not 1 <= count <= MAX_COUNT:
        raise InvalidRule(_("COUNT must be between 1 and %(n)d.") % {"n": MAX_COUNT})
    if until is not None:
        until_aware = until if until.tzinfo else until.replace(tzinfo=start.tzinfo)
        if until_aware < start:
            raise InvalidRule(_("UNTIL lies before the first due date."))
        if until_aware > start + dt.timedelta(days=366 * MAX_YEARS):
            raise InvalidRule(_("A series may last at most %(n)d years.") % {"n": MAX_YEARS})
    return rule


def _until_in_utc(text: str, start: dt.datetime) -> str:
    """RFC 5545 wants UNTIL in UTC when the start has a zone; people write a date
    (``UNTIL=20261215``: to the end of that day) or a local time. Both are read in the start's
    zone and written in UTC."""

    def as_utc(moment: dt.datetime) -> str:
        return "UNTIL=" + moment.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")

    def from_date(match: re.Match) -> str:
        try:
            day = dt.datetime.strptime(match.group(1), "%Y%m%d")
        except ValueError:
            return match.group(0)
        return as_utc(day.replace(hour=23, minute=59, second=59, tzinfo=start.tzinfo))

    def from_local(match: re.Match) -> str:
        try:
            moment = dt.datetime.strptime(match.group(1), "%Y%m%dT%H%M%S")
        except ValueError:
            return match.group(0)
        return as_utc(moment.replace(tzinfo=start.tzinfo))

    return UNTIL_LOCAL.sub(from_local, UNTIL_DATE.sub(from_date, text.upper()))


def normalise(text: str) -> str:
    """A preset name (daily, weekly, monthly) as its rule; otherwise the text, upper case."""
    text = text.strip()
    preset = PRESETS.get(text.lower())
    return preset if preset else text.upper().removeprefix("RRULE:")


def next_due(
    text: str, series_start: dt.datetime, after: dt.datetime, zone: dt.tzinfo
) -> dt.datetime | None:
    """The first occurrence of the series after ``after`` (None: the series has ended).
    The rule steps in the assignee's ``zone``, so that 09:00 stays 09:00 local time when
    daylight-saving time begins or ends."""
    try:
        rule = parse(text, series_start.astimezone(zone))
    except InvalidRule:
        return None
    return rule.after(after.astimezone(zone), inc=False)
