"""Settings pages: administrators change users (role, teams, deactivation, password) and
rename or delete teams; nobody else can."""

from __future__ import annotations

import pytest

from farley.core.models import ChangeRecord, Team, User
from tests.factories import TeamFactory, make_user

pytestmark = pytest.mark.django_db


def form(user: User, **changes) -> dict:
    data = {
        "email": user.email,
        "full_name": user.full_name,
        "role": user.role.key,
        "teams": [t.name for t in user.teams.all()],
        "is_active": "on" if user.is_active else None,
        "language": user.language,
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_admin_changes_role_and_teams_of_a_user(client, admin, sales1, team2):
    client.force_login(admin)
    response = client.post(
        f"/settings/users/{sales1.pk}/", form(sales1, role="manager", teams=[team2.name])
    )
    assert response.status_code == 302
    sales1.refresh_from_db()
    assert sales1.role.key == "manager"
    assert [t.name for t in sales1.teams.all()] == [team2.name]
    change = ChangeRecord.objects.filter(entity="user", object_id=sales1.pk).latest("at")
    assert change.changes["role"] == ["sales", "manager"]


def test_deactivated_user_is_signed_out_and_listed_as_deactivated(client, admin, sales1):
    other = client.__class__()
    other.force_login(sales1)
    assert other.get("/contacts/").status_code == 200
    client.force_login(admin)
    client.post(f"/settings/users/{sales1.pk}/", form(sales1, is_active=None))
    assert other.get("/contacts/").status_code == 302  # back to the login page
    page = client.get("/settings/").content.decode()
    assert "deactivated" in page
    assert f"/settings/users/{sales1.pk}/" in page


def test_the_last_administrator_cannot_demote_or_deactivate_themselves(client, admin):
    client.force_login(admin)
    response = client.post(f"/settings/users/{admin.pk}/", form(admin, role="sales"))
    assert response.status_code == 422
    assert "at least one active administrator" in response.content.decode()
    response = client.post(f"/settings/users/{admin.pk}/", form(admin, is_active=None))
    assert response.status_code == 422
    admin.refresh_from_db()
    assert (admin.role.key, admin.is_active) == ("administrator", True)


def test_a_new_password_must_be_strong_and_then_works(client, admin, sales1):
    client.force_login(admin)
    response = client.post(f"/settings/users/{sales1.pk}/", form(sales1, password="kurz"))
    assert response.status_code == 422
    assert 'id="f-password"' in response.content.decode()
    client.post(f"/settings/users/{sales1.pk}/", form(sales1, password="Neues-Passwort-2026"))
    sales1.refresh_from_db()
    assert sales1.check_password("Neues-Passwort-2026")


def test_email_taken_by_another_user_is_a_field_error(client, admin, sales1, sales2):
    client.force_login(admin)
    response = client.post(
        f"/settings/users/{sales1.pk}/", form(sales1, email=sales2.email.upper())
    )
    assert response.status_code == 422
    sales1.refresh_from_db()
    assert sales1.email != sales2.email


def test_non_administrators_cannot_edit_users_or_teams(client, manager, sales1, team1):
    client.force_login(manager)
    assert client.get(f"/settings/users/{sales1.pk}/").status_code == 403
    assert client.post(f"/settings/teams/{team1.pk}/", {"name": "Gekapert"}).status_code == 403
    team1.refresh_from_db()
    assert team1.name == "Vertrieb Nord"


def test_admin_renames_and_deletes_a_team(client, admin):
    team = TeamFactory(name="Außendienst")
    member = make_user("sales", team)
    client.force_login(admin)
    client.post(f"/settings/teams/{team.pk}/", {"name": "Außendienst Süd", "version": team.version})
    team.refresh_from_db()
    assert team.name == "Außendienst Süd"
    stale = client.post(f"/settings/teams/{team.pk}/", {"name": "Alt", "version": 1}, follow=True)
    assert "changed by someone else" in stale.content.decode()
    team.refresh_from_db()
    assert team.name == "Außendienst Süd"
    client.post(f"/settings/teams/{team.pk}/", {"delete": "1"})
    assert not Team.objects.filter(pk=team.pk).exists()
    assert User.objects.filter(pk=member.pk, is_active=True).exists()


def test_sign_in_ignores_the_case_of_the_email_address(client):
    user = make_user("sales", email="ilse.imker@example.com")
    user.set_password("Bienenstock-2026")
    user.save()
    response = client.post(
        "/login/", {"username": "Ilse.Imker@Example.COM", "password": "Bienenstock-2026"}
    )
    assert response.status_code == 302
    assert client.get("/contacts/").status_code == 200


def test_admin_adds_a_relationship_type_in_settings(client, admin):
    client.force_login(admin)
    response = client.post(
        "/settings/relationship-types/new/",
        {"key": "mentor_of", "label": "mentor of", "label_de": "Mentor von",
         "inverse_label": "mentored by", "inverse_label_de": "Mentee von"},
    )  # fmt: skip
    assert response.status_code == 302
    assert "mentor of" in client.get("/settings/").content.decode()
    bad = client.post("/settings/relationship-types/new/", {"key": "", "label": ""})
    assert bad.status_code == 422
