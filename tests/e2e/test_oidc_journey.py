"""Single sign-on in Chromium: "Sign in with ..." on Farley's sign-in page, the provider's
login form (tests/oidc_provider.py, a real OpenID Connect provider on 127.0.0.1), and back
on Farley signed in, with the session in the profile's list."""

from __future__ import annotations

import pyotp
import pytest
from playwright.sync_api import expect

from farley.core.models import User
from tests.e2e.conftest import _restore_reference_data
from tests.oidc_provider import configure, oidc_server_fixture  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db(transaction=True)

IDP_PASSWORD = "idp-password-123"


@pytest.fixture
def provider(oidc_server, settings, page):
    _restore_reference_data()
    return configure(oidc_server, settings, page.base_url + "/login/sso/callback/")


def _sign_in_at_provider(page, provider, email: str, password: str = IDP_PASSWORD) -> None:
    page.goto(page.base_url + "/login/")
    page.get_by_role("link", name="Sign in with Testprovider").click()
    page.wait_for_url(provider.issuer + "/authorize?**")
    expect(page.get_by_role("heading")).to_have_text("Test provider: sign in")
    page.fill("#idp-email", email)
    page.fill("#idp-password", password)
    page.click("#idp-submit")


def test_signing_in_with_the_provider(page, provider):
    from farley.core.services import user_create

    user = user_create(
        actor=None,
        email="sina.sso@example.com",
        password="Correct-Horse-Battery-9",
        role="sales",
        full_name="Sina Sso",
        team_names=["Vertrieb"],
    )
    provider.add("Sina.Sso@example.com", IDP_PASSWORD, name="Sina Sso")
    provider.add("fremd@example.com", IDP_PASSWORD)

    # Someone the provider knows but Farley does not is sent back with an explanation.
    _sign_in_at_provider(page, provider, "fremd@example.com")
    page.wait_for_url(page.base_url + "/login/")
    expect(page.get_by_role("alert")).to_contain_text("Farley has no active user")

    # A wrong password stays at the provider.
    _sign_in_at_provider(page, provider, "sina.sso@example.com", "wrong")
    expect(page.get_by_role("alert")).to_have_text("Wrong email or password.")

    _sign_in_at_provider(page, provider, "sina.sso@example.com")
    page.wait_for_url(page.base_url + "/")
    page.goto(page.base_url + "/profile/")
    sessions = page.locator("#sessions tbody tr")
    expect(sessions).to_have_count(1)
    expect(sessions.first).to_contain_text("this browser")
    assert user.browser_sessions.count() == 1

    # Signed out, the page asked for comes after signing in through the provider.
    page.context.clear_cookies()
    page.goto(page.base_url + "/contacts/")
    page.wait_for_url(page.base_url + "/login/?next=/contacts/")
    page.get_by_role("link", name="Sign in with Testprovider").click()
    page.fill("#idp-email", "sina.sso@example.com")
    page.fill("#idp-password", IDP_PASSWORD)
    page.click("#idp-submit")
    page.wait_for_url(page.base_url + "/contacts/")


def test_farleys_second_factor_follows_the_provider(page, provider):
    from farley.core.services import user_create

    user = user_create(
        actor=None,
        email="toni.totp@example.com",
        password="Correct-Horse-Battery-9",
        role="sales",
    )
    secret = pyotp.random_base32()
    User.objects.filter(pk=user.pk).update(totp_secret=secret)
    provider.add("toni.totp@example.com", IDP_PASSWORD)

    _sign_in_at_provider(page, provider, "toni.totp@example.com")
    page.wait_for_url(page.base_url + "/login/code/")
    page.fill("#id_code", pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(page.base_url + "/")
