"""More user paths in a real browser: settings, profile, saved views, timeline edits, keys."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.sessions import PASSWORD, sign_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_admin_defines_custom_choice_field_and_fills_it_on_a_contact(page, admin_login):
    base = page.base_url
    page.goto(base + "/settings/")
    page.get_by_role("link", name="New custom field").click()

    # An empty key and label are shown at their fields.
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#f-key")).to_have_class(re.compile("is-invalid"))
    expect(page.locator("#e-key")).to_have_text("This field is required.")
    expect(page.locator("#f-label")).to_have_class(re.compile("is-invalid"))
    expect(page.locator("#e-label")).to_have_text("This field is required.")

    # A valid single-choice field with a German label.
    page.select_option("#f-entity", "contact")
    page.fill("#f-key", "tier")
    page.select_option("#f-field_type", "choice")
    page.fill("#f-label", "Customer tier")
    page.fill("#f-label_de", "Kundenstufe")
    page.fill("#f-choices", "Gold\nSilber\nBronze")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("The custom field was saved.")).to_be_visible()
    row = page.locator("#custom-fields tr", has_text="Customer tier")
    expect(row).to_contain_text("tier")
    expect(row).to_contain_text("Single choice")

    # The contact form offers it; the value shows on the contact page.
    page.goto(base + "/contacts/new/")
    field = page.get_by_label("Customer tier")
    expect(field).to_be_visible()
    page.fill("#f-last_name", "Brandt")
    field.select_option("Silber")
    page.click("#record-form button[type=submit]")
    expect(page.locator("h1")).to_have_text("Brandt")
    custom = page.locator(".card", has=page.get_by_role("heading", name="Custom fields"))
    expect(custom.locator("dt", has_text="Customer tier")).to_be_visible()
    expect(custom.locator("dd")).to_have_text("Silber")


def test_admin_creates_team_and_user_who_is_listed(page, admin_login):
    page.goto(page.base_url + "/settings/")
    page.locator("#team-name").fill("Service Süd")
    page.get_by_role("button", name="Add team").click()
    expect(page.get_by_text("The team was created.")).to_be_visible()
    expect(page.locator("#teams li", has_text="Service Süd")).to_be_visible()

    page.get_by_role("link", name="New user").click()
    page.get_by_label("Email").fill("bernd.berater@example.com")
    page.get_by_label("Name").fill("Bernd Berater")
    page.get_by_label("Password").fill("kurz")
    page.get_by_label("Role").select_option("sales")
    page.get_by_label("Teams").select_option("Service Süd")
    page.get_by_role("button", name="Create user").click()
    expect(page.locator("#f-password")).to_have_class(re.compile("is-invalid"))
    expect(page.locator("#e-password")).to_contain_text("too short")
    expect(page.get_by_label("Email")).to_have_value("bernd.berater@example.com")

    page.get_by_label("Password").fill("Lange-Sichere-Passphrase-7")
    page.get_by_label("Teams").select_option("Service Süd")
    page.get_by_role("button", name="Create user").click()
    expect(page.get_by_text("The user was created.")).to_be_visible()
    row = page.locator("#users tr", has_text="bernd.berater@example.com")
    expect(row).to_contain_text("Bernd Berater")
    expect(row).to_contain_text("Sales")
    expect(row).to_contain_text("Service Süd")

    # Offboarding: deactivate the user; the team gets a new name.
    row.get_by_role("link", name="Bernd Berater").click()
    page.get_by_label("Active (may sign in and use API tokens)").uncheck()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("The user was saved.")).to_be_visible()
    expect(page.locator("#users tr", has_text="bernd.berater@example.com")).to_contain_text(
        "deactivated"
    )
    team = page.locator("#teams li", has_text="Service Süd")
    team.locator("summary").click()
    team.get_by_label("Team name").fill("Service Nord")
    team.get_by_role("button", name="Rename").click()
    expect(page.get_by_text("The team was renamed.")).to_be_visible()
    expect(page.locator("#teams li", has_text="Service Nord")).to_be_visible()


def test_new_user_form_keeps_chosen_teams_after_a_validation_error(page, admin_login):
    page.goto(page.base_url + "/settings/users/new/")
    page.get_by_label("Email").fill("carla@example.com")
    page.get_by_label("Password").fill("kurz")
    page.get_by_label("Teams").select_option("Vertrieb")
    page.get_by_role("button", name="Create user").click()
    expect(page.locator("#f-password")).to_have_class(re.compile("is-invalid"))
    expect(page.get_by_label("Teams")).to_have_values(["Vertrieb"])


def test_api_token_is_shown_once_works_and_stops_working_when_revoked(page, admin_login):
    base = page.base_url
    page.goto(base + "/profile/")
    page.get_by_label("Token name").fill("ERP sync")
    page.get_by_role("button", name="Create token").click()
    secret = page.locator("#new-token")
    expect(secret).to_have_text(re.compile(r"^fy_\S{20,}$"))
    key = secret.inner_text()
    auth = {"Authorization": f"Bearer {key}"}
    row = page.locator("tr", has_text="ERP sync")
    expect(row).to_contain_text(key[:10])

    assert page.request.get(base + "/api/v1/contacts", headers=auth).status == 200

    # Shown only once: the next visit lists the token but not its secret.
    page.goto(base + "/profile/")
    expect(row).to_be_visible()
    expect(page.locator("#new-token")).to_have_count(0)

    row.get_by_role("button", name="Revoke").click()
    expect(page.get_by_text("The token was revoked.")).to_be_visible()
    expect(row).to_contain_text("revoked")
    assert page.request.get(base + "/api/v1/contacts", headers=auth).status == 401


def test_language_switched_to_german_and_back_to_english(page, admin_login):
    from farley.core.services import custom_field_create

    custom_field_create(
        actor=admin_login,
        data={
            "entity": "contact",
            "key": "source",
            "field_type": "text",
            "label": "Lead source",
            "label_de": "Herkunft",
        },
    )
    base = page.base_url
    page.goto(base + "/profile/")
    page.select_option("#language", "de")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Ihre Sprache wurde gespeichert.")).to_be_visible()
    page.goto(base + "/contacts/new/")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.get_by_label("Herkunft")).to_be_visible()

    page.goto(base + "/profile/")
    page.select_option("#language", "en")
    page.get_by_role("button", name="Speichern").click()
    expect(page.get_by_text("Your language was saved.")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.goto(base + "/contacts/new/")
    expect(page.get_by_role("link", name="Contacts", exact=True)).to_be_visible()
    expect(page.get_by_label("Lead source")).to_be_visible()


def test_saved_view_with_filter_and_columns_is_shared_with_the_team(page, admin_login):
    from farley.contacts.services import contact_create
    from farley.core.services import user_create

    for last_name, postal_code, city in (
        ("Albers", "80331", "München"),
        ("Bauer", "10117", "Berlin"),
    ):
        contact_create(
            actor=admin_login,
            data={
                "last_name": last_name,
                "addresses": [{"street": "Weg 1", "postal_code": postal_code, "city": city}],
            },
        )
    user_create(
        actor=None,
        email="ben@example.com",
        password=PASSWORD,
        role="sales",
        full_name="Ben Vertrieb",
        team_names=["Vertrieb"],
    )
    base = page.base_url
    records = page.locator("#records")

    page.goto(base + "/contacts/")
    page.locator("summary", has_text="Filters").click()
    page.get_by_role("textbox", name="City").fill("München")
    page.locator("summary", has_text="Columns").click()
    page.get_by_role("checkbox", name="Postal code", exact=True).check()
    page.get_by_role("button", name="Apply").click()
    expect(records.get_by_role("columnheader", name="Postal code")).to_be_visible()
    expect(records).to_contain_text("Albers")
    expect(records).not_to_contain_text("Bauer")

    page.get_by_label("Save this view").fill("München-Kontakte")
    page.get_by_label("Share with team").select_option(label="Vertrieb")
    page.get_by_role("button", name="Save view").click()
    expect(page.get_by_text("The view was saved.")).to_be_visible()

    # From the plain list, the saved view brings filter and columns back.
    page.goto(base + "/contacts/")
    expect(records).to_contain_text("Bauer")
    page.get_by_role("button", name="Saved views").click()
    page.get_by_role("link", name="München-Kontakte").click()
    expect(records).not_to_contain_text("Bauer")
    expect(records).to_contain_text("Albers")
    expect(records).to_contain_text("80331")

    # A colleague in the team finds the shared view and gets the same result.
    sign_in(page, "ben@example.com")
    page.goto(base + "/contacts/")
    expect(records).to_contain_text("Bauer")
    page.get_by_role("button", name="Saved views").click()
    page.get_by_role("link", name="München-Kontakte").click()
    expect(records).to_contain_text("Albers")
    expect(records).not_to_contain_text("Bauer")
    expect(records.get_by_role("columnheader", name="Postal code")).to_be_visible()


def test_timeline_entry_edited_in_place_validated_and_deleted(page, admin_login):
    from farley.contacts.models import TimelineEntry
    from farley.contacts.services import contact_create

    contact = contact_create(actor=admin_login, data={"first_name": "Eva", "last_name": "Schulz"})
    page.goto(f"{page.base_url}/contacts/{contact.pk}/")
    items = page.locator("#timeline-items")
    page.fill("#tl-subject", "Anruf wegen Angebot")
    page.get_by_role("button", name="Add to timeline").click()
    expect(items).to_contain_text("Anruf wegen Angebot")
    entry = TimelineEntry.objects.get(subject="Anruf wegen Angebot")
    form = page.locator(f"form#entry-{entry.pk}")
    subject = page.locator(f"#te-subject-{entry.pk}")

    # Correct the subject in place.
    page.get_by_role("link", name="Edit “Anruf wegen Angebot”").click()
    expect(subject).to_have_value("Anruf wegen Angebot")
    subject.fill("Rückruf wegen Angebot")
    form.get_by_role("button", name="Save").click()
    expect(form).to_have_count(0)
    expect(items).to_contain_text("Rückruf wegen Angebot")
    expect(items.locator(".fw-semibold", has_text="Anruf wegen Angebot")).to_have_count(0)

    # An empty subject is refused at the field, inside the entry's form.
    page.get_by_role("link", name="Edit “Rückruf wegen Angebot”").click()
    subject.fill("")
    form.get_by_role("button", name="Save").click()
    expect(subject).to_have_class(re.compile("is-invalid"))
    expect(form.locator(".invalid-feedback")).to_have_text("This field is required.")
    form.get_by_role("link", name="Cancel").click()
    expect(form).to_have_count(0)
    expect(items).to_contain_text("Rückruf wegen Angebot")

    # Delete it after confirming.
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete “Rückruf wegen Angebot”").click()
    expect(items).not_to_contain_text("Rückruf wegen Angebot")
    expect(page.locator(f"#entry-{entry.pk}")).to_have_count(0)


def test_slash_key_focuses_global_search(page, admin_login):
    search = page.locator("#global-search")
    expect(search).not_to_be_focused()
    page.keyboard.press("/")
    expect(search).to_be_focused()
    expect(search).to_have_value("")
