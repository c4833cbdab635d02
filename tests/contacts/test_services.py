"""Writes to accounts, contacts, relationships and timelines, as a CRM user meets them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from farley.contacts import selectors
from farley.contacts import services as s
from farley.contacts.models import (
    Account,
    Contact,
    ContactAccountLink,
    EmailAddress,
    PhoneNumber,
    PostalAddress,
    Relationship,
    TimelineEntry,
)
from farley.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from farley.core.history import history_for
from farley.core.models import ChangeRecord, SearchDocument, Tag
from farley.core.search import search
from tests.factories import log_interaction, make_account, make_contact, make_user, relate

pytestmark = pytest.mark.django_db


def table_sizes() -> dict[str, int]:
    """Row counts of everything a customer write touches, to prove a failed write wrote nothing."""
    models = [
        Account,
        Contact,
        EmailAddress,
        PhoneNumber,
        PostalAddress,
        ContactAccountLink,
        Relationship,
        TimelineEntry,
        ChangeRecord,
        SearchDocument,
        Tag,
    ]
    return {m.__name__: m.objects.count() for m in models}


def changes(entity: str, record) -> list[tuple[str, dict]]:
    """(action, changes) of a record's history, oldest first."""
    return [(c.action, c.changes) for c in reversed(history_for(entity, record.pk))]


# --- accounts: create -----------------------------------------------------------------------


def test_create_account_with_everything(sales1, team1, berlin, admin):
    from farley.core.services import custom_field_create

    custom_field_create(
        actor=admin,
        data={"entity": "account", "key": "rating", "label": "Rating", "field_type": "integer"},
    )
    account = make_account(
        sales1,
        name=" Müller & Søn GmbH ",
        legal_form="GmbH",
        industry_code="62.01",
        industry_label="Programmierung",
        employees="250",
        annual_revenue="1250000.5",
        website="mueller-soen.de",
        vat_id="DE 136 695 976",
        status="customer",
        emails=[
            {"address": "Info@Mueller-Soen.de"},
            {"address": "rechnung@mueller-soen.de", "kind": "other"},
        ],
        phones=[{"number": "030 1234567"}, {"number": "0171 1234567", "kind": "mobile"}],
        addresses=[
            berlin,
            {
                "kind": "billing",
                "street": "Postfach 12",
                "postal_code": "80331",
                "city": "München",
                "country": "de",
            },
        ],
        tags=["VIP", "Berlin", "vip"],
        custom={"rating": "5"},
        description="Seit 1999 😀",
    )
    account = selectors.account_detail(sales1, account.pk)
    assert account.name == "Müller & Søn GmbH"
    assert account.customer_number == "K000001"
    assert (account.employees, account.annual_revenue) == (250, Decimal("1250000.50"))
    assert (account.website, account.vat_id, account.status) == (
        "https://mueller-soen.de",
        "DE136695976",
        "customer",
    )
    assert (account.owner, account.team, account.version) == (sales1, team1, 1)
    assert [(e.address, e.kind) for e in account.emails.all()] == [
        ("info@mueller-soen.de", "work"),
        ("rechnung@mueller-soen.de", "other"),
    ]
    assert [(p.number, p.kind) for p in account.phones.all()] == [
        ("+49301234567", "work"),
        ("+491711234567", "mobile"),
    ]
    assert [(a.postal_code, a.city, a.country, a.kind) for a in account.addresses.all()] == [
        ("10117", "Berlin", "DE", "business"),
        ("80331", "München", "DE", "billing"),
    ]
    assert sorted(t.name for t in account.tags.all()) == ["Berlin", "VIP"]
    assert account.custom == {"rating": 5}
    assert account.description == "Seit 1999 😀"
    # The first email, phone and address are copied for fast lists.
    assert (
        account.primary_email,
        account.primary_phone,
        account.postal_code,
        account.city,
        account.country,
    ) == ("info@mueller-soen.de", "+49301234567", "10117", "Berlin", "DE")


def test_customer_numbers_count_up_without_gaps_even_after_bad_input(sales1):
    assert make_account(sales1).customer_number == "K000001"
    with pytest.raises(ValidationFailed):
        make_account(sales1, name="")
    assert make_account(sales1).customer_number == "K000002"


def test_create_records_history_with_new_values(sales1):
    account = make_account(
        sales1, name="Alpha AG", phones=[{"number": "+49 (30) 123-4567"}], tags=["A"]
    )
    [change] = history_for("account", account.pk)
    assert (change.action, change.actor) == ("create", sales1)
    assert change.changes == {
        "name": [None, "Alpha AG"],
        "customer_number": [None, "K000001"],
        "status": [None, "prospect"],
        "revenue_currency": [None, "EUR"],
        "owner": [None, "Sven Sales"],
        "team": [None, "Vertrieb Nord"],
        "phones": [None, ["+49301234567 (work)"]],
        "tags": [None, ["A"]],
    }


def test_existing_tag_is_reused_whatever_its_case(sales1):
    make_account(sales1, tags=["Messe 2024"])
    account = make_account(sales1, tags="messe 2024, Neu")
    assert sorted(t.name for t in account.tags.all()) == ["Messe 2024", "Neu"]
    assert Tag.objects.count() == 2


