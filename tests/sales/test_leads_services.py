"""Lead capture: create, update (version, 409), soft delete and restore, validation of every
field (empty, huge, Unicode, bad email/phone, disqualified without a reason), history, search
and sharing rules."""

from __future__ import annotations

from decimal import Decimal

import pytest

from farley.core import sharing
from farley.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from farley.core.history import history_for
from farley.core.models import SearchDocument
from farley.core.search import search
from farley.core.services import custom_field_create
from farley.sales.models import Lead, LeadStatus
from farley.sales.selectors import leads as selectors
from farley.sales.services import leads as services
from tests.factories import TeamFactory, make_lead, make_user

pytestmark = pytest.mark.django_db


def errors_of(call, **kwargs) -> dict[str, list[str]]:
    with pytest.raises(ValidationFailed) as caught:
        call(**kwargs)
    return caught.value.fields


def test_create_a_lead_with_every_field(sales1, team1):
    lead = services.lead_create(
        actor=sales1,
        data={
            "company_name": "Müller Maschinenbau GmbH",
            "salutation": "ms",
            "first_name": "Jördis",
            "last_name": "Øster-李",
            "job_title": "Einkauf 🚀",
            "email": "Joerdis.Oester@Mueller.DE",
            "phone": "030 1234567",
            "website": "mueller.de",
            "street": "Unter den Linden 1",
            "postal_code": "10117",
            "city": "Berlin",
            "country": "de",
            "industry_code": "28.1",
            "source": "fair",
            "description": "Met at Hannover Messe.\nWants a demo.",
            "estimated_value": "12.500,50",
            "currency": "eur",
        },
    )
    lead.refresh_from_db()
    assert lead.email == "joerdis.oester@mueller.de"
    assert lead.phone == "+49301234567"
    assert lead.website == "https://mueller.de"
    assert (lead.country, lead.currency) == ("DE", "EUR")
    assert lead.estimated_value == Decimal("12500.50")
    assert (lead.status, lead.source) == (LeadStatus.NEW, "fair")
    assert (lead.owner, lead.team) == (sales1, team1)
    assert lead.last_name == "Øster-李" and lead.job_title == "Einkauf 🚀"
    change = history_for("lead", lead.pk).get()
    assert change.action == "create" and change.actor == sales1
    assert change.changes["company_name"] == [None, "Müller Maschinenbau GmbH"]


def test_a_lead_needs_a_name_or_a_company(sales1):
    assert errors_of(services.lead_create, actor=sales1, data={}) == {
        "last_name": ["Enter a name or a company."]
    }
    assert make_lead(sales1, last_name="", company_name="Nur Firma AG").company_name
    assert make_lead(sales1, last_name="", first_name="Anna").first_name == "Anna"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"email": "a@b@c.de"}, "email"),
        ({"phone": "12"}, "phone"),
        ({"phone": "<script>"}, "phone"),
        ({"phone": 1234567}, "phone"),
        ({"website": "javascript:alert(1)"}, "website"),
        ({"country": "XX"}, "country"),
        ({"country": "DE", "postal_code": "1234"}, "postal_code"),
        ({"industry_code": "not a code"}, "industry_code"),
        ({"source": "telepathy"}, "source"),
        ({"status": "won"}, "status"),
        ({"status": "converted"}, "status"),
        ({"salutation": "Herr"}, "salutation"),
        ({"estimated_value": "-5"}, "estimated_value"),
        ({"estimated_value": "a lot"}, "estimated_value"),
        ({"estimated_value": "1e30"}, "estimated_value"),
        ({"currency": "EURO"}, "currency"),
        ({"currency": "€"}, "currency"),
        ({"last_name": "x" * 101}, "last_name"),
        ({"company_name": "x" * 201}, "company_name"),
        ({"description": "x" * 20001}, "description"),
        ({"last_name": "Null\x00Byte"}, "last_name"),
        ({"last_name": ["a list"]}, "last_name"),
        ({"owner_id": "abc"}, "owner_id"),
        ({"team_id": 2**70}, "team_id"),
        ({"custom": {"nope": 1}}, "custom.nope"),
        ({"unknown": 1}, "unknown"),
        ({"status": "disqualified"}, "disqualify_reason"),
        ({"disqualify_reason": "No budget"}, "disqualify_reason"),
        ({"status": "disqualified", "disqualify_reason": "x" * 301}, "disqualify_reason"),
    ],
)
def test_bad_input_is_a_field_error_and_nothing_is_written(sales1, data, field):
    errors = errors_of(services.lead_create, actor=sales1, data={"last_name": "Bad", **data})
    assert field in errors, errors
    assert Lead.objects.count() == 0


