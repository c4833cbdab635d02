"""The trash shows deleted records of every registered entity to those who may see them,
restores them, and answers 404 to another team (generated from the entity registry)."""

from __future__ import annotations

import pytest
from django.test import Client

from farley.core import entities
from tests.factories import TeamFactory, make_user
from tests.security.test_access_matrix import FACTORIES, shown_name

pytestmark = pytest.mark.django_db


def _keys():
    from django.apps import apps

    apps.check_apps_ready()
    return [e.key for e in entities.all_entities()]


def _delete(entity: str, actor, record) -> None:
    from django.utils import timezone

    # Every entity's own delete service soft-deletes; the trash only needs deleted_at.
    type(record).objects.filter(pk=record.pk).update(deleted_at=timezone.now(), deleted_by=actor)


@pytest.mark.parametrize("entity", _keys())
def test_the_trash_lists_and_restores_every_entity(entity):
    owner = make_user("sales", TeamFactory(name="Team B"))
    stranger = make_user("sales", TeamFactory(name="Team A"))
    record = FACTORIES[entity](owner)
    _delete(entity, owner, record)

    other = Client()
    other.force_login(stranger)
    hidden = other.get("/trash/").content.decode()
    assert shown_name(record) not in hidden and f">{record}<" not in hidden
    assert other.post(f"/trash/{entity}/{record.pk}/restore/").status_code == 404
    record.refresh_from_db()
    assert record.deleted_at is not None

    client = Client()
    client.force_login(owner)
    page = client.get("/trash/").content.decode()
    assert f"<td>{record}</td><td>{entities.get(entity).label}</td>" in page
    response = client.post(f"/trash/{entity}/{record.pk}/restore/")
    assert response.status_code == 302
    record.refresh_from_db()
    assert record.deleted_at is None


def test_unknown_entities_are_not_found(admin):
    client = Client()
    client.force_login(admin)
    assert client.post("/trash/spaceship/1/restore/").status_code == 404
