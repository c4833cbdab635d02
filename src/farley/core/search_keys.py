"""Words as each principal sees them: a second SQLite search index, for restricted users.

A restricted user's search asks the trigram index (``core_search_fts``) for the rarest trigram
of each term AND one of their access tokens (:mod:`farley.core.search_access`). FTS5 then
intersects two long lists: the documents holding the trigram (for "berger", 1 in 25 of all)
and those of the user's tokens (some 12,000 at 1,000,000 contacts), and every visible document
found is read to check the whole term, where an administrator's search stops after its first
60 matches.

This index (``core_searchkeys_fts``) holds one key per word of a document and access token:
the token followed by the word, as one term ("t" + team id + "berger"). A restricted user's
search asks for the keys of their tokens and of the vocabulary words that contain the term
(:func:`farley.core.vocabulary.containing`: "berger", "freudenberger", ...). Each key's list
holds exactly the visible documents with that word, so the index reads no more than an
administrator's search does. The words are the vocabulary's
(:func:`farley.core.vocabulary.words_of`: runs of four or more letters), so every document
holding a term of letters holds it inside one of them; a term of other characters, or shorter,
is left to the trigram index.

The table is contentless (FTS5 ``content=''``, ``detail='none'``): FTS5 removes a row's keys
only when given them again, so they are computed from the row of ``core_search_fts`` before it
changes. Every write of ``core_search_fts`` therefore calls :func:`forget` before and
:func:`learn` after it (:func:`farley.core.search.index_document`,
:func:`farley.core.search.remove_document`, :func:`farley.core.search_access.refresh`). The keys
are part of the visibility filter: one left behind would show a record to someone who lost
access to it. Making a row's keys again gives the same keys only with the same code and the
same Unicode data (what Python counts as a letter), so the table records how it was built
(:func:`build_version`) and is built anew by ``farley migrate`` and ``farley serve`` when that
changed (:func:`rebuild_if_stale`). FTS5's ``ascii`` tokenizer splits the keys at spaces only
(every non-ASCII character belongs to a token), so SQLite's own Unicode tables play no part.

A run of letters longer than the vocabulary keeps (100) counts with its first 100 only; a term
in the rest of it is found by the trigram index when no vocabulary word holds the term, and not
by a restricted user's search when some other word does.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Iterable

from django.db import connection, transaction

from farley.core import vocabulary

log = logging.getLogger("farley.search")

TABLE = "core_searchkeys_fts"
SOURCE = "core_search_fts"
# Keys are separated by spaces; letters (ASCII ones lower-cased), digits and the tokens'
# Private Use Area characters all belong to a key.
CREATE_SQL = (
    f"CREATE VIRTUAL TABLE {TABLE} USING fts5(keys, content='', detail='none', tokenize='ascii')"
)
# Parameterised; the only values are bound with %s.
ADD_SQL = "INSERT INTO core_searchkeys_fts(rowid, keys) VALUES (%s, %s)"
REMOVE_SQL = (
    "INSERT INTO core_searchkeys_fts(core_searchkeys_fts, rowid, keys) VALUES ('delete', %s, %s)"
)
MAX_WORDS = 50  # vocabulary words holding a term beyond which the trigram index answers
MAX_KEYS = 400  # keys asked for per term (words times tokens), likewise
BATCH = 500
FORMAT = "1"  # how keys_of makes keys; a new value builds the table anew
STATE = "search-keys"


def build_version() -> str:
    """What the keys depend on besides the text: this module's format and Python's Unicode
    data (which characters the vocabulary counts as letters)."""
    return f"{FORMAT} unicode {unicodedata.unidata_version}"


def keys_of(body: str, access: str) -> str:
    """The keys of a document of ``core_search_fts``: each access token with each word.
    Rows are removed by making their keys again, so a change to how keys (or the vocabulary's
    words) are made needs a new FORMAT, which builds the table anew."""
    words = sorted(vocabulary.words_of(body))
    return " ".join(token + word for token in access.split() for word in words)


def forget(rowids: Iterable[int]) -> None:
    """Remove these documents' keys; call it before their row of ``core_search_fts`` changes."""
    _write(REMOVE_SQL, rowids)


