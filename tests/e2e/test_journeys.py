"""The user's path through accounts and contacts in a real browser."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.django_db(transaction=True)


def test_create_find_edit_delete_restore_contact_and_switch_to_german(page, admin_login):
    base = page.base_url

    # Create an account.
    page.goto(base + "/accounts/new/")
    page.fill("#f-name", "Müller Maschinenbau")
    page.fill("#f-legal_form", "GmbH")
    page.fill("#f-addresses-0-street", "Hauptstraße")
    page.fill("#f-addresses-0-postal_code", "80331")
    page.fill("#f-addresses-0-city", "München")
    page.click("#record-form button[type=submit]")
    expect(page.locator("h1")).to_have_text("Müller Maschinenbau")

    # Create a contact with two phones and an address; a bad PLZ is shown at the field first.
    page.goto(base + "/contacts/new/")
    page.fill("#f-first_name", "Jörg")
    page.fill("#f-last_name", "Øster")
    page.fill("#f-emails-0-address", "joerg.oester@example.com")
    page.fill("#f-phones-0-number", "089 1234567")
    page.click("[data-add-row=phones]")
    page.fill("#f-phones-1-number", "+49 151 23456789")
    page.select_option("#f-phones-1-kind", "mobile")
    page.fill("#f-addresses-0-street", "Marienplatz")
    page.fill("#f-addresses-0-postal_code", "8033")
    page.fill("#f-addresses-0-city", "München")
    page.click("[data-add-row=account_links]")
    page.fill("#f-account_links-0-account", "Müller Maschinenbau")
    page.click("#record-form button[type=submit]")
    expect(page.locator("#f-addresses-0-postal_code")).to_have_class(re.compile("is-invalid"))
    expect(page.get_by_text("A German postal code has exactly 5 digits.")).to_be_visible()
    page.fill("#f-addresses-0-postal_code", "80331")
    page.click("#record-form button[type=submit]")
    expect(page.locator("h1")).to_have_text("Jörg Øster")
    expect(page.get_by_role("link", name="089 1234567")).to_be_visible()
    expect(page.get_by_role("link", name="01512 3456789")).to_be_visible()
    expect(page.get_by_role("link", name="Müller Maschinenbau")).to_be_visible()
    contact_url = page.url

    # Find it through the global search, as you type, by phone in another format.
    page.goto(base + "/")
    page.fill("#global-search", "+49 89 1234567")
    hit = page.locator("#search-results a", has_text="Jörg Øster")
    expect(hit).to_be_visible()
    hit.click()
    expect(page).to_have_url(contact_url)

    # Edit it and see the change in its history.
    page.get_by_role("link", name="Edit", exact=True).click()
    page.fill("#f-job_title", "Einkaufsleiter")
    page.click("#record-form button[type=submit]")
    page.get_by_role("tab", name="History").click()
    history = page.locator("#history")
    expect(history).to_contain_text("Job title")
    expect(history).to_contain_text("Einkaufsleiter")
    expect(history).to_contain_text("Anna Admin")

    # Delete it and restore it from the trash.
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete").click()
    expect(page.get_by_text("Moved to the trash")).to_be_visible()
    page.goto(base + "/trash/")
    row = page.locator("#trash tr", has_text="Jörg Øster")
    row.get_by_role("button", name="Restore").click()
    expect(page).to_have_url(contact_url)
    expect(page.locator("h1")).to_have_text("Jörg Øster")

    # Switch the language to German: the interface speaks German.
    page.goto(base + "/profile/")
    page.select_option("#language", "de")
    page.get_by_role("button", name="Save").click()
    page.goto(contact_url)
    expect(page.get_by_role("link", name="Kontakte", exact=True)).to_be_visible()
    expect(page.get_by_role("tab", name="Verlauf")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "de")


def test_timeline_entry_added_in_place_and_filtered(page, admin_login):
    from farley.contacts.services import contact_create

    contact = contact_create(actor=admin_login, data={"first_name": "Li", "last_name": "李"})
    page.goto(f"{page.base_url}/contacts/{contact.pk}/")
    page.select_option("#tl-kind", "call")
    page.fill("#tl-subject", "Rückruf wegen Angebot 😀")
    page.click("#timeline-block form button[type=submit]")
    expect(page.locator("#timeline-items")).to_contain_text("Rückruf wegen Angebot 😀")
    page.check("#tk-email")
    expect(page.locator("#timeline-items")).not_to_contain_text("Rückruf wegen Angebot")
    page.uncheck("#tk-email")
    page.check("#tk-call")
    expect(page.locator("#timeline-items")).to_contain_text("Rückruf wegen Angebot 😀")
