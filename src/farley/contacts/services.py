"""Every write to accounts, contacts, relationships and timeline entries.

One function per use case, keyword arguments, one transaction each. Each validates its whole
input first (collecting field errors), checks visibility, writes, records history and keeps the
search index in step. The UI and the API call these and nothing else.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.db.models import Max, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from farley.contacts import selectors, shared_addresses
from farley.contacts.models import (
    Account,
    AccountStatus,
    AddressKind,
    Channel,
    Contact,
    ContactAccountLink,
    Direction,
    EmailAddress,
    EmailKind,
    InteractionKind,
    PhoneKind,
    PhoneNumber,
    PostalAddress,
    Relationship,
    RelationshipType,
    Salutation,
    TimelineEntry,
)
from farley.core import history, permissions, richtext, search, sensitive, sharing, softdelete
from farley.core.customfields import clean_custom_values
from farley.core.errors import Forbidden, NotFound, ValidationFailed
from farley.core.models import ChangeAction, Tag, Team, User
from farley.core.sequences import next_value
from farley.core.validation import Cleaner, check_version
from farley.core.visibility import is_administrator, team_ids, visibility_scope

MAX_ITEMS = 50
ADDRESS_KEYS = [
    "kind",
    "street",
    "house_number",
    "extra",
    "postal_code",
    "city",
    "region",
    "country",
]
LANGUAGE_CODES = [
    "",
    "de",
    "en",
    "fr",
    "it",
    "es",
    "nl",
    "pl",
    "tr",
    "zh",
    "ja",
    "ru",
    "pt",
    "da",
    "sv",
]
INDUSTRY_CODE = r"[A-U]?(\d{2}(\.\d{1,2}(\.\d)?)?)?"

ACCOUNT_FIELDS = [
    "name",
    "legal_form",
    "industry_code",
    "industry_label",
    "employees",
    "annual_revenue",
    "revenue_currency",
    "website",
    "vat_id",
    "status",
    "parent_id",
    "description",
]
CONTACT_FIELDS = [
    "salutation",
    "academic_title",
    "first_name",
    "last_name",
    "job_title",
    "department",
    "language",
    "birthday",
    "preferred_channel",
    "description",
]
COMMON_FIELDS = ["owner_id", "team_id", "tags", "custom", "emails", "phones", "addresses"]


# --- shared helpers -------------------------------------------------------------------------


def _require_some_edit(actor: User) -> None:
    """The early check of relationship and timeline changes (the record decides later)."""
    if not (permissions.can(actor, "edit", "account") or permissions.can(actor, "edit", "contact")):
        raise Forbidden(_("Your role may not change records."))


def _require_edit_of(actor: User, record: Account | Contact) -> None:
    """``actor`` may change ``record``: their role may edit its entity and the record is
    theirs to change (not only shared with them to read)."""
    is_account = isinstance(record, Account)
    permissions.require(actor, "edit", "account" if is_account else "contact")
    editable = (
        selectors.accounts_visible_to(actor, for_edit=True)
        if is_account
        else selectors.contacts_visible_to(actor, for_edit=True)
    )
    if not editable.filter(pk=record.pk).exists():
        raise Forbidden(_("This record is shared with you to read, not to change."))


def _reject_unknown(data: dict[str, Any], allowed: list[str], cleaner: Cleaner) -> None:
    for key in data:
        if key not in allowed:
            cleaner.add(key, _("Unknown field."))


def _clean_list(cleaner: Cleaner, field: str, value: Any) -> list[dict[str, Any]]:
    if value in (None, ""):
        return []
    if not isinstance(value, list) or any(not isinstance(item, dict) for item in value):
        cleaner.add(field, _("Enter a list of objects."))
        return []
    if len(value) > MAX_ITEMS:
        cleaner.add(field, _("At most %(max)d entries are allowed.") % {"max": MAX_ITEMS})
        return []
    return value


def _clean_emails(cleaner: Cleaner, value: Any) -> list[dict[str, str]]:
    result, seen = [], set()
    for i, item in enumerate(_clean_list(cleaner, "emails", value)):
        nested = Cleaner(prefix=f"emails.{i}.")
        _reject_unknown(item, ["address", "kind"], nested)
        cleaner.merge(nested)
        address = cleaner.email(f"emails.{i}.address", item.get("address"), required=True)
        kind = cleaner.choice(
            f"emails.{i}.kind", item.get("kind") or EmailKind.WORK, EmailKind.choices
        )
        if address and address in seen:
            cleaner.add(f"emails.{i}.address", _("This email address is listed twice."))
        seen.add(address)
        result.append({"address": address, "kind": kind})
    return result


def _clean_phones(cleaner: Cleaner, value: Any, region: str) -> list[dict[str, str]]:
    result, seen = [], set()
    for i, item in enumerate(_clean_list(cleaner, "phones", value)):
        nested = Cleaner(prefix=f"phones.{i}.")
        _reject_unknown(item, ["number", "kind"], nested)
        cleaner.merge(nested)
        number = cleaner.phone(f"phones.{i}.number", item.get("number"), region=region or "DE")
        kind = cleaner.choice(
            f"phones.{i}.kind", item.get("kind") or PhoneKind.WORK, PhoneKind.choices
        )
        if number and number in seen:
            cleaner.add(f"phones.{i}.number", _("This phone number is listed twice."))
        seen.add(number)
        result.append({"number": number, "kind": kind})
    return result


def _guard_sensitive(
    cleaner: Cleaner,
    actor: User,
    entity: str,
    data: dict[str, Any],
    nested: dict[str, Any],
    record: Account | Contact | None,
) -> None:
    """A user who may not see sensitive data may not set it, and keeps what is there."""
    if sensitive.may_see(actor, entity):
        return
    message = _("Your role may not see or change this field.")
    for key in sensitive.SENSITIVE_FIELDS.get(entity, ()):
        if key in data:
            cleaner.add(key, message)
    custom = data.get("custom")
    if isinstance(custom, dict):
        for key in sensitive.sensitive_custom_keys(entity) & set(custom):
            cleaner.add(f"custom.{key}", message)
    if nested.get("phones") is not None:
        for i, phone in enumerate(nested["phones"]):
            if sensitive.is_private_phone(phone):
                cleaner.add(f"phones.{i}.kind", _("Your role may not add private numbers."))
        if record is not None:
            nested["phones"] += [
                {"number": p.number, "kind": p.kind}
                for p in record.phones.all()
                if sensitive.is_private_phone(p)
            ]


def _clean_addresses(cleaner: Cleaner, value: Any) -> list[dict[str, str]]:
    result = []
    for i, item in enumerate(_clean_list(cleaner, "addresses", value)):
        p = f"addresses.{i}."
        nested = Cleaner(prefix=p)
        _reject_unknown(item, ADDRESS_KEYS, nested)
        cleaner.merge(nested)
        country = cleaner.country(p + "country", item.get("country") or "DE", required=True)
        address = {
            "kind": cleaner.choice(
                p + "kind", item.get("kind") or AddressKind.BUSINESS, AddressKind.choices
            ),
            "street": cleaner.text(p + "street", item.get("street"), max_length=200),
            "house_number": cleaner.text(
                p + "house_number", item.get("house_number"), max_length=20
            ),
            "extra": cleaner.text(p + "extra", item.get("extra"), max_length=200),
            "postal_code": cleaner.postal_code(
                p + "postal_code", item.get("postal_code"), country=country
            ),
            "city": cleaner.text(p + "city", item.get("city"), max_length=100),
            "region": cleaner.text(p + "region", item.get("region"), max_length=100),
            "country": country,
        }
        if not any(address[k] for k in ("street", "postal_code", "city")):
            cleaner.add(p + "city", _("Enter at least a street, postal code or city."))
        result.append(address)
    return result


def _clean_tags(cleaner: Cleaner, value: Any) -> list[str]:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        value = [t for t in value.split(",")]
    if not isinstance(value, list):
        cleaner.add("tags", _("Enter a list of tags."))
        return []
    tags: dict[str, str] = {}
    for item in value:
        name = cleaner.text("tags", item, max_length=60)
        if name:
            tags.setdefault(name.casefold(), name)
    if len(tags) > MAX_ITEMS:
        cleaner.add("tags", _("At most %(max)d entries are allowed.") % {"max": MAX_ITEMS})
    return list(tags.values())


def _clean_owner_and_team(
    cleaner: Cleaner, actor: User, data: dict[str, Any], record: Any | None
) -> dict[str, Any]:
    result = {}
    if "owner_id" in data or record is None:
        owner_id = cleaner.integer("owner_id", data.get("owner_id"), minimum=1, maximum=2**63 - 1)
        if owner_id is None:
            result["owner"] = record.owner if record else actor
        elif owner_id == actor.pk:
            result["owner"] = actor
        else:
            owner = User.objects.filter(pk=owner_id, is_active=True).first()
            if owner is None:
                cleaner.add("owner_id", _("Select an active user."))
            elif visibility_scope(actor) != "all" and (
                record is None or record.owner_id != owner_id
            ):
                cleaner.add(
                    "owner_id", _("Only managers and administrators may assign records to others.")
                )
            result["owner"] = owner
    if "team_id" in data or record is None:
        team_id = cleaner.integer("team_id", data.get("team_id"), minimum=1, maximum=2**63 - 1)
        if team_id is None:
            mine = team_ids(actor)
            result["team"] = None if "team_id" in data or not mine else Team.objects.get(pk=mine[0])
        else:
            team = Team.objects.filter(pk=team_id).first()
            if team is None or (
                not is_administrator(actor)
                and team_id not in team_ids(actor)
                and visibility_scope(actor) != "all"
            ):
                cleaner.add("team_id", _("Select one of your teams."))
            result["team"] = team
    return result


def _set_tags(record: Account | Contact, names: list[str]) -> None:
    tags = []
    for name in names:
        tag = Tag.objects.filter(name__iexact=name).first() or Tag.objects.create(name=name)
        tags.append(tag)
    record.tags.set(tags)


def _replace_children(
    record: Account | Contact, parent_field: str, emails, phones, addresses
) -> None:
    if emails is not None:
        record.emails.all().delete()
        EmailAddress.objects.bulk_create(
            EmailAddress(**{parent_field: record}, position=i, **e) for i, e in enumerate(emails)
        )
        record.primary_email = emails[0]["address"] if emails else ""
    if phones is not None:
        record.phones.all().delete()
        PhoneNumber.objects.bulk_create(
            PhoneNumber(**{parent_field: record}, position=i, **p) for i, p in enumerate(phones)
        )
        # The list's phone column and the API's primary number never show a private number.
        public = [p for p in phones if not sensitive.is_private_phone(p)]
        record.primary_phone = public[0]["number"] if public else ""
    if addresses is not None:
        record.addresses.all().delete()
        PostalAddress.objects.bulk_create(
            PostalAddress(**{parent_field: record}, position=i, **a)
            for i, a in enumerate(addresses)
        )
        shared_addresses.refresh(parent_field, [record.pk])
        first = addresses[0] if addresses else {}
        record.postal_code = first.get("postal_code", "")
        record.city = first.get("city", "")
        record.country = first.get("country", "")


def _channels_snapshot(record: Account | Contact) -> dict[str, Any]:
    return {
        "emails": [f"{e.address} ({e.kind})" for e in record.emails.all()],
        "phones": [f"{p.number} ({p.kind})" for p in record.phones.all()],
        "addresses": [f"{a} ({a.kind})" for a in record.addresses.all()],
        "tags": sorted(t.name for t in record.tags.all()),
    }


def _base_snapshot(record: Any, fields: list[str]) -> dict[str, Any]:
    snap = {f: getattr(record, f) for f in fields}
    snap["owner"] = str(record.owner) if record.owner_id else None
    snap["team"] = str(record.team) if record.team_id else None
    snap["custom"] = dict(record.custom)
    return snap


# --- accounts -------------------------------------------------------------------------------


def account_snapshot(account: Account) -> dict[str, Any]:
    fields = [f for f in ACCOUNT_FIELDS if f != "parent_id"] + ["customer_number"]
    snap = _base_snapshot(account, fields)
    snap["parent"] = str(account.parent) if account.parent_id else None
    snap.update(_channels_snapshot(account))
    return snap


def _clean_account(
    actor: User, data: dict[str, Any], account: Account | None
) -> tuple[dict, dict, Cleaner]:
    c = Cleaner()
    if not isinstance(data, dict):
        raise ValidationFailed({"": [_("Expected an object.")]})
    _reject_unknown(data, ACCOUNT_FIELDS + COMMON_FIELDS, c)
    creating = account is None
    values: dict[str, Any] = {}

    def has(key: str) -> bool:
        return creating or key in data

    if has("name"):
        values["name"] = c.text("name", data.get("name"), max_length=200, required=True)
    for key, length in (("legal_form", 40), ("industry_label", 200), ("description", 20000)):
        if has(key):
            values[key] = c.text(key, data.get(key), max_length=length)
    if has("industry_code"):
        import re

        code = c.text("industry_code", data.get("industry_code"), max_length=10).upper()
        if code and not re.fullmatch(INDUSTRY_CODE, code):
            c.add("industry_code", _("Enter a NACE/WZ code such as 62.01."))
        values["industry_code"] = code
    if has("employees"):
        values["employees"] = c.integer(
            "employees", data.get("employees"), minimum=0, maximum=10_000_000
        )
    if has("annual_revenue"):
        values["annual_revenue"] = c.decimal(
            "annual_revenue", data.get("annual_revenue"), max_digits=16, places=2
        )
    if has("revenue_currency"):
        currency = c.text(
            "revenue_currency", data.get("revenue_currency") or "EUR", max_length=3
        ).upper()
        if len(currency) != 3 or not currency.isalpha():
            c.add("revenue_currency", _("Enter a three-letter currency code, e.g. EUR."))
        values["revenue_currency"] = currency
    if has("website"):
        values["website"] = c.url("website", data.get("website"))
    if has("vat_id"):
        values["vat_id"] = c.vat_id("vat_id", data.get("vat_id"))
    if has("status"):
        values["status"] = c.choice(
            "status", data.get("status") or AccountStatus.PROSPECT, AccountStatus.choices
        )
    if has("parent_id") and data.get("parent_id") in (0, "0"):
        c.add("parent_id", _("Choose an account from the list."))
    elif has("parent_id"):
        parent_id = c.integer("parent_id", data.get("parent_id"), minimum=1, maximum=2**63 - 1)
        values["parent"] = None
        if parent_id is not None:
            parent = selectors.accounts_visible_to(actor).filter(pk=parent_id).first()
            if parent is None:
                c.add("parent_id", _("Select an account you can see."))
            elif account is not None and _would_loop(account, parent):
                c.add("parent_id", _("An account cannot be its own parent."))
            values["parent"] = parent
    values.update(_clean_owner_and_team(c, actor, data, account))
    nested = {
        "emails": _clean_emails(c, data.get("emails")) if has("emails") else None,
        "phones": _clean_phones(c, data.get("phones"), "DE") if has("phones") else None,
        "addresses": _clean_addresses(c, data.get("addresses")) if has("addresses") else None,
        "tags": _clean_tags(c, data.get("tags")) if has("tags") else None,
    }
    _guard_sensitive(c, actor, "account", data, nested, account)
    if has("custom"):
        values["custom"] = clean_custom_values(
            "account", data.get("custom"), existing=account.custom if account else {}, cleaner=c
        )
    return values, nested, c


def _would_loop(account: Account, parent: Account) -> bool:
    seen = set()
    current: Account | None = parent
    while current is not None and current.pk not in seen:
        if current.pk == account.pk:
            return True
        seen.add(current.pk)
        current = (
            Account.objects.filter(pk=current.parent_id).first() if current.parent_id else None
        )
    return False


def _index_account(account: Account) -> None:
    parts = [
        account.customer_number,
        account.city,
        account.postal_code,
        account.industry_label,
        account.vat_id,
        account.website,
        *[e.address for e in account.emails.all()],
        *[p.number for p in account.phones.all() if not sensitive.is_private_phone(p)],
        *[f"{a.city} {a.postal_code} {a.street}" for a in account.addresses.all()],
    ]
    subtitle = " · ".join(p for p in [account.customer_number, account.city] if p)
    search.index_document(
        entity="account",
        object_id=account.pk,
        owner_id=account.owner_id,
        team_id=account.team_id,
        title=account.name,
        subtitle=subtitle,
        parts=parts,
    )


def account_create(*, actor: User, data: dict[str, Any]) -> Account:
    """Create an account (company) with its emails, phones, addresses, tags and custom fields."""
    permissions.require(actor, "create", "account")
    values, nested, cleaner = _clean_account(actor, data, None)
    cleaner.raise_if_invalid()
    with transaction.atomic():
        now = timezone.now()
        account = Account(**values, created_at=now, updated_at=now)
        account.customer_number = f"K{next_value('customer_number'):06d}"
        account.save()
        _replace_children(
            account, "account", nested["emails"], nested["phones"], nested["addresses"]
        )
        account.save(
            update_fields=["primary_email", "primary_phone", "postal_code", "city", "country"]
        )
        _set_tags(account, nested["tags"] or [])
        _record_created(actor, "account", account, account_snapshot, _index_account)
    return account


def account_update(
    *, actor: User, account_id: int, data: dict[str, Any], version: Any = None
) -> Account:
    """Change an account; ``version`` (if given) must be the one the caller read, else 409."""
    permissions.require(actor, "edit", "account")
    with transaction.atomic():
        account = _locked(selectors.accounts_visible_to(actor, for_edit=True), account_id)
        data = _checked_version(account, data, version)
        values, nested, cleaner = _clean_account(actor, data, account)
        cleaner.raise_if_invalid()
        before = account_snapshot(account)
        for key, value in values.items():
            setattr(account, key, value)
        _replace_children(
            account, "account", nested["emails"], nested["phones"], nested["addresses"]
        )
        if nested["tags"] is not None:
            _set_tags(account, nested["tags"])
        after = _record_updated(actor, "account", account, before, account_snapshot, _index_account)
        if after is not None and before["name"] != after["name"]:
            for contact in Contact.objects.filter(primary_account=account).prefetch_related(
                "emails", "phones", "addresses"
            ):
                _index_contact(contact)
    return account


def _locked(queryset: QuerySet, pk: int) -> Any:
    """The record ``pk`` of ``queryset`` (what the actor may change), locked for the update."""
    record = queryset.select_for_update().filter(pk=pk).first()
    if record is None:
        raise NotFound()
    return record


def _checked_version(record: Any, data: dict[str, Any], version: Any) -> dict[str, Any]:
    """``data`` without its version, once that (or ``version``) is the record's (else 409)."""
    check_version(record, version if version is not None else data.get("version"))
    return {k: v for k, v in data.items() if k != "version"}