def learn(rowids: Iterable[int]) -> None:
    """Add these documents' keys, from their row of ``core_search_fts`` as it is now."""
    _write(ADD_SQL, rowids)


def _write(sql: str, rowids: Iterable[int]) -> None:
    ids = sorted(set(rowids))
    with connection.cursor() as cursor:
        for start in range(0, len(ids), BATCH):
            chunk = ids[start : start + BATCH]
            marks = ", ".join(["%s"] * len(chunk))
            cursor.execute(
                f"SELECT rowid, body, access FROM {SOURCE} WHERE rowid IN ({marks})",  # noqa: S608 (placeholders only)
                chunk,
            )
            rows = [[rowid, keys_of(body, access)] for rowid, body, access in cursor.fetchall()]
            cursor.executemany(sql, rows)


def expression(alternatives: list[list[str]], tokens: list[str]) -> str | None:
    """The FTS5 query of the documents a user with ``tokens`` may see that hold, for every
    term, a word containing one of its spellings (``alternatives``); None where this index
    does not answer: a spelling of other characters than letters or shorter than the
    vocabulary's words, a term no word holds, too many keys."""
    from farley.core.search import fts_quote

    groups = []
    for spellings in alternatives:
        words: set[str] = set()
        for spelling in spellings:
            if not answerable(spelling):
                return None
            found = vocabulary.containing(spelling, MAX_WORDS + 1)
            if len(found) > MAX_WORDS:
                return None
            words.update(found)
        if not words or len(words) > MAX_WORDS or len(words) * len(tokens) > MAX_KEYS:
            return None
        keys = sorted(token + word for token in tokens for word in words)
        groups.append("(" + " OR ".join(fts_quote(key) for key in keys) + ")")
    return " AND ".join(groups) or None


def unknown(term: str) -> bool:
    """Whether no word of the vocabulary holds ``term`` (SQLite), so that no document does
    (but for the rest of a run of letters longer than the vocabulary keeps): a typo, whose
    documents need not be counted."""
    return connection.vendor == "sqlite" and answerable(term) and not vocabulary.containing(term, 1)


def answerable(term: str) -> bool:
    """Whether ``term`` could be inside a vocabulary word: letters only, as many as a word."""
    return bool(vocabulary.WORD_RE.fullmatch(term))


def rebuild() -> int:
    """Build the table anew from ``core_search_fts`` and record how (see the module); the
    number of documents. At 1,000,000 contacts some 45 seconds."""
    from farley.core.models import SystemState

    count = 0
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {TABLE}")
        cursor.execute(CREATE_SQL)
        cursor.execute(f"SELECT rowid, body, access FROM {SOURCE} ORDER BY rowid")  # noqa: S608 (constants)
        while rows := cursor.fetchmany(BATCH * 4):
            with connection.cursor() as writer:
                writer.executemany(
                    ADD_SQL, [[pk, keys_of(body, access)] for pk, body, access in rows]
                )
            count += len(rows)
        SystemState.objects.update_or_create(name=STATE, defaults={"value": build_version()})
    return count


def rebuild_if_stale() -> bool:
    """Build the table anew if it was built with another format or other Unicode data (a
    Python upgrade), where forgetting a row's keys could miss some (SQLite only)."""
    from farley.core.models import SystemState

    if connection.vendor != "sqlite":
        return False
    built = SystemState.objects.filter(name=STATE).values_list("value", flat=True).first()
    if built == build_version():
        return False
    log.warning("search keys built as %r, now %r: building them anew", built, build_version())
    count = rebuild()
    log.warning("search keys of %s documents built", count)
    return True