def test_unicode_round_trips_exactly(sales1):
    texts = {"name": "Øster 李 Müller 😀 GmbH", "description": "Ünïcödé\nzweite Zeile – „Zitat“"}
    account = make_account(
        sales1, **texts, addresses=[{"city": "Zürich", "postal_code": "8001", "country": "CH"}]
    )
    contact = make_contact(
        sales1,
        first_name="小龙",
        last_name="李",
        academic_title="Dr.",
        account_links=[{"account_id": account.pk, "role": "Geschäftsführer"}],
    )
    account = Account.objects.get(pk=account.pk)
    contact = Contact.objects.get(pk=contact.pk)
    assert (account.name, account.description, account.city) == (*texts.values(), "Zürich")
    assert contact.full_name == "Dr. 小龙 李"
    assert contact.account_links.get().role == "Geschäftsführer"


# --- accounts: bad input --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({"name": ""}, {"name": ["This field is required."]}),
        (
            {"name": "x" * 10_000},
            {"name": ["At most 200 characters are allowed (this has 10000)."]},
        ),
        ({"colour": "blau"}, {"colour": ["Unknown field."]}),
        (
            {"emails": [{"address": "info(at)firma.de"}]},
            {"emails.0.address": ["Enter a valid email address."]},
        ),
        (
            {"emails": [{"address": "a@b.de"}, {"address": "A@B.de"}]},
            {"emails.1.address": ["This email address is listed twice."]},
        ),
        (
            {"phones": [{"number": "12345"}]},
            {"phones.0.number": ["Enter a valid phone number, e.g. +49 30 1234567."]},
        ),
        (
            {"phones": [{"number": "030 1234567"}, {"number": "+49 (30) 123-4567"}]},
            {"phones.1.number": ["This phone number is listed twice."]},
        ),
        (
            {"addresses": [{"city": "Berlin", "postal_code": "1011"}]},
            {"addresses.0.postal_code": ["A German postal code has exactly 5 digits."]},
        ),
        (
            {"addresses": [{"city": "Berlin"}, {"postal_code": "101170"}]},
            {"addresses.1.postal_code": ["A German postal code has exactly 5 digits."]},
        ),
        (
            {"addresses": [{"country": "AT", "postal_code": "10117", "city": "Wien"}]},
            {"addresses.0.postal_code": ["Enter a valid postal code for this country."]},
        ),
        (
            {"addresses": [{"country": "ZZ", "city": "Nirgendwo"}]},
            {"addresses.0.country": ["Enter a two-letter ISO 3166 country code, e.g. DE."]},
        ),
        (
            {"addresses": [{"kind": "business"}]},
            {"addresses.0.city": ["Enter at least a street, postal code or city."]},
        ),
        ({"vat_id": "DE123"}, {"vat_id": ["This VAT ID is not valid."]}),
        (
            {"vat_id": "123456789"},
            {"vat_id": ["Enter a VAT ID with its country prefix, e.g. DE123456789."]},
        ),
        (
            {"website": "javascript:alert(1)"},
            {"website": ["Enter a valid web address (http or https)."]},
        ),
        ({"employees": -1}, {"employees": ["Enter a number of at least 0."]}),
        ({"annual_revenue": "viel"}, {"annual_revenue": ["Enter a number, e.g. 1234.50."]}),
        ({"annual_revenue": "1e30"}, {"annual_revenue": ["This number is too large."]}),
        (
            {"revenue_currency": "EURO"},
            {
                "revenue_currency": [
                    "At most 3 characters are allowed (this has 4).",
                    "Enter a three-letter currency code, e.g. EUR.",
                ]
            },
        ),
        ({"industry_code": "Bäcker"}, {"industry_code": ["Enter a NACE/WZ code such as 62.01."]}),
        ({"status": "boss"}, {"status": ["Select a valid choice."]}),
        ({"tags": 5}, {"tags": ["Enter a list of tags."]}),
        ({"emails": "a@b.de"}, {"emails": ["Enter a list of objects."]}),
        (
            {"emails": [{"address": f"a{i}@b.de"} for i in range(51)]},
            {"emails": ["At most 50 entries are allowed."]},
        ),
        ({"parent_id": 99999999}, {"parent_id": ["Select an account you can see."]}),
        ({"parent_id": "eins"}, {"parent_id": ["Enter a whole number."]}),
        ({"custom": {"nope": 1}}, {"custom.nope": ["There is no custom field with this key."]}),
    ],
)
def test_bad_account_input_names_the_field_and_writes_nothing(sales1, data, errors):
    data = {"name": "Gültig GmbH", **data}
    before = table_sizes()
    with pytest.raises(ValidationFailed) as exc:
        s.account_create(actor=sales1, data=data)
    assert exc.value.fields == errors
    assert table_sizes() == before


def test_all_field_errors_come_at_once(sales1):
    with pytest.raises(ValidationFailed) as exc:
        s.account_create(
            actor=sales1, data={"name": "", "vat_id": "DE123", "emails": [{"address": "x"}]}
        )
    assert sorted(exc.value.fields) == ["emails.0.address", "name", "vat_id"]


def test_parent_must_be_an_account_the_user_can_see(sales1, sales2):
    hidden = make_account(sales2, name="Süd Holding")
    before = table_sizes()
    with pytest.raises(ValidationFailed) as exc:
        make_account(sales1, name="Tochter", parent_id=hidden.pk)
    assert exc.value.fields == {"parent_id": ["Select an account you can see."]}
    assert table_sizes() == before


def test_parent_and_children(sales1):
    parent = make_account(sales1, name="Holding")
    child = make_account(sales1, name="Tochter", parent_id=parent.pk)
    assert child.parent == parent
    assert selectors.child_accounts(sales1, parent) == [child]


