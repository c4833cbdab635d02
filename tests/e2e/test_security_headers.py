"""The strict Content-Security-Policy breaks nothing: the main pages load, work and show no
policy violation in Chromium."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.factories import log_interaction, make_account, make_contact


def test_pages_run_under_the_content_security_policy(page, admin_login):
    account = make_account(admin_login, name="Sicher GmbH")
    contact = make_contact(
        admin_login, first_name="Cora", last_name="Csp", account_links=[{"account_id": account.pk}]
    )
    log_interaction(admin_login, contact_id=contact.pk, subject="Zeile 1\nZeile 2")
    violations: list[str] = []
    page.on(
        "console",
        lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None,
    )
    for path in ("/", "/contacts/", f"/contacts/{contact.pk}/", f"/accounts/{account.pk}/",
                 f"/contacts/{contact.pk}/edit/", "/settings/", "/profile/", "/api/v1/docs"):  # fmt: skip
        response = page.goto(page.base_url + path)
        assert "default-src 'self'" in response.headers["content-security-policy"]
    # htmx and the page's own script still work: typing in the search box shows results.
    page.goto(page.base_url + "/contacts/")
    page.fill("#global-search", "Csp")
    expect(page.locator("#search-results")).to_contain_text("Cora Csp")
    expect(page.locator("#swagger-ui")).to_have_count(0)
    assert violations == []
