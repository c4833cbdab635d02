"""Who may see a search document, written into the SQLite search index itself.

Every document of ``core_search_fts`` carries, besides its text (``body``), an ``access``
column of tokens: its owner, its team and everyone it is shared with. A restricted user's
search then asks the index for "these words AND one of my tokens", so FTS5 intersects the two
lists of documents itself, where testing every match of a common surname against owner,
team and shares cost a user who sees 1 % of the records a row read per match (at 1,000,000
contacts: some 4,000 rows for "Schmidt").

On SQLite the tokens are the visibility filter of search, so they are kept in step with what
:func:`farley.core.visibility.visibility_q` decides: :func:`farley.core.search.index_document`
writes them with the document (after every change of owner or team) and :func:`refresh`
after every change of a record's shares (by hand or by a sharing rule); a user's tokens come
from their role, teams and subordinates at the time of the search. PostgreSQL searches with
the visibility filter itself. The index of words per token (:mod:`farley.core.search_keys`)
is made from this column and kept in step with it.

A token is one trigram, as the index is built with the trigram tokenizer: a letter for its
kind and the principal's id in two characters of the Unicode Private Use Area, which folded
text never contains, so a token matches itself and nothing else.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection

from farley.core import search_keys
from farley.core.models import RecordShare, SearchDocument, User, Visibility
from farley.core.visibility import subordinate_user_ids, team_ids, visibility_scope

FTS_TABLE = "core_search_fts"
FIRST = 0xE000  # U+E000..U+F8FF: the Private Use Area
RADIX = 6400
OWNER, TEAM, SHARED_USER, SHARED_TEAM = "o", "t", "u", "g"
UPDATE_SQL = "UPDATE core_search_fts SET access = %s WHERE rowid = %s"
BATCH = 500


def token(kind: str, pk: int) -> str:
    if not 0 < pk < RADIX * RADIX:
        raise ValueError(f"no search access token for id {pk}")
    high, low = divmod(pk, RADIX)
    return f"{kind}{chr(FIRST + high)}{chr(FIRST + low)}"


def document_access(
    owner_id: int | None, team_id: int | None, shares: Iterable[tuple[int | None, int | None]]
) -> str:
    """The access column of a document: owner, team, and the (user, team) of each share."""
    tokens = set()
    if owner_id:
        tokens.add(token(OWNER, owner_id))
    if team_id:
        tokens.add(token(TEAM, team_id))
    for user_id, share_team_id in shares:
        if user_id:
            tokens.add(token(SHARED_USER, user_id))
        if share_team_id:
            tokens.add(token(SHARED_TEAM, share_team_id))
    return " ".join(sorted(tokens))


def record_access(entity: str, object_id: int, owner_id: int | None, team_id: int | None) -> str:
    shares = RecordShare.objects.filter(entity=entity, object_id=object_id)
    return document_access(owner_id, team_id, shares.values_list("user_id", "team_id"))


def user_tokens(user: User) -> list[str] | None:
    """The tokens of the documents ``user`` may see, as :func:`visibility_q` decides it;
    None for a user who sees every record."""
    scope = visibility_scope(user)
    if scope == Visibility.ALL:
        return None
    if scope == "none":
        return []
    teams = team_ids(user)
    tokens = [token(OWNER, user.pk), token(SHARED_USER, user.pk)]
    tokens += [token(SHARED_TEAM, team) for team in teams]
    if scope in (Visibility.TEAM, Visibility.SUBORDINATES):
        tokens += [token(TEAM, team) for team in teams]
    if scope == Visibility.SUBORDINATES:
        tokens += [token(OWNER, pk) for pk in subordinate_user_ids(user)]
    return tokens


def refresh(entity: str, object_ids: Iterable[int]) -> None:
    """Write the access column again for these records (after their shares changed)."""
    if connection.vendor != "sqlite":
        return
    ids = sorted(set(object_ids))
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        shares: dict[int, list[tuple[int | None, int | None]]] = {}
        for object_id, user_id, team_id in RecordShare.objects.filter(
            entity=entity, object_id__in=chunk
        ).values_list("object_id", "user_id", "team_id"):
            shares.setdefault(object_id, []).append((user_id, team_id))
        documents = SearchDocument.objects.filter(entity=entity, object_id__in=chunk)
        wanted = {
            pk: document_access(owner_id, team_id, shares.get(object_id, []))
            for pk, object_id, owner_id, team_id in documents.values_list(
                "id", "object_id", "owner_id", "team_id"
            )
        }
        if not wanted:
            continue
        with connection.cursor() as cursor:
            marks = ", ".join(["%s"] * len(wanted))
            cursor.execute(
                f"SELECT rowid, access FROM {FTS_TABLE} WHERE rowid IN ({marks})",  # noqa: S608 (placeholders only)
                list(wanted),
            )
            current = dict(cursor.fetchall())
            changed = [[access, pk] for pk, access in wanted.items() if current.get(pk) != access]
        if changed:
            rowids = [pk for _access, pk in changed]
            search_keys.forget(rowids)
            with connection.cursor() as cursor:
                cursor.executemany(UPDATE_SQL, changed)
            search_keys.learn(rowids)


def match_expression(body_expr: str, tokens: list[str] | None) -> str:
    """The FTS5 query for documents whose text matches ``body_expr`` and, unless ``tokens``
    is None, whose access column holds one of ``tokens``."""
    expr = f"body : ({body_expr})"
    if tokens is None:
        return expr
    any_token = " OR ".join(f'"{t}"' for t in tokens)
    return f"{expr} AND access : ({any_token})"
