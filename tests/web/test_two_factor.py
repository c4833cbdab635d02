"""Two-factor authentication: set up in the profile with an authenticator app, asked for at
sign-in, recovery codes work once, wrong codes count towards the lockout, and a role can
require it."""

from __future__ import annotations

import re

import pyotp
import pytest
from django.test import Client

from farley.core import services as core
from farley.core.models import Role, User
from tests.factories import make_user

pytestmark = pytest.mark.django_db

PASSWORD = "Zwei-Faktoren-Passwort-26"


@pytest.fixture
def person():
    user = make_user("sales", email="tom.totp@example.com")
    user.set_password(PASSWORD)
    user.save()
    return user


def set_up(client: Client) -> tuple[str, list[str]]:
    client.post("/profile/", {"action": "start_2fa"})
    page = client.get("/profile/").content.decode()
    secret = re.search(r'id="totp-secret"[^>]*>([A-Z2-7]+)<', page).group(1)
    assert "<svg" in page  # the QR code
    done = client.post("/profile/", {"action": "enable_2fa", "code": pyotp.TOTP(secret).now()})
    codes = re.findall(r"<li>([0-9a-f]{6}-[0-9a-f]{6})</li>", done.content.decode())
    return secret, codes


def test_setting_up_and_signing_in_with_a_code(person):
    browser = Client()
    browser.force_login(person)
    secret, codes = set_up(browser)
    assert len(codes) == 8
    assert User.objects.get(pk=person.pk).totp_secret == secret

    fresh = Client()
    step1 = fresh.post("/login/", {"username": person.email, "password": PASSWORD})
    assert step1["Location"] == "/login/code/"
    assert fresh.get("/contacts/").status_code == 302  # not signed in yet
    wrong = fresh.post("/login/code/", {"code": "000000"})
    assert wrong.status_code == 422
    right = fresh.post("/login/code/", {"code": pyotp.TOTP(secret).now()})
    assert right.status_code == 302
    assert fresh.get("/contacts/").status_code == 200


def test_a_recovery_code_works_once(person):
    browser = Client()
    browser.force_login(person)
    _secret, codes = set_up(browser)
    for expected in (302, 422):
        client = Client()
        client.post("/login/", {"username": person.email, "password": PASSWORD})
        assert client.post("/login/code/", {"code": codes[0]}).status_code == expected


def test_a_wrong_setup_code_keeps_it_off(person):
    browser = Client()
    browser.force_login(person)
    browser.post("/profile/", {"action": "start_2fa"})
    response = browser.post("/profile/", {"action": "enable_2fa", "code": "123456"})
    assert response.status_code == 422
    assert User.objects.get(pk=person.pk).totp_secret == ""


def test_wrong_codes_count_towards_the_lockout(person):
    browser = Client()
    browser.force_login(person)
    secret, _codes = set_up(browser)
    client = Client()
    client.post("/login/", {"username": person.email, "password": PASSWORD})
    for _ in range(5):
        client.post("/login/code/", {"code": "000000"})
    locked = client.post("/login/code/", {"code": pyotp.TOTP(secret).now()})
    assert "Too many failed sign-ins" in locked.content.decode()


def test_a_role_can_require_it(admin, person):
    core.role_update(
        actor=admin, role_id=Role.objects.get(key="sales").pk, data={"requires_2fa": True}
    )
    browser = Client()
    browser.force_login(User.objects.get(pk=person.pk))
    response = browser.get("/contacts/")
    assert response.status_code == 302 and response["Location"] == "/profile/#two-factor"
    assert (
        "Your role requires two-factor authentication" in browser.get("/profile/").content.decode()
    )
    set_up(browser)
    assert browser.get("/contacts/").status_code == 200
    off = browser.post("/profile/", {"action": "disable_2fa", "code": "000000"})
    assert off.status_code == 422
