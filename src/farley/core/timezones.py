"""Each user's time zone: times are stored in UTC and shown, entered and repeated (recurring
tasks) in the user's zone, so a meeting at 15:00 in Berlin is 09:00 for a colleague in New York,
and "every day at 9" stays at 9 across the change to and from daylight-saving time."""

from __future__ import annotations

import functools
import zoneinfo

from django.conf import settings
from django.utils import timezone

from farley.core.models import User


@functools.cache
def zone_names() -> list[str]:
    """The IANA zones a user may choose (Region/City names, no legacy aliases)."""
    return sorted(
        name for name in zoneinfo.available_timezones()
        if "/" in name and not name.startswith(("Etc/", "SystemV/", "US/", "posix/", "right/"))
    )  # fmt: skip


def zone_name(user: User | None) -> str:
    name = getattr(user, "time_zone", "") if user is not None else ""
    return name or settings.TIME_ZONE


def zone(user: User | None) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(zone_name(user))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def activate(user: User | None) -> None:
    """Make ``user``'s zone the current one for this request (pages and form input)."""
    timezone.activate(zone(user))