def test_account_cannot_become_its_own_ancestor(sales1):
    top = make_account(sales1, name="Oben")
    middle = make_account(sales1, name="Mitte", parent_id=top.pk)
    for candidate in (top, middle):
        with pytest.raises(ValidationFailed) as exc:
            s.account_update(actor=sales1, account_id=top.pk, data={"parent_id": candidate.pk})
        assert exc.value.fields == {"parent_id": ["An account cannot be its own parent."]}
    assert Account.objects.get(pk=top.pk).parent is None


def test_not_a_dict_is_rejected(sales1):
    with pytest.raises(ValidationFailed) as exc:
        s.account_create(actor=sales1, data=["name", "x"])
    assert exc.value.fields == {"": ["Expected an object."]}


# --- accounts: update, conflict, delete, restore --------------------------------------------


def test_update_keeps_old_and_new_values_in_history(sales1, berlin):
    account = make_account(
        sales1, name="Alt GmbH", addresses=[berlin], emails=[{"address": "alt@firma.de"}]
    )
    updated = s.account_update(
        actor=sales1,
        account_id=account.pk,
        version=1,
        data={
            "name": "Neu GmbH",
            "employees": 12,
            "emails": [{"address": "neu@firma.de"}],
        },
    )
    assert (updated.name, updated.employees, updated.primary_email, updated.version) == (
        "Neu GmbH",
        12,
        "neu@firma.de",
        2,
    )
    assert Account.objects.get(pk=account.pk).version == 2
    action, diff = changes("account", account)[-1]
    assert action == "update"
    assert diff == {
        "name": ["Alt GmbH", "Neu GmbH"],
        "employees": [None, 12],
        "emails": [["alt@firma.de (work)"], ["neu@firma.de (work)"]],
    }
    # Fields that were not sent are untouched.
    assert Account.objects.get(pk=account.pk).city == "Berlin"


def test_update_without_a_change_is_not_a_new_version(sales1):
    account = make_account(sales1, name="Gleich GmbH")
    s.account_update(actor=sales1, account_id=account.pk, data={"name": "  Gleich GmbH "})
    assert Account.objects.get(pk=account.pk).version == 1
    assert [a for a, _c in changes("account", account)] == ["create"]


def test_stale_version_is_a_conflict_and_changes_nothing(sales1):
    account = make_account(sales1, name="Erst")
    s.account_update(actor=sales1, account_id=account.pk, data={"name": "Zweit"}, version=1)
    before = table_sizes()
    with pytest.raises(Conflict) as exc:
        s.account_update(
            actor=sales1, account_id=account.pk, data={"name": "Dritt", "employees": 3}, version=1
        )
    assert exc.value.current_version == 2
    assert table_sizes() == before
    account = Account.objects.get(pk=account.pk)
    assert (account.name, account.employees, account.version) == ("Zweit", None, 2)


def test_version_may_come_inside_the_data(sales1):
    account = make_account(sales1)
    with pytest.raises(Conflict):
        s.account_update(actor=sales1, account_id=account.pk, data={"name": "x", "version": 7})
    updated = s.account_update(
        actor=sales1, account_id=account.pk, data={"name": "x", "version": "1"}
    )
    assert updated.version == 2


def test_version_that_is_not_a_number(sales1):
    account = make_account(sales1)
    with pytest.raises(ValidationFailed) as exc:
        s.account_update(actor=sales1, account_id=account.pk, data={"name": "x"}, version="neu")
    assert exc.value.fields == {"version": ["Enter a whole number."]}


def test_bad_update_changes_nothing(sales1):
    account = make_account(sales1, name="Fest GmbH", vat_id="DE136695976")
    before = table_sizes()
    with pytest.raises(ValidationFailed) as exc:
        s.account_update(
            actor=sales1, account_id=account.pk, data={"name": "Neu", "vat_id": "DE123"}
        )
    assert exc.value.fields == {"vat_id": ["This VAT ID is not valid."]}
    assert table_sizes() == before
    account = Account.objects.get(pk=account.pk)
    assert (account.name, account.vat_id, account.version) == ("Fest GmbH", "DE136695976", 1)


def test_delete_moves_to_trash_and_restore_brings_back(sales1):
    account = make_account(sales1, name="Papierkorb AG")
    deleted = s.account_delete(actor=sales1, account_id=account.pk)
    assert (deleted.deleted_by, deleted.version) == (sales1, 2)
    assert deleted.deleted_at is not None
    assert not selectors.accounts_visible_to(sales1).filter(pk=account.pk).exists()
    with pytest.raises(NotFound):
        selectors.account_detail(sales1, account.pk)
    assert selectors.trash(sales1) == [deleted]
    # A record in the trash cannot be changed or deleted again.
    with pytest.raises(NotFound):
        s.account_update(actor=sales1, account_id=account.pk, data={"name": "x"})
    with pytest.raises(NotFound):
        s.account_delete(actor=sales1, account_id=account.pk)

    restored = s.account_restore(actor=sales1, account_id=account.pk)
    assert (restored.deleted_at, restored.deleted_by, restored.version) == (None, None, 3)
    assert selectors.account_detail(sales1, account.pk).name == "Papierkorb AG"
    assert selectors.trash(sales1) == []
    assert [a for a, _c in changes("account", account)] == ["create", "delete", "restore"]
    with pytest.raises(NotFound):
        s.account_restore(actor=sales1, account_id=account.pk)


