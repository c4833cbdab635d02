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
access to it.

A run of letters longer than the vocabulary keeps (100) counts with its first 100 only; a term
in the rest of it is found by the trigram index when no vocabulary word holds the term, and not
by a restricted user's search when some other word does.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection

from farley.core import vocabulary

TABLE = "core_searchkeys_fts"
SOURCE = "core_search_fts"
# A key is one term: letters, digits and the tokens' Private Use Area characters; only the
# spaces between keys separate them. Text is folded already, so no diacritics are removed.
TOKENIZER = "unicode61 remove_diacritics 0 categories 'L* N* Co'"
CREATE_SQL = (
    f"CREATE VIRTUAL TABLE {TABLE} USING fts5(keys, content='', detail='none', "
    f'tokenize="{TOKENIZER}")'
)
# Parameterised; the only values are bound with %s.
ADD_SQL = "INSERT INTO core_searchkeys_fts(rowid, keys) VALUES (%s, %s)"
REMOVE_SQL = (
    "INSERT INTO core_searchkeys_fts(core_searchkeys_fts, rowid, keys) VALUES ('delete', %s, %s)"
)
MAX_WORDS = 50  # vocabulary words holding a term beyond which the trigram index answers
MAX_KEYS = 400  # keys asked for per term (words times tokens), likewise
BATCH = 500


def keys_of(body: str, access: str) -> str:
    """The keys of a document of ``core_search_fts``: each access token with each word.
    Rows are removed by making their keys again, so a change to how keys (or the vocabulary's
    words) are made needs a migration that builds the table anew."""
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
            words |= vocabulary.containing(spelling, MAX_WORDS + 1)
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