def _record_created(
    actor: User, entity: str, record: Any, snapshot: Callable, index: Callable
) -> None:
    """After a new record and its children are saved: history, search, sharing rules."""
    history.record_change(
        entity=entity, object_id=record.pk, action=ChangeAction.CREATE, actor=actor,
        after=snapshot(record),
    )  # fmt: skip
    index(record)
    sharing.apply_rules(entity, record)


def _record_updated(
    actor: User,
    entity: str,
    record: Any,
    before: dict[str, Any],
    snapshot: Callable,
    index: Callable,
) -> dict[str, Any] | None:
    """After a record and its children were changed: if anything did, a new version in the
    history, the search index and the sharing rules; the new snapshot (None: no change)."""
    after = snapshot(record)
    if not history.diff(before, after):
        return None
    record.version += 1
    record.updated_at = timezone.now()
    record.save()
    history.record_change(
        entity=entity, object_id=record.pk, action=ChangeAction.UPDATE, actor=actor,
        before=before, after=after,
    )  # fmt: skip
    index(record)
    sharing.apply_rules(entity, record)
    return after


def account_delete(*, actor: User, account_id: int) -> Account:
    """Move an account to the trash (soft delete); it can be restored."""
    with transaction.atomic():
        account = softdelete.soft_delete(
            actor, "account", selectors.accounts_visible_to(actor, for_edit=True), account_id
        )
        _refresh_contacts_of(account)
    return account