def test_read_only_role_cannot_write(reader, sales1):
    account = make_account(sales1)
    contact = make_contact(sales1)
    before = table_sizes()
    attempts = [
        lambda: s.account_create(actor=reader, data={"name": "x"}),
        lambda: s.account_update(actor=reader, account_id=account.pk, data={"name": "x"}),
        lambda: s.account_delete(actor=reader, account_id=account.pk),
        lambda: s.account_restore(actor=reader, account_id=account.pk),
        lambda: s.contact_create(actor=reader, data={"last_name": "x"}),
        lambda: s.contact_update(actor=reader, contact_id=contact.pk, data={"last_name": "x"}),
        lambda: s.contact_delete(actor=reader, contact_id=contact.pk),
        lambda: s.contact_restore(actor=reader, contact_id=contact.pk),
        lambda: relate(reader, contact, account),
        lambda: s.timeline_entry_create(
            actor=reader, data={"subject": "x", "contact_id": contact.pk}
        ),
    ]
    for attempt in attempts:
        with pytest.raises(Forbidden) as exc:
            attempt()
        assert exc.value.status == 403
    assert table_sizes() == before


def test_read_only_role_still_reads(reader, sales2):
    contact = make_contact(sales2, last_name="Sichtbar")
    assert selectors.contact_detail(reader, contact.pk).last_name == "Sichtbar"


def test_sales_user_cannot_change_a_record_of_another_team(sales1, sales2):
    account = make_account(sales2, name="Süd GmbH")
    contact = make_contact(sales2, last_name="Süd")
    with pytest.raises(NotFound):
        s.account_update(actor=sales1, account_id=account.pk, data={"name": "Meins"})
    with pytest.raises(NotFound):
        s.account_delete(actor=sales1, account_id=account.pk)
    with pytest.raises(NotFound):
        s.contact_update(actor=sales1, contact_id=contact.pk, data={"last_name": "Meins"})
    with pytest.raises(NotFound):
        s.contact_delete(actor=sales1, contact_id=contact.pk)
    assert Account.objects.get(pk=account.pk).name == "Süd GmbH"
    assert Contact.objects.get(pk=contact.pk).deleted_at is None


def test_team_mate_may_change_a_team_record(sales1, team1):
    colleague = make_user("sales", team1)
    account = make_account(sales1, name="Gemeinsam")
    s.account_update(actor=colleague, account_id=account.pk, data={"name": "Gemeinsam AG"})
    assert Account.objects.get(pk=account.pk).name == "Gemeinsam AG"
    assert history_for("account", account.pk).first().actor == colleague


def test_administrator_changes_any_record(admin, sales2):
    account = make_account(sales2, name="Süd GmbH", team_id=None)
    s.account_update(actor=admin, account_id=account.pk, data={"name": "Süd AG"})
    assert Account.objects.get(pk=account.pk).name == "Süd AG"


# --- owner and team -------------------------------------------------------------------------


def test_sales_user_may_not_assign_records_to_others(sales1, sales2, team2):
    with pytest.raises(ValidationFailed) as exc:
        make_account(sales1, owner_id=sales2.pk, team_id=team2.pk)
    assert exc.value.fields == {
        "owner_id": ["Only managers and administrators may assign records to others."],
        "team_id": ["Select one of your teams."],
    }


def test_manager_assigns_owner_and_team(manager, sales2, team2):
    account = make_account(manager, owner_id=sales2.pk, team_id=team2.pk)
    assert (account.owner, account.team) == (sales2, team2)


def test_owner_must_be_an_active_user(manager):
    gone = make_user("sales", is_active=False)
    with pytest.raises(ValidationFailed) as exc:
        make_account(manager, owner_id=gone.pk)
    assert exc.value.fields == {"owner_id": ["Select an active user."]}


def test_record_without_team_is_private(sales1, team1):
    account = make_account(sales1, team_id=None)
    assert account.team is None
    colleague = make_user("sales", team1)
    assert not selectors.accounts_visible_to(colleague).filter(pk=account.pk).exists()


# --- contacts -------------------------------------------------------------------------------


def test_create_contact_with_everything(sales1, team1):
    account = make_account(sales1, name="Arbeitgeber GmbH")
    other = make_account(sales1, name="Verein e.V.")
    contact = make_contact(
        sales1,
        salutation="ms",
        academic_title="Dr.",
        first_name="Erika",
        last_name="Mustermann",
        job_title="Einkauf",
        department="Zentral",
        language="DE",
        birthday="17.05.1980",
        preferred_channel="email",
        emails=[{"address": "Erika@Example.com"}],
        phones=[{"number": "030 1234567"}, {"number": "+49 (171) 123-4567", "kind": "mobile"}],
        addresses=[
            {"street": "Hauptstr.", "house_number": "5a", "postal_code": "01067", "city": "Dresden"}
        ],
        account_links=[{"account_id": account.pk, "role": "Leitung"}, {"account_id": other.pk}],
        tags=["Newsletter"],
    )
    contact = selectors.contact_detail(sales1, contact.pk)
    assert contact.full_name == "Dr. Erika Mustermann"
    assert (contact.salutation, contact.language, contact.birthday) == (
        "ms",
        "de",
        dt.date(1980, 5, 17),
    )
    assert (contact.primary_email, contact.primary_phone) == ("erika@example.com", "+49301234567")
    assert [p.number for p in contact.phones.all()] == ["+49301234567", "+491711234567"]
    assert (contact.postal_code, contact.city, contact.country) == ("01067", "Dresden", "DE")
    assert contact.primary_account == account
    assert [(link.account.name, link.role) for link in contact.account_links.all()] == [
        ("Arbeitgeber GmbH", "Leitung"),
        ("Verein e.V.", ""),
    ]
    assert (contact.owner, contact.team, contact.version) == (sales1, team1, 1)
    assert changes("contact", contact)[0][1]["account_links"] == [
        None,
        ["Arbeitgeber GmbH (Leitung)", "Verein e.V."],
    ]
    assert [link.contact for link in selectors.account_contacts(sales1, account)] == [contact]


