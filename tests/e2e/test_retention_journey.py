"""The data-protection officer's path through retention: define a policy, see which contacts
it would affect, run it, and find the flagged contacts."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from farley.contacts.models import Contact
from tests.factories import make_contact

pytestmark = pytest.mark.django_db(transaction=True)


def test_admin_previews_and_runs_a_retention_policy(page, admin_login):
    dormant = make_contact(admin_login, first_name="Dörte", last_name="Ruhig")
    make_contact(admin_login, last_name="Lebhaft")
    long_ago = timezone.now() - dt.timedelta(days=800)
    Contact.objects.filter(pk=dormant.pk).update(created_at=long_ago, last_interaction_at=long_ago)

    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(page.base_url + "/settings/")
    page.get_by_role("link", name="Retention").click()
    page.fill("#f-name", "")
    page.fill("#f-inactive_months", "0")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#f-name")).to_have_class(re.compile("is-invalid"))
    expect(page.locator("#f-inactive_months")).to_have_class(re.compile("is-invalid"))

    page.fill("#f-name", "Zwei Jahre ohne Kontakt")
    page.fill("#f-inactive_months", "24")
    page.select_option("#f-action", "flag")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("The retention policy was saved.")).to_be_visible()
    preview = page.locator("#preview")
    expect(preview).to_contain_text("1 contact would be affected now")
    expect(preview).to_contain_text("Dörte Ruhig")
    expect(preview).not_to_contain_text("Lebhaft")

    page.get_by_role("button", name="Run now").click()
    expect(page.get_by_text("The policy was applied to 1 contact.")).to_be_visible()
    expect(preview).to_contain_text("0 contacts would be affected now")
    page.get_by_role("link", name="Show the contacts flagged for review").click()
    expect(page.locator("table")).to_contain_text("Ruhig")
    expect(page.locator("table")).not_to_contain_text("Lebhaft")
