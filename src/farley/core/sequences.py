"""Gap-free counters, safe under concurrent transactions."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F

from farley.core.models import Sequence


def next_value(name: str) -> int:
    """Take the next number of ``name``; call inside the transaction that uses it."""
    with transaction.atomic():
        Sequence.objects.get_or_create(name=name)
        Sequence.objects.filter(name=name).update(value=F("value") + 1)
        return Sequence.objects.select_for_update().values_list("value", flat=True).get(name=name)