def test_contact_phone_without_country_code_uses_the_address_country(sales1):
    contact = make_contact(
        sales1,
        addresses=[{"city": "Paris", "postal_code": "75001", "country": "FR"}],
        phones=[{"number": "01 23 45 67 89"}],
    )
    assert contact.primary_phone == "+33123456789"


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({"last_name": ""}, {"last_name": ["This field is required."]}),
        ({"last_name": None}, {"last_name": ["This field is required."]}),
        (
            {"last_name": "x" * 10_000},
            {"last_name": ["At most 100 characters are allowed (this has 10000)."]},
        ),
        ({"nickname": "Maxi"}, {"nickname": ["Unknown field."]}),
        ({"birthday": "2023-02-29"}, {"birthday": ["Enter a valid date (YYYY-MM-DD)."]}),
        ({"birthday": "gestern"}, {"birthday": ["Enter a valid date (YYYY-MM-DD)."]}),
        ({"birthday": "2999-01-01"}, {"birthday": ["Enter a valid date (YYYY-MM-DD)."]}),
        (
            {"birthday": (timezone.localdate() + dt.timedelta(days=1)).isoformat()},
            {"birthday": ["A birthday cannot be in the future."]},
        ),
        ({"salutation": "king"}, {"salutation": ["Select a valid choice."]}),
        ({"language": "klingon"}, {"language": ["Select a valid choice."]}),
        ({"preferred_channel": "fax"}, {"preferred_channel": ["Select a valid choice."]}),
        ({"emails": [{"address": "max@"}]}, {"emails.0.address": ["Enter a valid email address."]}),
        (
            {"emails": [{"address": "ok@x.de"}, {"address": "kaputt"}]},
            {"emails.1.address": ["Enter a valid email address."]},
        ),
        (
            {"emails": [{"address": "ok@x.de", "kind": "geheim"}]},
            {"emails.0.kind": ["Select a valid choice."]},
        ),
        (
            {"phones": [{"number": "0"}]},
            {"phones.0.number": ["Enter a valid phone number, e.g. +49 30 1234567."]},
        ),
        ({"phones": [{"number": ""}]}, {"phones.0.number": ["This field is required."]}),
        (
            {"addresses": [{"postal_code": "123456", "city": "Berlin"}]},
            {"addresses.0.postal_code": ["A German postal code has exactly 5 digits."]},
        ),
        (
            {"account_links": [{"account_id": 99999999}]},
            {"account_links.0.account_id": ["Select an account you can see."]},
        ),
        (
            {"account_links": [{"role": "Chef"}]},
            {"account_links.0.account_id": ["Select an account."]},
        ),
    ],
)
def test_bad_contact_input_names_the_field_and_writes_nothing(sales1, data, errors):
    data = {"last_name": "Gültig", **data}
    before = table_sizes()
    with pytest.raises(ValidationFailed) as exc:
        s.contact_create(actor=sales1, data=data)
    assert exc.value.fields == errors
    assert table_sizes() == before


def test_contact_cannot_be_linked_to_an_invisible_account(sales1, sales2):
    hidden = make_account(sales2, name="Süd Geheim GmbH", team_id=None)
    mine = make_account(sales1, name="Nord GmbH")
    before = table_sizes()
    with pytest.raises(ValidationFailed) as exc:
        make_contact(sales1, account_links=[{"account_id": mine.pk}, {"account_id": hidden.pk}])
    assert exc.value.fields == {"account_links.1.account_id": ["Select an account you can see."]}
    assert table_sizes() == before


def test_contact_linked_to_the_same_account_twice(sales1):
    account = make_account(sales1)
    with pytest.raises(ValidationFailed) as exc:
        make_contact(sales1, account_links=[{"account_id": account.pk}, {"account_id": account.pk}])
    assert exc.value.fields == {"account_links.1.account_id": ["This account is linked twice."]}


def test_contact_update_history_and_version(sales1):
    first = make_account(sales1, name="Erste GmbH")
    second = make_account(sales1, name="Zweite GmbH")
    contact = make_contact(
        sales1,
        first_name="Max",
        last_name="Muster",
        phones=[{"number": "030 1234567"}],
        account_links=[{"account_id": first.pk}],
    )
    updated = s.contact_update(
        actor=sales1,
        contact_id=contact.pk,
        version=1,
        data={
            "first_name": "Moritz",
            "phones": [{"number": "+49 (30) 765-4321"}],
            "account_links": [{"account_id": second.pk, "role": "Beirat"}],
            "tags": ["Neu"],
        },
    )
    assert (
        updated.first_name,
        updated.primary_phone,
        updated.primary_account,
        updated.version,
    ) == ("Moritz", "+49307654321", second, 2)
    action, diff = changes("contact", contact)[-1]
    assert action == "update"
    assert diff == {
        "first_name": ["Max", "Moritz"],
        "phones": [["+49301234567 (work)"], ["+49307654321 (work)"]],
        "account_links": [["Erste GmbH"], ["Zweite GmbH (Beirat)"]],
        "tags": [[], ["Neu"]],
    }
    assert history_for("contact", contact.pk).first().actor == sales1


def test_contact_stale_version_is_a_conflict_and_changes_nothing(sales1):
    contact = make_contact(sales1, last_name="Eins")
    s.contact_update(actor=sales1, contact_id=contact.pk, data={"last_name": "Zwei"})
    before = table_sizes()
    with pytest.raises(Conflict) as exc:
        s.contact_update(actor=sales1, contact_id=contact.pk, data={"last_name": "Drei"}, version=1)
    assert exc.value.current_version == 2
    assert table_sizes() == before
    assert Contact.objects.get(pk=contact.pk).last_name == "Zwei"


