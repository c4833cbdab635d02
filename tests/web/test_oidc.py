"""Single sign-on with OpenID Connect against a real provider on 127.0.0.1
(tests/oidc_provider.py): matching by verified email, refusals, creation of unknown users
when allowed, two-factor rules, and every check of state, nonce, signature and claims."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest
import requests
from django.contrib.auth import SESSION_KEY
from django.test import Client

from farley.core import audit, oidc
from farley.core.models import ChangeRecord, LoginAttempt, Role, User, UserSession
from tests.factories import make_user
from tests.oidc_provider import configure, oidc_server_fixture  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db

CALLBACK = "http://testserver/login/sso/callback/"
IDP_PASSWORD = "idp-password-123"


@pytest.fixture
def provider(oidc_server, settings):
    return configure(oidc_server, settings, CALLBACK)


@pytest.fixture
def paula(provider):
    provider.add("Paula.Sso@Example.com", IDP_PASSWORD, name="Paula SSO")
    return make_user("sales", email="paula.sso@example.com", full_name="Paula")


def at_provider(client: Client, email: str, password: str = IDP_PASSWORD, *, start="/login/sso/"):
    """Start at Farley, sign in at the provider's form; returns the callback address the
    provider sends the browser back to (not yet followed)."""
    response = client.get(start)
    assert response.status_code == 302
    authorize = response["Location"]
    assert authorize.startswith(oidc.setting("OIDC_OP_AUTHORIZATION_ENDPOINT") + "?")
    params = {k: v[0] for k, v in parse_qs(urlsplit(authorize).query).items()}
    assert params["code_challenge_method"] == "S256" and params["nonce"] and params["state"]
    form = requests.get(authorize, timeout=5)
    assert form.status_code == 200 and 'id="idp-email"' in form.text
    answer = requests.post(
        authorize.split("?")[0],
        data={**params, "email": email, "password": password},
        allow_redirects=False,
        timeout=5,
    )
    assert answer.status_code == 302, answer.text
    return answer.headers["Location"]


def back_at_farley(client: Client, callback: str):
    assert callback.startswith(CALLBACK)
    parts = urlsplit(callback)
    return client.get(parts.path, parse_qs(parts.query))


def sso(client: Client, email: str, **kwargs):
    return back_at_farley(client, at_provider(client, email, **kwargs))


def signed_in_as(client: Client) -> User | None:
    user_id = client.session.get(SESSION_KEY)
    return User.objects.filter(pk=user_id).first() if user_id else None


def refusal(response, client: Client) -> str:
    assert response.status_code == 302 and response["Location"] == "/login/"
    assert signed_in_as(client) is None
    return client.get("/login/").content.decode()


# --- the sign-in page --------------------------------------------------------------------------


def test_without_configuration_there_is_no_single_sign_on(client, settings):
    settings.OIDC_ISSUER = ""
    assert "Sign in with" not in client.get("/login/").content.decode()
    assert client.get("/login/sso/").status_code == 404
    assert client.get("/login/sso/callback/", {"code": "x", "state": "y"}).status_code == 404


def test_the_sign_in_page_offers_the_provider(client, provider):
    page = client.get("/login/?next=/contacts/").content.decode()
    assert "Sign in with Testprovider" in page
    assert 'href="/login/sso/?next=/contacts/"' in page


# --- who may sign in ---------------------------------------------------------------------------


def test_an_existing_user_signs_in_matched_by_email_ignoring_case(client, provider, paula):
    response = sso(client, "paula.sso@EXAMPLE.com")
    assert response.status_code == 302 and response["Location"] == "/"
    assert signed_in_as(client) == paula
    assert client.get("/contacts/").status_code == 200
    # Like a password sign-in: in the session list and recorded as a successful attempt.
    assert UserSession.objects.filter(user=paula).count() == 1
    assert "Paula" in client.get("/profile/").content.decode()
    assert LoginAttempt.objects.filter(email="paula.sso@example.com", succeeded=True).exists()
    assert not User.objects.get(pk=paula.pk).has_usable_password()  # unchanged by SSO


def test_the_page_asked_for_before_signing_in_comes_next(client, provider, paula):
    response = sso(client, paula.email, start="/login/sso/?next=/contacts/")
    assert response["Location"] == "/contacts/"
    evil = sso(Client(), paula.email, start="/login/sso/?next=https://evil.example/")
    assert evil["Location"] == "/"


def test_an_unknown_email_is_refused_by_default(client, provider):
    provider.add("niemand@example.com", IDP_PASSWORD)
    page = refusal(sso(client, "niemand@example.com"), client)
    assert "has no active user" in page and "niemand@example.com" in page
    assert not User.objects.filter(email="niemand@example.com").exists()


def test_unknown_users_are_created_with_the_configured_role_and_team(client, provider, settings):
    settings.OIDC_CREATE_USER = True
    settings.OIDC_DEFAULT_ROLE = "service"
    settings.OIDC_DEFAULT_TEAM = "Kundendienst"
    provider.add("Neu.Ling@Example.com", IDP_PASSWORD, name="Neu Ling")
    assert sso(client, "neu.ling@example.com")["Location"] == "/"
    user = User.objects.get(email="neu.ling@example.com")
    assert signed_in_as(client) == user
    assert user.role.key == "service" and not user.is_staff and user.full_name == "Neu Ling"
    assert [t.name for t in user.teams.all()] == ["Kundendienst"]
    assert not user.has_usable_password()
    created = ChangeRecord.objects.get(entity="user", object_id=user.pk, action="create")
    assert created.actor is None and created.changes["created_by"][1] == "OpenID Connect"
    admin = make_user("administrator")
    assert created in audit.audit_log(admin)
    # The second time the same user is found, not created again.
    client.logout()
    sso(client, "neu.ling@example.com")
    assert User.objects.filter(email__iexact="neu.ling@example.com").count() == 1


def test_new_users_never_get_an_administrator_role(client, provider, settings):
    settings.OIDC_CREATE_USER = True
    settings.OIDC_DEFAULT_ROLE = "administrator"
    provider.add("chef@example.com", IDP_PASSWORD)
    page = refusal(sso(client, "chef@example.com"), client)
    assert "did not work" in page
    assert not User.objects.filter(email="chef@example.com").exists()


def test_a_deactivated_user_is_refused_even_with_creation_on(client, provider, paula, settings):
    settings.OIDC_CREATE_USER = True
    User.objects.filter(pk=paula.pk).update(is_active=False)
    assert "has no active user" in refusal(sso(client, paula.email), client)
    assert User.objects.filter(email__iexact=paula.email).count() == 1


def test_an_unverified_email_is_refused_unless_allowed(client, provider, paula, settings):
    provider.accounts[paula.email].email_verified = False
    assert "has not confirmed the email address" in refusal(sso(client, paula.email), client)
    settings.OIDC_REQUIRE_VERIFIED_EMAIL = False
    assert sso(client, paula.email)["Location"] == "/"
    assert signed_in_as(client) == paula


def test_a_user_deactivated_while_signed_in_is_signed_out(client, provider, paula):
    sso(client, paula.email)
    assert client.get("/contacts/").status_code == 200
    User.objects.filter(pk=paula.pk).update(is_active=False)
    assert client.get("/contacts/").status_code == 302


def test_cancelling_at_the_provider_says_so(client, provider, paula):
    response = client.get("/login/sso/")
    authorize = response["Location"]
    params = {k: v[0] for k, v in parse_qs(urlsplit(authorize).query).items()}
    answer = requests.post(
        authorize.split("?")[0], data={**params, "decision": "deny"}, allow_redirects=False
    )
    page = refusal(back_at_farley(client, answer.headers["Location"]), client)
    assert "was cancelled or refused" in page


# --- what must not be accepted -----------------------------------------------------------------


def test_a_wrong_state_is_refused(client, provider, paula):
    callback = at_provider(client, paula.email)
    query = parse_qs(urlsplit(callback).query)
    query["state"] = ["forged-state"]
    response = client.get("/login/sso/callback/", query)
    assert "did not work" in refusal(response, client)
    assert "POST /token" not in provider.requests  # the code was not even redeemed


def test_a_callback_in_another_browser_is_refused(client, provider, paula):
    """Login CSRF: an attacker's code and state, sent to a victim's browser."""
    callback = at_provider(Client(), paula.email)
    victim = Client()
    refusal(back_at_farley(victim, callback), victim)


def test_a_callback_works_only_once(client, provider, paula):
    callback = at_provider(client, paula.email)
    assert back_at_farley(client, callback)["Location"] == "/"
    client.logout()
    refusal(back_at_farley(client, callback), client)


@pytest.mark.parametrize(
    "tamper",
    [
        {"foreign_key": True},  # signed with a key not in the provider's JWKS
        {"id_token": {"nonce": "not-the-nonce"}},
        {"id_token": {"nonce": None}},
        {"id_token": {"aud": "another-client"}},
        {"id_token": {"aud": ["another-client", "farley-test"], "azp": "another-client"}},
        {"id_token": {"iss": "http://127.0.0.1:1"}},
        {"id_token": {"exp": int(time.time()) - 600, "iat": int(time.time()) - 900}},
        {"id_token": {"exp": None}},
        {"userinfo": {"sub": "somebody-else"}},
    ],
    ids=lambda t: next(iter(t)) + (":" + next(iter(t["id_token"])) if "id_token" in t else ""),
)
def test_forged_or_foreign_tokens_are_refused(client, provider, paula, tamper):
    provider.tamper.update(tamper)
    assert "did not work" in refusal(sso(client, paula.email), client)
    assert not UserSession.objects.filter(user=paula).exists()


def test_several_audiences_are_fine_when_farley_is_the_authorised_party(client, provider, paula):
    provider.tamper["id_token"] = {"aud": ["farley-test", "other"], "azp": "farley-test"}
    assert sso(client, paula.email)["Location"] == "/"


def test_a_password_sign_in_never_redeems_codes_at_the_provider(client, provider, paula):
    paula.set_password("Richtiges-Passwort-2026")
    paula.save()
    response = client.post(
        "/login/?code=abc&state=def",
        {"username": paula.email, "password": "Richtiges-Passwort-2026"},
    )
    assert response.status_code == 302 and signed_in_as(client) == paula
    assert not any(r.endswith("/token") for r in provider.requests)


def test_an_unreachable_or_insecure_provider_is_explained(client, provider, settings):
    settings.OIDC_ISSUER = "http://127.0.0.1:9"  # nothing listens there
    page = refusal(client.get("/login/sso/"), client)
    assert "Signing in with Testprovider did not work" in page
    settings.OIDC_ISSUER = "http://idp.example.com"  # not https
    assert "did not work" in refusal(client.get("/login/sso/"), client)


def test_configured_endpoints_need_no_discovery(client, provider, paula, settings):
    issuer = provider.issuer
    settings.OIDC_OP_AUTHORIZATION_ENDPOINT = issuer + "/authorize"
    settings.OIDC_OP_TOKEN_ENDPOINT = issuer + "/token"
    settings.OIDC_OP_USER_ENDPOINT = issuer + "/userinfo"
    settings.OIDC_OP_JWKS_ENDPOINT = issuer + "/jwks"
    settings.OIDC_ISSUER = issuer + "/"  # as some operators write it
    oidc._discovered.clear()
    provider.tamper["id_token"] = {"iss": issuer + "/"}
    assert sso(client, paula.email)["Location"] == "/"
    assert "GET /.well-known/openid-configuration" not in provider.requests


# --- two-factor authentication -----------------------------------------------------------------


def test_farleys_code_is_still_asked_after_single_sign_on(client, provider, paula):
    secret = pyotp.random_base32()
    User.objects.filter(pk=paula.pk).update(totp_secret=secret)
    response = sso(client, paula.email)
    assert response["Location"] == "/login/code/"
    assert signed_in_as(client) is None
    for _ in range(5):  # wrong codes count towards the lockout as after a password
        assert client.post("/login/code/", {"code": "000000"}).status_code == 422
    locked = client.post("/login/code/", {"code": pyotp.TOTP(secret).now()})
    assert "Too many failed sign-ins" in locked.content.decode()
    LoginAttempt.objects.all().delete()
    assert client.post("/login/code/", {"code": pyotp.TOTP(secret).now()}).status_code == 302
    assert signed_in_as(client) == paula
    assert UserSession.objects.filter(user=paula).count() == 1
    assert client.get("/contacts/").status_code == 200


def test_the_providers_mfa_is_trusted_only_when_configured_and_declared(
    client, provider, paula, settings
):
    Role.objects.filter(key="sales").update(requires_2fa=True)
    User.objects.filter(pk=paula.pk).update(totp_secret=pyotp.random_base32())
    account = provider.accounts[paula.email]
    account.amr = ["pwd", "otp"]
    # off (default): Farley's code all the same
    assert sso(client, paula.email)["Location"] == "/login/code/"
    # amr: only if the ID token says a second factor was used
    settings.OIDC_TRUST_IDP_MFA = "amr"
    fresh = Client()
    assert sso(fresh, paula.email)["Location"] == "/"
    assert fresh.session[oidc.IDP_MFA_SESSION_KEY] is True
    account.amr = ["pwd"]
    assert sso(Client(), paula.email)["Location"] == "/login/code/"


def test_a_role_requiring_2fa_is_satisfied_by_trusted_provider_mfa(
    client, provider, paula, settings
):
    Role.objects.filter(key="sales").update(requires_2fa=True)
    provider.accounts[paula.email].amr = ["mfa", "pwd", "hwk"]
    # Not trusted: signed in, but sent to set up Farley's 2FA first, as after a password.
    sso(client, paula.email)
    assert client.get("/contacts/")["Location"] == "/profile/#two-factor"
    settings.OIDC_TRUST_IDP_MFA = "amr"
    trusted = Client()
    sso(trusted, paula.email)
    assert trusted.get("/contacts/").status_code == 200
