"""Reads of accounts, contacts, relationships and timelines, shared by the UI and the API.

Every read starts from ``*_visible_to(user)``: the single visibility mechanism in core.
The list filters are defined once here (:data:`CONTACT_FILTERS`, :data:`ACCOUNT_FILTERS`)
and serve the HTML lists, the API query parameters and exports alike.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from farley.contacts import shared_addresses
from farley.contacts.models import (
    Account,
    AccountStatus,
    Contact,
    ContactAccountLink,
    PostalAddress,
    Relationship,
    TimelineEntry,
)
from farley.core import customfields, sensitive
from farley.core.errors import NotFound, ValidationFailed
from farley.core.history import history_for, with_change_lines
from farley.core.models import User
from farley.core.pagination import BadCursor, Page, keyset_page_union
from farley.core.validation import Cleaner
from farley.core.visibility import SharesFilter, visible_parts, visible_records


def accounts_visible_to(
    user: User, *, include_deleted: bool = False, for_edit: bool = False
) -> QuerySet[Account]:
    """The accounts ``user`` sees; ``for_edit``: only those they may change (a read-only share
    shows a record without letting its user change it)."""
    return visible_records(
        Account.objects.all(), user, include_deleted=include_deleted, for_edit=for_edit
    )


def contacts_visible_to(
    user: User, *, include_deleted: bool = False, for_edit: bool = False
) -> QuerySet[Contact]:
    return visible_records(
        Contact.objects.all(), user, include_deleted=include_deleted, for_edit=for_edit
    )


def relationships_visible_to(user: User) -> QuerySet[Relationship]:
    """A relationship is visible when both of its ends are."""
    accounts = accounts_visible_to(user).values("pk")
    contacts = contacts_visible_to(user).values("pk")
    return Relationship.objects.filter(
        Q(from_account__in=accounts) | Q(from_contact__in=contacts),
        Q(to_account__in=accounts) | Q(to_contact__in=contacts),
    ).select_related("type", "from_account", "from_contact", "to_account", "to_contact")


def timeline_entries_visible_to(
    user: User, *, include_deleted: bool = False
) -> QuerySet[TimelineEntry]:
    """The entries on the timelines of records ``user`` sees (deleted ones only if asked)."""
    accounts = accounts_visible_to(user).values("pk")
    contacts = contacts_visible_to(user).values("pk")
    entries = (
        TimelineEntry.objects.all()
        if include_deleted
        else TimelineEntry.objects.filter(deleted_at__isnull=True)
    )
    return entries.filter(
        Q(contact__in=contacts) | Q(contact__isnull=True, account__in=accounts)
    ).select_related("author", "account", "contact")


def trashed_timeline_entries(user: User, limit: int = 200) -> list[TimelineEntry]:
    return list(
        timeline_entries_visible_to(user, include_deleted=True)
        .filter(deleted_at__isnull=False)
        .order_by("-deleted_at")[:limit]
    )


def timeline_entry_on(user: User, record: Account | Contact, entry_id: int) -> TimelineEntry | None:
    """The entry ``entry_id`` if it is on ``record``'s timeline and ``user`` may see it."""
    field = "account" if isinstance(record, Account) else "contact"
    return timeline_entries_visible_to(user).filter(pk=entry_id, **{field: record}).first()


# --- list filters ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ListFilter:
    name: str
    label: Any
    kind: str  # text, choice, date, boolean, id


COMMON_FILTERS = [
    ListFilter("q", gettext_lazy("Name contains"), "text"),
    ListFilter("postal_code", gettext_lazy("Postal code starts with"), "text"),
    ListFilter("postal_code_from", gettext_lazy("Postal code from"), "text"),
    ListFilter("postal_code_to", gettext_lazy("Postal code to"), "text"),
    ListFilter("city", gettext_lazy("City"), "text"),
    ListFilter("country", gettext_lazy("Country"), "text"),
    ListFilter("industry", gettext_lazy("Industry code"), "text"),
    ListFilter("status", gettext_lazy("Status"), "choice"),
    ListFilter("tag", gettext_lazy("Tag"), "text"),
    ListFilter("owner", gettext_lazy("Owner"), "id"),
    ListFilter("team", gettext_lazy("Team"), "id"),
    ListFilter("interaction_from", gettext_lazy("Last interaction from"), "date"),
    ListFilter("interaction_to", gettext_lazy("Last interaction to"), "date"),
    ListFilter("has_email", gettext_lazy("Has email"), "boolean"),
]
FILTER_NAMES = {f.name for f in COMMON_FILTERS}
LIST_PARAMS = {"sort", "limit", "cursor"}