def test_all_errors_come_at_once(sales1):
    errors = errors_of(
        services.lead_create,
        actor=sales1,
        data={"email": "x", "phone": "1", "country": "ZZ", "status": "disqualified"},
    )
    assert {"email", "phone", "country", "disqualify_reason", "last_name"} <= set(errors)


def test_phone_numbers_are_read_in_the_leads_country(sales1):
    lead = make_lead(sales1, phone="01 42 68 53 00", country="FR")
    assert lead.phone == "+33142685300"
    assert make_lead(sales1, phone="+43 1 234567").phone == "+431234567"


def test_update_with_version_and_a_stale_version_is_409(sales1):
    lead = make_lead(sales1, company_name="Alt GmbH")
    services.lead_update(
        actor=sales1, lead_id=lead.pk, data={"company_name": "Neu GmbH"}, version=1
    )
    lead.refresh_from_db()
    assert (lead.company_name, lead.version) == ("Neu GmbH", 2)
    with pytest.raises(Conflict) as caught:
        services.lead_update(
            actor=sales1, lead_id=lead.pk, data={"company_name": "Verloren"}, version=1
        )
    assert caught.value.current_version == 2
    lead.refresh_from_db()
    assert lead.company_name == "Neu GmbH"
    change = history_for("lead", lead.pk).first()
    assert change.changes == {"company_name": ["Alt GmbH", "Neu GmbH"]}


def test_an_update_that_changes_nothing_keeps_the_version(sales1):
    lead = make_lead(sales1, company_name="Gleich GmbH")
    services.lead_update(actor=sales1, lead_id=lead.pk, data={"company_name": "Gleich GmbH"})
    lead.refresh_from_db()
    assert lead.version == 1
    assert history_for("lead", lead.pk).count() == 1


def test_disqualify_needs_a_reason_and_reopening_clears_it(sales1):
    lead = make_lead(sales1)
    errors = errors_of(
        services.lead_update, actor=sales1, lead_id=lead.pk, data={"status": "disqualified"}
    )
    assert errors == {"disqualify_reason": ["Give a reason when you disqualify a lead."]}
    services.lead_update(
        actor=sales1,
        lead_id=lead.pk,
        data={"status": "disqualified", "disqualify_reason": "Kein Budget"},
    )
    lead.refresh_from_db()
    assert (lead.status, lead.disqualify_reason) == ("disqualified", "Kein Budget")
    services.lead_update(actor=sales1, lead_id=lead.pk, data={"status": "contacted"})
    lead.refresh_from_db()
    assert (lead.status, lead.disqualify_reason) == ("contacted", "")
    reasons = [c.changes.get("disqualify_reason") for c in history_for("lead", lead.pk)]
    assert ["Kein Budget", ""] in reasons


def test_changing_the_country_checks_the_postal_code_again(sales1):
    lead = make_lead(sales1, country="DE", postal_code="10117")
    errors = errors_of(services.lead_update, actor=sales1, lead_id=lead.pk, data={"country": "AT"})
    assert "postal_code" in errors


