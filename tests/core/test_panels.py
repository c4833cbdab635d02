"""The 360-page panel registry: a later capability adds its panel once and it shows on the
account and contact pages, in order, only where it has something to show."""

from __future__ import annotations

import pytest

from farley.core import panels
from tests.factories import make_account, make_contact

pytestmark = pytest.mark.django_db


@pytest.fixture
def registered():
    keys = []

    def add(panel: panels.Panel) -> panels.Panel:
        keys.append(panel.key)
        return panels.register(panel)

    yield add
    for key in keys:
        panels._registry.pop(key, None)


def test_panels_for_filters_by_entity_and_column_and_sorts_by_order(registered, admin):
    contact = make_contact(admin, first_name="Pia", last_name="Panel")
    registered(panels.Panel("t.late", ("contact",), "x.html", lambda u, r: {"n": 2}, order=20))
    registered(panels.Panel("t.early", ("contact",), "x.html", lambda u, r: {"n": 1}, order=5))
    registered(panels.Panel("t.side", ("contact",), "x.html", lambda u, r: {}, column="side"))
    registered(panels.Panel("t.account", ("account",), "x.html", lambda u, r: {}))
    registered(panels.Panel("t.nothing", ("contact",), "x.html", lambda u, r: None))
    main = [p.key for p in panels.panels_for("contact", admin, contact, "main")]
    assert [k for k in main if k.startswith("t.")] == ["t.early", "t.late"]
    side = [p.key for p in panels.panels_for("contact", admin, contact, "side")]
    assert [k for k in side if k.startswith("t.")] == ["t.side"]


def test_a_registered_panel_shows_on_the_record_page_with_its_context(registered, client, admin):
    contact = make_contact(admin, first_name="Olga", last_name="Order")
    registered(
        panels.Panel(
            "t.orders",
            ("contact",),
            "contacts/panels/account_people.html",  # any template that renders panel.*
            lambda user, record: {"contacts": [], "children": []},
        )
    )
    client.force_login(admin)
    page = client.get(f"/contacts/{contact.pk}/").content.decode()
    assert 'id="panel-account-people"' in page


def test_the_account_page_lists_its_contacts_through_its_panel(client, admin):
    account = make_account(admin, name="Panel AG")
    make_contact(
        admin, first_name="Karl", last_name="Kontakt", account_links=[{"account_id": account.pk}]
    )
    client.force_login(admin)
    page = client.get(f"/accounts/{account.pk}/").content.decode()
    assert 'id="panel-account-people"' in page
    assert "Karl Kontakt" in page
