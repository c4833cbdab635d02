"""Global search over every registered entity, behind one interface.

SQLite: an FTS5 table with the trigram tokenizer. PostgreSQL: a pg_trgm GIN index. Both
index a folded copy of the text (lower case, no accents) and both search in two tiers: every
word as a substring first, then, when that finds too little, every word or a similar word of
the vocabulary (:mod:`farley.core.vocabulary`), for typos. Candidates are re-ranked with
rapidfuzz. Visibility is the same filter the lists use
(:func:`farley.core.visibility.visibility_q`); on SQLite it is written into the index as access
tokens (:mod:`farley.core.search_access`), so the index finds only what the user may see.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection
from django.db.models import OuterRef, Q
from rapidfuzz import fuzz

from farley.core import search_access, search_keys, trigrams, vocabulary
from farley.core.models import SearchDocument, User
from farley.core.text import digits, fold, looks_like_phone
from farley.core.visibility import viewable_entities, visibility_q

CANDIDATES = 60  # documents re-ranked per tier; more cost time and rarely change the top 20
FTS_TABLE = search_access.FTS_TABLE
# Parameterised; the only values are bound with %s.
FTS_DELETE_SQL = "DELETE FROM core_search_fts WHERE rowid = %s"
FTS_INSERT_SQL = "INSERT INTO core_search_fts(rowid, body, access) VALUES (%s, %s, %s)"


@dataclass(frozen=True)
class SearchHit:
    entity: str
    object_id: int
    title: str
    subtitle: str
    score: float


def document_text(parts: list[str]) -> str:
    """Folded text of a record, for substring search: phone numbers are stored in E.164, so
    their digits match "030 1234567" and "+49 30 1234567" alike (see :func:`query_terms`)."""
    return join_folded(fold(part) for part in parts if part)


def join_folded(pieces: Iterable[str]) -> str:
    """``pieces`` joined by " | ", leaving out each one already contained in the text so far:
    it adds nothing to a substring search and only makes the index bigger."""
    text = ""
    for piece in pieces:
        if piece and piece not in text:
            text = f"{text} | {piece}" if text else piece
    return text


def index_document(
    *,
    entity: str,
    object_id: int,
    owner_id: int,
    team_id: int | None,
    title: str,
    subtitle: str,
    parts: list[str],
) -> None:
    body = document_text([title, subtitle, *parts])
    old_body = (
        SearchDocument.objects.filter(entity=entity, object_id=object_id)
        .values_list("body", flat=True)
        .first()
    )
    document, _ = SearchDocument.objects.update_or_create(
        entity=entity,
        object_id=object_id,
        defaults={
            "owner_id": owner_id,
            "team_id": team_id,
            "title": title[:300],
            "subtitle": subtitle[:300],
            "body": body,
        },
    )
    if connection.vendor == "sqlite":
        access = search_access.record_access(entity, object_id, owner_id, team_id)
        search_keys.forget([document.pk])
        with connection.cursor() as cursor:
            cursor.execute(FTS_DELETE_SQL, [document.pk])
            cursor.execute(FTS_INSERT_SQL, [document.pk, body, access])
        search_keys.learn([document.pk])
    if old_body != body:
        words, old_words = vocabulary.words_of(body), vocabulary.words_of(old_body or "")
        vocabulary.remember(words - old_words)
        vocabulary.forget_unused(old_words - words)


def remove_document(*, entity: str, object_id: int) -> None:
    rows = list(
        SearchDocument.objects.filter(entity=entity, object_id=object_id).values_list("id", "body")
    )
    if not rows:
        return
    ids = [pk for pk, _body in rows]
    if connection.vendor == "sqlite":
        search_keys.forget(ids)
        with connection.cursor() as cursor:
            cursor.executemany(FTS_DELETE_SQL, [[i] for i in ids])
    SearchDocument.objects.filter(id__in=ids).delete()
    vocabulary.forget_unused(set().union(*(vocabulary.words_of(body) for _pk, body in rows)))


def query_terms(query: str) -> list[str]:
    query = query.strip()
    if looks_like_phone(query):
        number = digits(query)
        # "030 1234567", "+49 30 1234567" and "0049..." all become the digits after the trunk 0.
        number = (
            re.sub(r"^(00)?49", "", number) if query.strip().startswith(("+", "00")) else number
        )
        return [number.lstrip("0") or number]
    return [t for t in re.split(r"[\s,;|]+", fold(query)) if t]


def fts_quote(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def _fts_join(base, expr: str, fts_table: str = FTS_TABLE):
    """``base`` joined with the FTS5 matches of ``expr`` in ``fts_table``. A join, not
    ``id IN (subquery)``: SQLite then walks the matches and stops at the LIMIT, and the
    visibility filter applies before it, so a restricted user's matches are never cut off by
    other people's records."""
    table = base.model._meta.db_table
    return base.extra(  # noqa: S610 (the only value, expr, is a bound parameter)
        tables=[fts_table],
        where=[f'{fts_table}.rowid = "{table}"."id"', f"{fts_table} MATCH %s"],
        params=[expr],
    )


