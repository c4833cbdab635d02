"""Freeing prefetched rows as soon as a page of records has been written out.

Django's prefetching caches the related rows on each record, and each row points back at its
record (the reverse relation is set on it), so record and rows form reference cycles that
only Python's garbage collector frees: some 5,000 objects per page of 50 contacts through the
API. The collector then runs more often and for longer (pauses of 50 to 60 ms on a server
that has answered a few dozen such pages), and some request waits for it. Dropping the cache
once the response is built breaks the cycles, and the page is freed at once.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Model


def release(records: Iterable[Model], attributes: Iterable[str] = ()) -> None:
    """Drop what prefetching cached on ``records``, also the lists prefetched into
    ``<name>_rows`` for each of ``attributes`` (read nothing of theirs afterwards that was
    prefetched: it would be fetched again)."""
    names = [f"{name}_rows" for name in attributes]
    for record in records:
        record.__dict__.pop("_prefetched_objects_cache", None)
        for name in names:
            record.__dict__.pop(name, None)
