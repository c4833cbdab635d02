"""Shared reads of the core: users and teams as the options of a select."""

from __future__ import annotations

import pytest

from farley.core.selectors import Choice, team_choices, user_choices
from tests.factories import TeamFactory, make_user

pytestmark = pytest.mark.django_db


def test_users_as_options_are_the_active_ones_by_name_with_the_email_for_no_name(admin):
    zora = make_user("sales", full_name="Zora Zander")
    nameless = make_user("sales", full_name="")
    make_user("sales", full_name="Alt Former", is_active=False)
    options = user_choices()
    labels = [str(option) for option in options]
    assert labels.index(admin.full_name) < labels.index("Zora Zander")
    assert "Alt Former" not in labels
    assert Choice(nameless.pk, nameless.email) in options
    assert Choice(zora.pk, "Zora Zander") not in user_choices(exclude=zora.pk)


def test_teams_as_options_by_name():
    TeamFactory(name="Süd")
    TeamFactory(name="Nord")
    names = [str(team) for team in team_choices()]
    assert names.index("Nord") < names.index("Süd")
