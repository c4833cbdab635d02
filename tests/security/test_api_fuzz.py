"""The attack suite, part 4: schemathesis fuzzes every operation of the OpenAPI spec
(``/api/v1/openapi.json``) in-process against the WSGI application, with real API tokens of
an administrator and of a restricted sales user (one team; the token may only read accounts):
no answer is a 500, and every answer is one the spec documents (status code, content type,
headers and body schema); requests that break the schema are refused.

Generated ids (in the path and in JSON or form bodies) are swapped for ids of real rows half
of the time, deterministically, so that operations reach the services with records of the
caller's own team, of another team, and with ids that do not exist.

Bounded and deterministic: a few examples per operation (``FARLEY_FUZZ_EXAMPLES``, default
8), derandomized, so a run takes well under a second per operation and a failure comes back
on the next run. For a deeper hunt, with schemathesis' coverage phase too:
``FARLEY_FUZZ_EXAMPLES=100 FARLEY_FUZZ_COVERAGE=1 pytest tests/security/test_api_fuzz.py``.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import tempfile
from typing import Any

import pytest
import schemathesis
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from django.test import Client, override_settings
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from farley.core import entities, sharing
from farley.core.services import custom_field_create, token_create
from farley.documents.services import attach
from tests.factories import TeamFactory, log_interaction, make_account, make_contact, make_user
from tests.factories import relate as make_relationship

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
MAX_EXAMPLES = int(os.environ.get("FARLEY_FUZZ_EXAMPLES", "8"))

APP = get_wsgi_application()
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", APP)
# The coverage phase (boundary values and every way to break each parameter, some 40
# requests per operation) doubles the run time; it is for the deeper hunt.
schema.config.phases.coverage.enabled = os.environ.get("FARLEY_FUZZ_COVERAGE") == "1"

# Body fields that name a row of another kind than their name says.
ALIASES = {"owner_id": "user_id", "lead_id": "user_id", "parent_id": "account_id"}
# Body fields whose kind another field names: {"from_type": "contact", "from_id": 3}.
TYPED = {"from_id": "from_type", "to_id": "to_type", "object_id": "entity"}


@pytest.fixture(scope="module")
def media_root():
    # Not under pytest's base temp: another pytest run on the machine may prune that while a
    # long hunt still reads the files.
    with tempfile.TemporaryDirectory(prefix="farley-fuzz-media-") as path:
        yield path


@pytest.fixture(autouse=True)
def _media_root(settings, media_root):
    """The files of this module's records stay where they were stored for all its tests."""
    settings.MEDIA_ROOT = media_root


@contextlib.contextmanager
def _connection_kept_open():
    """The WSGI handler closes the database connection before and after each request (as a
    server must); inside the test's transaction that would lose its data, so not here.
    (Django's test client does the same for its requests, and connects the signals again.)"""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, media_root):
    """The users, tokens and records every operation is fuzzed with, made once for this
    module inside a transaction that is rolled back at its end (each test rolls back to a
    savepoint, as Django's ``setUpTestData``)."""
    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=media_root):
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield _make_world()
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


def _records_of(owner) -> None:
    account = make_account(owner, name=f"Fuzz {owner.pk} GmbH")
    contact = make_contact(
        owner, last_name=f"Fuzz {owner.pk}", account_links=[{"account_id": account.pk}]
    )
    log_interaction(owner, contact_id=contact.pk, subject="Call")
    make_relationship(owner, contact, account, "partner_of")
    attach(
        actor=owner, entity="contact", object_id=contact.pk,
        upload=SimpleUploadedFile("note.txt", b"Hello\n", "text/plain"),
    )  # fmt: skip


def _real_ids(admin_client: Client, records: dict[str, int]) -> dict[str, list[int]]:
    """For each path parameter of the spec (``account_id``, ``share_id``, ...), the ids that
    its collection lists to an administrator (for collections of one record's items, e.g.
    shares or files, those of the records in ``records``)."""
    ids: dict[str, set[int]] = {}
    collections: dict[str, str] = {}
    for path in schema.raw_schema["paths"]:
        for name in (p.strip("{}") for p in path.split("/") if p.startswith("{")):
            collection = path[: path.index("/{")]
            if "get" in schema.raw_schema["paths"].get(collection, {}):
                collections.setdefault(name, collection)
    for name, collection in collections.items():
        queries = [{}] + [{"entity": k, "object_id": pk} for k, pk in records.items()]
        for query in queries:
            response = admin_client.get(collection, query)
            if response.status_code != 200:
                continue
            body = response.json()
            items = body["items"] if isinstance(body, dict) else body
            ids.setdefault(name, set()).update(i["id"] for i in items if "id" in i)
            if not query:
                break
    return {name: sorted(values) for name, values in ids.items() if values}