def test_removing_all_emails_clears_the_primary_email(sales1):
    contact = make_contact(sales1, emails=[{"address": "weg@x.de"}])
    s.contact_update(actor=sales1, contact_id=contact.pk, data={"emails": []})
    contact = Contact.objects.get(pk=contact.pk)
    assert (contact.primary_email, contact.emails.count()) == ("", 0)


def test_contact_delete_and_restore(sales1):
    contact = make_contact(sales1, last_name="Weg")
    s.contact_delete(actor=sales1, contact_id=contact.pk)
    with pytest.raises(NotFound):
        selectors.contact_detail(sales1, contact.pk)
    assert selectors.contact_detail(sales1, contact.pk, include_deleted=True).is_deleted
    s.contact_restore(actor=sales1, contact_id=contact.pk)
    assert selectors.contact_detail(sales1, contact.pk).version == 3
    assert [a for a, _c in changes("contact", contact)] == ["create", "delete", "restore"]


def test_other_team_cannot_restore_from_the_trash(sales1, sales2):
    contact = make_contact(sales2, last_name="Weg")
    s.contact_delete(actor=sales2, contact_id=contact.pk)
    with pytest.raises(NotFound):
        s.contact_restore(actor=sales1, contact_id=contact.pk)
    assert selectors.trash(sales1) == []


# --- relationships --------------------------------------------------------------------------


def test_relationship_shows_in_both_records_history_and_both_views(sales1):
    boss = make_contact(sales1, first_name="Berta", last_name="Boss")
    clerk = make_contact(sales1, first_name="Karl", last_name="Klein")
    relationship = relate(sales1, clerk, boss, "reports_to")
    assert changes("contact", clerk)[-1] == (
        "update",
        {"relationships": [None, "reports to: Berta Boss"]},
    )
    assert changes("contact", boss)[-1] == (
        "update",
        {"relationships": [None, "has report: Karl Klein"]},
    )
    assert [(label, other) for label, other, _r in selectors.relationships_of(sales1, clerk)] == [
        ("reports to", boss)
    ]
    assert [(label, other) for label, other, _r in selectors.relationships_of(sales1, boss)] == [
        ("has report", clerk)
    ]

    s.relationship_delete(actor=sales1, relationship_id=relationship.pk)
    assert not Relationship.objects.exists()
    assert changes("contact", clerk)[-1] == (
        "update",
        {"relationships": ["reports to: Berta Boss", None]},
    )
    assert changes("contact", boss)[-1] == (
        "update",
        {"relationships": ["has report: Karl Klein", None]},
    )
    assert selectors.relationships_of(sales1, clerk) == []


def test_relationship_between_account_and_contact(sales1):
    supplier = make_account(sales1, name="Zulieferer GmbH")
    buyer = make_contact(sales1, last_name="Käufer")
    relate(sales1, supplier, buyer, "supplier_of")
    assert changes("account", supplier)[-1][1] == {"relationships": [None, "supplier of: Käufer"]}
    assert changes("contact", buyer)[-1][1] == {
        "relationships": [None, "customer of: Zulieferer GmbH"]
    }


def test_relationship_labels_in_german(sales1):
    from django.utils import translation

    boss = make_contact(sales1, last_name="Boss")
    clerk = make_contact(sales1, last_name="Klein")
    relate(sales1, clerk, boss, "reports_to")
    with translation.override("de"):
        assert [label for label, _o, _r in selectors.relationships_of(sales1, boss)] == [
            "hat Mitarbeiter"
        ]


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({"type": "married_to"}, {"type": ["Select a valid relationship type."]}),
        ({"type": ""}, {"type": ["This field is required."]}),
        ({"from_type": "lead"}, {"from_type": ["Select a valid choice."]}),
        ({"to_id": None}, {"to_id": ["This field is required."]}),
        ({"to_id": 99999999}, {"to_id": ["Select a record you can see."]}),
        ({"weight": 3}, {"weight": ["Unknown field."]}),
    ],
)
def test_bad_relationship_input(sales1, data, errors):
    one = make_contact(sales1)
    two = make_contact(sales1)
    payload = {
        "type": "reports_to",
        "from_type": "contact",
        "from_id": one.pk,
        "to_type": "contact",
        "to_id": two.pk,
        **data,
    }
    before = table_sizes()
    with pytest.raises(ValidationFailed) as exc:
        s.relationship_create(actor=sales1, data=payload)
    assert exc.value.fields == errors
    assert table_sizes() == before


def test_record_cannot_be_related_to_itself(sales1):
    one = make_contact(sales1)
    with pytest.raises(ValidationFailed) as exc:
        relate(sales1, one, one)
    assert exc.value.fields == {"to_id": ["A record cannot be related to itself."]}


def test_relationship_to_an_invisible_record_is_refused(sales1, sales2):
    mine = make_contact(sales1)
    hidden = make_contact(sales2, last_name="Geheim")
    with pytest.raises(ValidationFailed) as exc:
        relate(sales1, mine, hidden)
    assert exc.value.fields == {"to_id": ["Select a record you can see."]}
    assert not Relationship.objects.exists()


def test_relationship_with_an_invisible_end_cannot_be_deleted(sales1, admin, sales2):
    mine = make_contact(sales1)
    hidden = make_contact(sales2)
    relationship = relate(admin, mine, hidden)
    with pytest.raises(NotFound):
        s.relationship_delete(actor=sales1, relationship_id=relationship.pk)
    assert Relationship.objects.filter(pk=relationship.pk).exists()


