"""The search index is asked for the rarest trigrams of a word; which ones are picked changes
the speed of a search, never what it finds."""

from __future__ import annotations

import pytest

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
