"""Core writes: users, teams, API tokens, custom-field definitions, saved views."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from farley.core import selectors
from farley.core import services as core
from farley.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from farley.core.history import history_for
from farley.core.models import ApiToken, ChangeRecord, CustomFieldDefinition, SavedView, Team, User
from tests.factories import TeamFactory, make_user

pytestmark = pytest.mark.django_db

PASSWORD = "Korrekt-Pferd-Batterie-42"


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Argon2 takes most of a second per user; these tests are about the rules, not the hash."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# --- users ----------------------------------------------------------------------------------


def test_administrator_creates_a_user_with_role_and_teams(admin):
    user = core.user_create(
        actor=admin,
        email="Neu.Kollege@Example.DE",
        password=PASSWORD,
        role="sales",
        full_name="Neu Kollege",
        team_names=["Vertrieb West"],
        language="de",
    )
    user = User.objects.get(pk=user.pk)
    assert user.email == "neu.kollege@example.de"
    assert user.full_name == "Neu Kollege"
    assert user.role.key == "sales"
    assert user.language == "de"
    assert user.is_staff is False
    assert user.check_password(PASSWORD)
    assert [t.name for t in user.teams.all()] == ["Vertrieb West"]
    [change] = history_for("user", user.pk)
    assert change.action == "create"
    assert change.actor == admin
    assert change.changes == {
        "email": [None, "neu.kollege@example.de"],
        "role": [None, "sales"],
        "teams": [None, ["Vertrieb West"]],
    }


def test_new_administrator_may_use_the_operator_admin(admin):
    user = core.user_create(
        actor=admin, email="chef@example.de", password=PASSWORD, role="administrator"
    )
    assert user.is_staff is True


def test_command_line_creates_users_without_an_actor(db):
    user = core.user_create(
        actor=None, email="erster@example.de", password=PASSWORD, role="administrator"
    )
    assert user.role.is_administrator
    assert history_for("user", user.pk).get().actor is None


def test_user_joins_an_existing_team(admin, team1):
    user = core.user_create(
        actor=admin,
        email="x@example.de",
        password=PASSWORD,
        role="sales",
        team_names=[" Vertrieb Nord "],
    )
    assert list(user.teams.all()) == [team1]
    assert Team.objects.count() == 1


def test_user_joins_an_existing_team_whatever_the_case(admin, team1):
    user = core.user_create(
        actor=admin,
        email="y@example.de",
        password=PASSWORD,
        role="sales",
        team_names=["vertrieb nord"],
    )
    assert list(user.teams.all()) == [team1]
    assert Team.objects.count() == 1


@pytest.mark.parametrize("role", ["manager", "sales", "read_only"])
def test_only_administrators_create_users(role):
    actor = make_user(role)
    before = User.objects.count()
    with pytest.raises(Forbidden):
        core.user_create(actor=actor, email="x@example.de", password=PASSWORD, role="sales")
    assert User.objects.count() == before


def test_bad_user_input_lists_every_problem_and_writes_nothing(admin):
    make_user(email="da@example.de")
    before = User.objects.count()
    with pytest.raises(ValidationFailed) as exc:
        core.user_create(actor=admin, email="DA@example.de", password="12345678", role="chef")
    fields = exc.value.fields
    assert sorted(fields) == ["email", "password", "role"]
    assert fields["email"] == ["A user with this email address exists already."]
    assert fields["role"] == [
        "Select one of: administrator, manager, marketing, read_only, sales, service."
    ]
    assert (
        "This password is too short. It must contain at least 10 characters." in fields["password"]
    )
    assert "This password is entirely numeric." in fields["password"]
    assert User.objects.count() == before
    assert ChangeRecord.objects.count() == 0


def test_invalid_email_for_a_user(admin):
    with pytest.raises(ValidationFailed) as exc:
        core.user_create(actor=admin, email="kein-at", password=PASSWORD, role="sales")
    assert exc.value.fields == {"email": ["Enter a valid email address."]}


def test_user_sets_language(sales1):
    core.user_set_language(actor=sales1, language="de")
    assert User.objects.get(pk=sales1.pk).language == "de"
    with pytest.raises(ValidationFailed) as exc:
        core.user_set_language(actor=sales1, language="fr")
    assert exc.value.fields == {"language": ["Select a valid choice."]}
    assert User.objects.get(pk=sales1.pk).language == "de"


def test_active_users_selector(admin, sales1):
    make_user(is_active=False, email="weg@example.de")
    assert list(selectors.users_active()) == [admin, sales1]


# --- teams ----------------------------------------------------------------------------------


def test_administrator_creates_a_team(admin, sales1):
    team = core.team_create(actor=admin, data={"name": "  Key Accounts  ", "lead_id": sales1.pk})
    assert (team.name, team.lead, team.version) == ("Key Accounts", sales1, 1)
    assert history_for("team", team.pk).get().changes == {"name": [None, "Key Accounts"]}


def test_team_name_must_be_unique_ignoring_case(admin, team1):
    with pytest.raises(ValidationFailed) as exc:
        core.team_create(actor=admin, data={"name": "vertrieb nord"})
    assert exc.value.fields == {"name": ["A team with this name exists already."]}
    assert Team.objects.count() == 1


def test_bad_team_input(admin):
    with pytest.raises(ValidationFailed) as exc:
        core.team_create(actor=admin, data={"name": "", "lead_id": 999999, "colour": "rot"})
    assert exc.value.fields == {
        "name": ["This field is required."],
        "colour": ["Unknown field."],
        "lead_id": ["Select an active user."],
    }
    assert Team.objects.count() == 0


def test_only_administrators_manage_teams(manager, team1):
    with pytest.raises(Forbidden):
        core.team_create(actor=manager, data={"name": "Neu"})
    with pytest.raises(Forbidden):
        core.team_update(actor=manager, team_id=team1.pk, data={"name": "Neu"})
    with pytest.raises(Forbidden):
        core.team_delete(actor=manager, team_id=team1.pk)
    assert Team.objects.get(pk=team1.pk).name == "Vertrieb Nord"


def test_team_rename_is_versioned_with_old_and_new_value(admin, team1):
    team = core.team_update(
        actor=admin, team_id=team1.pk, data={"name": "Vertrieb Nordost"}, version=1
    )
    assert (team.name, team.version) == ("Vertrieb Nordost", 2)
    [change] = history_for("team", team1.pk).filter(action="update")
    assert change.changes == {"name": ["Vertrieb Nord", "Vertrieb Nordost"]}
    assert change.actor == admin


def test_team_update_without_change_keeps_the_version(admin, team1):
    team = core.team_update(actor=admin, team_id=team1.pk, data={"name": "Vertrieb Nord"})
    assert team.version == 1
    assert not history_for("team", team1.pk).exists()


def test_stale_team_version_is_a_conflict_and_changes_nothing(admin, team1):
    core.team_update(actor=admin, team_id=team1.pk, data={"name": "Eins"}, version=1)
    with pytest.raises(Conflict) as exc:
        core.team_update(actor=admin, team_id=team1.pk, data={"name": "Zwei"}, version=1)
    assert exc.value.current_version == 2
    assert exc.value.status == 409
    assert Team.objects.get(pk=team1.pk).name == "Eins"


def test_team_version_that_is_not_a_number_is_a_field_error(admin, team1):
    with pytest.raises(ValidationFailed) as exc:
        core.team_update(actor=admin, team_id=team1.pk, data={"name": "Zwei"}, version="abc")
    assert exc.value.fields == {"version": ["Enter a whole number."]}


def test_team_update_unknown_team(admin):
    with pytest.raises(NotFound):
        core.team_update(actor=admin, team_id=424242, data={"name": "x"})


def test_team_delete_keeps_a_history_entry(admin, sales1, team1):
    core.team_delete(actor=admin, team_id=team1.pk)
    assert not Team.objects.filter(pk=team1.pk).exists()
    assert list(User.objects.get(pk=sales1.pk).teams.all()) == []
    assert history_for("team", team1.pk).get().action == "delete"
    with pytest.raises(NotFound):
        core.team_delete(actor=admin, team_id=team1.pk)


# --- API tokens -----------------------------------------------------------------------------


def test_token_is_shown_once_and_only_its_hash_is_stored(sales1):
    token, key = core.token_create(user=sales1, name="Laptop")
    assert key.startswith("fy_")
    assert token.prefix == key[:10]
    assert key not in {token.key_hash, token.prefix}
    assert ApiToken.objects.get(pk=token.pk).key_hash == ApiToken.hash_key(key)
    assert core.token_authenticate(key) == sales1
    assert ApiToken.objects.get(pk=token.pk).last_used_at is not None


@pytest.mark.parametrize("key", ["", "fy_wrong", "x" * 500])
def test_unknown_token_authenticates_nobody(sales1, key):
    core.token_create(user=sales1)
    assert core.token_authenticate(key) is None


def test_revoked_expired_or_inactive_tokens_do_not_work(sales1):
    _revoked, revoked_key = core.token_create(user=sales1)
    core.token_revoke(actor=sales1, token_id=_revoked.pk)
    _expired, expired_key = core.token_create(
        user=sales1, expires_at=timezone.now() + dt.timedelta(seconds=30)
    )
    ApiToken.objects.filter(pk=_expired.pk).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    _valid, valid_key = core.token_create(
        user=sales1, expires_at=timezone.now() + dt.timedelta(days=1)
    )
    assert core.token_authenticate(revoked_key) is None
    assert core.token_authenticate(expired_key) is None
    assert core.token_authenticate(valid_key) == sales1
    User.objects.filter(pk=sales1.pk).update(is_active=False)
    assert core.token_authenticate(valid_key) is None


def test_user_cannot_revoke_someone_elses_token(sales1, sales2):
    token, key = core.token_create(user=sales1)
    with pytest.raises(NotFound):
        core.token_revoke(actor=sales2, token_id=token.pk)
    assert core.token_authenticate(key) == sales1


# --- custom-field definitions ---------------------------------------------------------------


def test_administrator_defines_a_choice_field(admin):
    definition = core.custom_field_create(
        actor=admin,
        data={
            "entity": "contact",
            "key": "segment",
            "label": "Segment",
            "label_de": "Segment",
            "field_type": "choice",
            "choices": "A-Kunde\nB-Kunde\nA-Kunde\n",
            "position": 3,
        },
    )
    assert definition.choices == ["A-Kunde", "B-Kunde"]
    assert (definition.is_active, definition.is_required, definition.position) == (True, False, 3)
    assert list(selectors.custom_fields("contact")) == [definition]
    assert list(selectors.custom_fields("account")) == []


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        (
            {"entity": "spaceship", "key": "x", "label": "X", "field_type": "text"},
            {"entity": ["Select a valid choice."]},
        ),
        (
            {"entity": "contact", "key": "Schuh Größe", "label": "X", "field_type": "text"},
            {"key": ["Use lower-case letters, digits and underscores, starting with a letter."]},
        ),
        (
            {"entity": "contact", "key": "x", "label": "", "field_type": "colour"},
            {"label": ["This field is required."], "field_type": ["Select a valid choice."]},
        ),
        (
            {"entity": "contact", "key": "x", "label": "X", "field_type": "choice"},
            {"choices": ["Enter at least one choice, one per line."]},
        ),
        (
            {"entity": "contact", "key": "x", "label": "X", "field_type": "text", "secret": 1},
            {"secret": ["Unknown field."]},
        ),
    ],
)
def test_bad_custom_field_definition(admin, data, errors):
    with pytest.raises(ValidationFailed) as exc:
        core.custom_field_create(actor=admin, data=data)
    assert exc.value.fields == errors
    assert CustomFieldDefinition.objects.count() == 0


def test_custom_field_key_is_unique_per_entity(admin):
    data = {"entity": "contact", "key": "rating", "label": "Rating", "field_type": "integer"}
    core.custom_field_create(actor=admin, data=data)
    with pytest.raises(ValidationFailed) as exc:
        core.custom_field_create(actor=admin, data=data)
    assert exc.value.fields == {"key": ["This entity has a custom field with this key already."]}
    core.custom_field_create(actor=admin, data={**data, "entity": "account"})
    assert CustomFieldDefinition.objects.count() == 2


def test_only_administrators_define_custom_fields(manager):
    with pytest.raises(Forbidden):
        core.custom_field_create(
            actor=manager,
            data={"entity": "contact", "key": "x", "label": "X", "field_type": "text"},
        )


def test_custom_field_update_is_versioned(admin):
    definition = core.custom_field_create(
        actor=admin, data={"entity": "contact", "key": "x", "label": "Alt", "field_type": "text"}
    )
    definition = core.custom_field_update(
        actor=admin, field_id=definition.pk, data={"label": "Neu"}, version=1
    )
    assert (definition.label, definition.version) == ("Neu", 2)
    change = history_for("custom_field", definition.pk).filter(action="update").get()
    assert change.changes == {"label": ["Alt", "Neu"]}
    with pytest.raises(Conflict):
        core.custom_field_update(
            actor=admin, field_id=definition.pk, data={"label": "Später"}, version=1
        )
    assert CustomFieldDefinition.objects.get(pk=definition.pk).label == "Neu"


def test_custom_field_delete_deactivates(admin):
    definition = core.custom_field_create(
        actor=admin, data={"entity": "contact", "key": "x", "label": "X", "field_type": "text"}
    )
    core.custom_field_delete(actor=admin, field_id=definition.pk)
    assert list(selectors.custom_fields("contact")) == []
    assert list(selectors.custom_fields("contact", include_inactive=True)) == [
        CustomFieldDefinition.objects.get(pk=definition.pk)
    ]


# --- saved views ----------------------------------------------------------------------------


def test_saved_view_shared_with_own_team(sales1, team1):
    colleague = make_user("sales", team1)
    outsider = make_user("sales", TeamFactory())
    view = core.saved_view_create(
        actor=sales1,
        entity="contact",
        name="Berliner",
        query="?city=Berlin",
        columns=["name", "city"],
        team_id=team1.pk,
    )
    assert (view.query, view.columns, view.shared_with_team) == (
        "city=Berlin",
        ["name", "city"],
        team1,
    )
    assert list(selectors.saved_views_for(colleague, "contact")) == [view]
    assert list(selectors.saved_views_for(outsider, "contact")) == []
    assert list(selectors.saved_views_for(sales1, "account")) == []


def test_saved_view_cannot_be_shared_with_a_foreign_team(sales1, team2):
    with pytest.raises(ValidationFailed) as exc:
        core.saved_view_create(
            actor=sales1, entity="contact", name="x", query="", columns=[], team_id=team2.pk
        )
    assert exc.value.fields == {"team_id": ["Select one of your teams."]}
    assert SavedView.objects.count() == 0


def test_only_the_owner_deletes_a_saved_view(sales1, sales2):
    view = core.saved_view_create(
        actor=sales1, entity="account", name="Meine", query="", columns=[]
    )
    with pytest.raises(NotFound):
        core.saved_view_delete(actor=sales2, view_id=view.pk)
    core.saved_view_delete(actor=sales1, view_id=view.pk)
    assert SavedView.objects.count() == 0


def test_user_update_rejects_unknown_fields_and_teams_and_changes_nothing(admin, sales1):
    with pytest.raises(ValidationFailed) as caught:
        core.user_update(
            actor=admin,
            user_id=sales1.pk,
            data={"teams": ["Gibt es nicht"], "is_superuser": True, "full_name": "Neu"},
        )
    assert set(caught.value.fields) == {"teams", "is_superuser"}
    sales1.refresh_from_db()
    assert sales1.full_name == "Sven Sales"
    assert not sales1.is_superuser


def test_only_administrators_update_users(manager, sales1):
    with pytest.raises(Forbidden):
        core.user_update(actor=manager, user_id=sales1.pk, data={"role": "administrator"})