# --- timeline -------------------------------------------------------------------------------


def test_timeline_entry_updates_last_interaction_of_contact_and_account(sales1):
    account = make_account(sales1)
    contact = make_contact(sales1, account_links=[{"account_id": account.pk}])
    assert contact.last_interaction_at is None
    when = timezone.now().replace(microsecond=0) - dt.timedelta(days=2)
    entry = log_interaction(
        sales1,
        kind="call",
        direction="out",
        subject="Angebot besprochen",
        contact_id=contact.pk,
        occurred_at=when.isoformat(),
    )
    assert (entry.account, entry.contact, entry.author) == (account, contact, sales1)
    assert Contact.objects.get(pk=contact.pk).last_interaction_at == when
    assert Account.objects.get(pk=account.pk).last_interaction_at == when


def test_latest_interaction_wins_and_deleting_it_falls_back(sales1):
    contact = make_contact(sales1)
    now = timezone.now().replace(microsecond=0)
    older = now - dt.timedelta(days=10)
    log_interaction(sales1, contact_id=contact.pk, occurred_at=older.isoformat())
    newest = log_interaction(sales1, contact_id=contact.pk, occurred_at=now.isoformat())
    log_interaction(
        sales1, contact_id=contact.pk, occurred_at=(now - dt.timedelta(days=5)).isoformat()
    )
    assert Contact.objects.get(pk=contact.pk).last_interaction_at == now
    s.timeline_entry_delete(actor=sales1, entry_id=newest.pk)
    assert Contact.objects.get(pk=contact.pk).last_interaction_at == now - dt.timedelta(days=5)


def test_a_planned_entry_in_the_future_is_not_the_last_interaction(sales1):
    contact = make_contact(sales1)
    past = timezone.now().replace(microsecond=0) - dt.timedelta(days=1)
    log_interaction(sales1, contact_id=contact.pk, occurred_at=past.isoformat())
    future = timezone.now() + dt.timedelta(days=7)
    log_interaction(
        sales1,
        contact_id=contact.pk,
        kind="meeting",
        subject="Termin",
        occurred_at=future.isoformat(),
    )
    assert Contact.objects.get(pk=contact.pk).last_interaction_at == past


def test_deleting_the_only_entry_clears_last_interaction(sales1):
    contact = make_contact(sales1)
    entry = log_interaction(sales1, contact_id=contact.pk)
    s.timeline_entry_delete(actor=sales1, entry_id=entry.pk)
    assert Contact.objects.get(pk=contact.pk).last_interaction_at is None
    assert selectors.timeline_of(sales1, contact) == []


def test_correcting_an_entry_moves_last_interaction_and_keeps_history(sales1):
    contact = make_contact(sales1)
    entry = log_interaction(sales1, contact_id=contact.pk, subject="Anruf")
    earlier = timezone.now().replace(microsecond=0) - dt.timedelta(days=3)
    updated = s.timeline_entry_update(
        actor=sales1,
        entry_id=entry.pk,
        version=1,
        data={"subject": "Rückruf", "occurred_at": earlier.isoformat()},
    )
    assert (updated.subject, updated.version) == ("Rückruf", 2)
    assert Contact.objects.get(pk=contact.pk).last_interaction_at == earlier
    [change] = history_for("timeline_entry", entry.pk)
    assert change.changes["subject"] == ["Anruf", "Rückruf"]
    with pytest.raises(Conflict):
        s.timeline_entry_update(actor=sales1, entry_id=entry.pk, version=1, data={"subject": "x"})


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({"subject": ""}, {"subject": ["This field is required."]}),
        ({"kind": "fax"}, {"kind": ["Select a valid choice."]}),
        ({"direction": "up"}, {"direction": ["Select a valid choice."]}),
        ({"occurred_at": "gestern"}, {"occurred_at": ["Enter a valid date and time."]}),
        ({"contact_id": None}, {"contact_id": ["Link the entry to an account or a contact."]}),
        ({"contact_id": 99999999}, {"contact_id": ["Select a record you can see."]}),
        ({"mood": "gut"}, {"mood": ["Unknown field."]}),
    ],
)
def test_bad_timeline_input(sales1, data, errors):
    contact = make_contact(sales1)
    before = table_sizes()
    with pytest.raises(ValidationFailed) as exc:
        s.timeline_entry_create(
            actor=sales1, data={"subject": "Anruf", "contact_id": contact.pk, **data}
        )
    assert exc.value.fields == errors
    assert table_sizes() == before
    assert Contact.objects.get(pk=contact.pk).last_interaction_at is None


def test_cannot_log_on_an_invisible_record(sales1, sales2):
    hidden = make_contact(sales2)
    with pytest.raises(ValidationFailed) as exc:
        log_interaction(sales1, contact_id=hidden.pk)
    assert exc.value.fields == {"contact_id": ["Select a record you can see."]}
    assert Contact.objects.get(pk=hidden.pk).last_interaction_at is None


def test_moving_an_entry_to_another_contact(sales1):
    wrong = make_contact(sales1, last_name="Falsch")
    right = make_contact(sales1, last_name="Richtig")
    entry = log_interaction(sales1, contact_id=wrong.pk, subject="Anruf")
    s.timeline_entry_update(actor=sales1, entry_id=entry.pk, data={"contact_id": right.pk})
    assert TimelineEntry.objects.get(pk=entry.pk).contact_id == right.pk
    assert [e.subject for e in selectors.timeline_of(sales1, right)] == ["Anruf"]
    assert selectors.timeline_of(sales1, wrong) == []
    assert Contact.objects.get(pk=wrong.pk).last_interaction_at is None
    assert Contact.objects.get(pk=right.pk).last_interaction_at == entry.occurred_at


