"""The addresses of shared accounts and contacts, copied per share (:class:`SharedAddress`).

A restricted user's list filtered by postal code or city asks this table which of the records
shared with them or their teams are there (:func:`narrowing`), instead of testing the
addresses of every shared record. :func:`refresh` keeps it in step: core's sharing calls it
(through the entity registry) after every change of a record's shares, the contact services
after every change of its addresses, the erasure after removing them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from django.db.models import Q

from farley.contacts.models import PostalAddress, SharedAddress
from farley.core.models import RecordShare

ENTITIES = ("account", "contact")
# The list filters on addresses (place_lookups reads them).
PLACES = frozenset({"postal_code", "postal_code_from", "postal_code_to", "city", "country"})
# A principal ("user" or "team") and their ids -> their shares with a matching address.
Narrowing = Callable[[str, list[int]], Q]
BATCH = 500
# Above every character: "starts with P" is the range P .. P + LAST.
LAST = chr(0x10FFFF)


def refresh(entity: str, object_ids: Iterable[int]) -> None:
    """Copy the addresses of these records to each of their shares again."""
    if entity not in ENTITIES:
        return
    ids = sorted(set(object_ids))
    parent = f"{entity}_id"
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        SharedAddress.objects.filter(entity=entity, object_id__in=chunk).delete()
        shares = list(
            RecordShare.objects.filter(entity=entity, object_id__in=chunk).values_list(
                "pk", "object_id", "user_id", "team_id"
            )
        )
        if not shares:
            continue
        places: dict[int, list[tuple[str, str, str]]] = defaultdict(list)
        addresses = PostalAddress.objects.filter(**{f"{parent}__in": {s[1] for s in shares}})
        for owner, postal_code, city, country in addresses.values_list(
            parent, "postal_code", "city", "country"
        ):
            places[owner].append((postal_code.upper(), city.casefold(), country))
        SharedAddress.objects.bulk_create(
            [
                SharedAddress(
                    share_id=share_id,
                    entity=entity,
                    object_id=object_id,
                    user_id=user_id,
                    team_id=team_id,
                    postal_code=postal_code,
                    city=city,
                    country=country,
                )
                for share_id, object_id, user_id, team_id in shares
                for postal_code, city, country in places[object_id]
            ],
            batch_size=BATCH,
        )


def place_lookups(params: Mapping[str, str]) -> list[dict[str, Any]]:
    """The list filters on addresses in ``params`` (stripped values) as lookups on
    :class:`SharedAddress`, one per filter: each may be met by another address of the record.
    Each finds at least the shared records the list filter finds (the city casefolded where
    the list ignores the case of ASCII letters only), as the list tests them again. Empty if
    there is no filter by postal code or city (the country alone narrows little)."""
    lookups: list[dict[str, Any]] = []
    if plz := params.get("postal_code"):
        plz = plz.upper()
        lookups.append({"postal_code__gte": plz, "postal_code__lt": plz + LAST})
    plz_from, plz_to = params.get("postal_code_from"), params.get("postal_code_to")
    if plz_from or plz_to:
        lookup: dict[str, Any] = {}
        if plz_from:
            lookup["postal_code__gte"] = plz_from.upper()
        if plz_to:
            lookup["postal_code__lte"] = plz_to.upper() + LAST
        lookups.append(lookup)
    if city := params.get("city"):
        lookups.append({"city": city.casefold()})
    if lookups and (country := params.get("country")):
        lookups.append({"country": country.upper()})
    return lookups


def narrowing(entity: str, lookups: list[dict[str, Any]]) -> Narrowing | None:
    """For :func:`farley.core.visibility.visible_parts`: given a principal ("user" or "team")
    and their ids, the shares of theirs with an address matching every lookup (a filter on
    :class:`RecordShare`), found on this table's indexes; None without lookups."""
    if not lookups:
        return None

    def shares_of(principal: str, ids: list[int]) -> Q:
        q = Q()
        for lookup in lookups:
            found = SharedAddress.objects.filter(
                entity=entity, **{f"{principal}_id__in": ids}, **lookup
            )
            q &= Q(pk__in=found.values("share_id"))
        return q

    return shares_of
