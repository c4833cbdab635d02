"""The attack suite, part 1: for every registered entity and every way in (pages, htmx
fragments, API reads and writes, history, search, export), user A of team 1 cannot read,
change or learn of a private record of user B of team 2: the answer is 404 (not 403, which
would tell that the record exists), and nothing changes.

The cases are generated from the entity registry (``farley.core.entities``): an entity added
later is attacked the day it registers, and one without a record factory below fails
``test_every_entity_has_a_factory``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from farley.activities import services as activity_services
from farley.core import entities
from farley.core.models import ChangeRecord
from farley.core.search import search
from farley.core.services import token_create
from tests.factories import (
    TeamFactory,
    make_account,
    make_contact,
    make_lead,
    make_opportunity,
    make_user,
)
from tests.sales.quote_factories import make_order, make_quote

pytestmark = pytest.mark.django_db

# How to make one private record of each entity, named so that search would find it.
FACTORIES: dict[str, Callable[[Any], Any]] = {
    "account": lambda owner: make_account(owner, name="Geheimfirma Zebraholz GmbH"),
    "contact": lambda owner: make_contact(owner, first_name="Gustav", last_name="Zebraholz"),
    "lead": lambda owner: make_lead(
        owner, first_name="Gustav", last_name="Zebraholz", company_name="Zebraholz Werke GmbH"
    ),
}
FACTORIES["quote"] = lambda owner: make_quote(
    owner, account=make_account(owner, name="Zebraholz Kunde AG"), title="Zebraholz Angebot"
)
FACTORIES["order"] = lambda owner: make_order(
    owner, account=make_account(owner, name="Zebraholz Besteller AG"), erp_reference="ZH-1"
)
FACTORIES["opportunity"] = lambda owner: make_opportunity(
    owner, account=make_account(owner, name="Zebraholz Einkauf AG"), name="Geheimdeal Zebraholz"
)
FACTORIES["activity"] = lambda owner: activity_services.activity_create(
    actor=owner, kind="task", data={"title": "Zebraholz anrufen", "due_at": "2026-12-07T10:00"}
)
SECRET_WORD = "Zebraholz"
# A valid change per entity, so that only the missing right (not the body) can refuse it.
CHANGES: dict[str, dict[str, Any]] = {
    "account": {"name": "Hacked"},
    "contact": {"last_name": "Hacked"},
    "quote": {"title": "Hacked"},
    "order": {"erp_reference": "Hacked"},
    "lead": {"last_name": "Hacked"},
    "opportunity": {"name": "Hacked"},
    "activity": {"title": "Hacked"},
}


def shown_name(record: Any) -> str:
    """What a page shows of the record (the query a user typed may be echoed, the name not)."""
    return (
        getattr(record, "full_name", None)
        or getattr(record, "name", None)
        or getattr(record, "title", None)
        or str(record)
    )


def test_every_entity_has_a_factory():
    missing = set(entities.registered_keys()) - set(FACTORIES)
    assert not missing, f"register a factory for {missing} in this suite"


def _cases() -> list[tuple[str, str, str]]:
    from django.apps import apps

    apps.check_apps_ready()
    cases = []
    for entity in entities.all_entities():
        for path in entity.ui_paths:
            cases.append((entity.key, "GET", path))
        if entity.api_path:
            base = entity.api_path + "/{id}"
            cases += [
                (entity.key, "API GET", base),
                (entity.key, "API PATCH", base),
                (entity.key, "API DELETE", base),
                (entity.key, "API GET", base + "/history"),
                (entity.key, "API POST", base + "/restore"),
            ]
    return cases


@pytest.fixture
def victim_and_attacker():
    victim = make_user("sales", TeamFactory(name="Team B"))
    attacker = make_user("sales", TeamFactory(name="Team A"))
    return victim, attacker


@pytest.mark.parametrize(("entity", "how", "path"), _cases())
def test_a_private_record_of_another_team_is_not_found(victim_and_attacker, entity, how, path):
    victim, attacker = victim_and_attacker
    record = FACTORIES[entity](victim)
    url = path.format(id=record.pk)
    changes_before = ChangeRecord.objects.count()
    if how.startswith("API"):
        _token, key = token_create(user=attacker, name="attack")
        client = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
        method = how.split()[1].lower()
        if method == "get":
            response = client.get(url)
        else:
            body = json.dumps({**CHANGES.get(entity, {}), "version": record.version})
            response = getattr(client, method)(url, body, content_type="application/json")
    else:
        client = Client()
        client.force_login(attacker)
        response = client.get(url, HTTP_HX_REQUEST="true" if "partial" in url else "false")
    assert response.status_code == 404, (how, url, response.status_code)
    assert shown_name(record) not in response.content.decode()
    record.refresh_from_db()
    assert "Hacked" not in str(vars(record))
    assert ChangeRecord.objects.count() == changes_before + (1 if how.startswith("API") else 0)


@pytest.mark.parametrize("entity", sorted(FACTORIES))
def test_search_lists_and_exports_do_not_reveal_it(victim_and_attacker, entity):
    victim, attacker = victim_and_attacker
    record = FACTORIES[entity](victim)
    assert search(attacker, SECRET_WORD) == []
    client = Client()
    client.force_login(attacker)
    plural = entities.get(entity).api_path.rsplit("/", 1)[-1]
    for url in (f"/{plural}/", f"/{plural}/?q={SECRET_WORD}", f"/{plural}/export.csv",
                f"/search/?q={SECRET_WORD}"):  # fmt: skip
        response = client.get(url)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert shown_name(record) not in body.decode(), url
