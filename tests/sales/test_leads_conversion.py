"""Qualification and conversion of leads: duplicate checks (similar company names with legal
forms set aside, same email in any case, same normalised phone), linking or creating accounts
and contacts, the optional opportunity, the lead's history on the new records, and every
refusal (converted twice, disqualified, records one cannot see, duplicates not decided) with
nothing written."""

from __future__ import annotations

from decimal import Decimal

import pytest

from farley.contacts.models import Account, Contact, TimelineEntry
from farley.core.errors import Forbidden, ValidationFailed
from farley.core.history import history_for
from farley.core.models import ChangeRecord
from farley.sales.models import Lead, LeadStatus, Opportunity, Stage, StageChange
from farley.sales.selectors import leads as selectors
from farley.sales.services import leads as services
from tests.factories import make_account, make_contact, make_lead

pytestmark = pytest.mark.django_db


def counts() -> tuple[int, ...]:
    return (
        Account.objects.count(),
        Contact.objects.count(),
        Opportunity.objects.count(),
        TimelineEntry.objects.count(),
        ChangeRecord.objects.count(),
    )


# --- duplicates -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "normal"),
    [
        ("Müller Maschinenbau GmbH", "mueller maschinenbau"),
        ("Mueller Maschinenbau AG", "mueller maschinenbau"),
        ("Müller & Söhne GmbH & Co. KG", "mueller soehne"),
        ("Müller und Söhne KG", "mueller soehne"),
        ("Bäckerei Öztürk e.K.", "baeckerei oeztuerk"),
        ("ACME Ltd.", "acme"),
        ("Acme, Inc.", "acme"),
        ("Société Générale S.A.", "societe generale"),
        ("AG", "ag"),
    ],
)
def test_company_names_are_normalised(name, normal):
    assert selectors.normalise_company(name) == normal


def test_name_similarity():
    assert selectors.name_similarity("Müller Maschinenbau GmbH", "Mueller Maschinenbau AG") == 100
    assert selectors.name_similarity("Müller Maschinenbau", "Müler Maschinenbau GmbH") >= 85
    assert selectors.name_similarity("Müller Maschinenbau", "Schmidt Logistik") < 60
    assert selectors.name_similarity("", "Acme") == 0


def test_duplicates_by_name_email_and_phone(sales1, sales2):
    mueller = make_account(sales1, name="Müller Maschinenbau GmbH")
    make_account(sales1, name="Schmidt Logistik AG")
    hidden = make_account(sales2, name="Müller Maschinenbau AG")  # another team's
    by_email = make_contact(
        sales1, last_name="Anders", emails=[{"address": "jo@example.de"}],
        account_links=[{"account_id": make_account(sales1, name="Anders GmbH").pk}],
    )  # fmt: skip
    by_phone = make_contact(sales1, last_name="Fern", phones=[{"number": "+49 30 1234567"}])
    make_contact(sales2, last_name="Fremd", emails=[{"address": "jo@example.de"}])
    lead = make_lead(
        sales1, company_name="Mueller Maschinenbau AG", email="JO@Example.DE", phone="030 1234567"
    )
    found = selectors.duplicates_of(sales1, lead)
    account_ids = [c.record.pk for c in found.accounts]
    assert account_ids[0] == mueller.pk and hidden.pk not in account_ids
    assert by_email.primary_account_id in account_ids  # where the matching contact works
    assert {c.record.pk for c in found.contacts} == {by_email.pk, by_phone.pk}
    reasons = {c.record.pk: c.reasons for c in found.contacts}
    assert reasons[by_email.pk] == ["same email"] and reasons[by_phone.pk] == ["same phone number"]
    assert found.as_dict()["accounts"][0]["customer_number"] == mueller.customer_number


def test_no_duplicates_for_a_new_company(sales1):
    make_account(sales1, name="Schmidt Logistik AG")
    lead = make_lead(sales1, company_name="Zylinderkopf Werke GmbH", email="neu@zylinder.de")
    assert selectors.duplicates_of(sales1, lead).count == 0


# --- converting -----------------------------------------------------------------------------


