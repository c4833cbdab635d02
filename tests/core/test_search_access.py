"""The search index knows who may see each document (owner, team, shares), so a restricted
user's search is narrowed inside the index; it must find exactly what the lists show."""

from __future__ import annotations

import importlib
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection

from farley.contacts import selectors
from farley.contacts import services as contacts
from farley.core import search_access, sharing
from farley.core import services as core
from farley.core.models import RecordShare, SearchDocument, User
from farley.core.search import search
from tests.factories import TeamFactory, make_contact, make_user

pytestmark = pytest.mark.django_db
sqlite_only = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="the access column is in the SQLite index"
)


def fresh(user: User) -> User:
    return User.objects.get(pk=user.pk)  # a new request: nothing cached on the user


def found(user: User, query: str = "Muster") -> set[str]:
    return {hit.title for hit in search(fresh(user), query, limit=100)}


def listed(user: User) -> set[str]:
    return {
        f"{c.first_name} {c.last_name}"
        for c in selectors.contacts_visible_to(fresh(user))
        if c.last_name == "Muster"
    }


def index_rows() -> dict[int, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT rowid, access FROM core_search_fts")
        return dict(cursor.fetchall())


def expected_rows() -> dict[int, str]:
    rows = {}
    for document in SearchDocument.objects.all():
        shares = RecordShare.objects.filter(entity=document.entity, object_id=document.object_id)
        rows[document.pk] = search_access.document_access(
            document.owner_id, document.team_id, shares.values_list("user_id", "team_id")
        )
    return rows


def test_each_token_is_one_trigram_of_its_own():
    tokens = {
        search_access.token(kind, pk)
        for kind in "otug"
        for pk in (1, 2, 6399, 6400, 6401, 40_959_999)
    }
    assert len(tokens) == 24
    assert all(len(token) == 3 for token in tokens)
    with pytest.raises(ValueError):
        search_access.token("o", 0)
    with pytest.raises(ValueError):
        search_access.token("o", 6400 * 6400)


def test_every_user_finds_exactly_the_records_they_may_see(admin, team1, team2):
    lead_role = core.role_create(
        actor=admin,
        data={"key": "sales-lead", "name": "Sales lead", "visibility": "subordinates"},
    )
    core.role_update(
        actor=admin, role_id=lead_role.__class__.objects.get(key="sales").pk,
        data={"reports_to_id": lead_role.pk},
    )  # fmt: skip
    core.role_update(
        actor=admin, role_id=lead_role.pk, data={"permissions": {"contact": ["view", "edit"]}}
    )
    team3 = TeamFactory(name="Vertrieb West")
    north, south = make_user("sales", team1), make_user("sales", team2)
    west, loner = make_user("sales", team3), make_user("sales")
    boss = make_user("sales-lead")
    people = [north, south, west, loner]
    records = {}
    for number, owner in enumerate(people * 2):
        records[number] = make_contact(owner, first_name=f"Nr{number}", last_name="Muster")
    sharing.share_create(
        actor=south, entity="contact", object_id=records[1].pk, data={"user_id": north.pk}
    )
    sharing.share_create(
        actor=west, entity="contact", object_id=records[2].pk, data={"team_id": team1.pk}
    )
    sharing.share_create(
        actor=loner, entity="contact", object_id=records[3].pk, data={"team_id": team3.pk}
    )
    contacts.contact_update(
        actor=south, contact_id=records[5].pk,
        data={"addresses": [{"postal_code": "1010", "city": "Wien", "country": "AT"}]},
    )  # fmt: skip
    sharing.rule_create(
        actor=admin,
        data={"entity": "contact", "name": "Österreich", "criteria": {"country": "AT"},
              "team_id": team3.pk},
    )  # fmt: skip
    reader = make_user("reader")
    for user in [*people, boss, admin, reader]:
        assert found(user) == listed(user), user.full_name
    assert found(north) == {"Nr0 Muster", "Nr4 Muster", "Nr1 Muster", "Nr2 Muster"}
    assert found(west) == {"Nr2 Muster", "Nr6 Muster", "Nr3 Muster", "Nr5 Muster"}
    assert len(found(boss)) == 8


@sqlite_only
def test_the_index_follows_shares_rules_and_owner_changes(admin, sales1, sales2, team1, team2):
    secret = make_contact(sales2, first_name="Greta", last_name="Muster")
    assert found(sales1) == set()
    share = sharing.share_create(
        actor=sales2, entity="contact", object_id=secret.pk, data={"user_id": sales1.pk}
    )
    assert found(sales1) == {"Greta Muster"}
    assert index_rows() == expected_rows()
    sharing.share_delete(actor=sales2, share_id=share.pk)
    assert found(sales1) == set()
    rule = sharing.rule_create(
        actor=admin,
        data={"entity": "contact", "name": "Alle Muster", "criteria": {"country": "DE"},
              "team_id": team1.pk},
    )  # fmt: skip
    contacts.contact_update(
        actor=sales2, contact_id=secret.pk,
        data={"addresses": [{"postal_code": "10117", "city": "Berlin", "country": "DE"}]},
    )  # fmt: skip
    assert found(sales1) == {"Greta Muster"}
    assert index_rows() == expected_rows()
    sharing.rule_update(actor=admin, rule_id=rule.pk, data={"team_id": team2.pk})
    assert found(sales1) == set()
    assert index_rows() == expected_rows()
    sharing.rule_delete(actor=admin, rule_id=rule.pk)
    contacts.contact_update(
        actor=admin, contact_id=secret.pk, data={"owner_id": sales1.pk, "team_id": team1.pk}
    )
    assert found(sales1) == {"Greta Muster"}
    assert found(sales2) == set()
    assert index_rows() == expected_rows()


@sqlite_only
def test_the_migration_writes_the_access_column_of_every_document(sales1, sales2, team1):
    secret = make_contact(sales2, first_name="Greta", last_name="Muster")
    make_contact(sales1, first_name="Otto", last_name="Muster")
    sharing.share_create(
        actor=sales2, entity="contact", object_id=secret.pk, data={"team_id": team1.pk}
    )
    migration = importlib.import_module("farley.core.migrations.0016_search_access")
    # Django's SQLite schema editor refuses to run inside the test's transaction; these
    # migration steps only use its connection and execute().
    editor = SimpleNamespace(connection=connection, execute=connection.cursor().execute)
    migration.drop_access_column(apps, editor)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM core_search_fts")
        assert cursor.fetchone()[0] == SearchDocument.objects.count()
    migration.add_access_column(apps, editor)
    assert index_rows() == expected_rows()
    assert found(sales1) == {"Greta Muster", "Otto Muster"}


def test_similar_words_are_looked_for_when_the_index_lacks_the_word(admin, sales1):
    make_contact(sales1, first_name="Greta", last_name="Schneider")
    make_contact(sales1, first_name="Gustav", last_name="Schneidler")
    for number in range(20):
        make_contact(admin, first_name=f"Nr{number}", last_name="Schneider")
    # Spelled right and in 20 documents or more: exact matches only, as for everyone.
    assert [hit.title for hit in search(fresh(sales1), "Schneider", limit=20)] == [
        "Greta Schneider"
    ]
    assert len(search(fresh(admin), "Schneider", limit=20)) == 20
    # Misspelled: similar words of the vocabulary, within what the user may see.
    assert "Greta Schneider" in found(sales1, "Schnieder")
    assert all(title.startswith(("Greta", "Gustav")) for title in found(sales1, "Schnieder"))
