"""An email body in HTML shows its formatting on the contact's timeline in Chromium, and
none of the hostile markup in it runs."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from farley.contacts.services import timeline_entry_create
from tests.factories import make_contact

pytestmark = pytest.mark.django_db(transaction=True)

HOSTILE = (
    "<script>window.__xss = 1</script>"
    '<img src=x onerror="window.__xss = 2">'
    '<svg onload="window.__xss = 3"></svg>'
    '<a id="js-link" href="javascript:window.__xss = 4">Anklicken</a>'
    '<iframe srcdoc="<script>parent.__xss = 5</script>"></iframe>'
)


def test_html_email_bodies_are_formatted_and_harmless(page, admin_login):
    contact = make_contact(admin_login, last_name="Empfängerin")
    timeline_entry_create(
        actor=admin_login,
        data={"contact_id": contact.pk, "kind": "email", "subject": "Ihr Angebot",
              "body_format": "html", "body": f"<p>Sehr <b>geehrte</b> Frau Empfängerin,</p>{HOSTILE}"},
    )  # fmt: skip
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(f"{page.base_url}/contacts/{contact.pk}/")
    body = page.locator(".rich-text")
    expect(body.locator("b")).to_have_text("geehrte")
    body.get_by_text("Anklicken").click()
    page.wait_for_timeout(300)
    assert page.evaluate("window.__xss") is None
    assert dialogs == []
    assert body.locator("script, img, svg, iframe").count() == 0
    assert body.locator("a").get_attribute("href") is None
