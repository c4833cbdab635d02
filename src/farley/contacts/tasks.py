"""Background jobs of contacts (Celery); thin wrappers over :mod:`retention`."""

from __future__ import annotations

from celery import shared_task

from farley.contacts.retention import run_due


@shared_task(name="farley.contacts.tasks.apply_retention")
def apply_retention() -> dict[str, int]:
    """Apply the automatic retention policies that have not run for a day."""
    return run_due()