def account_restore(*, actor: User, account_id: int) -> Account:
    """Bring an account back from the trash."""
    return softdelete.restore(
        actor,
        "account",
        selectors.accounts_visible_to(actor, include_deleted=True, for_edit=True),
        account_id,
        _reindex_restored_account,
    )


def _reindex_restored_account(account: Account) -> None:
    _index_account(account)
    _refresh_contacts_of(account)


# --- contacts -------------------------------------------------------------------------------


def contact_snapshot(contact: Contact) -> dict[str, Any]:
    snap = _base_snapshot(contact, CONTACT_FIELDS)
    snap.update(_channels_snapshot(contact))
    snap["account_links"] = [
        f"{link.account.name} ({link.role})" if link.role else link.account.name
        for link in contact.account_links.select_related("account")
    ]
    return snap


def _clean_account_links(cleaner: Cleaner, actor: User, value: Any) -> list[dict[str, Any]]:
    links, seen = [], set()
    items = _clean_list(cleaner, "account_links", value)
    wanted = []
    for i, item in enumerate(items):
        account_id = cleaner.integer(
            f"account_links.{i}.account_id", item.get("account_id"), minimum=1, maximum=2**63 - 1
        )
        if account_id is None and f"account_links.{i}.account_id" not in cleaner.errors:
            cleaner.add(f"account_links.{i}.account_id", _("Select an account."))
        role = cleaner.text(f"account_links.{i}.role", item.get("role"), max_length=100)
        wanted.append((i, account_id, role))
    ids = [a for _i, a, _r in wanted if a]
    visible = {a.pk: a for a in selectors.accounts_visible_to(actor).filter(pk__in=ids)}
    for i, account_id, role in wanted:
        if account_id is None:
            continue
        if account_id not in visible:
            cleaner.add(f"account_links.{i}.account_id", _("Select an account you can see."))
        elif account_id in seen:
            cleaner.add(f"account_links.{i}.account_id", _("This account is linked twice."))
        else:
            links.append({"account": visible[account_id], "role": role})
        seen.add(account_id)
    return links


