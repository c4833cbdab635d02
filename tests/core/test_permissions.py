"""Roles grant actions per entity; the services refuse everything else, and the pages only
offer what the user may do."""

from __future__ import annotations

import io

import pytest

from farley.contacts import services as contacts
from farley.contacts import transfer
from farley.core import permissions
from farley.core import services as core
from farley.core.errors import Conflict, Forbidden, ValidationFailed
from farley.core.models import ChangeRecord, Role
from tests.factories import make_account, make_contact, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def clerk_role(admin):
    """A custom role: sees everything, may view and edit contacts and view accounts."""
    return core.role_create(
        actor=admin,
        data={
            "key": "clerk",
            "name": "Clerk",
            "visibility": "all",
            "permissions": {"contact": ["view", "edit"], "account": ["view"]},
        },
    )


@pytest.fixture
def clerk(clerk_role):
    return make_user("clerk")


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        ("administrator", set(permissions.ACTIONS)),
        ("manager", {"view", "sensitive", "create", "edit", "delete", "export", "import", "merge"}),
        ("sales", {"view", "sensitive", "create", "edit", "delete", "export", "import"}),
        ("marketing", {"view", "create", "edit", "delete", "export", "import"}),
        ("read_only", {"view"}),
    ],
)
def test_built_in_roles_have_sensible_defaults_for_every_entity(role, allowed):
    user = make_user(role)
    assert permissions.actions(user, "contact") == allowed
    assert permissions.actions(user, "account") == allowed


def test_a_new_role_may_do_only_what_it_was_given(clerk):
    assert permissions.actions(clerk, "contact") == {"view", "edit"}
    assert permissions.actions(clerk, "account") == {"view"}


def test_without_view_an_entity_is_invisible_everywhere(admin, client):
    from farley.contacts import selectors
    from farley.core.search import search

    core.role_create(
        actor=admin,
        data={"key": "contacts-only", "name": "Contacts only", "visibility": "all",
              "permissions": {"contact": ["view"]}},
    )  # fmt: skip
    clerk = make_user("contacts-only")
    account = make_account(admin, name="Unsichtbar GmbH")
    assert list(selectors.accounts_visible_to(clerk)) == []
    assert search(clerk, "Unsichtbar") == []
    client.force_login(clerk)
    assert client.get(f"/accounts/{account.pk}/").status_code == 404
    assert client.get("/accounts/").status_code == 403
    assert "/accounts/" not in client.get("/").content.decode()  # no menu entry, no button


def test_inactive_users_may_do_nothing(admin):
    user = make_user("administrator", is_active=False)
    assert permissions.actions(user, "contact") == frozenset()


def test_services_refuse_what_the_role_does_not_allow(admin, clerk):
    contact = make_contact(admin, first_name="Clara", last_name="Klar")
    account = make_account(admin, name="Klar AG")
    with pytest.raises(Forbidden):
        contacts.contact_create(actor=clerk, data={"last_name": "Neu"})
    with pytest.raises(Forbidden):
        contacts.contact_delete(actor=clerk, contact_id=contact.pk)
    with pytest.raises(Forbidden):
        contacts.account_update(actor=clerk, account_id=account.pk, data={"name": "X"})
    with pytest.raises(Forbidden):
        transfer.export_rows("contact", clerk, {})
    with pytest.raises(Forbidden):
        transfer.import_table(
            actor=clerk, entity="contact", table=[["last_name"], ["Neu"]], dry_run=True
        )
    updated = contacts.contact_update(actor=clerk, contact_id=contact.pk, data={"job_title": "CFO"})
    assert updated.job_title == "CFO"


def test_timeline_and_relationships_need_edit_on_their_record(admin, clerk):
    contact = make_contact(admin, last_name="Zeitlos")
    account = make_account(admin, name="Zeitlos GmbH")
    entry = contacts.timeline_entry_create(
        actor=clerk, data={"contact_id": contact.pk, "subject": "Anruf"}
    )
    assert entry.author == clerk
    with pytest.raises(Forbidden):
        contacts.timeline_entry_create(actor=clerk, data={"account_id": account.pk, "subject": "X"})
    with pytest.raises(Forbidden):
        contacts.relationship_create(
            actor=clerk,
            data={"type": "partner_of", "from_type": "account", "from_id": account.pk,
                  "to_type": "contact", "to_id": contact.pk},
        )  # fmt: skip