def test_soft_delete_and_restore(sales1):
    lead = make_lead(sales1, last_name="Weg")
    services.lead_delete(actor=sales1, lead_id=lead.pk)
    assert not selectors.leads_visible_to(sales1).filter(pk=lead.pk).exists()
    assert [r.pk for r in selectors.trash(sales1)] == [lead.pk]
    assert not SearchDocument.objects.filter(entity="lead", object_id=lead.pk).exists()
    with pytest.raises(NotFound):
        services.lead_update(actor=sales1, lead_id=lead.pk, data={"city": "X"})
    services.lead_restore(actor=sales1, lead_id=lead.pk)
    assert selectors.leads_visible_to(sales1).filter(pk=lead.pk).exists()
    assert [h.action for h in history_for("lead", lead.pk)] == ["restore", "delete", "create"]
    with pytest.raises(NotFound):
        services.lead_restore(actor=sales1, lead_id=lead.pk)


def test_other_teams_cannot_see_or_change_a_lead(sales1, sales2):
    lead = make_lead(sales1)
    assert not selectors.leads_visible_to(sales2).filter(pk=lead.pk).exists()
    for call in (
        lambda: services.lead_update(actor=sales2, lead_id=lead.pk, data={"city": "X"}),
        lambda: services.lead_delete(actor=sales2, lead_id=lead.pk),
        lambda: services.lead_convert(actor=sales2, lead_id=lead.pk, data={}),
    ):
        with pytest.raises(NotFound):
            call()


def test_a_read_only_user_may_not_create_leads(reader):
    with pytest.raises(Forbidden):
        services.lead_create(actor=reader, data={"last_name": "Nein"})


def test_a_sales_user_may_not_give_a_lead_to_someone_else(sales1, sales2):
    errors = errors_of(
        services.lead_create, actor=sales1, data={"last_name": "X", "owner_id": sales2.pk}
    )
    assert "owner_id" in errors


def test_global_search_finds_leads_by_name_company_email_and_phone(sales1, sales2):
    lead = make_lead(
        sales1,
        first_name="Friedrich",
        last_name="Schimmelpfennig",
        company_name="Quarkwerke Allgäu eG",
        email="f.schimmel@quarkwerke.de",
        phone="+49 831 5550123",
    )
    for query in ("Schimmelpfennig", "Quarkwerke", "f.schimmel@quarkwerke.de", "0831 5550123",
                  "Schimelpfenig"):  # fmt: skip
        hits = search(sales1, query)
        assert ("lead", lead.pk) in [(h.entity, h.object_id) for h in hits], query
    assert search(sales2, "Schimmelpfennig") == []


def test_custom_fields_on_leads(admin, sales1):
    custom_field_create(
        actor=admin,
        data={"entity": "lead", "key": "messe", "label": "Messe", "field_type": "choice",
              "choices": "Hannover\nMünchen"},
    )  # fmt: skip
    lead = make_lead(sales1, custom={"messe": "München"})
    assert lead.custom == {"messe": "München"}
    errors = errors_of(
        services.lead_update, actor=sales1, lead_id=lead.pk, data={"custom": {"messe": "Köln"}}
    )
    assert "custom.messe" in errors


def test_sharing_rules_share_leads_of_a_territory(admin, sales1):
    bavaria = TeamFactory(name="Bayern")
    viewer = make_user("sales", bavaria)
    sharing.rule_create(
        actor=admin,
        data={"entity": "lead", "name": "Bayern", "criteria": {"postal_code": "8"},
              "team_id": bavaria.pk},
    )  # fmt: skip
    south = make_lead(sales1, postal_code="80331", country="DE")
    north = make_lead(sales1, postal_code="20095", country="DE")
    visible = set(selectors.leads_visible_to(viewer).values_list("pk", flat=True))
    assert south.pk in visible and north.pk not in visible


def test_a_converted_lead_cannot_be_changed_but_an_unchanged_save_is_fine(sales1):
    lead = make_lead(sales1, company_name="Fertig GmbH")
    services.lead_convert(actor=sales1, lead_id=lead.pk, data={})
    errors = errors_of(
        services.lead_update, actor=sales1, lead_id=lead.pk, data={"company_name": "Anders"}
    )
    assert errors == {"status": ["This lead was converted; it cannot be changed any more."]}
    services.lead_update(
        actor=sales1, lead_id=lead.pk, data={"company_name": "Fertig GmbH", "status": "converted"}
    )
