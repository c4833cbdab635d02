"""No trace of erased people left in the SQLite search indexes.

FTS5 deletes by writing delete markers: a document's old terms (the trigrams of a name in
``core_search_fts`` and the vocabulary's index, whole words in the search keys) stay in the
older segments of an index until a merge rewrites them, readable in the database file. After
an erasure (:func:`farley.contacts.privacy.erase`) the job :func:`run_due` therefore merges
each search index into one segment (:func:`compact`), in small steps that are each a short
transaction of their own, so that other writers get in between. SQLite runs with
``PRAGMA secure_delete=ON`` (settings), which overwrites what is deleted or freed with zeros,
and the WAL is checkpointed and truncated afterwards. The job runs every ten minutes and does
this only when someone was erased since it last did (the erasure log says when).

On PostgreSQL the search text is a column of ``core_searchdocument``; the row versions an
erasure leaves are removed by (auto)vacuum, see docs/security.md.
"""

from __future__ import annotations

from django.db import connection, transaction
from django.utils import timezone

from farley.core import search_access, search_keys, vocabulary
from farley.core.models import ChangeAction, ChangeRecord, SystemState

TABLES = (search_access.FTS_TABLE, search_keys.TABLE, vocabulary.FTS_TABLE)
STEP = 200  # index pages written per merge step (a few milliseconds)
MAX_STEPS = 100_000  # a safety stop; 1,000,000 contacts need some 2,000
STRUCTURE_ID = 10  # FTS5 keeps the list of an index's segments in this row of its data table
STATE = "search-purge"


def compact() -> int:
    """Merge each SQLite search index into a single segment, which drops every deleted
    entry; the number of merge steps taken (0 on PostgreSQL)."""
    if connection.vendor != "sqlite":
        return 0
    steps = 0
    for table in TABLES:
        while steps < MAX_STEPS:
            steps += 1
            with transaction.atomic(), connection.cursor() as cursor:
                before = _structure(cursor, table)
                # A negative number of pages: merge segments of every level, down to one.
                cursor.execute(
                    f"INSERT INTO {table}({table}, rank) VALUES ('merge', %s)",  # noqa: S608 (constants)
                    [-STEP],
                )
                if _structure(cursor, table) == before:
                    break
    if not connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return steps


def run_due() -> int:
    """Compact the search indexes if anyone was erased since they last were; the steps."""
    done = SystemState.objects.filter(name=STATE).values_list("at", flat=True).first()
    erasures = ChangeRecord.objects.filter(action=ChangeAction.ERASE)
    if done is not None:
        erasures = erasures.filter(at__gte=done)
    if not erasures.exists():
        return 0
    started = timezone.now()
    steps = compact()
    SystemState.objects.update_or_create(
        name=STATE, defaults={"at": started, "value": f"{steps} merge steps"}
    )
    return steps


def _structure(cursor, table: str) -> bytes | None:
    cursor.execute(f"SELECT block FROM {table}_data WHERE id = %s", [STRUCTURE_ID])  # noqa: S608 (constants)
    row = cursor.fetchone()
    return bytes(row[0]) if row else None