CONTACT_SORTS = {
    "name": ["last_name", "first_name"],
    "city": ["city"],
    "postal_code": ["postal_code"],
    "created": ["created_at"],
    "updated": ["updated_at"],
    "last_interaction": ["last_interaction_at"],
}
ACCOUNT_SORTS = {
    "name": ["name"],
    "city": ["city"],
    "postal_code": ["postal_code"],
    "customer_number": ["customer_number"],
    "created": ["created_at"],
    "updated": ["updated_at"],
    "last_interaction": ["last_interaction_at"],
}
MAX_LIMIT = 200
LIST_RELATIONS = {"account": ("owner", "team"), "contact": ("owner", "team", "primary_account")}


def _address_exists(parent: str, ref: str = "pk", **lookup: Any) -> Exists:
    return Exists(PostalAddress.objects.filter(**{parent: OuterRef(ref)}, **lookup))


def criteria_q(entity: str, criteria: Mapping[str, Any]) -> Q:
    """The records matching sharing-rule ``criteria`` (list filters); raises on bad ones."""
    cleaner = Cleaner()
    q = _filter_q(entity, criteria, cleaner)
    cleaner.raise_if_invalid()
    return q


def _filter_q(
    entity: str,
    params: Mapping[str, Any],
    cleaner: Cleaner,
    user: User | None = None,
    *,
    ref: str = "pk",
    related_only: bool = False,
) -> Q:
    """The records matching the list filters ``params``. With ``related_only``, only the
    filters on related rows (addresses, account links, tags), as a filter on any model whose
    field ``ref`` holds the record's id: they narrow the shares of a restricted user's list
    before the records are read (see :func:`list_page`)."""
    parent = entity
    q = Q()

    def get(key: str) -> str:
        if related_only and key not in RELATED_FILTERS[entity]:
            return ""
        value = params.get(key) or ""
        return value.strip() if isinstance(value, str) else ""

    if text := get("q"):
        if entity == "contact":
            for word in text.split()[:5]:
                q &= Q(last_name__icontains=word) | Q(first_name__icontains=word)
        else:
            q &= Q(name__icontains=text)
    if plz := get("postal_code"):
        q &= _address_exists(parent, ref, postal_code__startswith=plz.upper())
    plz_from, plz_to = get("postal_code_from"), get("postal_code_to")
    if plz_from or plz_to:
        lookup: dict[str, Any] = {}
        if plz_from:
            lookup["postal_code__gte"] = plz_from.upper()
        if plz_to:
            # "to 19" includes 19999: compare against the prefix range end.
            lookup["postal_code__lte"] = plz_to.upper() + "\uffff"
        full = max(plz_from, plz_to, key=len)
        if full.isdigit() and len(full) >= 4:
            # Complete codes: "10000 to 19999" means German codes, not Vienna's "1010".
            lookup["postal_code__length"] = len(full)
        q &= _address_exists(parent, ref, **lookup)
    if city := get("city"):
        q &= _address_exists(parent, ref, city__iexact=city)
    if country := get("country"):
        q &= _address_exists(parent, ref, country=country.upper())
    if industry := get("industry"):
        if entity == "account":
            q &= Q(industry_code__startswith=industry.upper())
        else:
            q &= Exists(
                ContactAccountLink.objects.filter(
                    contact=OuterRef(ref), account__industry_code__startswith=industry.upper()
                )
            )
    if status := get("status"):
        if status not in AccountStatus.values:
            cleaner.add("status", _("Select a valid choice."))
        elif entity == "account":
            q &= Q(status=status)
        else:
            q &= Exists(
                ContactAccountLink.objects.filter(contact=OuterRef(ref), account__status=status)
            )
    if tag := get("tag"):
        names = [t.strip() for t in tag.split(",") if t.strip()]
        tag_q = Q()
        for name in names[:20]:
            tag_q |= Q(tags__name__iexact=name)
        q &= Q(**{f"{ref}__in": _model(entity).objects.filter(tag_q).values("pk")})
    if related_only:
        return q
    for key in ("owner", "team"):
        if raw := get(key):
            value = cleaner.integer(key, raw, minimum=1, maximum=2**63 - 1)
            if value is not None:
                q &= Q(**{f"{key}_id": value})
    for key, lookup in (("interaction_from", "gte"), ("interaction_to", "lt")):
        if raw := get(key):
            day = cleaner.date(key, raw)
            if day is not None:
                if lookup == "lt":
                    day = day + dt.timedelta(days=1)
                moment = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
                q &= Q(**{f"last_interaction_at__{lookup}": moment})
    if raw := get("has_email"):
        has = cleaner.boolean("has_email", raw)
        q &= ~Q(primary_email="") if has else Q(primary_email="")
    definitions = {d.key: d for d in customfields.definitions_for(entity)}
    if user is not None:  # a sensitive field the user may not see is no filter for them either
        definitions = {
            d.key: d for d in sensitive.visible_definitions(user, entity, definitions.values())
        }
    for key, raw in params.items():
        if key.startswith("cf_") and isinstance(raw, str) and raw.strip():
            definition = definitions.get(key[3:])
            if definition is None:
                cleaner.add(key, _("There is no custom field with this key."))
            else:
                try:
                    extra = customfields.filter_q(definition, raw.strip())
                except ValidationFailed as exc:
                    for message in exc.fields.get(key, []):
                        cleaner.add(key, message)
                    q &= Q(pk__in=[])
                else:
                    if extra is not None:
                        q &= extra
    return q


