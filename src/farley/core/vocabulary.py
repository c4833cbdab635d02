"""The search vocabulary: every word of four or more letters in any search document, once.

The typo tier of global search looks up words that resemble what the user typed here (a few
thousand rows even with a million records) instead of comparing the query with every
document, and then searches the documents for those words. A word that no document contains
any more is deleted, so that, e.g., an erased name does not live on here.

SQLite: an FTS5 trigram table over the words; PostgreSQL: a pg_trgm index on the word column.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.db import connection
from rapidfuzz import fuzz, process

from farley.core.models import SearchWord

# The words are also those of the index of keys (farley.core.search_keys), which removes a
# document's keys by making them again: changing them needs a migration that rebuilds it.
WORD_RE = re.compile(r"[^\W\d_]{4,}")
MAX_LENGTH = 100
FTS_TABLE = "core_searchword_fts"
# Parameterised; the only values are bound with %s.
INSERT_SQL = "INSERT INTO core_searchword_fts(rowid, word) VALUES (%s, %s)"
DELETE_SQL = "DELETE FROM core_searchword_fts WHERE rowid = %s"
USED_SQL = "SELECT 1 FROM core_search_fts WHERE core_search_fts MATCH %s LIMIT 1"
SIMILAR_SQLITE_SQL = (
    "SELECT word FROM core_searchword_fts WHERE core_searchword_fts MATCH %s ORDER BY rank LIMIT %s"
)
CONTAINING_SQL = "SELECT word FROM core_searchword_fts WHERE core_searchword_fts MATCH %s LIMIT %s"
SIMILAR_POSTGRES_SQL = (
    "SELECT word FROM core_searchword WHERE word %% %s ORDER BY similarity(word, %s) DESC LIMIT %s"
)
SIMILARITY = 75  # rapidfuzz ratio (0-100) a vocabulary word needs to count as "meant"
LOOKUP_LIMIT = 300  # words fetched by trigram similarity before re-ranking


def words_of(text: str) -> set[str]:
    """The vocabulary words of a folded document text."""
    return {word[:MAX_LENGTH] for word in WORD_RE.findall(text)}


def remember(words: Iterable[str]) -> None:
    words = set(words)
    if not words:
        return
    known = set(SearchWord.objects.filter(word__in=words).values_list("word", flat=True))
    new = sorted(words - known)
    if not new:
        return
    SearchWord.objects.bulk_create([SearchWord(word=w) for w in new], ignore_conflicts=True)
    if connection.vendor == "sqlite":
        # SQLite runs one writing transaction at a time, so these rows are exactly the new ones.
        rows = list(SearchWord.objects.filter(word__in=new).values_list("id", "word"))
        with connection.cursor() as cursor:
            cursor.executemany(INSERT_SQL, rows)


def forget_unused(words: Iterable[str]) -> None:
    """Delete those of ``words`` that no search document contains any more."""
    from farley.core.search import fts_quote

    unused = []
    for word in set(words):
        if connection.vendor == "sqlite":
            with connection.cursor() as cursor:
                cursor.execute(USED_SQL, [fts_quote(word)])
                used = cursor.fetchone() is not None
        else:
            from farley.core.models import SearchDocument

            used = SearchDocument.objects.filter(body__contains=word).exists()
        if not used:
            unused.append(word)
    if not unused:
        return
    rows = list(SearchWord.objects.filter(word__in=unused).values_list("id", flat=True))
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.executemany(DELETE_SQL, [[i] for i in rows])
    SearchWord.objects.filter(id__in=rows).delete()


def containing(term: str, limit: int) -> list[str]:
    """Up to ``limit`` vocabulary words that contain ``term`` (folded, three or more
    characters), in any case: SQLite's trigram index finds them as a phrase, which is a
    substring that ignores case (folded text may hold capitals, e.g. from styled letters)."""
    from farley.core.search import fts_quote

    with connection.cursor() as cursor:
        cursor.execute(CONTAINING_SQL, [fts_quote(term), limit])
        return [word for (word,) in cursor.fetchall()]


def similar(term: str, *, limit: int = 5) -> list[str]:
    """Up to ``limit`` vocabulary words that ``term`` (folded) probably meant, best first."""
    from farley.core.search import fts_quote

    if len(term) < 4:
        return []
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            trigrams = sorted({term[i : i + 3] for i in range(len(term) - 2)})
            expr = " OR ".join(fts_quote(t) for t in trigrams)
            cursor.execute(SIMILAR_SQLITE_SQL, [expr, LOOKUP_LIMIT])
        else:
            cursor.execute(SIMILAR_POSTGRES_SQL, [term, term, LOOKUP_LIMIT])
        candidates = [row[0] for row in cursor.fetchall()]
    matches = process.extract(
        term, candidates, scorer=fuzz.ratio, score_cutoff=SIMILARITY, limit=limit + 1
    )
    return [word for word, _score, _index in matches if word != term][:limit]