def _matching(base, alternatives: list[list[str]], user: User | None, tokens: list[str] | None):
    """The documents ``user`` may see that contain, for every query term, one of its
    spellings (a substring); with ``user`` None, every such document (only ever counted).

    On SQLite the index finds them: per spelling its rarest trigram
    (:func:`farley.core.trigrams.rarest`), and for a restricted user one of their access
    tokens (``tokens``, :mod:`farley.core.search_access`), which stand for the visibility
    filter; the whole spellings are then checked on the few documents found. A restricted
    user's search for words of letters asks the index of words per access token instead
    (:mod:`farley.core.search_keys`), which holds only what they may see."""
    if connection.vendor != "sqlite":
        base = base.filter(_visible(user))
        for spellings in alternatives:
            base = base.filter(_any_spelling(spellings))
        return base
    indexed = [s for s in alternatives if len(s[0]) >= 3]
    if not indexed:
        # The trigram index needs 3 characters; short words (e.g. a CJK surname) scan titles.
        base = base.filter(_visible(user))
        for spellings in alternatives:
            base = base.filter(title__icontains=spellings[0])
        return base
    keys = search_keys.expression(indexed, tokens) if tokens is not None else None
    if keys:
        base = _fts_join(base, keys, search_keys.TABLE)
    else:
        # A restricted user's access tokens narrow the documents enough that one trigram per
        # spelling is cheapest; an administrator's search is narrowed by the trigrams alone.
        count = 2 if tokens is None else 1
        expr = " AND ".join(
            "(" + " OR ".join(_rare_parts(s, count) for s in sorted(set(spellings))) + ")"
            for spellings in indexed
        )
        base = _fts_join(base, search_access.match_expression(expr, tokens))
    for spellings in indexed:
        base = base.filter(_any_spelling(spellings))
    return base


def _rare_parts(spelling: str, count: int) -> str:
    if count > 1 and trigrams.crowded(spelling, count):
        # Only common trigrams: the phrase (exact) finds far fewer documents to check.
        return fts_quote(spelling)
    return "(" + " AND ".join(fts_quote(t) for t in trigrams.rarest(spelling, count)) + ")"


def _visible(user: User | None) -> Q:
    if user is None:
        return Q()
    return visibility_q(user, entity=OuterRef("entity"), object_id=OuterRef("object_id"))


def _misspelled(base, exact: list[list[str]], found: int, limit: int, restricted: bool) -> bool:
    """Whether to look for similar words too: when the words as typed are in fewer than
    ``limit`` documents of the whole index. For a user who sees few records that is not the
    same as finding fewer than ``limit`` of them: their search for a common name, spelled
    right, finds only exact matches, as everyone's does (and costs no more than theirs)."""
    if found >= limit:
        return False
    if not restricted or any(search_keys.unknown(spellings[0]) for spellings in exact):
        return True
    return _matching(base, exact, None, None)[:limit].count() < limit


def _any_spelling(spellings: list[str]) -> Q:
    any_spelling = Q()
    for spelling in spellings:
        any_spelling |= Q(body__icontains=spelling)
    return any_spelling


def _score(terms: list[str], document: SearchDocument) -> float:
    title = fold(document.title)
    best = []
    for term in terms:
        in_title = fuzz.partial_ratio(term, title)
        in_body = fuzz.partial_ratio(term, document.body)
        bonus = 10 if title.startswith(term) or f" {term}" in title else 0
        best.append(max(in_title + bonus, in_body - 5))
    return sum(best) / len(best) if best else 0


def search(
    user: User, query: str, *, entities: list[str] | None = None, limit: int = 20
) -> list[SearchHit]:
    """The records ``user`` may see that match ``query``, best first."""
    terms = query_terms(query or "")
    joined = "".join(terms)
    if not terms or (len(joined) < 2 and not any(ord(ch) >= 0x2E80 for ch in joined)):
        return []
    allowed = viewable_entities(user)
    tokens = search_access.user_tokens(user)
    if tokens == []:
        return []
    base = SearchDocument.objects.filter(entity__in=allowed)
    if entities:
        base = base.filter(entity__in=entities)
    fields = ("id", "entity", "object_id", "title", "subtitle", "body")
    exact = [[term] for term in terms]
    found = {d.pk: d for d in _matching(base, exact, user, tokens).only(*fields)[:CANDIDATES]}
    threshold = 60.0
    if _misspelled(base, exact, len(found), limit, restricted=tokens is not None):
        # Typos: each word may also be a similar word of the vocabulary.
        spellings = [[term, *vocabulary.similar(term)] for term in terms]
        if spellings != exact:
            for document in _matching(base, spellings, user, tokens).only(*fields)[:CANDIDATES]:
                found.setdefault(document.pk, document)
    hits = [
        SearchHit(d.entity, d.object_id, d.title, d.subtitle, _score(terms, d))
        for d in found.values()
    ]
    hits = [h for h in hits if h.score >= threshold]
    hits.sort(key=lambda h: (-h.score, h.title))
    return hits[:limit]
