"""The attack suite, part 2: XSS payloads stored in text fields never run in the browser
(Chromium), on the 360 page, in lists, in the search dropdown and in the history."""

from __future__ import annotations

from playwright.sync_api import expect

from farley.contacts import services
from tests.factories import log_interaction, make_account, make_contact

PAYLOADS = [
    "<script>window.__xss = 1</script>",
    '"><img src=x onerror="window.__xss = 2">',
    "javascript:window.__xss = 3",
    '<svg onload="window.__xss = 4"></svg>',
]


def test_stored_payloads_are_shown_as_text_and_never_run(page, admin_login):
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    account = make_account(
        admin_login, name=f"XSS {PAYLOADS[1]} GmbH", website="https://ok.example"
    )
    contact = make_contact(
        admin_login,
        first_name=PAYLOADS[0],
        last_name=f"Angreifer {PAYLOADS[3]}",
        job_title=PAYLOADS[1],
        description=PAYLOADS[2],
        account_links=[{"account_id": account.pk, "role": PAYLOADS[3]}],
    )
    services.contact_update(
        actor=admin_login, contact_id=contact.pk, data={"department": PAYLOADS[1]}
    )
    log_interaction(admin_login, contact_id=contact.pk, subject=PAYLOADS[0], body=PAYLOADS[1])
    for path in (f"/contacts/{contact.pk}/", f"/accounts/{account.pk}/", "/contacts/", "/"):
        page.goto(page.base_url + path)
        assert page.evaluate("window.__xss") is None, path
    page.goto(page.base_url + f"/contacts/{contact.pk}/")
    expect(page.locator("body")).to_contain_text("<script>window.__xss = 1</script>")
    page.get_by_role("tab", name="History").click()
    page.fill("#global-search", "Angreifer")
    expect(page.locator("#search-results")).to_contain_text("Angreifer")
    assert page.evaluate("window.__xss") is None
    assert dialogs == []
