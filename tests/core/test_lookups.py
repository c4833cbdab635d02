"""iexact/icontains ignore the case of every letter, not only ASCII, on both databases."""

from __future__ import annotations

import pytest

from farley.contacts.models import Contact
from farley.core.models import Team
from tests.factories import TeamFactory, make_contact, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin():
    return make_user("administrator")


def test_icontains_finds_umlauts_in_any_case(admin):
    make_contact(admin, first_name="Jörg", last_name="ÜBELACKER")
    make_contact(admin, first_name="Anna", last_name="Zander")
    found = Contact.objects.filter(last_name__icontains="übel").values_list("first_name", flat=True)
    assert list(found) == ["Jörg"]


def test_iexact_compares_greek_and_cyrillic_case_insensitively(admin):
    make_contact(admin, first_name="Σοφία", last_name="ΠΑΠΑΔΟΠΟΥΛΟΥ")
    make_contact(admin, first_name="Ирина", last_name="Петрова")
    assert Contact.objects.filter(last_name__iexact="παπαδοπουλου").count() == 1
    assert Contact.objects.filter(last_name__iexact="ПЕТРОВА").count() == 1


def test_ascii_values_still_match_case_insensitively(admin):
    make_contact(admin, first_name="Max", last_name="Mustermann")
    assert Contact.objects.filter(last_name__iexact="MUSTERMANN").count() == 1
    assert Contact.objects.filter(last_name__icontains="STERM").count() == 1


def test_like_wildcards_in_a_non_ascii_value_are_literal(admin):
    make_contact(admin, first_name="Ünal", last_name="Yıldız")
    assert Contact.objects.filter(first_name__icontains="ü%").count() == 0
    assert Contact.objects.filter(first_name__iexact="ü_al").count() == 0
    assert Contact.objects.filter(first_name__iexact="ÜNAL").count() == 1


def test_team_names_differing_only_in_umlaut_case_are_duplicates():
    TeamFactory(name="Ärzte")
    assert Team.objects.filter(name__iexact="ärzte").exists()
