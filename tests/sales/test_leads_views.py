"""Pages of leads: list (filters, columns, query count), form (errors at the fields, 409),
detail (history, duplicates, qualification), conversion page, import/export, trash, the
assignment-rule settings and the "from leads" panel on the new records."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from farley.sales.models import AssignmentRule, Lead
from tests.factories import TeamFactory, make_account, make_contact, make_lead, make_user

pytestmark = pytest.mark.django_db


def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def html(response) -> str:
    return response.content.decode()


def test_navigation_shows_leads_to_those_who_may_view_them(sales1):
    page = html(browser(sales1).get("/"))
    assert 'href="/leads/"' in page


def test_list_with_filters_columns_and_sorting(sales1, sales2):
    make_lead(sales1, company_name="Alpha GmbH", last_name="Zander", status="qualified")
    make_lead(sales1, company_name="Beta AG", last_name="Adler", email="a@beta.de")
    make_lead(sales2, company_name="Fremd GmbH", last_name="Fremd")
    client = browser(sales1)
    page = html(client.get("/leads/"))
    assert "Zander" in page and "Adler" in page and "Fremd" not in page
    page = html(client.get("/leads/", {"status": "qualified"}))
    assert "Zander" in page and "Adler" not in page
    page = html(client.get("/leads/", {"q": "beta", "cols": ["name", "email", "phone"]}))
    assert "a@beta.de" in page and "Zander" not in page
    page = html(client.get("/leads/", {"sort": "name"}))
    assert page.index("Adler") < page.index("Zander")
    # A bad filter on the page is no error (the API is strict), just no match.
    assert client.get("/leads/", {"status": "won", "cursor": "kaputt"}).status_code == 200


def test_list_page_query_count_is_constant(sales1, django_assert_max_num_queries):
    for i in range(50):
        make_lead(sales1, company_name=f"Firma {i}", last_name=f"L{i:02}", phone="+49301234567")
    client = browser(sales1)
    client.get("/leads/")  # warm the session
    with django_assert_max_num_queries(20):
        response = client.get("/leads/", {"cols": ["name", "company", "owner", "team", "phone"]})
    assert html(response).count('href="/leads/') >= 50


def test_create_shows_errors_at_the_fields_and_keeps_the_input(sales1):
    client = browser(sales1)
    response = client.post(
        "/leads/new/",
        {"company_name": "Käse & Co", "email": "kaputt", "phone": "12", "status": "disqualified",
         "source": "web", "currency": "EUR", "country": "DE"},
    )  # fmt: skip
    assert response.status_code == 422
    page = html(response)
    for field in ("email", "phone", "disqualify_reason"):
        assert re.search(rf'id="f-{field}"[^>]*aria-invalid="true"', page) or re.search(
            rf'is-invalid"[^>]*id="f-{field}"', page
        ), field
    assert 'value="Käse &amp; Co"' in page
    assert Lead.objects.count() == 0
    response = client.post(
        "/leads/new/",
        {"company_name": "Käse & Co", "last_name": "Brie", "email": "b@kaese.de",
         "phone": "030 1234567", "status": "new", "source": "web", "currency": "EUR",
         "country": "DE", "owner_id": ""},
    )  # fmt: skip
    lead = Lead.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/leads/{lead.pk}/"
    assert (lead.owner, lead.phone) == (sales1, "+49301234567")


def test_a_rule_may_route_a_new_lead_away_from_its_creator(admin, sales1):
    other = TeamFactory(name="Woanders")
    make_user("sales", other, full_name="Wanda")
    AssignmentRule.objects.create(name="Alle", method="round_robin", team=other)
    response = browser(sales1).post(
        "/leads/new/", {"last_name": "Weg", "status": "new", "source": "web", "currency": "EUR"}
    )
    assert response.status_code == 302 and response["Location"] == "/leads/"
    assert Lead.objects.get().owner.full_name == "Wanda"


def test_edit_with_a_stale_version_keeps_the_input(sales1):
    lead = make_lead(sales1, company_name="Alt GmbH")
    client = browser(sales1)
    form = html(client.get(f"/leads/{lead.pk}/edit/"))
    assert 'value="Alt GmbH"' in form
    Lead.objects.filter(pk=lead.pk).update(version=5)
    response = client.post(
        f"/leads/{lead.pk}/edit/",
        {"company_name": "Mein Stand", "last_name": lead.last_name, "status": "new",
         "source": "other", "currency": "EUR", "version": "1"},
    )  # fmt: skip
    assert response.status_code == 409
    assert 'value="Mein Stand"' in html(response) and 'name="version" value="5"' in html(response)


def test_detail_shows_data_history_duplicates_and_qualifies(sales1):
    make_account(sales1, name="Müller Maschinenbau GmbH")
    lead = make_lead(sales1, company_name="Mueller Maschinenbau", first_name="Jo", last_name="Ko",
                     description="Rief an.\nWill Angebot.")  # fmt: skip
    client = browser(sales1)
    page = html(client.get(f"/leads/{lead.pk}/"))
    assert "Jo Ko" in page and "Will Angebot." in page and 'id="history"' in page
    assert "Müller Maschinenbau GmbH" in page and "similar name" in page
    assert f'href="/leads/{lead.pk}/convert/"' in page
    response = client.post(f"/leads/{lead.pk}/status/", {"status": "qualified", "version": "1"})
    assert response.status_code == 302
    assert Lead.objects.get(pk=lead.pk).status == "qualified"
    client.post(f"/leads/{lead.pk}/status/", {"status": "disqualified", "version": "2"})
    assert Lead.objects.get(pk=lead.pk).status == "qualified"  # no reason: refused
    client.post(f"/leads/{lead.pk}/status/",
                {"status": "disqualified", "disqualify_reason": "Kein Budget", "version": "2"})  # fmt: skip
    page = html(client.get(f"/leads/{lead.pk}/"))
    assert "Kein Budget" in page and f"/leads/{lead.pk}/convert/" not in page


def test_convert_page_linking_a_duplicate_and_creating_the_rest(sales1):
    mueller = make_account(sales1, name="Müller Maschinenbau GmbH")
    lead = make_lead(sales1, company_name="Mueller Maschinenbau AG", first_name="Jo",
                     last_name="Ko", email="jo@mueller.de", estimated_value="9000")  # fmt: skip
    client = browser(sales1)
    page = html(client.get(f"/leads/{lead.pk}/convert/"))
    assert f'value="{mueller.pk}"' in page and "Müller Maschinenbau GmbH" in page
    assert 'value="9000.00"' in page
    # No choice for the account: an error at the account, nothing written.
    response = client.post(f"/leads/{lead.pk}/convert/", {"contact": "new", "version": "1"})
    assert response.status_code == 422
    assert 'id="e-account_id"' in html(response)
    assert Lead.objects.get(pk=lead.pk).status == "new"
    response = client.post(
        f"/leads/{lead.pk}/convert/",
        {"account": str(mueller.pk), "contact": "new", "version": "1", "create_opportunity": "1",
         "opportunity_name": "Maschinen", "opportunity_amount": "9.000,00",
         "opportunity_currency": "EUR", "opportunity_expected_close_date": "2031-06-30"},
    )  # fmt: skip
    assert response.status_code == 302 and response["Location"] == f"/leads/{lead.pk}/"
    lead.refresh_from_db()
    assert lead.status == "converted" and lead.converted_account == mueller
    page = html(client.get(f"/leads/{lead.pk}/"))
    assert f'href="/accounts/{mueller.pk}/"' in page
    assert f'href="/contacts/{lead.converted_contact_id}/"' in page
    assert "Maschinen" in page
    contact_page = html(client.get(f"/contacts/{lead.converted_contact_id}/"))
    assert f'href="/leads/{lead.pk}/"' in contact_page and "Converted from lead" in contact_page
    assert client.get(f"/leads/{lead.pk}/convert/").status_code == 302


def test_convert_page_errors_at_the_opportunity_fields(sales1):
    lead = make_lead(sales1, company_name="Solo GmbH", last_name="Solo")
    response = browser(sales1).post(
        f"/leads/{lead.pk}/convert/",
        {"account": "new", "account_name": "Solo GmbH", "contact": "new", "version": "1",
         "create_opportunity": "1", "opportunity_name": "", "opportunity_amount": "-5"},
    )  # fmt: skip
    assert response.status_code == 422
    page = html(response)
    assert re.search(r'is-invalid"[^>]*id="f-opportunity_amount"', page)
    assert Lead.objects.get(pk=lead.pk).status == "new"


def test_convert_page_picks_another_account_by_its_name(sales1):
    other = make_account(sales1, name="Ganz Anders AG")
    lead = make_lead(sales1, company_name="Neue Firma", last_name="Neu")
    client = browser(sales1)
    response = client.post(
        f"/leads/{lead.pk}/convert/",
        {"account": "other", "account_other": "Nicht Da", "contact": "new", "version": "1"},
    )
    assert response.status_code == 422 and "Choose an account from the list." in html(response)
    response = client.post(
        f"/leads/{lead.pk}/convert/",
        {"account": "other", "account_other": f"Ganz Anders AG [{other.customer_number}]",
         "contact": "new", "version": "1"},
    )  # fmt: skip
    assert response.status_code == 302
    assert Lead.objects.get(pk=lead.pk).converted_account == other


def test_other_teams_lead_pages_are_404(sales1, sales2):
    lead = make_lead(sales2)
    client = browser(sales1)
    for url in (f"/leads/{lead.pk}/", f"/leads/{lead.pk}/edit/", f"/leads/{lead.pk}/convert/"):
        assert client.get(url).status_code == 404
    for url in (f"/leads/{lead.pk}/status/", f"/leads/{lead.pk}/delete/",
                f"/leads/{lead.pk}/convert/"):  # fmt: skip
        assert client.post(url, {"status": "qualified"}).status_code == 404
    assert Lead.objects.get(pk=lead.pk).status == "new"


def test_delete_trash_and_restore(sales1):
    lead = make_lead(sales1, last_name="Papierkorb")
    client = browser(sales1)
    assert client.post(f"/leads/{lead.pk}/delete/").status_code == 302
    assert "Papierkorb" not in html(client.get("/leads/"))
    assert "Papierkorb" in html(client.get("/leads/trash/"))
    assert "This lead is in the trash." in html(client.get(f"/leads/{lead.pk}/"))
    client.post(f"/leads/{lead.pk}/restore/")
    assert "Papierkorb" in html(client.get("/leads/"))


def test_export_and_import_pages(sales1):
    make_lead(sales1, company_name="Export GmbH", last_name="Aus")
    client = browser(sales1)
    response = client.get("/leads/export.csv", {"q": "Export"})
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "Export GmbH" in text and text.startswith("id,company_name")
    assert client.get("/leads/export.xlsx").content[:2] == b"PK"
    assert client.get("/leads/export.pdf").status_code == 404
    upload = SimpleUploadedFile("l.csv", b"Firma,Nachname\nImport AG,Ein\n", "text/csv")
    response = client.post("/leads/import/", {"file": upload})
    assert response.status_code == 200 and "1 new, 0 to update" in html(response)
    assert Lead.objects.count() == 1
    token = re.search(r'name="token" value="([0-9a-f]{32})"', html(response)).group(1)
    response = client.post("/leads/import/", {"token": token, "filename": "l.csv"})
    assert response.status_code == 302
    assert Lead.objects.filter(company_name="Import AG").exists()
    bad = SimpleUploadedFile("l.csv", b"Firma,E-Mail\nX,kaputt\n", "text/csv")
    response = client.post("/leads/import/", {"file": bad})
    assert response.status_code == 422 and 'id="import-error-table"' in html(response)
    assert client.post("/leads/import/", {}).status_code == 422


def test_reader_sees_no_edit_buttons_and_cannot_create(reader, sales1):
    lead = make_lead(sales1, last_name="Nur Lesen")
    client = browser(reader)
    page = html(client.get(f"/leads/{lead.pk}/"))
    assert "Nur Lesen" in page and "/edit/" not in page and "/convert/" not in page
    assert client.get("/leads/new/").status_code == 403


# --- assignment rules -----------------------------------------------------------------------


def test_rules_pages_create_edit_order_deactivate_delete(admin):
    team = TeamFactory(name="Nord")
    client = browser(admin)
    assert client.get("/settings/lead-assignment-rules/").status_code == 200
    response = client.post(
        "/settings/lead-assignment-rules/new/",
        {"name": "", "order": "10", "method": "round_robin", "team_id": "", "active": "on"},
    )
    assert response.status_code == 422
    assert re.search(r'is-invalid"[^>]*id="f-name"', html(response))
    for name in ("Erste", "Zweite"):
        response = client.post(
            "/settings/lead-assignment-rules/new/",
            {"name": name, "order": "", "method": "territory", "team_id": str(team.pk),
             "countries": "DE, AT", "postal_code_from": "0", "postal_code_to": "3",
             "sources": ["web", "fair"], "active": "on"},
        )  # fmt: skip
        assert response.status_code == 302, html(response)
    first, second = AssignmentRule.objects.order_by("id")
    assert (first.countries, first.sources) == ("DE,AT", "web,fair")
    client.post(f"/settings/lead-assignment-rules/{second.pk}/move/", {"up": "1"})
    assert list(AssignmentRule.objects.order_by("order").values_list("name", flat=True)) == [
        "Zweite", "Erste",
    ]  # fmt: skip
    edit = html(client.get(f"/settings/lead-assignment-rules/{first.pk}/"))
    assert 'value="DE,AT"' in edit
    client.post(
        f"/settings/lead-assignment-rules/{first.pk}/",
        {"name": "Erste", "order": "5", "method": "territory", "team_id": str(team.pk)},
    )
    first.refresh_from_db()
    assert (first.active, first.order, first.countries) == (False, 5, "")
    page = html(client.get("/settings/lead-assignment-rules/"))
    assert "Erste" in page and "Zweite" in page
    client.post(f"/settings/lead-assignment-rules/{first.pk}/", {"delete": "1"})
    assert AssignmentRule.objects.count() == 1


def test_rules_pages_are_for_sales_administrators(sales1, manager):
    for user in (sales1, manager):
        client = browser(user)
        assert client.get("/settings/lead-assignment-rules/").status_code == 403
        assert client.post("/settings/lead-assignment-rules/new/", {"name": "x"}).status_code == 403
    assert AssignmentRule.objects.count() == 0


def test_custom_fields_on_the_lead_form_and_page(admin, sales1):
    from farley.core.services import custom_field_create

    custom_field_create(
        actor=admin,
        data={"entity": "lead", "key": "budget", "label": "Budget", "field_type": "text"},
    )
    client = browser(sales1)
    assert 'name="cf_budget"' in html(client.get("/leads/new/"))
    client.post("/leads/new/", {"last_name": "Mit Feld", "status": "new", "source": "web",
                                "currency": "EUR", "cf_budget": "hoch"})  # fmt: skip
    lead = Lead.objects.get()
    assert lead.custom == {"budget": "hoch"}
    assert "hoch" in html(client.get(f"/leads/{lead.pk}/"))
    assert "hoch" in html(client.get("/leads/", {"cols": ["name", "cf_budget"]}))


def test_the_contact_page_links_the_lead_it_came_from(sales1):
    contact = make_contact(sales1, last_name="Vorhanden", emails=[{"address": "v@x.de"}])
    lead = make_lead(sales1, company_name="X GmbH", last_name="Vorhanden", email="v@x.de")
    client = browser(sales1)
    client.post(
        f"/leads/{lead.pk}/convert/",
        {"account": "new", "account_name": "X GmbH", "contact": str(contact.pk), "version": "1"},
    )
    assert Lead.objects.get(pk=lead.pk).converted_contact == contact
    assert f'href="/leads/{lead.pk}/"' in html(client.get(f"/contacts/{contact.pk}/"))


def test_saving_the_form_unchanged_keeps_a_foreign_number(sales1):
    lead = make_lead(sales1, last_name="Ausland", country="FR", phone="+49 30 1234567")
    client = browser(sales1)
    form = html(client.get(f"/leads/{lead.pk}/edit/"))
    assert 'value="+49 30 1234567"' in form
    client.post(
        f"/leads/{lead.pk}/edit/",
        {"last_name": "Ausland", "country": "FR", "phone": "+49 30 1234567", "status": "new",
         "source": "other", "currency": "EUR", "version": "1"},
    )  # fmt: skip
    lead.refresh_from_db()
    assert (lead.phone, lead.version) == ("+49301234567", 1)
