"""The copies of shared records' addresses that narrow a restricted user's list by place."""

from __future__ import annotations

import pytest
from django.apps import apps

from farley.contacts import privacy, selectors, services
from farley.contacts.models import SharedAddress
from farley.core import sharing
from farley.core.models import User
from tests.factories import make_account, make_contact


@pytest.fixture
def union(monkeypatch):
    """Lists page through the union of the ways of seeing a record (SQLite's way), on
    either database."""
    monkeypatch.setattr(selectors, "union_pages", lambda: True)


def fresh(user: User) -> User:
    return User.objects.get(pk=user.pk)


def listed(user: User, entity: str = "contact", **params: str) -> list[str]:
    page = selectors.list_page(entity, fresh(user), params)
    return [record.name for record in page.items]


def copies(record) -> list[tuple]:
    rows = SharedAddress.objects.filter(object_id=record.pk).values_list(
        "postal_code", "city", "country", "user_id", "team_id"
    )
    return sorted(rows, key=lambda row: (row[0], row[3] or 0, row[4] or 0))


def foreign(admin, sales2, team2, **data):
    """A contact of another team, in Munich and Berlin."""
    data.setdefault(
        "addresses",
        [
            {"postal_code": "80331", "city": "MÜNCHEN"},
            {"postal_code": "10115", "city": "Berlin", "kind": "billing"},
        ],
    )
    return make_contact(admin, owner_id=sales2.pk, team_id=team2.pk, **data)


def test_sharing_copies_every_address_per_share(admin, sales1, sales2, team1, team2):
    contact = foreign(admin, sales2, team2, last_name="Huber")
    assert copies(contact) == []
    sharing.share_create(
        actor=admin, entity="contact", object_id=contact.pk, data={"user_id": sales1.pk}
    )
    sharing.share_create(
        actor=admin, entity="contact", object_id=contact.pk, data={"team_id": team1.pk}
    )
    assert copies(contact) == [
        ("10115", "berlin", "DE", None, team1.pk),
        ("10115", "berlin", "DE", sales1.pk, None),
        ("80331", "münchen", "DE", None, team1.pk),
        ("80331", "münchen", "DE", sales1.pk, None),
    ]


def test_a_shared_record_is_listed_by_each_of_its_places(admin, sales1, sales2, team2, union):
    contact = foreign(admin, sales2, team2, last_name="Huber")
    sharing.share_create(
        actor=admin, entity="contact", object_id=contact.pk, data={"user_id": sales1.pk}
    )
    for params in (
        {"postal_code": "8"},
        {"postal_code": "101"},
        {"city": "münchen"},
        {"city": "BERLIN"},
        {"postal_code": "80", "city": "berlin"},  # two addresses may meet two filters
        {"postal_code_from": "80000", "postal_code_to": "80999"},
        {"postal_code": "10", "country": "DE"},
    ):
        assert listed(sales1, **params) == ["Huber"], params
    for params in ({"postal_code": "2"}, {"city": "Bremen"}, {"postal_code": "8", "country": "AT"}):
        assert listed(sales1, **params) == [], params


def test_changed_addresses_move_the_shared_record_in_the_lists(admin, sales1, sales2, team2, union):
    contact = foreign(admin, sales2, team2, last_name="Huber")
    sharing.share_create(
        actor=admin, entity="contact", object_id=contact.pk, data={"user_id": sales1.pk}
    )
    services.contact_update(
        actor=admin,
        contact_id=contact.pk,
        data={
            "version": contact.version,
            "addresses": [{"postal_code": "28195", "city": "Bremen"}],
        },
    )
    assert copies(contact) == [("28195", "bremen", "DE", sales1.pk, None)]
    assert listed(sales1, postal_code="28") == ["Huber"]
    assert listed(sales1, postal_code="80") == []
    assert listed(sales1, city="Berlin") == []


def test_unsharing_removes_the_copies(admin, sales1, sales2, team2, union):
    contact = foreign(admin, sales2, team2, last_name="Huber")
    share = sharing.share_create(
        actor=admin, entity="contact", object_id=contact.pk, data={"user_id": sales1.pk}
    )
    sharing.share_delete(actor=admin, share_id=share.pk)
    assert copies(contact) == []
    assert listed(sales1, postal_code="80") == []


