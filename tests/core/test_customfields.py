"""Custom fields (xRM): every type is validated on every write, stored cleanly, shown and
filtered."""

from __future__ import annotations

import pytest
from django.utils import translation

from farley.contacts.models import Account, Contact
from farley.core import customfields
from farley.core.errors import ValidationFailed
from farley.core.models import ChangeRecord, CustomFieldDefinition
from farley.core.services import custom_field_create, custom_field_delete
from farley.core.validation import Cleaner
from tests.factories import make_account, make_contact

pytestmark = pytest.mark.django_db

FIELDS = [
    {"key": "note", "label": "Note", "field_type": "text"},
    {"key": "story", "label": "Story", "field_type": "long_text"},
    {"key": "visits", "label": "Visits", "field_type": "integer"},
    {"key": "budget", "label": "Budget", "field_type": "decimal"},
    {"key": "since", "label": "Customer since", "field_type": "date"},
    {"key": "vip", "label": "VIP", "field_type": "boolean"},
    {"key": "size", "label": "Size", "field_type": "choice", "choices": ["S", "M", "L"]},
    {
        "key": "topics",
        "label": "Topics",
        "field_type": "multi_choice",
        "choices": ["Wein", "Käse", "Brot"],
    },
    {"key": "profile", "label": "Profile", "field_type": "url"},
    {"key": "assistant", "label": "Assistant", "field_type": "email"},
]


@pytest.fixture
def fields(admin):
    return {
        f["key"]: custom_field_create(actor=admin, data={"entity": "contact", **f}) for f in FIELDS
    }


def clean(values, existing=None):
    c = Cleaner()
    result = customfields.clean_custom_values("contact", values, existing=existing, cleaner=c)
    return result, c.errors


# --- valid values ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "raw", "stored"),
    [
        ("note", "  Kunde seit 1999 – Müller 😀 ", "Kunde seit 1999 – Müller 😀"),
        ("story", "a" * 20000, "a" * 20000),
        ("visits", "12", 12),
        ("visits", -3, -3),
        ("budget", "1234.5", "1234.5000"),
        ("budget", "17", "17"),
        ("since", "31.12.2019", "2019-12-31"),
        ("since", "2019-12-31", "2019-12-31"),
        ("vip", "yes", True),
        ("size", "M", "M"),
        ("topics", ["Brot", "Wein", "Brot"], ["Wein", "Brot"]),
        ("topics", "Käse", ["Käse"]),
        ("profile", "linkedin.com/in/max", "https://linkedin.com/in/max"),
        ("assistant", "Sekretariat@Example.com", "sekretariat@example.com"),
    ],
)
def test_valid_value_is_stored_clean(fields, key, raw, stored):
    result, errors = clean({key: raw})
    assert errors == {}
    assert result == {key: stored}


def test_an_unticked_box_is_stored_only_when_it_changes_a_ticked_one(fields):
    assert clean({"vip": False}) == ({}, {})  # never set: nothing to store, no history
    assert clean({"vip": False}, existing={"vip": True}) == ({"vip": False}, {})


def test_whole_decimal_is_stored_without_exponent(fields):
    result, errors = clean({"budget": "1200"})
    assert errors == {}
    assert result == {"budget": "1200"}


# --- invalid values -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "raw", "message"),
    [
        ("note", "x" * 501, "At most 500 characters are allowed (this has 501)."),
        ("note", 5, "Enter text."),
        ("story", "x" * 20001, "At most 20000 characters are allowed (this has 20001)."),
        ("visits", "zwölf", "Enter a whole number."),
        ("visits", "1.5", "Enter a whole number."),
        ("visits", 2**53 + 1, f"Enter a number of at most {2**53}."),
        ("budget", "viel", "Enter a number, e.g. 1234.50."),
        ("since", "2019-02-30", "Enter a valid date (YYYY-MM-DD)."),
        ("vip", "vielleicht", "Enter yes or no."),
        ("size", "XL", "Select a valid choice."),
        ("topics", ["Wein", "Bier"], "Select a valid choice."),
        ("profile", "javascript:alert(1)", "Enter a valid web address (http or https)."),
        ("assistant", "no-at-sign", "Enter a valid email address."),
    ],
)
def test_invalid_value_names_the_custom_field(fields, key, raw, message):
    _result, errors = clean({key: raw})
    assert errors == {f"custom.{key}": [message]}


def test_unknown_custom_field(fields):
    _result, errors = clean({"shoe_size": 44})
    assert errors == {"custom.shoe_size": ["There is no custom field with this key."]}


def test_custom_must_be_an_object(fields):
    _result, errors = clean(["note", "x"])
    assert errors == {"custom": ["Custom fields must be an object of key and value."]}


def test_partial_update_keeps_other_values_and_empty_value_removes_one(fields):
    result, errors = clean({"visits": "3", "note": ""}, existing={"note": "alt", "size": "S"})
    assert errors == {}
    assert result == {"size": "S", "visits": 3}


def test_required_custom_field(admin):
    custom_field_create(
        actor=admin,
        data={
            "entity": "contact",
            "key": "source",
            "label": "Source",
            "field_type": "text",
            "is_required": True,
        },
    )
    _result, errors = clean({})
    assert errors == {"custom.source": ["This field is required."]}
    result, errors = clean({"source": "Messe"})
    assert (result, errors) == ({"source": "Messe"}, {})


def test_inactive_custom_field_is_unknown_but_stored_values_stay(admin, fields, sales1):
    contact = make_contact(sales1, custom={"note": "behalten"})
    custom_field_delete(actor=admin, field_id=fields["note"].pk)
    _result, errors = clean({"note": "neu"})
    assert errors == {"custom.note": ["There is no custom field with this key."]}
    contact.refresh_from_db()
    assert contact.custom == {"note": "behalten"}