def _clean_contact(
    actor: User, data: dict[str, Any], contact: Contact | None
) -> tuple[dict, dict, Cleaner]:
    c = Cleaner()
    if not isinstance(data, dict):
        raise ValidationFailed({"": [_("Expected an object.")]})
    _reject_unknown(data, CONTACT_FIELDS + COMMON_FIELDS + ["account_links"], c)
    creating = contact is None
    values: dict[str, Any] = {}

    def has(key: str) -> bool:
        return creating or key in data

    if has("salutation"):
        values["salutation"] = c.choice(
            "salutation", data.get("salutation") or "", Salutation.choices
        )
    if has("last_name"):
        values["last_name"] = c.text(
            "last_name", data.get("last_name"), max_length=100, required=True
        )
    for key, length in (
        ("academic_title", 40),
        ("first_name", 100),
        ("job_title", 120),
        ("department", 120),
        ("description", 20000),
    ):
        if has(key):
            values[key] = c.text(key, data.get(key), max_length=length)
    if has("language"):
        values["language"] = c.choice(
            "language", (data.get("language") or "").lower(), LANGUAGE_CODES
        )
    if has("birthday"):
        birthday = c.date("birthday", data.get("birthday"))
        if birthday and birthday > timezone.localdate():
            c.add("birthday", _("A birthday cannot be in the future."))
        values["birthday"] = birthday
    if has("preferred_channel"):
        values["preferred_channel"] = c.choice(
            "preferred_channel", data.get("preferred_channel") or "", Channel.choices
        )
    values.update(_clean_owner_and_team(c, actor, data, contact))
    addresses = _clean_addresses(c, data.get("addresses")) if has("addresses") else None
    region = (
        (addresses[0]["country"] if addresses else "")
        or (contact.country if contact else "")
        or "DE"
    )
    nested = {
        "emails": _clean_emails(c, data.get("emails")) if has("emails") else None,
        "phones": _clean_phones(c, data.get("phones"), region) if has("phones") else None,
        "addresses": addresses,
        "tags": _clean_tags(c, data.get("tags")) if has("tags") else None,
        "account_links": _clean_account_links(c, actor, data.get("account_links"))
        if has("account_links")
        else None,
    }
    _guard_sensitive(c, actor, "contact", data, nested, contact)
    if has("custom"):
        values["custom"] = clean_custom_values(
            "contact", data.get("custom"), existing=contact.custom if contact else {}, cleaner=c
        )
    return values, nested, c


