"""Global search: finds what users type (names, emails, phones, cities, customer numbers,
typos), in any script, and only records the user may see."""

from __future__ import annotations

import pytest

from farley.contacts import services
from farley.contacts.models import Contact
from farley.core.search import document_text, query_terms, search
from farley.core.text import fold, looks_like_phone
from tests.factories import make_account, make_contact

# --- text helpers (no database) -------------------------------------------------------------


def test_fold_lowers_and_strips_accents_but_keeps_cjk_and_emoji():
    assert fold("Müller Øster Straße") == "muller oster strasse"
    assert fold("李小龙 😀") == "李小龙 😀"


def test_document_text_folds_each_part_once_and_skips_empty_and_contained_parts():
    text = document_text(
        ["Max Müller", "", "Vertrieb · ACME · Köln", "Köln", "+49301234567", "MAX"]
    )
    assert text == "max muller | vertrieb · acme · koln | +49301234567"


@pytest.mark.parametrize(
    ("query", "terms"),
    [
        ("030 1234567", ["301234567"]),
        ("+49 (30) 123-4567", ["301234567"]),
        ("0049 30 1234567", ["301234567"]),
        ("Müller,  Øster", ["muller", "oster"]),
        ("  ", []),
    ],
)
def test_query_terms(query, terms):
    assert query_terms(query) == terms


def test_looks_like_phone():
    assert looks_like_phone("+49 30 1234567")
    assert looks_like_phone("030/1234567")
    assert not looks_like_phone("K000001")
    assert not looks_like_phone("1234")


# --- finding records ------------------------------------------------------------------------


def titles(user, query, **kwargs) -> list[str]:
    return [hit.title for hit in search(user, query, **kwargs)]


def first(user, query, **kwargs) -> str | None:
    """The best hit's title. Typo tolerance may add weaker hits after it (how many depends on
    the database's candidate search), so tests of a single match look at the best one."""
    found = titles(user, query, **kwargs)
    return found[0] if found else None


@pytest.fixture
def data(sales1, berlin):
    account = make_account(
        sales1,
        name="Bäckerei Schulze GmbH",
        addresses=[berlin],
        emails=[{"address": "info@baeckerei-schulze.de"}],
    )
    contact = make_contact(
        sales1,
        first_name="Max",
        last_name="Mustermann",
        emails=[{"address": "max.mustermann@example.com"}],
        phones=[{"number": "030 1234567"}],
        addresses=[
            {
                "street": "Marienplatz",
                "house_number": "8",
                "postal_code": "80331",
                "city": "München",
                "country": "DE",
            }
        ],
        account_links=[{"account_id": account.pk, "role": "Inhaber"}],
    )
    make_contact(sales1, first_name="Erika", last_name="Musterfrau")
    return account, contact


@pytest.mark.django_db
def test_finds_contact_by_last_name(data, sales1):
    assert first(sales1, "Mustermann") == "Max Mustermann"


@pytest.mark.django_db
def test_finds_by_full_name_in_any_case(data, sales1):
    assert titles(sales1, "max MUSTERMANN") == ["Max Mustermann"]


@pytest.mark.django_db
def test_finds_by_part_of_a_name(data, sales1):
    # Both exact matches rank first, equal score, by title.
    assert titles(sales1, "Muster")[:2] == ["Erika Musterfrau", "Max Mustermann"]


@pytest.mark.django_db
def test_finds_by_email(data, sales1):
    assert titles(sales1, "max.mustermann@example.com") == ["Max Mustermann"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query", ["+49 30 1234567", "030/1234567", "0049 30 123 45 67", "+49 (30) 123-4567"]
)
def test_finds_by_phone_in_another_format(data, sales1, query):
    assert titles(sales1, query) == ["Max Mustermann"]


@pytest.mark.django_db
def test_finds_by_city(data, sales1):
    assert titles(sales1, "München") == ["Max Mustermann"]
    assert titles(sales1, "Berlin") == ["Bäckerei Schulze GmbH"]


@pytest.mark.django_db
def test_finds_account_and_its_contact_by_customer_number(data, sales1):
    account, _contact = data
    assert account.customer_number == "K000001"
    assert sorted(titles(sales1, "K000001")) == ["Bäckerei Schulze GmbH", "Max Mustermann"]


@pytest.mark.django_db
def test_finds_contact_by_company_name(data, sales1):
    hits = search(sales1, "Bäckerei Schulze", entities=["contact"])
    assert [(h.entity, h.title, h.subtitle) for h in hits] == [
        ("contact", "Max Mustermann", "Bäckerei Schulze GmbH · München")
    ]


@pytest.mark.django_db
def test_tolerates_a_typo(data, sales1):
    assert first(sales1, "Mustremann") == "Max Mustermann"
    assert first(sales1, "Musterman") == "Max Mustermann"
    assert first(sales1, "Bakerei Schulze") == "Bäckerei Schulze GmbH"


@pytest.mark.django_db
def test_tolerates_a_missing_umlaut(data, sales1):
    assert titles(sales1, "Backerei") == ["Bäckerei Schulze GmbH", "Max Mustermann"]


