"""Signing in: lockout after repeated failures, sessions a user can end, password reset by
email with single-use expiring links."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.contrib.sessions.models import Session
from django.core import mail
from django.test import Client
from django.utils import timezone

from farley.core.models import LoginAttempt, UserSession
from tests.factories import make_user

pytestmark = pytest.mark.django_db

PASSWORD = "Richtiges-Passwort-2026"


@pytest.fixture
def person():
    user = make_user("sales", email="paula.passwort@example.com")
    user.set_password(PASSWORD)
    user.save()
    return user


def sign_in(client, password, email="paula.passwort@example.com", ip="10.0.0.1"):
    return client.post("/login/", {"username": email, "password": password}, REMOTE_ADDR=ip)


def test_five_failures_lock_the_account_for_a_while_even_for_the_right_password(client, person):
    for _ in range(5):
        assert sign_in(client, "falsch").status_code == 200
    refused = sign_in(client, PASSWORD)
    assert refused.status_code == 200
    assert "Too many failed sign-ins" in refused.content.decode()
    LoginAttempt.objects.update(at=timezone.now() - dt.timedelta(minutes=16))
    assert sign_in(client, PASSWORD).status_code == 302


def test_a_wrong_password_says_so_without_telling_which_part_was_wrong(client, person):
    page = sign_in(client, "falsch").content.decode()
    assert "The email address or the password is not right." in page


def test_many_failures_from_one_address_block_that_address(client, person):
    for i in range(30):
        sign_in(client, "x", email=f"ratespiel{i}@example.com", ip="10.9.9.9")
    assert "Too many failed sign-ins" in sign_in(client, PASSWORD, ip="10.9.9.9").content.decode()
    assert sign_in(Client(), PASSWORD, ip="10.0.0.2").status_code == 302


def test_a_successful_sign_in_starts_the_count_afresh(client, person):
    for _ in range(4):
        sign_in(client, "falsch")
    assert sign_in(client, PASSWORD).status_code == 302
    client.logout()
    for _ in range(4):
        sign_in(client, "falsch")
    assert sign_in(client, PASSWORD).status_code == 302


def test_sessions_are_listed_and_others_can_be_signed_out(person):
    laptop, phone = Client(HTTP_USER_AGENT="Laptop"), Client(HTTP_USER_AGENT="Phone")
    sign_in(laptop, PASSWORD)
    sign_in(phone, PASSWORD)
    assert UserSession.objects.filter(user=person).count() == 2
    page = laptop.get("/profile/").content.decode()
    assert "Laptop" in page and "Phone" in page
    laptop.post("/profile/", {"action": "end_other_sessions"})
    assert phone.get("/contacts/").status_code == 302  # signed out
    assert laptop.get("/contacts/").status_code == 200
    assert Session.objects.count() == 1


def test_password_reset_by_email_link_works_once(client, person):
    response = client.post("/password-reset/", {"email": "Paula.Passwort@example.com"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = re.search(r"http://testserver(/password-reset/\S+/)", mail.outbox[0].body).group(1)
    form = client.get(link, follow=True)
    assert form.status_code == 200
    new = "Ganz-Neues-Passwort-2026"
    done = client.post(
        form.redirect_chain[-1][0], {"new_password1": new, "new_password2": new}, follow=True
    )
    assert "Password changed" in done.content.decode()
    person.refresh_from_db()
    assert person.check_password(new)
    again = client.get(link, follow=True).content.decode()
    assert 'id="reset-invalid"' in again


def test_password_reset_tells_nothing_about_unknown_addresses(client, person):
    response = client.post("/password-reset/", {"email": "niemand@example.com"}, follow=True)
    assert 'id="reset-sent"' in response.content.decode()
    assert mail.outbox == []


def test_a_reset_link_expires_after_an_hour(client, person, settings):
    client.post("/password-reset/", {"email": person.email})
    link = re.search(r"http://testserver(/password-reset/\S+/)", mail.outbox[0].body).group(1)
    settings.PASSWORD_RESET_TIMEOUT = -1
    assert 'id="reset-invalid"' in client.get(link, follow=True).content.decode()
