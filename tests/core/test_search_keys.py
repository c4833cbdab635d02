"""A restricted user's search for words of letters asks the index of words per access token
(SQLite): it must find what the trigram index finds (but for the tail of a run of more than 100
letters, see the module), and its keys must follow every change of text, owner, team and
shares, or it would show records to the wrong people."""

from __future__ import annotations

import importlib
import re
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext

from farley.contacts import services as contacts
from farley.core import search_access, search_keys, sharing
from farley.core.models import RecordShare, SearchDocument, User
from farley.core.search import search
from tests.factories import make_account, make_contact, make_user

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "sqlite", reason="the index of keys is SQLite's"),
]

NAMES = [
    ("Anna", "Berger"),
    ("Bernd", "Lindenberger"),
    ("Clara", "Bergermann"),
    ("Dora", "Berger-Lindner"),
    ("Emil", "Müller"),
    ("Frieda", "Straßberger"),
    ("Gustav", "Schneider"),
    ("Hanna", "Иванова"),
    ("Ida", "Berger\u19b1hof"),  # a letter to Python, a separator to SQLite's unicode61
    ("Jana", "𝐁𝐞𝐫𝐠𝐞𝐫𝐡𝐨𝐟"),  # styled letters: capitals after folding
]
QUERIES = [
    "berger", "Berger", "berg", "ergerm", "Lindner", "anna berger", "Müller", "muller",
    "Strassberger", "straßberger", "Иванова", "Schnieder", "Bergre", "zzzzq", "Ber", "nna",
    "berger@example", "Firma",
]  # fmt: skip


def fresh(user: User) -> User:
    return User.objects.get(pk=user.pk)  # a new request: nothing cached on the user


def titles(user: User, query: str, *, keys: bool = True) -> tuple[list[str], bool]:
    """What ``user`` finds for ``query``, and whether the index of keys was asked; with
    ``keys`` False, as the trigram index alone finds it."""
    with pytest.MonkeyPatch.context() as patch:
        if not keys:
            patch.setattr(search_keys, "expression", lambda alternatives, tokens: None)
        with CaptureQueriesContext(connection) as queries:
            hits = search(fresh(user), query, limit=100)
    asked = any(search_keys.TABLE in query["sql"] for query in queries.captured_queries)
    return sorted(hit.title for hit in hits), asked


def index_entries() -> set[tuple[int, str]]:
    """(document, key) of everything the index of keys holds, read from the index."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.key_entries "
            f"USING fts5vocab(main, '{search_keys.TABLE}', 'instance')"
        )
        cursor.execute("SELECT DISTINCT doc, term FROM temp.key_entries")
        return set(cursor.fetchall())


def expected_entries() -> set[tuple[int, str]]:
    """The same, from the records: each word of four or more letters of a document's text
    (the first 100 of a longer one) after each token of its owner, team and shares."""
    entries = set()
    for document in SearchDocument.objects.all():
        shares = RecordShare.objects.filter(entity=document.entity, object_id=document.object_id)
        access = search_access.document_access(
            document.owner_id, document.team_id, shares.values_list("user_id", "team_id")
        )
        words = {word[:100] for word in re.findall(r"[^\W\d_]{4,}", document.body)}
        entries |= {
            (document.pk, ascii_lower(token + word)) for token in access.split() for word in words
        }
    return entries


def ascii_lower(text: str) -> str:
    """As FTS5's ascii tokenizer stores a key: ASCII capitals lower-cased, the rest kept."""
    return "".join(ch.lower() if ch.isascii() else ch for ch in text)


@pytest.fixture
def people(admin, team1, team2):
    north, south = make_user("sales", team1), make_user("sales", team2)
    firm = make_account(south, name="Firma Berger GmbH")
    for number, (first, last) in enumerate(NAMES):
        owner = north if number % 2 else south
        make_contact(
            owner, first_name=first, last_name=last,
            emails=[{"address": f"{first.lower()}.{number}@example.com"}],
        )  # fmt: skip
    make_contact(
        south, first_name="Ida", last_name="Berger", emails=[{"address": "berger@example.de"}]
    )
    sharing.share_create(
        actor=south, entity="account", object_id=firm.pk, data={"team_id": team1.pk}
    )
    return {"admin": admin, "north": north, "south": south, "reader": make_user("reader")}


def test_the_index_of_keys_finds_what_the_trigram_index_finds(people):
    asked_at_all = set()
    for name, user in people.items():
        for query in QUERIES:
            by_keys, asked = titles(user, query)
            assert by_keys == titles(user, query, keys=False)[0], (name, query)
            if asked:
                asked_at_all.add(query)
    # Restricted users' searches for words of letters ask it (typos for the similar words);
    # shorter terms, other characters and what no word holds are left to the trigram index.
    assert asked_at_all == {
        "berger", "Berger", "berg", "ergerm", "Lindner", "anna berger", "Müller", "muller",
        "Strassberger", "straßberger", "Иванова", "Schnieder", "Bergre", "Firma",
    }  # fmt: skip
    assert titles(people["north"], "berger")[0] == [
        "Bernd Lindenberger", "Dora Berger-Lindner", "Firma Berger GmbH", "Frieda Straßberger",
        "Jana 𝐁𝐞𝐫𝐠𝐞𝐫𝐡𝐨𝐟",
    ]  # fmt: skip
    assert "Ida Berger\u19b1hof" in titles(people["south"], "berger")[0]
    assert titles(people["south"], "Иванова")[0] == []
    assert titles(people["north"], "Иванова")[0] == ["Hanna Иванова"]


