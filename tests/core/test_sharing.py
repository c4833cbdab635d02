"""Beyond own and team records: subordinate roles, records shared by hand, territories shared
by rule; everywhere the same (lists, 360 pages, search, API, exports), and read-only shares
stay read-only."""

from __future__ import annotations

import pytest

from farley.contacts import selectors, transfer
from farley.contacts import services as contacts
from farley.core import services as core
from farley.core import sharing
from farley.core.errors import Forbidden, NotFound, ValidationFailed
from farley.core.models import RecordShare
from farley.core.search import search
from farley.core.services import token_create
from tests.factories import make_contact, make_user

pytestmark = pytest.mark.django_db


def visible_names(user) -> list[str]:
    return sorted(c.last_name for c in selectors.contacts_visible_to(user))


@pytest.fixture
def secret(sales2):
    return make_contact(sales2, first_name="Greta", last_name="Geheimnis")


def test_a_record_shared_with_a_user_is_visible_everywhere_to_them(sales1, sales2, secret, client):
    assert visible_names(sales1) == []
    sharing.share_create(
        actor=sales2, entity="contact", object_id=secret.pk, data={"user_id": sales1.pk}
    )
    sales1 = type(sales1).objects.get(pk=sales1.pk)  # a new request
    assert visible_names(sales1) == ["Geheimnis"]
    assert [h.title for h in search(sales1, "Geheimnis")] == ["Greta Geheimnis"]
    _cols, rows = transfer.export_rows("contact", sales1, {})
    assert [r["last_name"] for r in rows] == ["Geheimnis"]
    client.force_login(sales1)
    assert client.get(f"/contacts/{secret.pk}/").status_code == 200
    _token, key = token_create(user=sales1, name="t")
    api = client.get(f"/api/v1/contacts/{secret.pk}", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert api.status_code == 200


def test_a_read_only_share_does_not_allow_changes(sales1, sales2, secret):
    sharing.share_create(
        actor=sales2, entity="contact", object_id=secret.pk, data={"user_id": sales1.pk}
    )
    with pytest.raises(NotFound):
        contacts.contact_update(actor=sales1, contact_id=secret.pk, data={"job_title": "X"})
    with pytest.raises(NotFound):
        contacts.contact_delete(actor=sales1, contact_id=secret.pk)
    with pytest.raises(Forbidden):
        contacts.timeline_entry_create(
            actor=sales1, data={"contact_id": secret.pk, "subject": "Hi"}
        )
    with pytest.raises(NotFound):
        sharing.share_create(
            actor=sales1, entity="contact", object_id=secret.pk, data={"team_id": 1}
        )


def test_an_edit_share_with_a_team_allows_changes_to_its_members(sales1, sales2, secret, team1):
    sharing.share_create(
        actor=sales2, entity="contact", object_id=secret.pk,
        data={"team_id": team1.pk, "can_edit": True},
    )  # fmt: skip
    updated = contacts.contact_update(actor=sales1, contact_id=secret.pk, data={"job_title": "CFO"})
    assert updated.job_title == "CFO"


def test_removing_a_share_hides_the_record_again_and_history_tells(sales1, sales2, secret):
    share = sharing.share_create(
        actor=sales2, entity="contact", object_id=secret.pk, data={"user_id": sales1.pk}
    )
    sharing.share_delete(actor=sales2, share_id=share.pk)
    assert visible_names(type(sales1).objects.get(pk=sales1.pk)) == []
    lines = [c.changes for c in selectors.record_history(secret)]
    assert any("shared_with" in c for c in lines)


def test_share_validation(sales2, secret, sales1):
    with pytest.raises(ValidationFailed) as caught:
        sharing.share_create(actor=sales2, entity="contact", object_id=secret.pk, data={})
    assert "user_id" in caught.value.fields
    with pytest.raises(ValidationFailed):
        sharing.share_create(
            actor=sales2, entity="contact", object_id=secret.pk,
            data={"user_id": sales1.pk, "team_id": 1},
        )  # fmt: skip
    with pytest.raises(ValidationFailed) as caught:
        sharing.share_create(
            actor=sales2, entity="contact", object_id=secret.pk, data={"user_id": sales2.pk}
        )
    assert "owns the record" in caught.value.fields["user_id"][0]
    with pytest.raises(NotFound):
        sharing.share_create(
            actor=sales2, entity="planet", object_id=1, data={"user_id": sales1.pk}
        )


def test_a_sharing_rule_shares_a_territory_now_and_on_every_save(admin, sales1, sales2, team1):
    vienna = make_contact(
        sales2,
        last_name="Wiener",
        addresses=[{"postal_code": "1010", "city": "Wien", "country": "AT"}],
    )
    make_contact(
        sales2, last_name="Berliner", addresses=[{"postal_code": "10117", "city": "Berlin"}]
    )
    rule = sharing.rule_create(
        actor=admin,
        data={"entity": "contact", "name": "Österreich", "criteria": {"country": "AT"},
              "team_id": team1.pk},
    )  # fmt: skip
    assert visible_names(type(sales1).objects.get(pk=sales1.pk)) == ["Wiener"]
    graz = make_contact(
        sales2,
        last_name="Grazer",
        addresses=[{"postal_code": "8010", "city": "Graz", "country": "AT"}],
    )
    assert visible_names(type(sales1).objects.get(pk=sales1.pk)) == ["Grazer", "Wiener"]
    contacts.contact_update(
        actor=sales2, contact_id=vienna.pk,
        data={"addresses": [{"postal_code": "80331", "city": "München", "country": "DE"}]},
    )  # fmt: skip
    assert visible_names(type(sales1).objects.get(pk=sales1.pk)) == ["Grazer"]
    with pytest.raises(ValidationFailed):
        sharing.share_delete(actor=sales2, share_id=RecordShare.objects.get(object_id=graz.pk).pk)
    sharing.rule_delete(actor=admin, rule_id=rule.pk)
    assert visible_names(type(sales1).objects.get(pk=sales1.pk)) == []


def test_rule_validation_and_who_may_manage_rules(admin, sales1, team1):
    with pytest.raises(ValidationFailed) as caught:
        sharing.rule_create(
            actor=admin,
            data={"entity": "contact", "name": "", "criteria": {"planet": "Mars"}, "team_id": 999},
        )
    assert {"name", "team_id", "criteria.planet"} <= set(caught.value.fields)
    with pytest.raises(ValidationFailed) as caught:
        sharing.rule_create(
            actor=admin,
            data={"entity": "contact", "name": "Alles", "criteria": {}, "team_id": team1.pk},
        )
    assert "criteria" in caught.value.fields
    with pytest.raises(Forbidden):
        sharing.rule_create(
            actor=sales1,
            data={
                "entity": "contact",
                "name": "X",
                "criteria": {"country": "AT"},
                "team_id": team1.pk,
            },
        )


def test_a_role_sees_the_records_of_roles_below_it(admin, team1):
    lead = core.role_create(
        actor=admin,
        data={"key": "sales-lead", "name": "Sales lead", "visibility": "subordinates"},
    )
    core.role_update(
        actor=admin, role_id=type(lead).objects.get(key="sales").pk, data={"reports_to_id": lead.pk}
    )
    core.role_update(
        actor=admin,
        role_id=lead.pk,
        data={"permissions": {"contact": ["view", "edit"], "account": ["view"]}},
    )
    boss = make_user("sales-lead")
    seller = make_user("sales")  # in no team of the boss
    make_contact(seller, last_name="Unterstellt")
    make_contact(make_user("service"), last_name="Fremd")
    assert visible_names(boss) == ["Unterstellt"]