def test_a_territory_rule_copies_the_addresses_of_its_records(
    admin, sales1, sales2, team1, team2, union
):
    inside = foreign(admin, sales2, team2, last_name="Innen")
    outside = foreign(admin, sales2, team2, last_name="Außen", addresses=[{"postal_code": "50667"}])
    rule = sharing.rule_create(
        actor=admin,
        data={"entity": "contact", "name": "Süd", "criteria": {"postal_code": "8"},
              "team_id": team1.pk},
    )  # fmt: skip
    assert {row[4] for row in copies(inside)} == {team1.pk}
    assert copies(outside) == []
    assert listed(sales1, postal_code="10") == ["Innen"]  # its other address
    # A record that comes into the territory later is copied when it is saved.
    services.contact_update(
        actor=admin,
        contact_id=outside.pk,
        data={"version": outside.version, "addresses": [{"postal_code": "81669"}]},
    )
    assert listed(sales1, postal_code="81") == ["Außen"]
    sharing.rule_delete(actor=admin, rule_id=rule.pk)
    assert copies(inside) == copies(outside) == []
    assert listed(sales1, postal_code="8") == []


def test_accounts_are_copied_and_listed_too(admin, sales1, sales2, team2, union):
    account = make_account(
        admin,
        name="Brauerei Huber",
        owner_id=sales2.pk,
        team_id=team2.pk,
        addresses=[{"postal_code": "80331", "city": "München"}],
    )
    sharing.share_create(
        actor=admin, entity="account", object_id=account.pk, data={"user_id": sales1.pk}
    )
    assert listed(sales1, "account", city="MÜNCHEN") == ["Brauerei Huber"]
    assert listed(sales1, "account", postal_code="1") == []


def test_erasure_leaves_no_copy_of_the_address(admin, sales1, sales2, team2):
    contact = foreign(admin, sales2, team2, last_name="Huber")
    sharing.share_create(
        actor=admin, entity="contact", object_id=contact.pk, data={"user_id": sales1.pk}
    )
    privacy.erase(actor=admin, contact_id=contact.pk)
    assert copies(contact) == []
    assert not SharedAddress.objects.filter(city="münchen").exists()


def test_the_migration_copies_the_shares_that_exist(admin, sales1, sales2, team1, team2):
    contact = foreign(admin, sales2, team2, last_name="Huber")
    for data in ({"user_id": sales1.pk}, {"team_id": team1.pk}):
        sharing.share_create(actor=admin, entity="contact", object_id=contact.pk, data=data)
    made = copies(contact)
    SharedAddress.objects.all().delete()
    migration = __import__("farley.contacts.migrations.0009_shared_addresses", fromlist=["copy"])
    migration.copy_addresses_of_shared_records(apps, None)
    assert copies(contact) == made


def test_a_copy_alone_never_shows_a_record(admin, sales1, sales2, team2, union):
    """The copies only narrow: a copy that names sales1 without a share of theirs behind it
    (as a bug might leave one) does not make the record visible to them."""
    contact = foreign(admin, sales2, team2, last_name="Huber")
    sharing.share_create(
        actor=admin, entity="contact", object_id=contact.pk, data={"user_id": admin.pk}
    )
    SharedAddress.objects.filter(object_id=contact.pk).update(user_id=sales1.pk)
    assert listed(sales1, postal_code="80") == []
    assert listed(sales1, city="Berlin") == []


def test_a_long_city_is_found_in_full_though_casefolding_lengthens_it(
    admin, sales1, sales2, team2, union
):
    city = "Groß" * 25  # 100 characters, 125 casefolded
    contact = foreign(admin, sales2, team2, last_name="Huber", addresses=[{"city": city}])
    sharing.share_create(
        actor=admin, entity="contact", object_id=contact.pk, data={"user_id": sales1.pk}
    )
    assert listed(sales1, city=city) == listed(admin, city=city) == ["Huber"]
    assert copies(contact)[0][1] == city.casefold()  # not cut to the address's 100
