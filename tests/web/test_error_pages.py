"""Friendly error pages (settings.DEBUG is False in the tests, so Django renders them)."""

from __future__ import annotations

import pytest
from django.template.loader import render_to_string

from tests.factories import make_user

pytestmark = pytest.mark.django_db


def test_unknown_address_answers_the_404_page_with_a_way_home(client, admin):
    client.force_login(admin)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "Page not found" in page
    assert "The address may be mistyped" in page
    assert 'href="/"' in page
    assert "Sign out" in page  # the usual header for a signed-in user


def test_404_page_works_without_a_signed_in_user(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "Page not found" in page
    assert "Sign out" not in page


def test_settings_as_a_sales_user_answers_the_403_page(client):
    client.force_login(make_user("sales"))
    response = client.get("/settings/")
    assert response.status_code == 403
    page = response.content.decode()
    assert "Access denied" in page
    assert "ask an administrator" in page
    assert 'href="/"' in page


def test_403_page_shows_the_reason_a_service_gave(rf, admin):
    request = rf.get("/settings/roles/")
    request.user = admin
    page = render_to_string(
        "403.html", {"exception": "Only administrators may do this."}, request=request
    )
    assert "Access denied" in page
    assert "Only administrators may do this." in page


def test_bad_host_answers_the_400_page(client):
    response = client.get("/", HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert "Bad request" in response.content.decode()


def test_500_page_renders_without_request_or_database(django_assert_num_queries):
    with django_assert_num_queries(0):
        page = render_to_string("500.html")
    assert "Something went wrong" in page
    assert 'href="/"' in page
    assert "/static/farley/farley.css" in page
