"""Bulk actions of the task list: reassign, postpone and complete many tasks at once.

All or nothing: the selected tasks are changed in one transaction, each through the same
service as a single change (so rules, history and the search index hold), and every task's
error is collected. If any task fails (a task the user may not change, one that is not open
any more, a bad date), the transaction is rolled back and the result lists, task by task, why
nothing was changed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from farley.activities import selectors, services
from farley.activities.models import ActivityKind
from farley.core import permissions, timezones
from farley.core.errors import ServiceError, ValidationFailed
from farley.core.models import User
from farley.core.validation import Cleaner

ENTITY = "activity"
MAX_TASKS = 200
ACTIONS = {
    "reassign": gettext_lazy("Reassign"),
    "postpone": gettext_lazy("Postpone"),
    "complete": gettext_lazy("Mark as done"),
}
# Postpone by a step (from the current due date) or to a date ("date" and ``postpone_to``).
STEPS = {"1d": dt.timedelta(days=1), "1w": dt.timedelta(weeks=1)}
POSTPONE_CHOICES = {
    "1d": gettext_lazy("by 1 day"),
    "1w": gettext_lazy("by 1 week"),
    "date": gettext_lazy("to a date"),
}
DEFAULT_TIME = dt.time(9, 0)  # a task without a due time gets this one when postponed


@dataclass
class BulkResult:
    action: str
    changed: list[int] = field(default_factory=list)
    # Why a task failed, by task id; if there is any, nothing was changed.
    errors: dict[int, list[str]] = field(default_factory=dict)
    titles: dict[int, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors

    def error_lines(self) -> list[str]:
        """One line per failed task: "Title: message message"."""
        return [
            f"{self.titles.get(pk) or '#' + str(pk)}: {' '.join(messages)}"
            for pk, messages in self.errors.items()
        ]


def _ids(c: Cleaner, raw: Any) -> list[int]:
    if not isinstance(raw, list | tuple) or not raw:
        c.add("ids", _("Select at least one task."))
        return []
    if len(raw) > MAX_TASKS:
        c.add("ids", _("Select at most %(n)d tasks.") % {"n": MAX_TASKS})
        return []
    ids: list[int] = []
    for item in raw:
        pk = c.integer("ids", item, minimum=1, maximum=2**63 - 1)
        if pk is not None and pk not in ids:
            ids.append(pk)
    return ids


def _clean(actor: User, action: str, raw_ids: Any, data: dict[str, Any]) -> tuple[list[int], Any]:
    """The task ids and what the action needs (the new assignee, the postponement)."""
    c = Cleaner()
    if action not in ACTIONS:
        c.add("action", _("Select an action."))
    ids = _ids(c, raw_ids)
    argument: Any = None
    if action == "reassign":
        pk = c.integer("assignee_id", data.get("assignee_id"), minimum=1, maximum=2**63 - 1)
        if pk is None and "assignee_id" not in c.errors:
            c.add("assignee_id", _("Select a user."))
        elif pk is not None:
            argument = User.objects.filter(pk=pk, is_active=True).first()
            if argument is None:
                c.add("assignee_id", _("Select an active user."))
    elif action == "postpone":
        how = data.get("postpone") or ""
        if how in STEPS:
            argument = STEPS[how]
        elif how == "date":
            argument = c.date("postpone_to", data.get("postpone_to"), required=True)
            if argument is not None and not services.EARLIEST <= argument.year <= services.LATEST:
                c.add("postpone_to", _("Enter a date between %(a)d and %(b)d.") % {
                    "a": services.EARLIEST, "b": services.LATEST,
                })  # fmt: skip
        else:
            c.add("postpone", _("Select by how much or to which date."))
    c.raise_if_invalid()
    return ids, argument


def _postponed(task: Any, argument: dt.timedelta | dt.date, zone: dt.tzinfo) -> dict[str, Any]:
    """The new due date (and reminder, moved along) of a task postponed by a step from its due
    date (today at 09:00 if it has none) or to a date (keeping its time of day)."""
    today_nine = dt.datetime.combine(timezone.now().astimezone(zone).date(), DEFAULT_TIME, zone)
    if isinstance(argument, dt.timedelta):
        local = task.due_at.astimezone(zone) if task.due_at else today_nine
        # Step in local wall time: "a day later" stays at 09:00 across a change of the clock.
        naive = local.replace(tzinfo=None) + argument
        due = naive.replace(tzinfo=zone)
    else:
        time_of_day = task.due_at.astimezone(zone).time() if task.due_at else DEFAULT_TIME
        due = dt.datetime.combine(argument, time_of_day, zone)
    values: dict[str, Any] = {"due_at": due}
    if task.remind_at is not None:
        lead = (task.due_at - task.remind_at) if task.due_at else dt.timedelta(0)
        values["remind_at"] = due - lead
    return values


def _messages(exc: ServiceError) -> list[str]:
    found = [str(m) for messages in exc.fields.values() for m in messages]
    return found or [exc.message]


def bulk_tasks(
    *, actor: User, action: str, task_ids: Any, data: dict[str, Any] | None = None
) -> BulkResult:
    """Apply ``action`` ("reassign" with ``data["assignee_id"]``, "postpone" with
    ``data["postpone"]`` = "1d" / "1w" / "date" and ``data["postpone_to"]`` (YYYY-MM-DD in the
    actor's zone), or "complete") to the tasks ``task_ids``, all or nothing.

    Raises :class:`ValidationFailed` for a bad action, selection or argument (before any
    task is looked at) and :class:`Forbidden` if the actor's role may not edit activities."""
    data = data or {}
    permissions.require(actor, "edit", ENTITY)
    ids, argument = _clean(actor, action, task_ids, data)
    result = BulkResult(action=action)
    tasks = selectors.activities_visible_to(actor).filter(kind=ActivityKind.TASK, pk__in=ids)
    result.titles = dict(tasks.values_list("pk", "title"))
    editable = {
        task.pk: task
        for task in selectors.activities_visible_to(actor, for_edit=True)
        .filter(kind=ActivityKind.TASK, pk__in=ids)
        .only("pk", "due_at", "remind_at")
    }
    for pk in ids:
        if pk not in result.titles:
            result.errors[pk] = [_("No such task, or you may not see it.")]
        elif pk not in editable:
            result.errors[pk] = [_("You may not change this task.")]
    zone = timezones.zone(actor)
    with transaction.atomic():
        for pk in ids:
            if pk not in editable:
                continue
            try:
                with transaction.atomic():
                    _apply(actor, action, editable[pk], argument, zone)
            except ServiceError as exc:
                result.errors[pk] = _messages(exc)
            else:
                result.changed.append(pk)
        if result.errors:
            transaction.set_rollback(True)
            result.changed = []
    # Keep the errors in the order the tasks were selected.
    result.errors = {pk: result.errors[pk] for pk in ids if pk in result.errors}
    return result


def _apply(actor: User, action: str, task: Any, argument: Any, zone: dt.tzinfo) -> None:
    if action == "reassign":
        services.activity_update(
            actor=actor, activity_id=task.pk, kind=ActivityKind.TASK,
            data={"assignee_id": argument.pk},
        )  # fmt: skip
    elif action == "postpone":
        services.activity_update(
            actor=actor, activity_id=task.pk, kind=ActivityKind.TASK,
            data=_postponed(task, argument, zone),
        )  # fmt: skip
    elif action == "complete":
        services.task_complete(actor=actor, task_id=task.pk)
    else:  # pragma: no cover  (checked in _clean)
        raise ValidationFailed({"action": [_("Select an action.")]})