def _set_account_links(actor: User, contact: Contact, links: list[dict[str, Any]] | None) -> None:
    if links is None:
        return
    # The user edits the links they can see. Links to accounts in the trash or to accounts they
    # may not see are not shown to them, so they are not in ``links`` either: keep those (after
    # the others), e.g. for the day a trashed account is restored.
    kept = list(
        ContactAccountLink.objects.filter(contact=contact)
        .exclude(account__in=selectors.accounts_visible_to(actor).values("pk"))
        .select_related("account")
        .order_by("position")
    )
    contact.account_links.exclude(pk__in=[link.pk for link in kept]).delete()
    ContactAccountLink.objects.bulk_create(
        ContactAccountLink(contact=contact, account=link["account"], role=link["role"], position=i)
        for i, link in enumerate(links)
    )
    for offset, link in enumerate(kept):
        link.position = len(links) + offset
    ContactAccountLink.objects.bulk_update(kept, ["position"])
    active = [link.account for link in kept if link.account.deleted_at is None]
    contact.primary_account = links[0]["account"] if links else (active[0] if active else None)


def _refresh_contacts_of(account: Account) -> None:
    """After ``account`` went to the trash or came back: its contacts' primary account (the
    first linked account not in the trash) and their search text."""
    contacts = Contact.objects.filter(account_links__account=account).distinct()
    for contact in contacts.prefetch_related("emails", "phones", "addresses"):
        link = (
            contact.account_links.filter(account__deleted_at__isnull=True)
            .select_related("account")
            .order_by("position")
            .first()
        )
        primary = link.account if link else None
        if contact.primary_account_id != (primary.pk if primary else None):
            contact.primary_account = primary
            Contact.objects.filter(pk=contact.pk).update(primary_account=primary)
        if contact.deleted_at is None:
            _index_contact(contact)