@pytest.mark.django_db
def test_hit_carries_entity_id_and_subtitle(data, sales1):
    account, _contact = data
    [hit] = search(sales1, "Bäckerei", entities=["account"])
    assert (hit.entity, hit.object_id, hit.title, hit.subtitle) == (
        "account",
        account.pk,
        "Bäckerei Schulze GmbH",
        "K000001 · Berlin",
    )
    assert hit.score >= 60


@pytest.mark.django_db
def test_entities_restricts_the_kind_of_record(data, sales1):
    assert titles(sales1, "Schulze", entities=["account"]) == ["Bäckerei Schulze GmbH"]
    assert titles(sales1, "Schulze", entities=["contact"]) == ["Max Mustermann"]


@pytest.mark.django_db
def test_limit(data, sales1):
    assert len(search(sales1, "Muster", limit=1)) == 1


@pytest.mark.django_db
def test_unrelated_text_finds_nothing(data, sales1):
    assert titles(sales1, "Zahnarztpraxis") == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    [
        "",
        " ",
        "M",
        '"',
        "*",
        "'; DROP TABLE core_searchdocument; --",
        '"""',
        "NEAR(a b)",
        "%_%",
        "\\",
        "a OR b",
        "((((",
        "😀",
    ],
)
def test_odd_input_never_fails(data, sales1, query):
    assert isinstance(search(sales1, query), list)


# --- Unicode --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_unicode_names_round_trip_and_are_found(sales1):
    names = [("Jürgen", "Müller"), ("Åse", "Øster"), ("小龙", "李"), ("Sunny", "Sonnenschein 😀")]
    ids = [make_contact(sales1, first_name=f, last_name=last).pk for f, last in names]
    stored = [
        (c.first_name, c.last_name) for c in Contact.objects.filter(pk__in=ids).order_by("pk")
    ]
    assert stored == names
    assert titles(sales1, "Müller") == ["Jürgen Müller"]
    assert titles(sales1, "muller") == ["Jürgen Müller"]
    assert titles(sales1, "Øster") == ["Åse Øster"]
    assert titles(sales1, "oster") == ["Åse Øster"]
    assert titles(sales1, "小龙") == ["小龙 李"]
    assert titles(sales1, "小龙 李") == ["小龙 李"]
    assert titles(sales1, "Sonnenschein") == ["Sunny Sonnenschein 😀"]


# --- keeping the index in step --------------------------------------------------------------


@pytest.mark.django_db
def test_renamed_record_is_found_by_its_new_name_only(data, sales1):
    _account, contact = data
    services.contact_update(
        actor=sales1,
        contact_id=contact.pk,
        data={"last_name": "Neumann", "emails": [{"address": "max@neumann.de"}]},
    )
    assert first(sales1, "Neumann") == "Max Neumann"
    assert first(sales1, "max@neumann.de") == "Max Neumann"
    assert "Max Mustermann" not in titles(sales1, "Mustermann")
    assert titles(sales1, "max.mustermann@example.com") == []


@pytest.mark.django_db
def test_renamed_account_is_found_through_its_contacts(data, sales1):
    account, _contact = data
    services.account_update(
        actor=sales1, account_id=account.pk, data={"name": "Konditorei Weiß AG"}
    )
    assert titles(sales1, "Konditorei", entities=["contact"]) == ["Max Mustermann"]


@pytest.mark.django_db
def test_deleted_record_is_not_found_and_restored_one_is(data, sales1):
    _account, contact = data
    services.contact_delete(actor=sales1, contact_id=contact.pk)
    assert "Max Mustermann" not in titles(sales1, "Mustermann")
    assert titles(sales1, "max.mustermann@example.com") == []
    services.contact_restore(actor=sales1, contact_id=contact.pk)
    assert first(sales1, "Mustermann") == "Max Mustermann"


# --- visibility -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_private_record_of_another_team_is_not_found(sales1, sales2, admin, reader):
    make_contact(
        sales2,
        first_name="Gerda",
        last_name="Geheim",
        emails=[{"address": "gerda@geheim.de"}],
        phones=[{"number": "089 12345678"}],
    )
    for query in ("Geheim", "gerda@geheim.de", "089 12345678", "Gehiem"):
        assert titles(sales1, query) == [], query
    assert titles(sales2, "Geheim") == ["Gerda Geheim"]
    assert titles(admin, "Geheim") == ["Gerda Geheim"]
    assert titles(reader, "Geheim") == ["Gerda Geheim"]


@pytest.mark.django_db
def test_record_handed_to_another_team_moves_in_search(sales2, sales1, admin, team1):
    contact = make_contact(sales2, last_name="Wanderer")
    assert titles(sales1, "Wanderer") == []
    services.contact_update(actor=admin, contact_id=contact.pk, data={"team_id": team1.pk})
    assert titles(sales1, "Wanderer") == ["Wanderer"]


@pytest.mark.django_db
def test_finds_by_phone_with_area_code_in_parentheses(data, sales1):
    assert first(sales1, "(030) 123 45 67") == "Max Mustermann"


@pytest.mark.django_db
def test_finds_a_chinese_contact_by_a_one_character_surname(sales1):
    make_contact(sales1, first_name="小龙", last_name="李")
    make_contact(sales1, first_name="明", last_name="王")
    assert titles(sales1, "李") == ["小龙 李"]