def test_an_administrator_never_asks_the_index_of_keys(people):
    hits, asked = titles(people["admin"], "berger")
    assert len(hits) == 9
    assert not asked


def test_too_many_keys_are_left_to_the_trigram_index(people, monkeypatch):
    monkeypatch.setattr(search_keys, "MAX_KEYS", 2)
    hits, asked = titles(people["north"], "berger")
    assert not asked
    assert len(hits) == 5
    monkeypatch.setattr(search_keys, "MAX_KEYS", 400)
    monkeypatch.setattr(search_keys, "MAX_WORDS", 2)
    assert titles(people["north"], "berger") == (hits, False)


def test_a_word_longer_than_the_vocabulary_keeps_is_found_in_all_of_it(sales1):
    long_word = "berger" + "a" * 120 + "zyxw"
    make_account(sales1, name=f"Firma {long_word}")
    # In its first 100 letters: the vocabulary's word holds it, the keys find it.
    assert titles(sales1, "bergeraaaa") == ([f"Firma {long_word}"], True)
    # Further on: no word holds it, the trigram index finds it.
    assert titles(sales1, "aaazyxw") == ([f"Firma {long_word}"], False)


def test_the_index_of_keys_follows_every_change(admin, sales1, sales2, team1, team2):
    secret = make_contact(sales2, first_name="Greta", last_name="Berger")
    assert index_entries() == expected_entries()
    share = sharing.share_create(
        actor=sales2, entity="contact", object_id=secret.pk, data={"user_id": sales1.pk}
    )
    assert titles(sales1, "berger") == (["Greta Berger"], True)
    assert index_entries() == expected_entries()
    sharing.share_delete(actor=sales2, share_id=share.pk)
    assert titles(sales1, "berger") == ([], True)
    rule = sharing.rule_create(
        actor=admin,
        data={"entity": "contact", "name": "Berlin", "criteria": {"country": "DE"},
              "team_id": team1.pk},
    )  # fmt: skip
    contacts.contact_update(
        actor=sales2, contact_id=secret.pk,
        data={"last_name": "Bergmann",
              "addresses": [{"postal_code": "10117", "city": "Berlin", "country": "DE"}]},
    )  # fmt: skip
    assert titles(sales1, "bergmann") == (["Greta Bergmann"], True)
    assert titles(sales1, "berger")[0] == []
    assert index_entries() == expected_entries()
    sharing.rule_update(actor=admin, rule_id=rule.pk, data={"team_id": team2.pk})
    assert titles(sales1, "bergmann")[0] == []
    assert index_entries() == expected_entries()
    contacts.contact_update(
        actor=admin, contact_id=secret.pk, data={"owner_id": sales1.pk, "team_id": team1.pk}
    )
    assert titles(sales1, "bergmann")[0] == ["Greta Bergmann"]
    assert titles(sales2, "bergmann")[0] == ["Greta Bergmann"]  # the rule shares it with team 2
    assert index_entries() == expected_entries()
    contacts.contact_delete(actor=admin, contact_id=secret.pk)
    assert titles(sales1, "bergmann")[0] == []
    assert index_entries() == expected_entries()


def test_the_migration_indexes_every_document(sales1, sales2, team1):
    make_contact(sales2, first_name="Greta", last_name="Berger")
    make_contact(sales1, first_name="Otto", last_name="Lindenberger")
    migration = importlib.import_module("farley.core.migrations.0021_search_keys")
    # Django's SQLite schema editor refuses to run inside the test's transaction; these
    # migration steps only use its connection and execute().
    editor = SimpleNamespace(connection=connection, execute=connection.cursor().execute)
    migration.drop_keys_index(apps, editor)
    migration.create_keys_index(apps, editor)
    assert index_entries() == expected_entries()
    assert titles(sales1, "berger") == (["Otto Lindenberger"], True)


def test_a_term_no_word_holds_is_a_typo_without_counting(people):
    assert search_keys.unknown("bergre")
    assert not search_keys.unknown("berger")
    assert not search_keys.unknown("erge")  # inside a word
    assert not search_keys.unknown("brg")  # too short to tell
    # Misspelled, the restricted user still finds the records they may see by similar words.
    hits, asked = titles(people["north"], "Bergre")
    assert "Firma Berger GmbH" in hits
    assert asked


def test_keys_built_with_other_unicode_data_are_built_anew(people):
    from farley.core.models import SystemState

    assert not search_keys.rebuild_if_stale()
    SystemState.objects.filter(name=search_keys.STATE).update(value="1 unicode 13.0.0")
    with connection.cursor() as cursor:  # as if keys had been made differently
        cursor.execute(
            f"INSERT INTO {search_keys.TABLE}({search_keys.TABLE}) VALUES ('delete-all')"
        )
    assert titles(people["north"], "berger")[0] == []
    assert search_keys.rebuild_if_stale()
    assert index_entries() == expected_entries()
    assert len(titles(people["north"], "berger")[0]) == 5
    assert SystemState.objects.get(name=search_keys.STATE).value == search_keys.build_version()
    assert not search_keys.rebuild_if_stale()
