"""Gap-free document numbers per year from a pattern such as ``AN-{year}-{number:05d}``
(settings ``FARLEY_QUOTE_NUMBER`` and ``FARLEY_ORDER_NUMBER``). The counter is taken in the
transaction that saves the document, so a rolled-back save leaves no gap."""

from __future__ import annotations

import datetime as dt

from django.conf import settings

from farley.core.sequences import next_value

DEFAULT_PATTERNS = {"quote": "AN-{year}-{number:05d}", "order": "AU-{year}-{number:05d}"}


def pattern(kind: str) -> str:
    return getattr(settings, f"FARLEY_{kind.upper()}_NUMBER", "") or DEFAULT_PATTERNS[kind]


def next_number(kind: str, day: dt.date) -> str:
    """The next number of ``kind`` ("quote" or "order") in ``day``'s year."""
    number = next_value(f"{kind}:{day.year}")
    return pattern(kind).format(year=day.year, number=number)