def test_convert_into_new_account_contact_and_opportunity(sales1, team1):
    lead = make_lead(
        sales1, company_name="Zylinderkopf Werke GmbH", salutation="mr", first_name="Jörg",
        last_name="Kowalski", job_title="CTO", email="j.kowalski@zylinder.de",
        phone="089 1234567", street="Leopoldstraße 1", postal_code="80802", city="München",
        country="DE", source="fair", estimated_value="25000", description="Wants 3 machines.",
    )  # fmt: skip
    services.lead_update(actor=sales1, lead_id=lead.pk, data={"status": "qualified"})
    result = services.lead_convert(
        actor=sales1,
        lead_id=lead.pk,
        data={"opportunity": {"expected_close_date": "2031-03-31"}},
        version=2,
    )
    account, contact, deal = result.account, result.contact, result.opportunity
    assert account.name == "Zylinderkopf Werke GmbH"
    assert (account.city, account.postal_code, account.owner, account.team) == (
        "München", "80802", sales1, team1,
    )  # fmt: skip
    assert (contact.first_name, contact.last_name, contact.job_title) == ("Jörg", "Kowalski", "CTO")
    assert contact.primary_email == "j.kowalski@zylinder.de"
    assert contact.primary_phone == "+49891234567"
    assert contact.primary_account == account
    first_open = Stage.objects.filter(pipeline=deal.pipeline, kind="open").order_by("order").first()
    assert deal.pipeline.is_default and deal.stage == first_open
    assert deal.probability == first_open.probability
    assert (deal.amount, deal.currency, deal.account) == (Decimal("25000.00"), "EUR", account)
    assert str(deal.expected_close_date) == "2031-03-31"
    assert deal.name == "Zylinderkopf Werke GmbH"
    assert Opportunity.objects.get(pk=deal.pk).source_lead == lead
    assert [r.contact for r in deal.contact_roles.all()] == [contact]
    assert StageChange.objects.filter(
        opportunity=deal, from_stage=None, to_stage=first_open
    ).exists()
    assert history_for("opportunity", deal.pk).filter(action="create").exists()

    lead.refresh_from_db()
    assert lead.status == LeadStatus.CONVERTED
    assert (lead.converted_account, lead.converted_contact, lead.converted_opportunity) == (
        account, contact, deal,
    )  # fmt: skip
    assert lead.converted_by == sales1 and lead.converted_at is not None
    change = history_for("lead", lead.pk).first()
    assert change.changes["status"] == ["qualified", "converted"]
    assert change.changes["converted_account"] == [None, account.name]

    # The lead's whole history moves with it: one note on the contact (and the account).
    note = TimelineEntry.objects.get(contact=contact)
    assert note.account == account and note.author == sales1
    assert note.subject == "Converted from lead: Jörg Kowalski"
    for text in ("Zylinderkopf Werke GmbH", "j.kowalski@zylinder.de", "Trade fair",
                 "Wants 3 machines.", "History of the lead", "Status: New → Qualified"):  # fmt: skip
        assert text in note.body, text
    assert selectors.converted_from(sales1, contact) == [lead]
    assert selectors.converted_from(sales1, account) == [lead]


def test_link_an_existing_account_found_as_duplicate(sales1):
    mueller = make_account(sales1, name="Müller Maschinenbau GmbH")
    lead = make_lead(sales1, company_name="Mueller Maschinenbau AG", last_name="Neu")
    before = Account.objects.count()
    result = services.lead_convert(actor=sales1, lead_id=lead.pk, data={"account_id": mueller.pk})
    assert result.account == mueller and Account.objects.count() == before
    assert result.contact.primary_account == mueller
    assert result.opportunity is None
    assert TimelineEntry.objects.filter(account=mueller, contact=result.contact).count() == 1