def _index_contact(contact: Contact) -> None:
    account = contact.primary_account
    parts = [
        contact.city,
        contact.postal_code,
        contact.job_title,
        contact.department,
        account.name if account else "",
        account.customer_number if account else "",
        *[e.address for e in contact.emails.all()],
        *[p.number for p in contact.phones.all() if not sensitive.is_private_phone(p)],
        *[f"{a.city} {a.postal_code} {a.street}" for a in contact.addresses.all()],
    ]
    subtitle = " · ".join(
        p for p in [contact.job_title, account.name if account else "", contact.city] if p
    )
    search.index_document(
        entity="contact",
        object_id=contact.pk,
        owner_id=contact.owner_id,
        team_id=contact.team_id,
        title=contact.full_name,
        subtitle=subtitle,
        parts=parts,
    )


def contact_create(*, actor: User, data: dict[str, Any]) -> Contact:
    """Create a contact (person) with emails, phones, addresses, account links, tags, custom fields."""
    permissions.require(actor, "create", "contact")
    values, nested, cleaner = _clean_contact(actor, data, None)
    cleaner.raise_if_invalid()
    with transaction.atomic():
        now = timezone.now()
        contact = Contact(**values, created_at=now, updated_at=now)
        contact.save()
        _replace_children(
            contact, "contact", nested["emails"], nested["phones"], nested["addresses"]
        )
        _set_account_links(actor, contact, nested["account_links"])
        contact.save()
        _set_tags(contact, nested["tags"] or [])
        _record_created(actor, "contact", contact, contact_snapshot, _index_contact)
    return contact


def contact_update(
    *, actor: User, contact_id: int, data: dict[str, Any], version: Any = None
) -> Contact:
    """Change a contact; ``version`` (if given) must be the one the caller read, else 409."""
    permissions.require(actor, "edit", "contact")
    with transaction.atomic():
        contact = _locked(selectors.contacts_visible_to(actor, for_edit=True), contact_id)
        data = _checked_version(contact, data, version)
        values, nested, cleaner = _clean_contact(actor, data, contact)
        cleaner.raise_if_invalid()
        before = contact_snapshot(contact)
        for key, value in values.items():
            setattr(contact, key, value)
        _replace_children(
            contact, "contact", nested["emails"], nested["phones"], nested["addresses"]
        )
        _set_account_links(actor, contact, nested["account_links"])
        if nested["tags"] is not None:
            _set_tags(contact, nested["tags"])
        _record_updated(actor, "contact", contact, before, contact_snapshot, _index_contact)
    return contact


def contact_delete(*, actor: User, contact_id: int) -> Contact:
    """Move a contact to the trash (soft delete); it can be restored."""
    return softdelete.soft_delete(
        actor, "contact", selectors.contacts_visible_to(actor, for_edit=True), contact_id
    )


def contact_restore(*, actor: User, contact_id: int) -> Contact:
    """Bring a contact back from the trash."""
    return softdelete.restore(
        actor,
        "contact",
        selectors.contacts_visible_to(actor, include_deleted=True, for_edit=True),
        contact_id,
        _index_contact,
    )


# --- relationships --------------------------------------------------------------------------


def _resolve_party(
    cleaner: Cleaner, actor: User, field: str, kind: Any, record_id: Any
) -> Account | Contact | None:
    kind = cleaner.choice(f"{field}_type", kind, ["account", "contact"], required=True)
    pk = cleaner.integer(f"{field}_id", record_id, minimum=1, maximum=2**63 - 1)
    if not kind or pk is None:
        if pk is None and f"{field}_id" not in cleaner.errors:
            cleaner.add(f"{field}_id", _("This field is required."))
        return None
    queryset = (
        selectors.accounts_visible_to(actor)
        if kind == "account"
        else selectors.contacts_visible_to(actor)
    )
    record = queryset.filter(pk=pk).first()
    if record is None:
        cleaner.add(f"{field}_id", _("Select a record you can see."))
    return record


def relationship_create(*, actor: User, data: dict[str, Any]) -> Relationship:
    """Link one account or contact to another with a typed, directed relation."""
    _require_some_edit(actor)
    c = Cleaner()
    if not isinstance(data, dict):
        raise ValidationFailed({"": [_("Expected an object.")]})
    _reject_unknown(data, ["type", "from_type", "from_id", "to_type", "to_id", "note"], c)
    type_key = c.text("type", data.get("type"), max_length=50, required=True)
    rel_type = RelationshipType.objects.filter(key=type_key).first() if type_key else None
    if type_key and rel_type is None:
        c.add("type", _("Select a valid relationship type."))
    source = _resolve_party(c, actor, "from", data.get("from_type"), data.get("from_id"))
    target = _resolve_party(c, actor, "to", data.get("to_type"), data.get("to_id"))
    note = c.text("note", data.get("note"), max_length=300)
    if (
        source is not None
        and target is not None
        and source == target
        and type(source) is type(target)
    ):
        c.add("to_id", _("A record cannot be related to itself."))
    c.raise_if_invalid()
    _require_edit_of(actor, source)
    with transaction.atomic():
        relationship = Relationship.objects.create(
            type=rel_type,
            note=note,
            created_by=actor,
            from_account=source if isinstance(source, Account) else None,
            from_contact=source if isinstance(source, Contact) else None,
            to_account=target if isinstance(target, Account) else None,
            to_contact=target if isinstance(target, Contact) else None,
        )
        _record_relationship_history(actor, relationship, added=True)
    return relationship