# The filters that test related rows only (``_filter_q(related_only=True)``); industry and
# status are columns of an account, but those of its linked accounts for a contact.
_ADDRESS_AND_TAG = {"postal_code", "postal_code_from", "postal_code_to", "city", "country", "tag"}
RELATED_FILTERS = {
    "account": _ADDRESS_AND_TAG,
    "contact": _ADDRESS_AND_TAG | {"industry", "status"},
}


def _model(entity: str):
    return Account if entity == "account" else Contact


def filtered_list(
    entity: str,
    user: User,
    params: Mapping[str, Any],
    *,
    strict: bool = False,
    ignore_unknown: bool = False,
    visible: bool = True,
) -> tuple[QuerySet, list[str], bool]:
    """The visible, filtered queryset and its sort; ``strict`` raises on bad filters and, unless
    ``ignore_unknown``, on parameters that are no filter (API). ``visible=False``: not yet
    narrowed to what ``user`` may see (the caller applies the visibility)."""
    cleaner = Cleaner()
    if visible:
        base = accounts_visible_to(user) if entity == "account" else contacts_visible_to(user)
    else:
        base = _model(entity).objects.all()
    queryset = base.filter(_filter_q(entity, params, cleaner, user))
    sorts = ACCOUNT_SORTS if entity == "account" else CONTACT_SORTS
    sort = (
        (params.get("sort") or "name").strip()
        if isinstance(params.get("sort") or "", str)
        else "name"
    )
    descending = sort.startswith("-")
    if sort.lstrip("-") not in sorts:
        cleaner.add("sort", _("Sort by one of: %(names)s.") % {"names": ", ".join(sorts)})
        sort, descending = "name", False
    if strict:
        # A misspelt filter must not quietly return (or export) everything.
        for key in [] if ignore_unknown else params:
            if key not in FILTER_NAMES | LIST_PARAMS and not key.startswith("cf_"):
                cleaner.add(key, _("Unknown filter."))
        cleaner.raise_if_invalid()
    queryset = queryset.select_related(*LIST_RELATIONS[entity])
    return queryset, sorts[sort.lstrip("-")], descending


