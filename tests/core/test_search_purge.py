"""After an erasure the search indexes are compacted (SQLite): in the database file a real
server writes, not a byte of the erased person is left, in the indexes or in freed pages."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import connection

from farley import jobs
from farley.contacts import privacy
from farley.core import search_purge
from farley.core.models import SystemState
from tests.factories import make_contact
from tests.processes import call, database_with_user, environment, farley, free_port, serve

pytestmark = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="the segments of SQLite's search indexes"
)
SECRETS = ["Zacharias", "Quastenflosser", "zq@privat.example", "charias", "flosser"]


def test_an_erased_person_leaves_no_byte_in_the_database_files(tmp_path: Path):
    env = environment(tmp_path)
    token = database_with_user(env, "ada@example.com", "administrator")
    port = free_port()
    base = f"http://127.0.0.1:{port}/api/v1"
    server = serve(env, port)
    try:
        for number in range(10):  # other people, so the indexes have segments to merge
            call(f"{base}/contacts", token, {"first_name": "Olga", "last_name": f"Other{number}"})
        person = call(f"{base}/contacts", token, {
            "first_name": "Zacharias", "last_name": "Quastenflosser",
            "emails": [{"address": "zq@privat.example"}],
        })  # fmt: skip
        for number in range(10, 15):
            call(f"{base}/contacts", token, {"first_name": "Olga", "last_name": f"Other{number}"})
        call(f"{base}/privacy/contacts/{person['id']}/erase", token, {})
    finally:
        server.terminate()
        server.wait(timeout=20)
    files = b"".join(path.read_bytes() for path in tmp_path.glob("farley.sqlite3*")).lower()
    assert any(secret.lower().encode() in files for secret in SECRETS)  # left by FTS5 deletes
    # What the server's job does every ten minutes, at once.
    assert "merge steps" in farley(env, "purge-search")
    files = b"".join(path.read_bytes() for path in tmp_path.glob("farley.sqlite3*")).lower()
    for secret in SECRETS:
        assert secret.lower().encode() not in files, secret
    assert farley(env, "purge-search").strip() == "Nothing to purge."


def test_the_server_purges_as_one_of_its_jobs():
    assert "search-purge" in {job.name for job in jobs.JOBS}


@pytest.mark.django_db
def test_the_purge_runs_once_after_each_erasure(admin):
    assert search_purge.run_due() == 0  # nobody erased
    person = make_contact(admin, first_name="Zacharias", last_name="Quastenflosser")
    privacy.erase(actor=admin, contact_id=person.pk)
    assert search_purge.run_due() >= 3  # at least a step per index
    state = SystemState.objects.get(name=search_purge.STATE)
    assert state.value.endswith("merge steps")
    assert search_purge.run_due() == 0
    other = make_contact(admin, first_name="Olga", last_name="Other")
    privacy.erase(actor=admin, contact_id=other.pk)
    assert search_purge.run_due() > 0
