"""The search vocabulary behind typo tolerance: it holds exactly the words the indexed
records contain, so typos find real names and erased or changed names leave no trace."""

from __future__ import annotations

import pytest

from farley.contacts import services
from farley.core.models import SearchWord
from farley.core.search import search
from farley.core.vocabulary import similar, words_of
from tests.factories import make_contact, make_user

pytestmark = pytest.mark.django_db


def vocabulary() -> set[str]:
    return set(SearchWord.objects.values_list("word", flat=True))


@pytest.fixture
def admin():
    return make_user("administrator")


def test_words_are_runs_of_four_or_more_letters_in_any_script():
    text = "max mustermann | k000123 · köln | max@example.com | +49301234567 | 李小龙 | Ψηλός"
    assert words_of(text) == {"mustermann", "köln", "example", "Ψηλός"}


def test_a_new_contact_adds_its_words(admin):
    make_contact(admin, first_name="Waltraud", last_name="Quandt")
    assert {"waltraud", "quandt"} <= vocabulary()


def test_a_renamed_contact_takes_its_old_name_out_unless_someone_else_has_it(admin):
    first = make_contact(admin, first_name="Anna", last_name="Zwiebelhuber")
    make_contact(admin, first_name="Otto", last_name="Kesselring")
    other = make_contact(admin, first_name="Paul", last_name="Kesselring")
    services.contact_update(actor=admin, contact_id=first.pk, data={"last_name": "Brandt"})
    services.contact_update(actor=admin, contact_id=other.pk, data={"last_name": "Brandt"})
    words = vocabulary()
    assert "zwiebelhuber" not in words
    assert "kesselring" in words  # Otto still has it
    assert "brandt" in words


def test_deleting_a_contact_forgets_its_words_and_restoring_brings_them_back(admin):
    contact = make_contact(admin, first_name="Xaver", last_name="Yrjölä")
    services.contact_delete(actor=admin, contact_id=contact.pk)
    assert "yrjola" not in vocabulary()  # words are folded like the index
    services.contact_restore(actor=admin, contact_id=contact.pk)
    assert "yrjola" in vocabulary()


def test_similar_words_are_the_real_spellings_of_a_typo(admin):
    make_contact(admin, first_name="Max", last_name="Mustermann")
    make_contact(admin, first_name="Erika", last_name="Musterfrau")
    assert similar("mustremann")[0] == "mustermann"
    assert similar("mustermann") == []  # the word itself is no correction
    assert similar("xyzq") == []
    assert similar("abc") == []  # too short to guess


def test_a_typo_in_one_of_two_words_still_finds_the_record(admin):
    make_contact(admin, first_name="Gertrud", last_name="Hoffmann")
    make_contact(admin, first_name="Gertrud", last_name="Schneider")
    assert [h.title for h in search(admin, "Gertrud Hofmann")] == ["Gertrud Hoffmann"]


def test_a_typo_finds_only_records_the_user_may_see():
    team_a_user = make_user("sales")
    team_b_user = make_user("sales")
    make_contact(team_b_user, first_name="Hidden", last_name="Wolkenstein")
    assert search(team_a_user, "Wolkenstien") == []
    assert [h.title for h in search(team_b_user, "Wolkenstien")] == ["Hidden Wolkenstein"]
