"""Shared fixtures: two sales teams, a user per role, and a German address."""

from __future__ import annotations

import pytest

from tests.factories import TeamFactory, make_user


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    """Uploaded files of a test go to its own temporary folder."""
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def team1(db):
    return TeamFactory(name="Vertrieb Nord")


@pytest.fixture
def team2(db):
    return TeamFactory(name="Vertrieb Süd")


@pytest.fixture
def admin(db):
    return make_user("administrator", full_name="Ada Admin")


@pytest.fixture
def manager(db):
    return make_user("manager", full_name="Mona Manager")


@pytest.fixture
def sales1(team1):
    """A sales user of team 1 (sees own and team-1 records)."""
    return make_user("sales", team1, full_name="Sven Sales")


@pytest.fixture
def sales2(team2):
    """A sales user of team 2."""
    return make_user("sales", team2, full_name="Sara Sales")


@pytest.fixture
def reader(db):
    return make_user("read_only", full_name="Rita Reader")


@pytest.fixture
def berlin():
    return {
        "street": "Unter den Linden",
        "house_number": "1",
        "postal_code": "10117",
        "city": "Berlin",
        "country": "DE",
    }
