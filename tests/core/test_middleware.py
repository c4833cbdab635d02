"""A signed-in user's language and time zone hold for their request only: the thread serves
other users next."""

from __future__ import annotations

import pytest
from django.utils import timezone, translation

from tests.factories import make_user

pytestmark = pytest.mark.django_db


def test_a_german_users_request_leaves_the_thread_as_it_found_it(client):
    before = translation.get_language()
    german = make_user("sales", language="de", time_zone="America/New_York")
    client.force_login(german)
    response = client.get("/my-day/")
    assert response["Content-Language"] == "de"
    assert "Mein Tag" in response.content.decode()
    assert translation.get_language() == before
    assert timezone.get_current_timezone_name() == timezone.get_default_timezone_name()
