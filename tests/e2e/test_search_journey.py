"""Browser journey: a sales user's global search shows their own records and those shared
with them, never another team's, and follows a share being taken back (on SQLite through the
index of words per access token)."""

from __future__ import annotations

from playwright.sync_api import expect

from farley.core import sharing
from farley.core.services import user_create
from tests.e2e.sessions import PASSWORD, sign_in
from tests.factories import make_contact


def test_a_sales_user_finds_own_and_shared_records_only(page, admin_login):
    nina = user_create(actor=None, email="nina@example.com", password=PASSWORD, role="sales",
                       full_name="Nina Nord", team_names=["Vertrieb Nord"])  # fmt: skip
    sven = user_create(actor=None, email="sven@example.com", password=PASSWORD, role="sales",
                       full_name="Sven Süd", team_names=["Vertrieb Süd"])  # fmt: skip
    make_contact(nina, first_name="Anna", last_name="Bergmann")
    shared = make_contact(sven, first_name="Bernd", last_name="Lindenberger")
    make_contact(sven, first_name="Clara", last_name="Berger")
    share = sharing.share_create(
        actor=sven, entity="contact", object_id=shared.pk, data={"user_id": nina.pk}
    )

    sign_in(page, nina.email)
    results = page.locator("#search-results")
    page.fill("#global-search", "berg")
    expect(results.get_by_text("Anna Bergmann")).to_be_visible()
    expect(results.get_by_text("Bernd Lindenberger")).to_be_visible()
    expect(results.get_by_text("Clara Berger")).to_have_count(0)
    page.fill("#global-search", "Berger")
    expect(results.get_by_text("Bernd Lindenberger")).to_be_visible()
    expect(results.get_by_text("Anna Bergmann")).to_have_count(0)
    expect(results.get_by_text("Clara Berger")).to_have_count(0)
    results.get_by_text("Bernd Lindenberger").click()
    expect(page.locator("h1")).to_have_text("Bernd Lindenberger")

    sharing.share_delete(actor=sven, share_id=share.pk)
    page.goto(page.base_url + "/")
    page.fill("#global-search", "Berger")
    expect(results).to_contain_text("Nothing found.")
    expect(results.get_by_text("Bernd Lindenberger")).to_have_count(0)