def _shares_narrowing(entity: str, params: Mapping[str, Any], user: User) -> SharesFilter:
    """What narrows the records shared with ``user`` before they are read: the filters on
    related rows, the place filters looked up in the copies of the shared records' addresses
    (:mod:`farley.contacts.shared_addresses`, one index range instead of a probe per share).
    Built when the list has a shared part at all."""

    @functools.cache
    def parts() -> tuple[Q, shared_addresses.Narrowing | None]:
        values = {key: value.strip() for key, value in params.items() if isinstance(value, str)}
        lookups = shared_addresses.place_lookups(values)
        rest = {
            key: value
            for key, value in params.items()
            if not lookups or key not in shared_addresses.PLACES
        }
        related = _filter_q(entity, rest, Cleaner(), user, ref="object_id", related_only=True)
        return related, shared_addresses.narrowing(entity, lookups)

    def narrow(principal: str, ids: list[int]) -> Q:
        related, by_place = parts()
        return related if by_place is None else by_place(principal, ids) & related

    return narrow


def union_pages() -> bool:
    """Whether lists page through the union of the ways of seeing a record (see
    :func:`list_page`)."""
    return connection.vendor == "sqlite"


def list_page(entity: str, user: User, params: Mapping[str, Any], *, strict: bool = False) -> Page:
    """One page of the list: the records ``user`` sees that match the filters ``params``.

    On SQLite the visibility is applied as a union
    (:func:`farley.core.visibility.visible_parts`): the first rows of the user's own records, of
    their teams' and of those shared with them, each found on its own index, then the first of
    those. SQLite has no statistics to choose a plan by and walks the whole table in list
    order, testing "own or team's or shared" on every row: that costs a sales user who sees one
    record in a hundred a hundred times what it costs an administrator (270 ms instead of 8 ms
    at a million contacts). The shares are narrowed by the filters on addresses, links and tags
    before their records are read. PostgreSQL chooses by its statistics between walking the
    list order with the shares hashed once and the indexes of owner and team, and does better
    with the one filter where a territory rule shares many records."""
    queryset, fields, descending = filtered_list(entity, user, params, strict=strict, visible=False)
    if union_pages():
        narrow = _shares_narrowing(entity, params, user)
        base, conditions = visible_parts(queryset, user, shares_filter=narrow)
    else:
        base, conditions = visible_records(queryset, user), None
    # The rows of the union are filtered already: the page reads them by id.
    rows = _model(entity).objects.select_related(*LIST_RELATIONS[entity])
    cleaner = Cleaner()
    limit = cleaner.integer("limit", params.get("limit") or 50, minimum=1, maximum=MAX_LIMIT) or 50
    if strict:
        cleaner.raise_if_invalid()
    limit = min(max(limit, 1), MAX_LIMIT)
    page = functools.partial(
        keyset_page_union, rows, base, conditions, fields=fields, descending=descending, limit=limit
    )
    try:
        return page(cursor=params.get("cursor") or None)
    except BadCursor:
        if strict:
            raise ValidationFailed({"cursor": [_("This cursor is not valid.")]}) from None
        return page()


# --- details --------------------------------------------------------------------------------


def account_detail(user: User, account_id: int, *, include_deleted: bool = False) -> Account:
    account = (
        accounts_visible_to(user, include_deleted=include_deleted)
        .select_related("owner", "team", "parent")
        .prefetch_related("emails", "phones", "addresses", "tags")
        .filter(pk=account_id)
        .first()
    )
    if account is None:
        raise NotFound()
    return account