def _make_world() -> tuple[list[dict[str, str]], dict[str, list[int]]]:
    """Bearer headers of an administrator and of a restricted sales user; ids of real rows:
    the sales user's, and a stranger's of another team."""
    team, other_team = TeamFactory(name="Fuzz team"), TeamFactory(name="Other team")
    admin = make_user("administrator", team, full_name="Fuzz Admin")
    seller = make_user("sales", team, full_name="Fuzz Seller")
    stranger = make_user("sales", other_team, full_name="Stranger")
    for owner in (seller, stranger):
        _records_of(owner)
    custom_field_create(
        actor=admin,
        data={"entity": "contact", "key": "size", "label": "Size", "field_type": "text"},
    )
    records = {}
    for entity in entities.all_entities():
        row = entity.model.objects.filter(owner=seller).order_by("pk").first()
        if row is not None:
            records[entity.key] = row.pk
    sharing.share_create(
        actor=seller, entity="contact", object_id=records["contact"], data={"user_id": stranger.pk}
    )
    sharing.rule_create(
        actor=admin,
        data={"entity": "contact", "name": "Berlin", "criteria": {"city": "Berlin"},
              "team_id": other_team.pk},
    )  # fmt: skip
    headers = []
    for user, scopes in ((admin, None), (seller, {"account": "read", "contact": "write"})):
        key = token_create(user=user, name="fuzz", scopes=scopes)[1]
        headers.append({"Authorization": f"Bearer {key}"})
    ids = _real_ids(Client(HTTP_AUTHORIZATION=headers[0]["Authorization"]), records)
    return headers, ids


@pytest.fixture
def callers(world, db):
    """The administrator and the sales user in turn, and the real ids."""
    headers, ids = world
    with _connection_kept_open():
        yield itertools.cycle(headers), ids


def _swap(value: Any, real: list[int] | None) -> Any:
    """Every other generated id (the odd ones) becomes a real one; the rest stay as they are
    (mostly ids of nothing, or values of the wrong type)."""
    if real and isinstance(value, int) and not isinstance(value, bool) and value % 2:
        return real[value % len(real)]
    return value


def _point_at_real_rows(case, ids: dict[str, list[int]]) -> None:
    for name, value in list((case.path_parameters or {}).items()):
        case.path_parameters[name] = _swap(value, ids.get(name))
    if isinstance(case.body, dict):
        for name, value in list(case.body.items()):
            kind = case.body.get(TYPED.get(name, ""))
            target = f"{kind}_id" if isinstance(kind, str) else ALIASES.get(name, name)
            case.body[name] = _swap(value, ids.get(target))


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_the_api_answers_as_documented(case, callers):
    headers, ids = callers
    _point_at_real_rows(case, ids)
    case.headers = {**(case.headers or {}), **next(headers)}
    case.call_and_validate(checks=CHECKS)


def test_every_schema_name_in_the_spec_is_unique(monkeypatch):
    """django-ninja keys the spec's schemas by class name: two ``RuleOut`` classes in two
    routers make the spec document one of them for both operations (it did, for sharing
    rules)."""
    from ninja.openapi.schema import OpenAPISchema

    from farley.api import api

    clashes = set()
    add = OpenAPISchema.add_schema_definitions

    def checked(self, definitions):
        clashes.update(k for k, v in definitions.items() if self.schemas.get(k, v) != v)
        return add(self, definitions)

    monkeypatch.setattr(OpenAPISchema, "add_schema_definitions", checked)
    api.get_openapi_schema(path_prefix="/api/v1/")
    assert not clashes, f"rename the schema classes named {sorted(clashes)}"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/contacts", {"last_name": "X", "account_links": [{"account_id": 2**90}]}),
        ("/api/v1/timeline-entries", {"subject": "X", "contact_id": 2**90}),
        ("/api/v1/shares", {"entity": "contact", "object_id": 1, "user_id": 2**90}),
        ("/api/v1/teams", {"name": "X", "lead_id": 2**90}),
    ],
)
def test_ids_beyond_64_bits_are_field_errors(admin, path, body):
    """Found by the fuzzing: an id the database cannot hold was looked up and answered 500."""
    key = token_create(user=admin, name="t")[1]
    client = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    response = client.post(path, json.dumps(body), content_type="application/json")
    assert response.status_code in (404, 422), response.content


@pytest.mark.parametrize(
    "url",
    [
        f"/api/v1/timeline-entries?account_id={2**90}",
        f"/api/v1/relationships?contact_id={2**90}",
        f"/api/v1/accounts/{2**90}",
        "/api/v1/contacts/0",
    ],
)
def test_ids_out_of_range_in_paths_and_queries_are_field_errors(admin, url):
    """Found by the fuzzing: a query by a foreign key beyond 64 bits answered 500. Ids are
    1 to 2**63-1, and the spec says so."""
    key = token_create(user=admin, name="t")[1]
    response = Client(HTTP_AUTHORIZATION=f"Bearer {key}").get(url)
    assert response.status_code == 422, response.content
    assert response.json()["error"]["fields"]


@pytest.mark.parametrize(
    "url",
    ["/api/v1/custom-fields?entity=account&entity=contact", "/api/v1/contacts?city=A&city=B"],
)
def test_a_parameter_given_twice_is_refused(admin, url):
    """Found by the fuzzing: only the last of two values counted, silently."""
    key = token_create(user=admin, name="t")[1]
    response = Client(HTTP_AUTHORIZATION=f"Bearer {key}").get(url)
    assert response.status_code == 422, response.content
    assert response.json()["error"]["fields"] == {
        url.split("?")[1].split("=")[0]: ["Give this parameter once."]
    }