def _record_relationship_history(actor: User, relationship: Relationship, *, added: bool) -> None:
    label = f"{relationship.type.label}: {relationship.target}"
    inverse = f"{relationship.type.inverse_label}: {relationship.source}"
    for record, text in ((relationship.source, label), (relationship.target, inverse)):
        entity = "account" if isinstance(record, Account) else "contact"
        change = {"relationships": [None, text] if added else [text, None]}
        history.record_change(
            entity=entity,
            object_id=record.pk,
            action=ChangeAction.UPDATE,
            actor=actor,
            before={"relationships": change["relationships"][0]},
            after={"relationships": change["relationships"][1]},
        )


def relationship_delete(*, actor: User, relationship_id: int) -> None:
    """Remove a relationship; the removal stays in both records' history."""
    _require_some_edit(actor)
    with transaction.atomic():
        relationship = selectors.relationships_visible_to(actor).filter(pk=relationship_id).first()
        if relationship is None:
            raise NotFound()
        _require_edit_of(actor, relationship.source)
        _record_relationship_history(actor, relationship, added=False)
        relationship.delete()


# --- timeline -------------------------------------------------------------------------------

TIMELINE_FIELDS = [
    "kind",
    "direction",
    "subject",
    "body",
    "body_format",
    "occurred_at",
    "account_id",
    "contact_id",
]


def _clean_timeline(
    actor: User, data: dict[str, Any], entry: TimelineEntry | None
) -> tuple[dict, Cleaner]:
    c = Cleaner()
    if not isinstance(data, dict):
        raise ValidationFailed({"": [_("Expected an object.")]})
    _reject_unknown(data, TIMELINE_FIELDS, c)
    creating = entry is None
    values: dict[str, Any] = {}

    def has(key: str) -> bool:
        return creating or key in data

    if has("kind"):
        values["kind"] = c.choice(
            "kind", data.get("kind") or InteractionKind.NOTE, InteractionKind.choices
        )
    if has("direction"):
        values["direction"] = c.choice("direction", data.get("direction") or "", Direction.choices)
    if has("subject"):
        values["subject"] = c.text("subject", data.get("subject"), max_length=300, required=True)
    if has("body_format"):
        values["body_format"] = c.choice(
            "body_format", data.get("body_format") or "text", [("text", ""), ("html", "")]
        )
    if has("body"):
        values["body"] = c.text("body", data.get("body"), max_length=100_000)
    body_format = values.get("body_format", entry.body_format if entry else "text")
    if body_format == "html" and "body" not in values and entry and entry.body_format == "text":
        # Plain text turned into HTML keeps what it said: escaped, lines kept.
        values["body"] = richtext.from_text(entry.body)
    elif body_format == "html" and "body" in values:
        # Stored sanitised: whatever reads it later (pages, exports, emails) gets safe HTML.
        values["body"] = richtext.sanitize(values["body"])
    elif body_format == "text" and "body" not in values and entry and entry.body_format == "html":
        values["body"] = richtext.to_text(entry.body)
    if has("occurred_at"):
        values["occurred_at"] = c.datetime("occurred_at", data.get("occurred_at")) or timezone.now()
    for key, queryset in (
        ("account_id", selectors.accounts_visible_to(actor)),
        ("contact_id", selectors.contacts_visible_to(actor)),
    ):
        if has(key):
            pk = c.integer(key, data.get(key), minimum=1, maximum=2**63 - 1)
            record = queryset.filter(pk=pk).first() if pk else None
            if pk and record is None:
                c.add(key, _("Select a record you can see."))
            values[key.removesuffix("_id")] = record
    account = values.get("account", entry.account if entry else None)
    contact = values.get("contact", entry.contact if entry else None)
    if account is None and contact is None and c.ok:
        c.add("contact_id", _("Link the entry to an account or a contact."))
    return values, c


def _touch_last_interaction(entry: TimelineEntry) -> None:
    for model, pk in ((Account, entry.account_id), (Contact, entry.contact_id)):
        if pk:
            # A planned entry (dated in the future) is no interaction yet.
            latest = TimelineEntry.objects.filter(
                **{model.__name__.lower(): pk},
                deleted_at__isnull=True,
                occurred_at__lte=timezone.now(),
            ).aggregate(m=Max("occurred_at"))["m"]
            model.objects.filter(pk=pk).update(last_interaction_at=latest)


def timeline_entry_create(*, actor: User, data: dict[str, Any]) -> TimelineEntry:
    """Log an interaction (note, call, email, meeting, letter, SMS, web) on a record's timeline."""
    _require_some_edit(actor)
    values, cleaner = _clean_timeline(actor, data, None)
    cleaner.raise_if_invalid()
    _require_edit_of(actor, values.get("contact") or values.get("account"))
    with transaction.atomic():
        contact = values.get("contact")
        if values.get("account") is None and contact is not None and contact.primary_account_id:
            values["account"] = contact.primary_account
        entry = TimelineEntry.objects.create(author=actor, **values)
        _touch_last_interaction(entry)
    return entry


