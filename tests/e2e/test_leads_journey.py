"""Browser journeys of leads: capture a lead in the form (errors at the fields first), qualify
it, convert it, linking the existing account the duplicate check finds and creating the
contact and an opportunity, and follow the links to what it became."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from farley.sales.models import Lead, Opportunity
from tests.factories import make_account

pytestmark = pytest.mark.django_db(transaction=True)


def test_capture_qualify_and_convert_a_lead(page, admin_login):
    base = page.base_url
    existing = make_account(admin_login, name="Müller Maschinenbau GmbH")

    # Capture: a bad email and a disqualified status without a reason are shown at the fields.
    page.goto(base + "/")
    page.get_by_role("link", name="Leads", exact=True).click()
    page.get_by_role("link", name="New lead").click()
    page.fill("#f-company_name", "Mueller Maschinenbau AG")
    page.select_option("#f-salutation", "mr")
    page.fill("#f-first_name", "Jörg")
    page.fill("#f-last_name", "Öztürk")
    page.fill("#f-email", "joerg@@mueller")
    page.fill("#f-phone", "089 1234567")
    page.fill("#f-postal_code", "80331")
    page.fill("#f-city", "München")
    page.select_option("#f-source", "fair")
    page.fill("#f-estimated_value", "48.000,00")
    page.fill("#f-description", "Met at the Hannover fair; wants a quote for 3 machines.")
    page.click("#lead-form button[type=submit]")
    expect(page.locator("#f-email")).to_have_class(re.compile("is-invalid"))
    expect(page.get_by_text("Enter a valid email address.")).to_be_visible()
    assert Lead.objects.count() == 0
    page.fill("#f-email", "joerg.oeztuerk@mueller.de")
    page.click("#lead-form button[type=submit]")
    expect(page.locator("h1")).to_contain_text("Jörg Öztürk")
    expect(page.locator("h1")).to_contain_text("New")
    lead = Lead.objects.get()
    assert (lead.phone, str(lead.estimated_value)) == ("+49891234567", "48000.00")

    # The detail page already points at the similar account; qualify the lead.
    page.get_by_role("tab", name=re.compile("Possible duplicates")).click()
    expect(page.locator("#duplicates")).to_contain_text("Müller Maschinenbau GmbH")
    page.get_by_role("button", name="Qualify", exact=True).click()
    expect(page.locator("h1")).to_contain_text("Qualified")

    # Convert: choose nothing for the account first (refused, nothing written), then link it.
    page.get_by_role("link", name="Convert", exact=True).click()
    expect(page.locator("#convert-account")).to_contain_text("Müller Maschinenbau GmbH")
    expect(page.locator("#contact-new")).to_be_checked()
    page.check("#f-create_opportunity")
    page.fill("#f-opportunity_name", "3 Fräsmaschinen")
    expect(page.locator("#f-opportunity_amount")).to_have_value("48000.00")
    page.fill("#f-opportunity_expected_close_date", "2031-06-30")
    page.locator("#convert-form button[type=submit]").click()
    expect(page.locator("#e-account_id")).to_contain_text("Similar accounts exist")
    assert Lead.objects.get().status == "qualified" and Opportunity.objects.count() == 0
    page.check(f"#account-{existing.pk}")
    page.locator("#convert-form button[type=submit]").click()

    # The lead is marked converted and points to what it became.
    expect(page.locator("#lead-converted")).to_contain_text("Converted on")
    expect(page.locator("h1")).to_contain_text("Converted")
    lead.refresh_from_db()
    assert lead.converted_account == existing
    deal = Opportunity.objects.get()
    assert (deal.name, deal.account, deal.source_lead) == ("3 Fräsmaschinen", existing, lead)
    lead_url = page.url

    # The new contact: linked to the account, with the lead's history on its timeline.
    page.locator("#converted-contact").click()
    expect(page.locator("h1")).to_have_text("Jörg Öztürk")
    expect(page.locator("main")).to_contain_text("Müller Maschinenbau GmbH")
    expect(page.locator("main")).to_contain_text("Converted from lead: Jörg Öztürk")
    expect(page.locator("main")).to_contain_text("wants a quote for 3 machines")
    page.locator("#lead-origin a").click()
    expect(page).to_have_url(lead_url)

    # The opportunity and the account.
    page.locator("#converted-opportunity").click()
    expect(page.locator("main")).to_contain_text("3 Fräsmaschinen")
    expect(page.locator("main")).to_contain_text("Müller Maschinenbau GmbH")
    page.goto(lead_url)
    page.locator("#converted-account").click()
    expect(page.locator("h1")).to_contain_text("Müller Maschinenbau GmbH")
    expect(page.locator("main")).to_contain_text("3 Fräsmaschinen")
    expect(page.locator("#lead-origin")).to_contain_text("Jörg Öztürk")

    # The lead list shows it converted; it cannot be converted again.
    page.goto(base + "/leads/")
    row = page.locator("#records tbody tr", has_text="Jörg Öztürk")
    expect(row).to_contain_text("Converted")
    page.goto(lead_url)
    expect(page.get_by_role("link", name="Convert", exact=True)).to_have_count(0)


def test_import_leads_with_a_preview(page, admin_login, tmp_path):
    upload = tmp_path / "leads.csv"
    upload.write_text(
        "Firma;Vorname;Nachname;E-Mail;PLZ;Ort;Quelle\n"
        "Bäckerei Schmidt;Anna;Schmidt;anna@schmidt.de;10117;Berlin;Messe\n"
        "Café Ørsted;Søren;Ørsted;kaputt;20095;Hamburg;web\n",
        encoding="utf-8",
    )
    page.goto(page.base_url + "/leads/")
    page.get_by_role("button", name="Import/export").click()
    page.get_by_role("link", name="Import from a file…").click()
    page.set_input_files("#import-file", str(upload))
    page.get_by_role("button", name="Check file").click()
    errors = page.locator("#import-error-table")
    expect(errors).to_contain_text("email")
    expect(errors).to_contain_text("3")
    assert Lead.objects.count() == 0
    upload.write_text(upload.read_text().replace("kaputt", "soeren@orsted.dk"), encoding="utf-8")
    page.set_input_files("#import-file", str(upload))
    page.get_by_role("button", name="Check file").click()
    expect(page.locator("#import-preview")).to_contain_text("2 new, 0 to update")
    assert Lead.objects.count() == 0
    page.get_by_role("button", name="Import now").click()
    expect(page.get_by_text("Imported: 2 new, 0 updated.")).to_be_visible()
    expect(page.locator("#records")).to_contain_text("Søren Ørsted")
    assert Lead.objects.get(last_name="Schmidt").source == "fair"