def test_link_an_existing_contact_adds_the_link_email_and_phone(sales1):
    account = make_account(sales1, name="Alt GmbH")
    contact = make_contact(
        sales1, last_name="Kowalski", emails=[{"address": "j@alt.de"}],
        account_links=[{"account_id": account.pk}],
    )  # fmt: skip
    lead = make_lead(
        sales1, company_name="Neu GmbH", last_name="Kowalski", email="j@alt.de", phone="030 555666"
    )
    result = services.lead_convert(
        actor=sales1, lead_id=lead.pk, data={"contact_id": contact.pk, "create_anyway": True}
    )
    contact.refresh_from_db()
    assert result.contact == contact and Contact.objects.count() == 1
    assert {link.account.name for link in contact.account_links.all()} == {"Alt GmbH", "Neu GmbH"}
    assert [p.number for p in contact.phones.all()] == ["+4930555666"]
    assert [e.address for e in contact.emails.all()] == ["j@alt.de"]


def test_create_anyway_despite_duplicates(sales1):
    make_account(sales1, name="Müller Maschinenbau GmbH")
    make_contact(sales1, last_name="Dup", emails=[{"address": "a@b.de"}])
    lead = make_lead(sales1, company_name="Müller Maschinenbau", last_name="Dup", email="a@b.de")
    result = services.lead_convert(
        actor=sales1, lead_id=lead.pk, data={"create_anyway": True, "account_name": "Müller 2"}
    )
    assert result.account.name == "Müller 2"
    assert Account.objects.count() == 2 and Contact.objects.count() == 2


def test_duplicates_not_decided_are_an_error_listing_them(sales1):
    mueller = make_account(sales1, name="Müller Maschinenbau GmbH")
    dup = make_contact(sales1, last_name="Dup", phones=[{"number": "+49 30 1234567"}])
    lead = make_lead(
        sales1, company_name="Müller Maschinenbau", last_name="Dup", phone="0301234567"
    )
    before = counts()
    with pytest.raises(services.DuplicatesFound) as caught:
        services.lead_convert(actor=sales1, lead_id=lead.pk, data={"opportunity": {}})
    error = caught.value
    assert set(error.fields) == {"account_id", "contact_id"}
    assert "Müller Maschinenbau GmbH" in error.fields["account_id"][0]
    assert [c["id"] for c in error.candidates["accounts"]] == [mueller.pk]
    assert [c["id"] for c in error.candidates["contacts"]] == [dup.pk]
    assert counts() == before
    lead.refresh_from_db()
    assert (lead.status, lead.version) == ("new", 1)
    # Linking the account alone still leaves the contact undecided.
    with pytest.raises(services.DuplicatesFound) as caught:
        services.lead_convert(actor=sales1, lead_id=lead.pk, data={"account_id": mueller.pk})
    assert set(caught.value.fields) == {"contact_id"}


def test_converting_twice_is_refused_and_writes_nothing(sales1):
    lead = make_lead(sales1, company_name="Einmal GmbH")
    services.lead_convert(actor=sales1, lead_id=lead.pk, data={})
    before = counts()
    with pytest.raises(ValidationFailed) as caught:
        services.lead_convert(actor=sales1, lead_id=lead.pk, data={"create_anyway": True})
    assert "converted already" in caught.value.fields["status"][0]
    assert counts() == before


def test_a_disqualified_lead_is_not_converted(sales1):
    lead = make_lead(sales1, company_name="Nein GmbH", status="disqualified",
                     disqualify_reason="Kein Bedarf")  # fmt: skip
    with pytest.raises(ValidationFailed) as caught:
        services.lead_convert(actor=sales1, lead_id=lead.pk, data={})
    assert caught.value.fields == {
        "status": ["A disqualified lead cannot be converted; reopen it first."]
    }
    assert Account.objects.count() == 0


