"""The search index is asked for the rarest trigrams of a word; which ones are picked changes
the speed of a search, never what it finds."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from farley.core import trigrams
from farley.core.search import search
from tests.factories import make_contact

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def new_sample():
    trigrams.forget()
    yield
    trigrams.forget()


def test_the_rarest_trigrams_are_those_the_sample_holds_least(admin):
    for number in range(5):
        make_contact(admin, first_name=f"Anna{number}", last_name="Schneider")
    make_contact(admin, first_name="Otto", last_name="Schmidt")
    # "sch" is in every sample document; "idt" and "mid" only in Schmidt's.
    assert set(trigrams.rarest("schmidt")) <= {"chm", "hmi", "mid", "idt"}
    assert trigrams.rarest("abc") == ["abc"]
    assert trigrams.rarest("xyzw") == ["xyz", "yzw"]  # unseen: rarest of all


def test_search_finds_the_same_whatever_the_sample(admin):
    make_contact(admin, first_name="Otto", last_name="Schmidt")
    make_contact(admin, first_name="Erna", last_name="Schmied")
    first = {hit.title for hit in search(admin, "schmidt")}
    trigrams.forget()
    for number in range(30):
        make_contact(admin, first_name=f"Idt{number}", last_name="Midt")
    assert {hit.title for hit in search(admin, "schmidt")} >= first
    assert "Otto Schmidt" in first
    assert len([h for h in search(admin, "Midt", limit=100) if h.title.endswith(" Midt")]) == 30


def test_a_term_of_common_trigrams_only_is_looked_up_as_a_phrase(admin, monkeypatch):
    """ "ric" and "ich", the rarest trigrams of "erich", are in every Heinrich and Friedrich:
    the index is asked for the phrase instead, and finds the same."""
    for first_name in ("Heinrich", "Friedrich", "Ulrich", "Dietrich"):
        make_contact(admin, first_name=first_name, last_name="Meyer")
    make_contact(admin, first_name="Erich", last_name="Kästner")
    make_contact(admin, first_name="Erich", last_name="Fromm")
    found_before = [hit.title for hit in search(admin, "erich")]
    monkeypatch.setattr(trigrams, "CROWDED", 1)
    assert trigrams.crowded("erich")
    assert not trigrams.crowded("kastner")  # its rarest trigrams are in one document
    with CaptureQueriesContext(connection) as ctx:
        found = [hit.title for hit in search(admin, "erich")]
    assert found == found_before
    assert found[:2] == ["Erich Fromm", "Erich Kästner"]
    if connection.vendor == "sqlite":
        assert any("'body : ((\"erich\"))'" in q["sql"] for q in ctx.captured_queries)
