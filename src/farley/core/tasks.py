"""Background jobs of the core (Celery); thin wrappers over :mod:`search_purge`."""

from __future__ import annotations

from celery import shared_task

from farley.core.search_purge import run_due


@shared_task(name="farley.core.tasks.purge_search_indexes")
def purge_search_indexes() -> int:
    """Compact the search indexes after erasures (no trace of the erased left in them)."""
    return run_due()
