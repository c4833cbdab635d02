"""The attack suite for files: the files of another team's private record, of every
registered entity, are not found on any path (pages and API; read, download, attach,
remove, restore), and nothing changes."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from farley.core import entities
from farley.core.services import token_create
from farley.documents import services
from farley.documents.models import Attachment
from tests.documents.conftest import pdf_bytes
from tests.factories import TeamFactory, make_user
from tests.security.test_access_matrix import FACTORIES

pytestmark = pytest.mark.django_db

PATHS = [
    ("GET", "/files/{file}/download/"),
    ("POST", "/files/{file}/remove/"),
    ("POST", "/files/{file}/restore/"),
    ("POST", "/files/{entity}/{id}/"),
    ("API GET", "/api/v1/attachments?entity={entity}&object_id={id}"),
    ("API GET", "/api/v1/attachments/{file}"),
    ("API GET", "/api/v1/attachments/{file}/download"),
    ("API DELETE", "/api/v1/attachments/{file}"),
    ("API POST", "/api/v1/attachments/{file}/restore"),
    ("API POST", "/api/v1/attachments"),
]


def _cases():
    from django.apps import apps

    apps.check_apps_ready()
    return [(e.key, how, path) for e in entities.all_entities() for how, path in PATHS]


@pytest.fixture
def victim_and_attacker():
    return make_user("sales", TeamFactory(name="Team B")), make_user(
        "sales", TeamFactory(name="Team A")
    )


@pytest.mark.parametrize(("entity", "how", "path"), _cases())
def test_files_of_a_private_record_are_not_found(victim_and_attacker, entity, how, path):
    victim, attacker = victim_and_attacker
    record = FACTORIES[entity](victim)
    secret = services.attach(
        actor=victim, entity=entity, object_id=record.pk,
        upload=SimpleUploadedFile("Zebraholz-Vertrag.pdf", pdf_bytes()),
    )  # fmt: skip
    url = path.format(file=secret.pk, entity=entity, id=record.pk)
    upload = {"entity": entity, "object_id": record.pk,
              "file": SimpleUploadedFile("x.pdf", pdf_bytes())}  # fmt: skip
    if how.startswith("API"):
        _token, key = token_create(user=attacker, name="attack")
        client = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    else:
        client = Client()
        client.force_login(attacker)
    method = how.split()[-1].lower()
    response = (
        getattr(client, method)(url, upload) if method == "post" else getattr(client, method)(url)
    )
    assert response.status_code == 404, (how, url, response.status_code)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert b"Zebraholz" not in body
    assert list(Attachment.objects.values_list("pk", "deleted_at")) == [(secret.pk, None)]