def timeline_entry_update(
    *, actor: User, entry_id: int, data: dict[str, Any], version: Any = None
) -> TimelineEntry:
    """Correct a timeline entry; the previous text stays in its history."""
    _require_some_edit(actor)
    with transaction.atomic():
        entry = selectors.timeline_entries_visible_to(actor).filter(pk=entry_id).first()
        if entry is None:
            raise NotFound()
        _require_edit_of(actor, entry.contact or entry.account)
        check_version(entry, version if version is not None else data.get("version"))
        data = {k: v for k, v in data.items() if k != "version"}
        values, cleaner = _clean_timeline(actor, data, entry)
        cleaner.raise_if_invalid()
        tracked = (
            "kind",
            "direction",
            "subject",
            "body",
            "body_format",
            "occurred_at",
            "account_id",
            "contact_id",
        )
        previous = TimelineEntry(account_id=entry.account_id, contact_id=entry.contact_id)
        before = {f: getattr(entry, f) for f in tracked}
        for key, value in values.items():
            setattr(entry, key, value)
        after = {f: getattr(entry, f) for f in before}
        if history.diff(before, after):
            entry.version += 1
            entry.updated_at = timezone.now()
            entry.save()
            history.record_change(
                entity="timeline_entry",
                object_id=entry.pk,
                action=ChangeAction.UPDATE,
                actor=actor,
                before=before,
                after=after,
            )
            _touch_last_interaction(entry)
            _touch_last_interaction(previous)
    return entry


def timeline_entry_delete(*, actor: User, entry_id: int) -> None:
    """Hide a timeline entry (soft delete, kept for the history)."""
    _require_some_edit(actor)
    with transaction.atomic():
        entry = selectors.timeline_entries_visible_to(actor).filter(pk=entry_id).first()
        if entry is None:
            raise NotFound()
        _require_edit_of(actor, entry.contact or entry.account)
        entry.deleted_at = timezone.now()
        entry.version += 1
        entry.save(update_fields=["deleted_at", "version"])
        history.record_change(
            entity="timeline_entry", object_id=entry.pk, action=ChangeAction.DELETE, actor=actor
        )
        _touch_last_interaction(entry)


def timeline_entry_restore(*, actor: User, entry_id: int) -> TimelineEntry:
    """Bring a removed timeline entry back."""
    _require_some_edit(actor)
    with transaction.atomic():
        entry = (
            selectors.timeline_entries_visible_to(actor, include_deleted=True)
            .filter(pk=entry_id, deleted_at__isnull=False)
            .first()
        )
        if entry is None:
            raise NotFound()
        _require_edit_of(actor, entry.contact or entry.account)
        entry.deleted_at = None
        entry.version += 1
        entry.save(update_fields=["deleted_at", "version"])
        history.record_change(
            entity="timeline_entry", object_id=entry.pk, action=ChangeAction.RESTORE, actor=actor
        )
        _touch_last_interaction(entry)
    return entry


# --- relationship types ---------------------------------------------------------------------

RELATIONSHIP_TYPE_FIELDS = ["key", "label", "label_de", "inverse_label", "inverse_label_de"]


def _clean_relationship_type(
    c: Cleaner, data: dict[str, Any], rel_type: RelationshipType | None
) -> dict[str, Any]:
    _reject_unknown(data, RELATIONSHIP_TYPE_FIELDS, c)
    values: dict[str, Any] = {}
    if rel_type is None:
        key = c.text("key", data.get("key"), max_length=50, required=True).lower()
        if key and not re.fullmatch(r"[a-z][a-z0-9_]*", key):
            c.add("key", _("Use lower-case letters, digits and _, starting with a letter."))
        elif key and RelationshipType.objects.filter(key=key).exists():
            c.add("key", _("A relationship type with this key exists already."))
        values["key"] = key
    elif "key" in data and data["key"] != rel_type.key:
        c.add("key", _("The key cannot change."))
    for name, required in (
        ("label", True),
        ("label_de", False),
        ("inverse_label", True),
        ("inverse_label_de", False),
    ):
        if rel_type is None or name in data:
            values[name] = c.text(name, data.get(name), max_length=100, required=required)
    return values


def relationship_type_create(*, actor: User, data: dict[str, Any]) -> RelationshipType:
    """A custom kind of relation, e.g. "auditor of" / "audited by"."""
    if not is_administrator(actor):
        raise Forbidden(_("Only administrators may do this."))
    c = Cleaner()
    values = _clean_relationship_type(c, data if isinstance(data, dict) else {}, None)
    c.raise_if_invalid()
    return RelationshipType.objects.create(**values)


def relationship_type_update(
    *, actor: User, type_id: int, data: dict[str, Any]
) -> RelationshipType:
    if not is_administrator(actor):
        raise Forbidden(_("Only administrators may do this."))
    rel_type = RelationshipType.objects.filter(pk=type_id).first()
    if rel_type is None:
        raise NotFound()
    c = Cleaner()
    values = _clean_relationship_type(c, data if isinstance(data, dict) else {}, rel_type)
    c.raise_if_invalid()
    for key, value in values.items():
        setattr(rel_type, key, value)
    rel_type.save()
    return rel_type


def relationship_type_delete(*, actor: User, type_id: int) -> None:
    if not is_administrator(actor):
        raise Forbidden(_("Only administrators may do this."))
    rel_type = RelationshipType.objects.filter(pk=type_id).first()
    if rel_type is None:
        raise NotFound()
    if rel_type.is_built_in:
        raise ValidationFailed({"type": [_("A built-in relationship type cannot be deleted.")]})
    if Relationship.objects.filter(type=rel_type).exists():
        raise ValidationFailed(
            {"type": [_("Records are related with this type; remove those relationships first.")]}
        )
    rel_type.delete()