def test_unknown_keys_in_nested_items_are_field_errors(sales1):
    before = table_sizes()
    with pytest.raises(ValidationFailed) as exc:
        make_contact(
            sales1,
            emails=[{"address": "a@b.de", "label": "privat"}],
            phones=[{"number": "030 1234567", "ext": "12"}],
            addresses=[{"city": "Berlin", "zip": "10117"}],
        )
    assert exc.value.fields == {
        "emails.0.label": ["Unknown field."],
        "phones.0.ext": ["Unknown field."],
        "addresses.0.zip": ["Unknown field."],
    }
    assert table_sizes() == before


# --- accounts in the trash and their contacts -----------------------------------------------


def test_a_trashed_account_is_no_longer_a_contacts_primary_account(sales1):
    first = make_account(sales1, name="Erste Wahl GmbH")
    second = make_account(sales1, name="Zweite Wahl AG")
    contact = make_contact(
        sales1, account_links=[{"account_id": first.pk}, {"account_id": second.pk}]
    )
    s.account_delete(actor=sales1, account_id=first.pk)
    assert Contact.objects.get(pk=contact.pk).primary_account == second
    assert [h.title for h in search(sales1, "Erste Wahl", entities=["contact"])] == []
    shown = selectors.contact_detail(sales1, contact.pk)
    assert [link.account for link in shown.account_links.all()] == [second]

    s.account_restore(actor=sales1, account_id=first.pk)
    assert Contact.objects.get(pk=contact.pk).primary_account == first
    assert [h.title for h in search(sales1, "Erste Wahl", entities=["contact"])] == [
        contact.full_name
    ]


def test_editing_a_contact_keeps_the_link_to_a_trashed_account_for_its_restore(sales1):
    trashed = make_account(sales1, name="Papierkorb KG")
    kept = make_account(sales1, name="Bleibt GmbH")
    contact = make_contact(sales1, account_links=[{"account_id": trashed.pk}])
    s.account_delete(actor=sales1, account_id=trashed.pk)
    assert Contact.objects.get(pk=contact.pk).primary_account is None
    s.contact_update(
        actor=sales1, contact_id=contact.pk, data={"account_links": [{"account_id": kept.pk}]}
    )
    s.account_restore(actor=sales1, account_id=trashed.pk)
    links = ContactAccountLink.objects.filter(contact=contact).order_by("position")
    assert [link.account for link in links] == [kept, trashed]
    assert Contact.objects.get(pk=contact.pk).primary_account == kept


# --- relationship types ---------------------------------------------------------------------


def test_administrators_add_rename_and_delete_relationship_types(admin, sales1):
    rel_type = s.relationship_type_create(
        actor=admin,
        data={"key": "auditor_of", "label": "auditor of", "label_de": "Prüfer von",
              "inverse_label": "audited by", "inverse_label_de": "geprüft von"},
    )  # fmt: skip
    a = make_account(sales1, name="Prüf AG")
    b = make_account(sales1, name="Geprüft GmbH")
    rel = s.relationship_create(
        actor=sales1,
        data={"type": "auditor_of", "from_type": "account", "from_id": a.pk,
              "to_type": "account", "to_id": b.pk},
    )  # fmt: skip
    s.relationship_type_update(
        actor=admin, type_id=rel_type.pk, data={"label": "statutory auditor of"}
    )
    with pytest.raises(ValidationFailed):
        s.relationship_type_delete(actor=admin, type_id=rel_type.pk)  # still in use
    s.relationship_delete(actor=sales1, relationship_id=rel.pk)
    s.relationship_type_delete(actor=admin, type_id=rel_type.pk)
    with pytest.raises(Forbidden):
        s.relationship_type_create(
            actor=sales1, data={"key": "x", "label": "x", "inverse_label": "y"}
        )
    with pytest.raises(ValidationFailed) as caught:
        s.relationship_type_create(actor=admin, data={"key": "Reports To!", "label": ""})
    assert {"key", "label", "inverse_label"} <= set(caught.value.fields)


def test_html_bodies_are_stored_sanitised_and_plain_text_stays_as_typed(admin):
    from farley.contacts.services import timeline_entry_create, timeline_entry_update
    from tests.factories import make_contact

    contact = make_contact(admin, last_name="Mailempfänger")
    html = timeline_entry_create(
        actor=admin,
        data={"contact_id": contact.pk, "kind": "email", "subject": "Angebot",
              "body_format": "html", "body": '<p>Hallo <b>Welt</b></p><script>alert(1)</script>'},
    )  # fmt: skip
    assert html.body == "<p>Hallo <b>Welt</b></p>"
    plain = timeline_entry_create(
        actor=admin, data={"contact_id": contact.pk, "subject": "Notiz", "body": "a < b <b>"}
    )
    assert (plain.body, plain.body_format) == ("a < b <b>", "text")
    switched = timeline_entry_update(
        actor=admin, entry_id=plain.pk, data={"body_format": "html"}, version=plain.version
    )
    assert (switched.body_format, switched.body) == ("html", "a &lt; b &lt;b&gt;")
    with pytest.raises(ValidationFailed) as exc:
        timeline_entry_create(
            actor=admin, data={"contact_id": contact.pk, "subject": "x", "body_format": "rtf"}
        )
    assert "body_format" in exc.value.fields
