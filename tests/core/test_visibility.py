"""Who sees which records, and who may change them: the one visibility mechanism."""

from __future__ import annotations

import pytest

from farley.contacts.models import Account
from farley.core import permissions
from farley.core.models import Visibility
from farley.core.visibility import (
    is_administrator,
    team_ids,
    visibility_scope,
    visible_records,
)
from tests.factories import TeamFactory, make_account, make_user

pytestmark = pytest.mark.django_db


def names(user, **kwargs) -> list[str]:
    return sorted(
        visible_records(Account.objects.all(), user, **kwargs).values_list("name", flat=True)
    )


@pytest.fixture
def records(admin, sales1, sales2, team1, team2):
    """One record owned by each sales user in their team, one private to each, one admin record."""
    make_account(sales1, name="Nord Team")
    make_account(sales1, name="Nord Privat", team_id=None)
    make_account(sales2, name="Süd Team")
    make_account(sales2, name="Süd Privat", team_id=None)
    make_account(admin, name="Zentrale")


@pytest.mark.parametrize(
    ("role", "scope", "writes", "administers"),
    [
        ("administrator", Visibility.ALL, True, True),
        ("manager", Visibility.ALL, True, False),
        ("sales", Visibility.TEAM, True, False),
        ("service", Visibility.TEAM, True, False),
        ("marketing", Visibility.ALL, True, False),
        ("read_only", Visibility.ALL, False, False),
    ],
)
def test_built_in_roles(role, scope, writes, administers):
    user = make_user(role)
    assert visibility_scope(user) == scope
    assert permissions.can(user, "edit", "contact") is writes
    assert is_administrator(user) is administers


def test_inactive_user_sees_nothing_and_writes_nothing(records):
    user = make_user("administrator", is_active=False)
    assert visibility_scope(user) == "none"
    assert names(user) == []
    assert permissions.can(user, "view", "contact") is False
    assert is_administrator(user) is False


def test_superuser_sees_all_whatever_the_role(records):
    user = make_user("read_only", is_superuser=True)
    assert visibility_scope(user) == Visibility.ALL
    assert permissions.can(user, "delete", "account") is True
    assert is_administrator(user) is True


def test_sales_user_sees_own_and_team_records_only(records, sales1, team1):
    colleague = make_user("sales", team1)
    assert names(sales1) == ["Nord Privat", "Nord Team"]
    # A team mate sees the team record but not the other's private one.
    assert names(colleague) == ["Nord Team"]


def test_sales_user_of_team_1_does_not_see_team_2_records(records, sales1):
    assert "Süd Team" not in names(sales1)
    assert "Süd Privat" not in names(sales1)
    assert "Zentrale" not in names(sales1)


def test_administrator_sees_everything(records, admin):
    assert names(admin) == ["Nord Privat", "Nord Team", "Süd Privat", "Süd Team", "Zentrale"]


def test_all_scope_roles_see_everything(records, manager, reader):
    everything = ["Nord Privat", "Nord Team", "Süd Privat", "Süd Team", "Zentrale"]
    assert names(manager) == everything
    assert names(reader) == everything


def test_user_in_two_teams_sees_both_teams(records, team1, team2):
    both = make_user("sales", team1, team2)
    assert names(both) == ["Nord Team", "Süd Team"]


def test_sales_user_without_team_sees_only_own_records(records):
    loner = make_user("sales")
    make_account(loner, name="Eigene")
    assert names(loner) == ["Eigene"]


def test_deleted_records_are_hidden_unless_asked_for(records, admin):
    from farley.contacts.services import account_delete

    account = Account.objects.get(name="Zentrale")
    account_delete(actor=admin, account_id=account.pk)
    assert "Zentrale" not in names(admin)
    assert "Zentrale" in names(admin, include_deleted=True)


def test_team_ids_lists_the_users_teams(sales1, team1):
    other = TeamFactory()
    assert team_ids(sales1) == [team1.pk]
    assert other.pk not in team_ids(sales1)
