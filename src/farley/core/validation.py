"""Validation of the values customers' data is made of: text, emails, phones, postal codes,
VAT IDs, URLs, dates, numbers. Used by every service; each check returns the clean value or
records a field error in a :class:`Cleaner`."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any

import phonenumbers
from babel import Locale
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import EmailValidator, URLValidator
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from stdnum import get_cc_module
from stdnum.exceptions import ValidationError as StdnumError

from farley.core.errors import ValidationFailed

DEFAULT_REGION = "DE"

POSTAL_CODE_PATTERNS: dict[str, str] = {
    "DE": r"\d{5}",
    "AT": r"\d{4}",
    "CH": r"\d{4}",
    "LI": r"\d{4}",
    "BE": r"\d{4}",
    "DK": r"\d{4}",
    "LU": r"(L-)?\d{4}",
    "NL": r"\d{4} ?[A-Z]{2}",
    "FR": r"\d{5}",
    "IT": r"\d{5}",
    "ES": r"\d{5}",
    "PT": r"\d{4}-\d{3}",
    "PL": r"\d{2}-\d{3}",
    "CZ": r"\d{3} ?\d{2}",
    "SK": r"\d{3} ?\d{2}",
    "SE": r"\d{3} ?\d{2}",
    "NO": r"\d{4}",
    "FI": r"\d{5}",
    "US": r"\d{5}(-\d{4})?",
    "GB": r"[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}",
    "IE": r"[A-Z]\d[\dW] ?[A-Z\d]{4}",
    "CA": r"[A-Z]\d[A-Z] ?\d[A-Z]\d",
    "JP": r"\d{3}-?\d{4}",
    "CN": r"\d{6}",
    "IN": r"\d{6}",
    "AU": r"\d{4}",
}
GENERIC_POSTAL_CODE = r"[A-Z0-9][A-Z0-9 \-]{1,10}"

_email_validator = EmailValidator()
_url_validator = URLValidator(schemes=["http", "https"])


def country_codes() -> set[str]:
    return set(Locale("en").territories) & set(phonenumbers.SUPPORTED_REGIONS)


_COUNTRIES = country_codes()


def country_choices(language: str | None = None) -> list[tuple[str, str]]:
    """ISO 3166 alpha-2 codes with names in the given language, sorted by name."""
    locale = Locale.parse((language or get_language() or "en").split("-")[0])
    names = locale.territories
    return sorted(((code, names.get(code, code)) for code in _COUNTRIES), key=lambda item: item[1])


def country_name(code: str, language: str | None = None) -> str:
    if not code:
        return ""
    locale = Locale.parse((language or get_language() or "en").split("-")[0])
    return locale.territories.get(code, code)


def language_name(code: str, language: str | None = None) -> str:
    """ "de" -> "German" (or "Deutsch" for a German-speaking user)."""
    if not code:
        return ""
    locale = Locale.parse((language or get_language() or "en").split("-")[0])
    return locale.languages.get(code.split("-")[0].lower(), code)


def phone_display(e164: str) -> str:
    """Format an E.164 number for people: national format at home, international abroad."""
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    region = phonenumbers.region_code_for_number(parsed)
    fmt = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if region == DEFAULT_REGION
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(parsed, fmt)


def normalise_phone(raw: str, region: str = DEFAULT_REGION) -> str | None:
    """Return the E.164 form of a phone number written in any usual way, or None."""
    try:
        parsed = phonenumbers.parse(raw, region or DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


_SPACES = str.maketrans("", "", " \u00a0\u202f'")
_GROUPED = re.compile(r"[+-]?\d{1,3}([.,]\d{3})+")


def _without_grouping(text: str) -> str:
    """ "12 500", "12.500" and "12,500" are 12500 (digit groups of three)."""
    text = text.strip().translate(_SPACES)
    return re.sub(r"[.,]", "", text) if _GROUPED.fullmatch(text) else text


def _decimal_text(text: str) -> str:
    """A number as typed by people in German or English, in Python's notation.

    "1.234,56" and "1,234.56" are 1234.56; a single comma is the decimal comma ("12,5"),
    except "1,234" for an English-speaking user, which is 1234; "1.234.567" and "1,234,567" are
    grouped digits; a lone dot is always the decimal point, as in JSON. Anything else is left
    as it is (and then rejected)."""
    text = text.strip().translate(_SPACES)
    if re.fullmatch(r"[+-]?\d{1,3}(\.\d{3})+,\d*", text):
        return text.replace(".", "").replace(",", ".")
    if re.fullmatch(r"[+-]?\d{1,3}(,\d{3})+\.\d*", text):
        return text.replace(",", "")
    grouped = re.fullmatch(r"[+-]?\d{1,3}([.,])\d{3}(\1\d{3})*", text)
    if grouped:
        separator = grouped.group(1)
        english = not (get_language() or "en").startswith("de")
        if text.count(separator) > 1 or (separator == "," and english):
            return text.replace(separator, "")
    if re.fullmatch(r"[+-]?\d*,\d+", text):
        return text.replace(",", ".")
    return text


class Cleaner:
    """Collects field errors while values are cleaned; ``raise_if_invalid`` ends a check."""

    def __init__(self, prefix: str = ""):
        self.errors: dict[str, list[str]] = {}
        self.prefix = prefix

    def add(self, field: str, message: str) -> None:
        self.errors.setdefault(f"{self.prefix}{field}", []).append(str(message))

    def merge(self, other: Cleaner) -> None:
        for key, messages in other.errors.items():
            self.errors.setdefault(key, []).extend(messages)

    @property
    def ok(self) -> bool:
        return not self.errors

    def raise_if_invalid(self) -> None:
        if self.errors:
            raise ValidationFailed(self.errors)

    # --- values -----------------------------------------------------------------------------

    def text(self, field: str, value: Any, *, max_length: int, required: bool = False) -> str:
        if value is None:
            value = ""
        if not isinstance(value, str):
            self.add(field, _("Enter text."))
            return ""
        value = value.strip()
        if "\x00" in value:
            self.add(field, _("Text must not contain NUL characters."))
            return ""
        if required and not value:
            self.add(field, _("This field is required."))
        elif len(value) > max_length:
            self.add(
                field,
                _("At most %(max)d characters are allowed (this has %(count)d).")
                % {"max": max_length, "count": len(value)},
            )
        return value

    def choice(self, field: str, value: Any, choices: Any, *, required: bool = False) -> str:
        value = "" if value is None else value
        valid = {str(c[0]) if isinstance(c, tuple | list) else str(c) for c in choices}
        if not isinstance(value, str) or value not in valid or (required and not value):
            if required and not value:
                self.add(field, _("This field is required."))
            else:
                self.add(field, _("Select a valid choice."))
            return ""
        return value

    def email(self, field: str, value: Any, *, required: bool = False) -> str:
        value = self.text(field, value, max_length=254, required=required)
        if value:
            try:
                _email_validator(value)
            except DjangoValidationError:
                self.add(field, _("Enter a valid email address."))
        return value.lower() if value else value

    def url(self, field: str, value: Any, *, required: bool = False) -> str:
        value = self.text(field, value, max_length=300, required=required)
        if value and not re.match(r"^[a-z][a-z0-9+.-]*://", value, re.I):
            value = "https://" + value
        if value:
            try:
                _url_validator(value)
            except DjangoValidationError:
                self.add(field, _("Enter a valid web address (http or https)."))
        return value

    def phone(self, field: str, value: Any, *, region: str = DEFAULT_REGION) -> str:
        value = self.text(field, value, max_length=40, required=True)
        if not value:
            return ""
        normalised = normalise_phone(value, region)
        if normalised is None:
            self.add(field, _("Enter a valid phone number, e.g. +49 30 1234567."))
            return ""
        return normalised

    def country(self, field: str, value: Any, *, required: bool = False) -> str:
        value = self.text(field, value, max_length=2, required=required).upper()
        if value and value not in _COUNTRIES:
            self.add(field, _("Enter a two-letter ISO 3166 country code, e.g. DE."))
            return ""
        return value

    def postal_code(self, field: str, value: Any, *, country: str) -> str:
        value = self.text(field, value, max_length=12).upper()
        if not value:
            return value
        pattern = POSTAL_CODE_PATTERNS.get(country, GENERIC_POSTAL_CODE)
        if not re.fullmatch(pattern, value):
            if country == "DE":
                self.add(field, _("A German postal code has exactly 5 digits."))
            else:
                self.add(field, _("Enter a valid postal code for this country."))
        return value

    def vat_id(self, field: str, value: Any) -> str:
        value = self.text(field, value, max_length=20).upper().replace(" ", "")
        if not value:
            return value
        prefix = value[:2]
        country = "GR" if prefix == "EL" else prefix
        try:
            module = get_cc_module(country.lower(), "vat")
        except Exception:
            module = None
        if not re.fullmatch(r"[A-Z]{2}[0-9A-Z+*.]{2,13}", value) or module is None:
            self.add(field, _("Enter a VAT ID with its country prefix, e.g. DE123456789."))
            return value
        try:
            module.validate(value)
        except StdnumError:
            self.add(field, _("This VAT ID is not valid."))
        return value

    def integer(
        self, field: str, value: Any, *, minimum: int | None = None, maximum: int = 2**31 - 1
    ) -> int | None:
        if value in (None, ""):
            return None
        if isinstance(value, bool):
            self.add(field, _("Enter a whole number."))
            return None
        try:
            number = int(_without_grouping(str(value)))
        except (TypeError, ValueError):
            self.add(field, _("Enter a whole number."))
            return None
        # Out of range is an error and no value: a caller must not look a record up by it
        # (an id beyond 64 bits makes the database driver fail).
        if minimum is not None and number < minimum:
            self.add(field, _("Enter a number of at least %(min)d.") % {"min": minimum})
            return None
        if number > maximum:
            self.add(field, _("Enter a number of at most %(max)d.") % {"max": maximum})
            return None
        return number

    def decimal(
        self,
        field: str,
        value: Any,
        *,
        max_digits: int = 16,
        places: int = 2,
        minimum: Decimal | None = None,
    ) -> Decimal | None:
        if value in (None, ""):
            return None
        if isinstance(value, bool | float) and not isinstance(value, bool):
            value = str(value)
        try:
            number = Decimal(value if isinstance(value, Decimal) else _decimal_text(str(value)))
        except (InvalidOperation, ValueError):
            self.add(field, _("Enter a number, e.g. 1234.50."))
            return None
        if not number.is_finite():
            self.add(field, _("Enter a number, e.g. 1234.50."))
            return None
        if number.adjusted() >= max_digits - places:
            self.add(field, _("This number is too large."))
            return None
        quantised = number.quantize(Decimal(1).scaleb(-places))
        if len(quantised.as_tuple().digits) > max_digits:
            self.add(field, _("This number is too large."))
            return None
        if minimum is not None and quantised < minimum:
            self.add(field, _("Enter a number of at least %(min)s.") % {"min": minimum})
        return quantised

    def date(self, field: str, value: Any, *, required: bool = False) -> dt.date | None:
        if value in (None, ""):
            if required:
                self.add(field, _("This field is required."))
            return None
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return value
        text = str(value).strip()
        for pattern in ("%Y-%m-%d", "%d.%m.%Y"):
            try:
                parsed = dt.datetime.strptime(text, pattern).date()
            except ValueError:
                continue
            if not 1800 <= parsed.year <= 2200:
                break
            return parsed
        self.add(field, _("Enter a valid date (YYYY-MM-DD)."))
        return None

    def datetime(self, field: str, value: Any, *, required: bool = False) -> dt.datetime | None:
        from django.utils import timezone
        from django.utils.dateparse import parse_datetime

        if value in (None, ""):
            if required:
                self.add(field, _("This field is required."))
            return None
        if isinstance(value, dt.datetime):
            parsed = value
        else:
            try:
                parsed = parse_datetime(str(value).strip())
            except ValueError:
                parsed = None
        if parsed is None:
            self.add(field, _("Enter a valid date and time."))
            return None
        if timezone.is_naive(parsed):
            parsed = timezone.make_aware(parsed)
        return parsed

    def boolean(self, field: str, value: Any) -> bool:
        if isinstance(value, bool):
            return value
        if value in (None, "", "0", "false", "False", "off", "no"):
            return False
        if value in ("1", "true", "True", "on", "yes"):
            return True
        self.add(field, _("Enter yes or no."))
        return False

    def id_list(self, field: str, value: Any) -> list[int]:
        if value in (None, ""):
            return []
        if not isinstance(value, list | tuple):
            self.add(field, _("Enter a list."))
            return []
        ids = []
        for item in value:
            number = self.integer(field, item, minimum=1, maximum=2**63 - 1)
            if number is not None:
                ids.append(number)
        return ids


def check_version(record: Any, version: Any) -> None:
    """Optimistic locking: ``version`` (if given) must be the record's, else Conflict (409)."""
    from farley.core.errors import Conflict

    if version in (None, ""):
        return
    c = Cleaner()
    expected = c.integer("version", version, minimum=0)
    c.raise_if_invalid()
    if expected != record.version:
        raise Conflict(current_version=record.version)