def test_records_of_another_team_cannot_be_linked(sales1, sales2):
    foreign_account = make_account(sales2, name="Fremd GmbH")
    foreign_contact = make_contact(sales2, last_name="Fremd")
    lead = make_lead(sales1, company_name="Meins GmbH", last_name="Meins")
    before = counts()
    with pytest.raises(ValidationFailed) as caught:
        services.lead_convert(
            actor=sales1,
            lead_id=lead.pk,
            data={"account_id": foreign_account.pk, "contact_id": foreign_contact.pk},
        )
    assert caught.value.fields == {
        "account_id": ["Select an account you can see."],
        "contact_id": ["Select a contact you can see."],
    }
    assert counts() == before


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"account_id": "x"}, "account_id"),
        ({"account_id": 0}, "account_id"),
        ({"contact_id": 2**70}, "contact_id"),
        ({"create_anyway": "maybe"}, "create_anyway"),
        ({"account_name": "x" * 201}, "account_name"),
        ({"opportunity": "yes please"}, "opportunity"),
        ({"opportunity": {"amount": "-1"}}, "opportunity.amount"),
        ({"opportunity": {"amount": "viel"}}, "opportunity.amount"),
        ({"opportunity": {"currency": "EURO"}}, "opportunity.currency"),
        ({"opportunity": {"pipeline_id": 999999}}, "opportunity.pipeline_id"),
        ({"opportunity": {"expected_close_date": "31.02.2030"}}, "opportunity.expected_close_date"),
        ({"opportunity": {"name": "x" * 201}}, "opportunity.name"),
        ({"opportunity": {"stage_id": 1}}, "opportunity.stage_id"),
        ({"lead_id": 1}, "lead_id"),
    ],
)
def test_bad_conversion_input(sales1, data, field):
    lead = make_lead(sales1, company_name="Prüf GmbH", last_name="Prüf")
    before = counts()
    with pytest.raises(ValidationFailed) as caught:
        services.lead_convert(actor=sales1, lead_id=lead.pk, data=data)
    assert field in caught.value.fields, caught.value.fields
    assert counts() == before


def test_a_lead_without_company_needs_an_account(sales1):
    lead = make_lead(sales1, first_name="Solo", last_name="Person")
    with pytest.raises(ValidationFailed) as caught:
        services.lead_convert(actor=sales1, lead_id=lead.pk, data={})
    assert "account_name" in caught.value.fields
    result = services.lead_convert(
        actor=sales1, lead_id=lead.pk, data={"account_name": "Person Consulting"}
    )
    assert result.account.name == "Person Consulting"


def test_a_lead_with_only_a_first_name_needs_a_last_name(sales1):
    lead = make_lead(sales1, company_name="Halb GmbH", first_name="Nur", last_name="")
    with pytest.raises(ValidationFailed) as caught:
        services.lead_convert(actor=sales1, lead_id=lead.pk, data={})
    assert caught.value.fields == {
        "last_name": ["Enter the lead's last name before converting it."]
    }


def test_a_company_lead_becomes_an_account_only(sales1):
    lead = make_lead(sales1, last_name="", company_name="Nur Firma AG", description="Notiz")
    result = services.lead_convert(actor=sales1, lead_id=lead.pk, data={"opportunity": {}})
    assert result.contact is None and Contact.objects.count() == 0
    note = TimelineEntry.objects.get(account=result.account)
    assert note.contact is None and "Notiz" in note.body
    assert result.opportunity.contact_roles.count() == 0


def test_a_stale_version_is_409_and_writes_nothing(sales1):
    from farley.core.errors import Conflict

    lead = make_lead(sales1, company_name="Alt GmbH")
    services.lead_update(actor=sales1, lead_id=lead.pk, data={"status": "contacted"})
    before = counts()
    with pytest.raises(Conflict):
        services.lead_convert(actor=sales1, lead_id=lead.pk, data={}, version=1)
    assert counts() == before


def test_a_read_only_user_cannot_convert(reader, sales1):
    lead = make_lead(sales1, company_name="Lesen GmbH")
    with pytest.raises(Forbidden):
        services.lead_convert(actor=reader, lead_id=lead.pk, data={})
    assert Lead.objects.get(pk=lead.pk).status == "new"


def test_a_manager_converting_keeps_the_leads_owner(manager, sales1, team1):
    lead = make_lead(sales1, company_name="Besitz GmbH", last_name="Besitz")
    result = services.lead_convert(actor=manager, lead_id=lead.pk, data={"opportunity": {}})
    assert (result.account.owner, result.contact.owner, result.opportunity.owner) == (
        sales1, sales1, sales1,
    )  # fmt: skip
    assert result.account.team == team1
