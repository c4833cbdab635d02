"""The "Activities" panel of the 360 pages (contacts, accounts, leads, deals): open tasks and
upcoming appointments about the record, the latest calls and notes, and buttons for a
one-click follow-up and a new task, appointment, call or note about it (see
:mod:`farley.core.panels`)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.db.models import F, Q
from django.utils import timezone

from farley.activities import days, selectors
from farley.activities.models import ActivityKind, ActivityStatus
from farley.core import entities, permissions, timezones
from farley.core.models import User
from farley.core.panels import Panel, register

ENTITY = "activity"
SHOWN = 10  # of each list
RECORDS = ("contact", "account", "lead", "opportunity")


def activities_panel(user: User, record: Any) -> dict[str, Any] | None:
    from farley.activities.views import follow_up_context

    if not permissions.can(user, "view", ENTITY):
        return None
    entity = entities.key_for(record)
    about = selectors.of_record(user, entity, record.pk)
    now = timezone.now()
    tasks = list(
        about.filter(kind=ActivityKind.TASK, status=ActivityStatus.OPEN).order_by(
            F("due_at").asc(nulls_last=True), "pk"
        )[:SHOWN]
    )
    today = days.stored(timezone.localtime(now, timezones.zone(user)).date())
    appointments = list(
        about.filter(kind=ActivityKind.APPOINTMENT)
        .filter(Q(all_day=False, end_at__gte=now) | Q(all_day=True, end_at__gt=today))
        .exclude(status=ActivityStatus.CANCELLED)
        .order_by("start_at", "pk")[:SHOWN]
    )
    logged = list(
        about.filter(kind__in=(ActivityKind.CALL, ActivityKind.NOTE)).order_by("-start_at", "-pk")[
            :SHOWN
        ]
    )
    may_edit = permissions.can(user, "edit", ENTITY)
    editable = (
        set(
            selectors.activities_visible_to(user, for_edit=True)
            .filter(pk__in=[t.pk for t in tasks])
            .values_list("pk", flat=True)
        )
        if may_edit and tasks
        else set()
    )
    may_create = permissions.can(user, "create", ENTITY) and record.deleted_at is None
    back = selectors.record_url(entity, record.pk) or ""
    return {
        "entity": entity,
        "related": f"{entity}:{record.pk}",
        "tasks": tasks,
        "editable": editable,
        "appointments": appointments,
        "logged": logged,
        "now": now,
        "may_create": may_create,
        "follow_up": follow_up_context(user, entity, record.pk) if may_create else None,
        "shown": SHOWN,
        "new_query": "&" + urlencode({"related": f"{entity}:{record.pk}", "next": back}),
    }


register(
    Panel(
        key="activities.activities",
        entities=RECORDS,
        template="activities/panels/activities.html",
        context=activities_panel,
        column="main",
        order=15,
    )
)
