"""Background jobs of activities (Celery); thin wrappers over :mod:`reminders`."""

from __future__ import annotations

from celery import shared_task

from farley.activities import reminders


@shared_task(name="farley.activities.tasks.send_reminders")
def send_reminders() -> dict[str, int]:
    """Send the reminders that are due and escalate overdue tasks."""
    return reminders.run_due()
