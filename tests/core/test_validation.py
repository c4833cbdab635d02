"""The value checks every service uses: each returns the clean value or a field error."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from farley.core.errors import ValidationFailed
from farley.core.validation import (
    Cleaner,
    country_name,
    language_name,
    normalise_phone,
    phone_display,
)

# --- text -----------------------------------------------------------------------------------


def test_text_is_stripped_and_kept_exactly():
    c = Cleaner()
    assert c.text("name", "  Müller Øster 李 😀  ", max_length=50) == "Müller Øster 李 😀"
    assert c.ok


def test_text_too_long_names_the_limit_and_the_length():
    c = Cleaner()
    c.text("name", "x" * 10_000, max_length=200)
    assert c.errors == {"name": ["At most 200 characters are allowed (this has 10000)."]}


def test_text_counts_characters_not_bytes():
    c = Cleaner()
    assert c.text("name", "ü" * 200, max_length=200) == "ü" * 200
    assert c.ok


def test_required_text_missing_or_blank():
    c = Cleaner()
    c.text("last_name", None, max_length=100, required=True)
    c.text("first_name", "   ", max_length=100, required=True)
    assert c.errors == {
        "last_name": ["This field is required."],
        "first_name": ["This field is required."],
    }


@pytest.mark.parametrize("value", [123, ["a"], {"a": 1}])
def test_text_rejects_non_text(value):
    c = Cleaner()
    assert c.text("name", value, max_length=10) == ""
    assert c.errors == {"name": ["Enter text."]}


def test_text_rejects_nul_character():
    c = Cleaner()
    assert c.text("name", "a\x00b", max_length=10) == ""
    assert c.errors == {"name": ["Text must not contain NUL characters."]}


def test_prefix_goes_in_front_of_every_field_path():
    c = Cleaner(prefix="emails.0.")
    c.add("address", "bad")
    assert c.errors == {"emails.0.address": ["bad"]}


def test_raise_if_invalid_carries_all_field_errors():
    c = Cleaner()
    c.email("email", "nope")
    c.postal_code("postal_code", "123", country="DE")
    with pytest.raises(ValidationFailed) as exc:
        c.raise_if_invalid()
    assert exc.value.status == 422
    assert exc.value.code == "validation_error"
    assert exc.value.fields == {
        "email": ["Enter a valid email address."],
        "postal_code": ["A German postal code has exactly 5 digits."],
    }


def test_raise_if_invalid_does_nothing_when_clean():
    c = Cleaner()
    c.text("name", "ok", max_length=10)
    c.raise_if_invalid()


def test_merge_collects_errors_of_both():
    a, b = Cleaner(), Cleaner()
    a.add("x", "one")
    b.add("x", "two")
    b.add("y", "three")
    a.merge(b)
    assert a.errors == {"x": ["one", "two"], "y": ["three"]}


# --- email ----------------------------------------------------------------------------------


def test_email_is_lower_cased():
    c = Cleaner()
    assert c.email("email", " Max.Mustermann@Example.COM ") == "max.mustermann@example.com"
    assert c.ok


@pytest.mark.parametrize(
    "value", ["max", "max@", "@example.com", "max@@example.com", "max example@x.de"]
)
def test_invalid_email(value):
    c = Cleaner()
    c.email("email", value)
    assert c.errors == {"email": ["Enter a valid email address."]}


def test_empty_email_is_fine_unless_required():
    c = Cleaner()
    assert c.email("email", "") == ""
    assert c.ok
    c.email("email", "", required=True)
    assert c.errors == {"email": ["This field is required."]}


def test_unicode_email_domain_is_accepted():
    c = Cleaner()
    assert c.email("email", "Max@Müller.de") == "max@müller.de"
    assert c.ok


# --- phone ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("030 1234567", "+49301234567"),
        ("+49 (30) 123-4567", "+49301234567"),
        ("0049 30 1234567", "+49301234567"),
        ("030/123 45 67", "+49301234567"),
        ("0171 1234567", "+491711234567"),
        ("+1 212 555 0123", "+12125550123"),
        ("+44 20 7946 0958", "+442079460958"),
    ],
)
def test_phone_is_normalised_to_e164(raw, e164):
    c = Cleaner()
    assert c.phone("phone", raw) == e164
    assert c.ok
    assert normalise_phone(raw) == e164


def test_phone_national_number_uses_the_given_region():
    c = Cleaner()
    assert c.phone("phone", "01 23 45 67 89", region="FR") == "+33123456789"
    assert c.ok


@pytest.mark.parametrize("raw", ["12345", "abc", "+49 30", "0000000000"])
def test_invalid_phone(raw):
    c = Cleaner()
    assert c.phone("phone", raw) == ""
    assert c.errors == {"phone": ["Enter a valid phone number, e.g. +49 30 1234567."]}


def test_missing_phone_number_is_required():
    c = Cleaner()
    c.phone("phones.0.number", "")
    assert c.errors == {"phones.0.number": ["This field is required."]}


def test_phone_display_national_at_home_international_abroad():
    assert phone_display("+49301234567") == "030 1234567"
    assert phone_display("+12125550123") == "+1 212-555-0123"
    assert phone_display("garbage") == "garbage"


# --- postal codes and countries -------------------------------------------------------------


@pytest.mark.parametrize(
    ("country", "code", "clean"),
    [
        ("DE", "10117", "10117"),
        ("DE", " 01067 ", "01067"),
        ("AT", "1010", "1010"),
        ("CH", "8001", "8001"),
        ("NL", "1012 ab", "1012 AB"),
        ("GB", "sw1a 1aa", "SW1A 1AA"),
        ("US", "10001-1234", "10001-1234"),
        ("PL", "00-950", "00-950"),
        ("BR", "01310-100", "01310-100"),  # no pattern of its own: the generic rule
    ],
)
def test_valid_postal_codes(country, code, clean):
    c = Cleaner()
    assert c.postal_code("postal_code", code, country=country) == clean
    assert c.ok


@pytest.mark.parametrize("code", ["1234", "123456", "1O117", "D-10117", "10 117"])
def test_german_postal_code_must_have_five_digits(code):
    c = Cleaner()
    c.postal_code("postal_code", code, country="DE")
    assert c.errors == {"postal_code": ["A German postal code has exactly 5 digits."]}


@pytest.mark.parametrize(("country", "code"), [("AT", "10101"), ("NL", "1012"), ("GB", "12345")])
def test_foreign_postal_code_wrong_for_country(country, code):
    c = Cleaner()
    c.postal_code("postal_code", code, country=country)
    assert c.errors == {"postal_code": ["Enter a valid postal code for this country."]}


def test_country_is_upper_cased_iso_code():
    c = Cleaner()
    assert c.country("country", "de") == "DE"
    assert c.ok


@pytest.mark.parametrize("value", ["XX", "D", "Deutschland"])
def test_unknown_country(value):
    c = Cleaner()
    assert c.country("country", value) == ""
    assert "Enter a two-letter ISO 3166 country code, e.g. DE." in c.errors["country"]


def test_country_name_in_both_languages():
    assert country_name("DE", "en") == "Germany"
    assert country_name("DE", "de") == "Deutschland"
    assert country_name("", "de") == ""


# --- VAT IDs --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("DE136695976", "DE136695976"),
        ("de 136 695 976", "DE136695976"),
        ("ATU13585627", "ATU13585627"),
        ("NL004495445B01", "NL004495445B01"),
    ],
)
def test_valid_vat_ids(raw, clean):
    c = Cleaner()
    assert c.vat_id("vat_id", raw) == clean
    assert c.ok


@pytest.mark.parametrize("raw", ["DE123", "DE123456789", "ATU00000000"])
def test_vat_id_with_bad_number_or_checksum(raw):
    c = Cleaner()
    c.vat_id("vat_id", raw)
    assert c.errors == {"vat_id": ["This VAT ID is not valid."]}


@pytest.mark.parametrize("raw", ["136695976", "XX123456789", "D"])
def test_vat_id_without_country_prefix(raw):
    c = Cleaner()
    c.vat_id("vat_id", raw)
    assert c.errors == {"vat_id": ["Enter a VAT ID with its country prefix, e.g. DE123456789."]}


# --- numbers --------------------------------------------------------------------------------


def test_integer_from_text_and_limits():
    c = Cleaner()
    assert c.integer("n", " 42 ") == 42
    assert c.integer("n", None) is None
    assert c.integer("n", "") is None
    assert c.ok
    c.integer("low", -1, minimum=0)
    c.integer("high", 11, maximum=10)
    c.integer("text", "zwölf")
    c.integer("frac", "1.5")
    c.integer("bool", True)
    assert c.errors == {
        "low": ["Enter a number of at least 0."],
        "high": ["Enter a number of at most 10."],
        "text": ["Enter a whole number."],
        "frac": ["Enter a whole number."],
        "bool": ["Enter a whole number."],
    }


def test_integer_out_of_range_is_an_error_and_no_value():
    """An id beyond 64 bits must not reach a query (the database driver would fail)."""
    c = Cleaner()
    assert c.integer("id", 2**70, minimum=1, maximum=2**63 - 1) is None
    assert c.integer("low", -5, minimum=1) is None
    assert set(c.errors) == {"id", "low"}


def test_integer_with_thousands_of_digits_is_an_error_not_a_crash():
    c = Cleaner()
    assert c.integer("n", "9" * 5000) is None
    assert c.errors == {"n": ["Enter a whole number."]}


def test_decimal_is_quantised_to_places():
    c = Cleaner()
    assert c.decimal("amount", "1234.5") == Decimal("1234.50")
    assert c.decimal("amount", 19.99) == Decimal("19.99")
    assert c.decimal("amount", 7) == Decimal("7.00")
    assert c.ok


@pytest.mark.parametrize("raw", ["abc", "NaN", "Infinity", "1,2,3"])
def test_decimal_not_a_number(raw):
    c = Cleaner()
    assert c.decimal("amount", raw) is None
    assert c.errors == {"amount": ["Enter a number, e.g. 1234.50."]}


def test_decimal_too_many_digits():
    c = Cleaner()
    assert c.decimal("amount", "123456789012345.00", max_digits=16) is None
    assert c.errors == {"amount": ["This number is too large."]}


def test_decimal_below_minimum():
    c = Cleaner()
    c.decimal("amount", "-1", minimum=Decimal(0))
    assert c.errors == {"amount": ["Enter a number of at least 0."]}


def test_decimal_far_too_large_is_a_field_error_not_a_crash():
    c = Cleaner()
    assert c.decimal("annual_revenue", "1e30") is None
    assert c.errors == {"annual_revenue": ["This number is too large."]}


# --- dates ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "day"),
    [
        ("2024-02-29", dt.date(2024, 2, 29)),
        ("29.02.2024", dt.date(2024, 2, 29)),
        (dt.date(1990, 5, 17), dt.date(1990, 5, 17)),
    ],
)
def test_date_iso_and_german(raw, day):
    c = Cleaner()
    assert c.date("birthday", raw) == day
    assert c.ok


@pytest.mark.parametrize(
    "raw", ["2023-02-29", "2024-13-01", "31.02.2024", "gestern", "1700-01-01", "2024/01/01"]
)
def test_bad_date(raw):
    c = Cleaner()
    assert c.date("birthday", raw) is None
    assert c.errors == {"birthday": ["Enter a valid date (YYYY-MM-DD)."]}


def test_required_date_missing():
    c = Cleaner()
    c.date("due", "", required=True)
    assert c.errors == {"due": ["This field is required."]}


def test_datetime_naive_is_made_aware_in_the_current_zone():
    c = Cleaner()
    value = c.datetime("occurred_at", "2024-03-01T09:30:00")
    assert c.ok
    assert timezone.is_aware(value)
    assert timezone.localtime(value).replace(tzinfo=None) == dt.datetime(2024, 3, 1, 9, 30)


def test_datetime_with_zone_is_kept():
    c = Cleaner()
    value = c.datetime("occurred_at", "2024-03-01T09:30:00+00:00")
    assert value == dt.datetime(2024, 3, 1, 9, 30, tzinfo=dt.UTC)


@pytest.mark.parametrize("raw", ["morgen", "2024-13-01T10:00:00", "01.03.2024 10:00"])
def test_bad_datetime(raw):
    c = Cleaner()
    assert c.datetime("occurred_at", raw) is None
    assert c.errors == {"occurred_at": ["Enter a valid date and time."]}


# --- choices, booleans, URLs, id lists ------------------------------------------------------


def test_choice_accepts_a_listed_value_only():
    c = Cleaner()
    assert c.choice("status", "customer", [("prospect", "P"), ("customer", "C")]) == "customer"
    assert c.ok
    assert c.choice("status", "boss", [("prospect", "P")]) == ""
    assert c.choice("kind", "", ["a", "b"], required=True) == ""
    assert c.errors == {"status": ["Select a valid choice."], "kind": ["This field is required."]}


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        (True, True),
        ("yes", True),
        ("on", True),
        ("1", True),
        (False, False),
        ("", False),
        (None, False),
        ("no", False),
    ],
)
def test_boolean(raw, value):
    c = Cleaner()
    assert c.boolean("flag", raw) is value
    assert c.ok


def test_boolean_rejects_other_text():
    c = Cleaner()
    c.boolean("flag", "vielleicht")
    assert c.errors == {"flag": ["Enter yes or no."]}


def test_url_gets_https_when_the_scheme_is_missing():
    c = Cleaner()
    assert c.url("website", "www.example.de") == "https://www.example.de"
    assert c.url("website", "http://example.de/pfad") == "http://example.de/pfad"
    assert c.ok


@pytest.mark.parametrize("raw", ["javascript:alert(1)", "ftp://example.de", "not a url"])
def test_bad_url(raw):
    c = Cleaner()
    c.url("website", raw)
    assert c.errors == {"website": ["Enter a valid web address (http or https)."]}


def test_id_list():
    c = Cleaner()
    assert c.id_list("ids", ["1", 2]) == [1, 2]
    assert c.id_list("ids", None) == []
    assert c.ok
    c.id_list("ids", "1,2")
    assert c.errors == {"ids": ["Enter a list."]}


@pytest.mark.parametrize(
    ("language", "raw", "number"),
    [
        ("de", "12,5", Decimal("12.50")),
        ("de", "1.234,56", Decimal("1234.56")),
        ("de", "1.234.567,5", Decimal("1234567.50")),
        ("de", "1,234", Decimal("1.23")),  # a German user means one point two three four
        ("de", "1.234.567", Decimal("1234567.00")),
        ("de", "-0,5", Decimal("-0.50")),
        ("de", "12 500,00", Decimal("12500.00")),
        ("en", "1,234", Decimal("1234.00")),
        ("en", "1,234.56", Decimal("1234.56")),
        ("en", "12,5", Decimal("12.50")),
        ("en", "1234.5", Decimal("1234.50")),
        ("de", "1234.5", Decimal("1234.50")),  # a lone dot is a decimal point, as in JSON
    ],
)
def test_decimal_as_people_type_it_in_german_and_english(language, raw, number):
    from django.utils import translation

    c = Cleaner()
    with translation.override(language):
        assert c.decimal("amount", raw) == number
    assert c.ok


@pytest.mark.parametrize("raw", ["1,2,3", "1.2,3,4", "1,,5", "12,5.3,1", ",", "1.2.3"])
def test_decimal_with_muddled_separators_is_an_error(raw):
    c = Cleaner()
    assert c.decimal("amount", raw) is None
    assert list(c.errors) == ["amount"]


@pytest.mark.parametrize(("raw", "number"), [("12.500", 12500), ("12,500", 12500), ("1 000", 1000)])
def test_integer_accepts_digit_groups(raw, number):
    c = Cleaner()
    assert c.integer("n", raw) == number


def test_language_names_in_the_users_language():
    assert language_name("de", "en") == "German"
    assert language_name("en", "de") == "Englisch"
    assert language_name("", "de") == ""
    assert language_name("xx-unknown", "en") == "xx-unknown"