def active_account_links(user: User | None = None, to_attr: str | None = None) -> Prefetch:
    """``contact.account_links`` without links to accounts in the trash (they are kept, so
    that restoring the account brings them back, but are not shown) and, given ``user``,
    without links to accounts they may not see."""
    links = ContactAccountLink.objects.select_related("account").filter(
        account__deleted_at__isnull=True
    )
    if user is not None:
        # Exists, not "IN (all visible accounts)": it checks the few linked accounts only.
        visible = accounts_visible_to(user).filter(pk=OuterRef("account_id"))
        links = links.filter(Exists(visible))
    return Prefetch("account_links", queryset=links.order_by("position"), to_attr=to_attr)


def contact_detail(user: User, contact_id: int, *, include_deleted: bool = False) -> Contact:
    contact = (
        contacts_visible_to(user, include_deleted=include_deleted)
        .select_related("owner", "team", "primary_account")
        .prefetch_related(
            "emails",
            "phones",
            "addresses",
            "tags",
            active_account_links(user),
        )
        .filter(pk=contact_id)
        .first()
    )
    if contact is None:
        raise NotFound()
    return contact


def account_contacts(user: User, account: Account, limit: int = 50) -> list[ContactAccountLink]:
    contacts = contacts_visible_to(user).values("pk")
    return list(
        ContactAccountLink.objects.filter(account=account, contact__in=contacts)
        .select_related("contact")
        .order_by("contact__last_name", "contact__first_name")[:limit]
    )


def child_accounts(user: User, account: Account) -> list[Account]:
    return list(accounts_visible_to(user).filter(parent=account).order_by("name")[:50])


def relationships_of(
    user: User, record: Account | Contact
) -> list[tuple[str, Account | Contact, Relationship]]:
    """(label, other record, relationship) for every relation in either direction."""
    field = "account" if isinstance(record, Account) else "contact"
    rows = relationships_visible_to(user).filter(
        Q(**{f"from_{field}": record}) | Q(**{f"to_{field}": record})
    )
    result = []
    for rel in rows[:200]:
        outgoing = getattr(rel, f"from_{field}_id") == record.pk
        label = rel.type.display_label(inverse=not outgoing)
        other = rel.target if outgoing else rel.source
        result.append((label, other, rel))
    return result


def timeline_of(
    user: User,
    record: Account | Contact,
    *,
    kinds: list[str] | None = None,
    limit: int = 100,
) -> list[TimelineEntry]:
    field = "account" if isinstance(record, Account) else "contact"
    entries = TimelineEntry.objects.filter(
        **{field: record}, deleted_at__isnull=True
    ).select_related("author", "contact", "account")
    if isinstance(record, Account):
        contacts = ContactAccountLink.objects.filter(account=record).values("contact_id")
        entries = TimelineEntry.objects.filter(
            Q(account=record) | Q(contact__in=contacts), deleted_at__isnull=True
        ).select_related("author", "contact", "account")
        entries = entries.filter(
            Q(contact__isnull=True) | Q(contact__in=contacts_visible_to(user).values("pk"))
        )
    if kinds:
        entries = entries.filter(kind__in=kinds)
    return list(entries.order_by("-occurred_at", "-id")[:limit])


def record_history(record: Account | Contact, user: User | None = None, limit: int = 200):
    """The record's changes, newest first, each with readable ``.lines``; sensitive values
    are hidden from a ``user`` who may not see them."""
    entity = "account" if isinstance(record, Account) else "contact"
    changes = list(history_for(entity, record.pk)[:limit])
    for change in changes:
        change.changes = sensitive.mask_changes(user, entity, change.changes)
    return with_change_lines(entity, changes)


def trash(user: User, limit: int = 200) -> list[Any]:
    """The newest deleted records of every registered entity the user may see (each with
    ``.entity``, its registry entry), newest first."""
    from farley.core import entities

    found = []
    for entity in entities.all_entities():
        if entity.restore is None:
            continue
        records = (
            visible_records(entity.model.objects.all(), user, include_deleted=True)
            .filter(deleted_at__isnull=False)
            .select_related("deleted_by")
            .order_by("-deleted_at")[:limit]
        )
        for record in records:
            record.entity = entity
            found.append(record)
    return sorted(found, key=lambda r: r.deleted_at, reverse=True)[:limit]