def test_fields_of_accounts_do_not_apply_to_contacts(admin):
    custom_field_create(
        actor=admin,
        data={"entity": "account", "key": "rating", "label": "Rating", "field_type": "integer"},
    )
    _result, errors = clean({"rating": 3})
    assert errors == {"custom.rating": ["There is no custom field with this key."]}


# --- through the services -------------------------------------------------------------------


def test_contact_create_stores_every_type(fields, sales1):
    contact = make_contact(
        sales1,
        custom={
            "note": "Müller",
            "visits": 4,
            "budget": "99.95",
            "since": "2020-01-02",
            "vip": True,
            "size": "L",
            "topics": ["Käse"],
            "profile": "https://example.de",
            "assistant": "a@b.de",
        },
    )
    contact = Contact.objects.get(pk=contact.pk)
    assert contact.custom == {
        "note": "Müller",
        "visits": 4,
        "budget": "99.9500",
        "since": "2020-01-02",
        "vip": True,
        "size": "L",
        "topics": ["Käse"],
        "profile": "https://example.de",
        "assistant": "a@b.de",
    }


def test_contact_create_with_bad_custom_value_writes_nothing(fields, sales1):
    with pytest.raises(ValidationFailed) as exc:
        make_contact(sales1, last_name="Neu", custom={"visits": "viele", "size": "XXL"})
    assert exc.value.fields == {
        "custom.visits": ["Enter a whole number."],
        "custom.size": ["Select a valid choice."],
    }
    assert Contact.objects.count() == 0
    assert ChangeRecord.objects.filter(entity="contact").count() == 0


def test_account_custom_field(admin, sales1):
    custom_field_create(
        actor=admin,
        data={"entity": "account", "key": "rating", "label": "Rating", "field_type": "integer"},
    )
    account = make_account(sales1, custom={"rating": "5"})
    assert Account.objects.get(pk=account.pk).custom == {"rating": 5}


# --- display and filter ---------------------------------------------------------------------


def test_display_values(fields):
    with translation.override("en"):
        assert customfields.display_value(fields["vip"], True) == "Yes"
        assert customfields.display_value(fields["vip"], False) == "No"
        assert customfields.display_value(fields["topics"], ["Wein", "Käse"]) == "Wein, Käse"
        assert customfields.display_value(fields["note"], "") == ""
        assert customfields.display_value(fields["visits"], 1234567) == "1,234,567"
        assert customfields.display_value(fields["since"], "2019-12-31") == "12/31/2019"
    with translation.override("de"):
        assert customfields.display_value(fields["visits"], 1234567) == "1.234.567"
        assert customfields.display_value(fields["since"], "2019-12-31") == "31.12.2019"


def test_display_label_in_german(admin):
    definition = custom_field_create(
        actor=admin,
        data={
            "entity": "contact",
            "key": "hobby",
            "label": "Hobby",
            "label_de": "Freizeit",
            "field_type": "text",
        },
    )
    assert definition.display_label("de") == "Freizeit"
    assert definition.display_label("en") == "Hobby"


FILTER_CASES = [
    ("note", "müll", ["Anna"]),
    ("visits", "4", ["Anna"]),
    ("vip", "yes", ["Anna"]),
    ("vip", "no", ["Bert"]),
    ("size", "M", ["Bert"]),
    ("topics", "Wein", ["Bert"]),
    ("since", "2020-01-02", ["Anna"]),
    ("budget", "17", ["Bert"]),
]


def test_filter_q(fields, sales1):
    make_contact(
        sales1,
        last_name="Anna",
        custom={
            "note": "Müll",
            "visits": 4,
            "vip": True,
            "topics": ["Käse"],
            "since": "2020-01-02",
            "size": "S",
        },
    )
    make_contact(
        sales1,
        last_name="Bert",
        custom={
            "note": "Wald",
            "visits": 5,
            "vip": False,
            "topics": ["Wein", "Käse"],
            "size": "M",
            "budget": "17",
        },
    )

    def matching(key, raw):
        q = customfields.filter_q(fields[key], raw)
        return sorted(Contact.objects.filter(q).values_list("last_name", flat=True))

    found = {(key, raw): matching(key, raw) for key, raw, _ in FILTER_CASES}
    assert found == {(key, raw): matches for key, raw, matches in FILTER_CASES}


def test_multi_choice_filter_with_umlaut(fields, sales1):
    make_contact(sales1, last_name="Anna", custom={"topics": ["Käse"]})
    make_contact(sales1, last_name="Bert", custom={"topics": ["Wein", "Käse"]})
    make_contact(sales1, last_name="Carl", custom={"topics": ["Wein"]})
    q = customfields.filter_q(fields["topics"], "Käse")
    assert sorted(Contact.objects.filter(q).values_list("last_name", flat=True)) == ["Anna", "Bert"]


def test_empty_filter_means_no_filter(fields):
    assert customfields.filter_q(fields["note"], "") is None


def test_definitions_are_listed_in_position_order(admin):
    for key, position in (("b", 2), ("a", 1), ("c", 3)):
        custom_field_create(
            actor=admin,
            data={
                "entity": "contact",
                "key": key,
                "label": key.upper(),
                "field_type": "text",
                "position": position,
            },
        )
    assert [d.key for d in customfields.definitions_for("contact")] == ["a", "b", "c"]
    assert CustomFieldDefinition.objects.count() == 3


def test_an_integer_filter_that_is_no_number_is_a_field_error(fields):
    with pytest.raises(ValidationFailed) as caught:
        customfields.filter_q(fields["visits"], "vier")
    assert list(caught.value.fields) == ["cf_visits"]