def test_role_validation(admin, clerk_role):
    with pytest.raises(ValidationFailed) as caught:
        core.role_create(
            actor=admin,
            data={
                "key": "Clerk!",
                "name": "",
                "visibility": "everything",
                "permissions": {"planet": ["view"], "contact": ["fly"]},
                "is_administrator": True,
            },
        )
    assert set(caught.value.fields) == {
        "key",
        "name",
        "visibility",
        "permissions",
        "is_administrator",
    }
    with pytest.raises(ValidationFailed) as caught:
        core.role_create(actor=admin, data={"key": "clerk", "name": "Again"})
    assert "key" in caught.value.fields


def test_the_hierarchy_has_no_cycles(admin, clerk_role):
    boss = core.role_create(actor=admin, data={"key": "boss", "name": "Boss"})
    core.role_update(actor=admin, role_id=clerk_role.pk, data={"reports_to_id": boss.pk})
    with pytest.raises(ValidationFailed) as caught:
        core.role_update(actor=admin, role_id=boss.pk, data={"reports_to_id": clerk_role.pk})
    assert "reports_to_id" in caught.value.fields


def test_role_update_checks_the_version_and_keeps_history(admin, clerk_role):
    core.role_update(
        actor=admin, role_id=clerk_role.pk, data={"name": "Sachbearbeitung"}, version=1
    )
    with pytest.raises(Conflict):
        core.role_update(actor=admin, role_id=clerk_role.pk, data={"name": "X"}, version=1)
    change = ChangeRecord.objects.filter(entity="role", object_id=clerk_role.pk).latest("at")
    assert change.changes["name"] == ["Clerk", "Sachbearbeitung"]


def test_built_in_roles_and_roles_in_use_cannot_be_deleted(admin, clerk):
    with pytest.raises(ValidationFailed):
        core.role_delete(actor=admin, role_id=Role.objects.get(key="sales").pk)
    with pytest.raises(ValidationFailed):
        core.role_delete(actor=admin, role_id=clerk.role.pk)
    empty = core.role_create(actor=admin, data={"key": "empty", "name": "Empty"})
    core.role_delete(actor=admin, role_id=empty.pk)
    assert not Role.objects.filter(pk=empty.pk).exists()


def test_only_administrators_manage_roles(manager):
    with pytest.raises(Forbidden):
        core.role_create(actor=manager, data={"key": "x", "name": "X"})


# --- pages ----------------------------------------------------------------------------------


def test_the_role_page_saves_the_permission_matrix(client, admin, clerk_role):
    client.force_login(admin)
    page = client.get(f"/settings/roles/{clerk_role.pk}/").content.decode()
    assert 'id="perm-contact-edit" checked' in page
    response = client.post(
        f"/settings/roles/{clerk_role.pk}/",
        {
            "name": "Clerk",
            "visibility": "team",
            "perm-contact": ["view", "create"],
            "perm-account": ["view"],
            "version": clerk_role.version,
        },
    )
    assert response.status_code == 302
    clerk_role.refresh_from_db()
    chosen = {k: v for k, v in clerk_role.permissions.items() if v}  # others: none ticked
    assert chosen == {"account": ["view"], "contact": ["view", "create"]}
    assert clerk_role.visibility == "team"


def test_pages_offer_only_what_the_role_allows(client, admin, clerk):
    contact = make_contact(admin, last_name="Sichtbar")
    client.force_login(clerk)
    page = client.get(f"/contacts/{contact.pk}/").content.decode()
    assert f"/contacts/{contact.pk}/edit/" in page
    assert f"/contacts/{contact.pk}/delete/" not in page
    listing = client.get("/contacts/").content.decode()
    assert "/contacts/new/" not in listing
    assert "/contacts/export.csv" not in listing
    assert client.get("/contacts/export.csv").status_code == 403
    assert "/accounts/new/" not in client.get("/").content.decode()
    upload = io.BytesIO(b"last_name\nNeu\n")
    upload.name = "x.csv"
    assert client.post("/contacts/import/", {"file": upload}).status_code == 403
