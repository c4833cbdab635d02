"""Activities in the timelines of the records they are about: calls, notes, appointments and
completed tasks (open tasks are in the *Activities* panel)."""

from __future__ import annotations

from typing import Any

from django.db.models.functions import Coalesce

from farley.activities import selectors
from farley.activities.models import ActivityKind, ActivityStatus
from farley.core import timeline
from farley.core.models import User

# "Follow-up" on every timeline entry: a task about its record, named after the entry.
timeline.add_entry_action("activities/_timeline_follow_up.html")

# The timeline's interaction kinds (contacts.InteractionKind) and the activities they show.
KINDS = {"call": ActivityKind.CALL, "note": ActivityKind.NOTE, "meeting": ActivityKind.APPOINTMENT}


@timeline.register
def activity_items(
    user: User, entity: str, object_id: int, *, limit: int, kinds: list[str] | None = None
) -> list[dict[str, Any]]:
    activities = selectors.of_record(user, entity, object_id).exclude(
        kind=ActivityKind.TASK, status=ActivityStatus.OPEN
    )
    if kinds is not None:
        wanted = [KINDS[k] for k in kinds if k in KINDS]
        if not wanted:
            return []
        activities = activities.filter(kind__in=wanted)
    activities = activities.annotate(
        at=Coalesce("completed_at", "start_at", "due_at", "created_at")
    ).order_by("-at", "-pk")[:limit]
    return [
        {"type": "extra", "at": a.at, "template": "activities/_timeline_item.html", "object": a}
        for a in activities
    ]
