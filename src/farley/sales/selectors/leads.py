"""Reads of leads and lead-assignment rules, shared by the pages, the API and exports.

Every read of leads starts from :func:`leads_visible_to` (the one visibility mechanism of
core). The list filters are defined once (:data:`LEAD_FILTERS`) and serve the lead list, the
API's query parameters, the CSV/Excel export and the sharing rules. :func:`duplicates_of`
finds the accounts and contacts a lead may already be (used before a conversion).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rapidfuzz import fuzz

from farley.contacts import selectors as contact_selectors
from farley.contacts import transfer
from farley.contacts.models import Account, Contact, ContactAccountLink
from farley.core import audit, customfields, permissions, sensitive
from farley.core.errors import NotFound, ValidationFailed
from farley.core.history import history_for, with_change_lines
from farley.core.models import User
from farley.core.pagination import BadCursor, Page, keyset_page
from farley.core.text import fold
from farley.core.validation import Cleaner
from farley.core.visibility import visible_records
from farley.sales.models import AssignmentRule, Lead, LeadSource, LeadStatus


def leads_visible_to(
    user: User, *, include_deleted: bool = False, for_edit: bool = False
) -> QuerySet[Lead]:
    """The leads ``user`` sees; ``for_edit``: only those they may change."""
    return visible_records(
        Lead.objects.all(), user, include_deleted=include_deleted, for_edit=for_edit
    )


# --- list filters ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ListFilter:
    name: str
    label: Any


LEAD_FILTERS = [
    ListFilter("q", gettext_lazy("Name, company or email contains")),
    ListFilter("status", gettext_lazy("Status")),
    ListFilter("source", gettext_lazy("Source")),
    ListFilter("owner", gettext_lazy("Owner")),
    ListFilter("team", gettext_lazy("Team")),
    ListFilter("created_from", gettext_lazy("Created from")),
    ListFilter("created_to", gettext_lazy("Created to")),
    ListFilter("country", gettext_lazy("Country")),
    ListFilter("postal_code", gettext_lazy("Postal code starts with")),
    ListFilter("postal_code_from", gettext_lazy("Postal code from")),
    ListFilter("postal_code_to", gettext_lazy("Postal code to")),
    ListFilter("industry", gettext_lazy("Industry code starts with")),
]
FILTER_NAMES = {f.name for f in LEAD_FILTERS}
LIST_PARAMS = {"sort", "limit", "cursor"}
LEAD_SORTS = {
    "created": ["created_at"],
    "updated": ["updated_at"],
    "name": ["last_name", "first_name"],
    "company": ["company_name"],
    "status": ["status"],
}
DEFAULT_SORT = "-created"
MAX_LIMIT = 200
RULE_FILTERS = (
    ("country", gettext_lazy("Country")),
    ("postal_code", gettext_lazy("Postal code starts with")),
    ("industry", gettext_lazy("Industry code starts with")),
    ("source", gettext_lazy("Source")),
    ("status", gettext_lazy("Status")),
)


def postal_range_q(field_name: str, plz_from: str, plz_to: str) -> Q:
    """Postal codes from ``plz_from`` to ``plz_to``, both prefixes ("to 19" includes 19999);
    a complete numeric code of four or more digits also fixes the length (10000–19999 are
    German codes, not Vienna's 1010), as in the contact lists."""
    lookup: dict[str, Any] = {}
    if plz_from:
        lookup[f"{field_name}__gte"] = plz_from.upper()
    if plz_to:
        lookup[f"{field_name}__lte"] = plz_to.upper() + "\uffff"
    full = max(plz_from, plz_to, key=len)
    if full.isdigit() and len(full) >= 4:
        lookup[f"{field_name}__length"] = len(full)
    return Q(**lookup)


def postal_code_in_range(code: str, plz_from: str, plz_to: str) -> bool:
    """:func:`postal_range_q` for one code, in Python (assignment rules)."""
    code = (code or "").upper()
    if not code:
        return not (plz_from or plz_to)
    if plz_from and code < plz_from.upper():
        return False
    if plz_to and code > plz_to.upper() + "\uffff":
        return False
    full = max(plz_from or "", plz_to or "", key=len)
    return not (full.isdigit() and len(full) >= 4 and len(code) != len(full))


def _filter_q(params: Mapping[str, Any], cleaner: Cleaner, user: User | None = None) -> Q:
    q = Q()

    def get(key: str) -> str:
        value = params.get(key) or ""
        return value.strip() if isinstance(value, str) else ""

    if text := get("q"):
        for word in text.split()[:5]:
            q &= (
                Q(last_name__icontains=word)
                | Q(first_name__icontains=word)
                | Q(company_name__icontains=word)
                | Q(email__icontains=word)
            )
    for key, choices in (("status", LeadStatus), ("source", LeadSource)):
        if raw := get(key):
            values = [v.strip() for v in raw.split(",") if v.strip()]
            if any(v not in choices.values for v in values):
                cleaner.add(key, _("Select a valid choice."))
            else:
                q &= Q(**{f"{key}__in": values})
    for key in ("owner", "team"):
        if raw := get(key):
            value = cleaner.integer(key, raw, minimum=1, maximum=2**63 - 1)
            if value is not None:
                q &= Q(**{f"{key}_id": value})
    for key, lookup in (("created_from", "gte"), ("created_to", "lt")):
        if raw := get(key):
            day = cleaner.date(key, raw)
            if day is not None:
                if lookup == "lt":
                    day = day + dt.timedelta(days=1)
                moment = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
                q &= Q(**{f"created_at__{lookup}": moment})
    if country := get("country"):
        q &= Q(country=country.upper())
    if plz := get("postal_code"):
        q &= Q(postal_code__startswith=plz.upper())
    plz_from, plz_to = get("postal_code_from"), get("postal_code_to")
    if plz_from or plz_to:
        q &= postal_range_q("postal_code", plz_from, plz_to)
    if industry := get("industry"):
        q &= Q(industry_code__startswith=industry.upper())
    definitions = {d.key: d for d in customfields.definitions_for("lead")}
    if user is not None:
        definitions = {
            d.key: d for d in sensitive.visible_definitions(user, "lead", definitions.values())
        }
    for key, raw in params.items():
        if key.startswith("cf_") and isinstance(raw, str) and raw.strip():
            definition = definitions.get(key[3:])
            if definition is None:
                cleaner.add(key, _("There is no custom field with this key."))
                continue
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


def criteria_q(criteria: Mapping[str, Any]) -> Q:
    """The leads matching sharing-rule ``criteria`` (list filters); raises on bad ones."""
    cleaner = Cleaner()
    q = _filter_q(criteria, cleaner)
    cleaner.raise_if_invalid()
    return q


def filtered_list(
    user: User, params: Mapping[str, Any], *, strict: bool = False, ignore_unknown: bool = False
) -> tuple[QuerySet[Lead], list[str], bool]:
    """The visible, filtered leads and their sort; ``strict`` raises on bad filters and, unless
    ``ignore_unknown``, on parameters that are no filter (API: a misspelt filter must not
    quietly return everything)."""
    cleaner = Cleaner()
    queryset = leads_visible_to(user).filter(_filter_q(params, cleaner, user))
    raw_sort = params.get("sort") or DEFAULT_SORT
    sort = raw_sort.strip() if isinstance(raw_sort, str) else DEFAULT_SORT
    if sort.lstrip("-") not in LEAD_SORTS:
        cleaner.add("sort", _("Sort by one of: %(names)s.") % {"names": ", ".join(LEAD_SORTS)})
        sort = DEFAULT_SORT
    if strict:
        for key in [] if ignore_unknown else params:
            if key not in FILTER_NAMES | LIST_PARAMS and not key.startswith("cf_"):
                cleaner.add(key, _("Unknown filter."))
        cleaner.raise_if_invalid()
    queryset = queryset.select_related("owner", "team")
    return queryset, LEAD_SORTS[sort.lstrip("-")], sort.startswith("-")


def list_page(user: User, params: Mapping[str, Any], *, strict: bool = False) -> Page:
    """One keyset page of the filtered lead list (``limit`` 1–200, ``cursor``)."""
    queryset, fields, descending = filtered_list(user, params, strict=strict)
    cleaner = Cleaner()
    limit = cleaner.integer("limit", params.get("limit") or 50, minimum=1, maximum=MAX_LIMIT)
    if strict:
        cleaner.raise_if_invalid()
    limit = min(max(limit or 50, 1), MAX_LIMIT)
    try:
        return keyset_page(
            queryset,
            fields=fields,
            descending=descending,
            limit=limit,
            cursor=params.get("cursor") or None,
        )
    except BadCursor:
        if strict:
            raise ValidationFailed({"cursor": [_("This cursor is not valid.")]}) from None
        return keyset_page(queryset, fields=fields, descending=descending, limit=limit)


# --- details --------------------------------------------------------------------------------


def lead_detail(user: User, lead_id: int, *, include_deleted: bool = False) -> Lead:
    lead = (
        leads_visible_to(user, include_deleted=include_deleted)
        .select_related(
            "owner",
            "team",
            "converted_by",
            "converted_account",
            "converted_contact",
            "converted_opportunity",
        )
        .filter(pk=lead_id)
        .first()
    )
    if lead is None:
        raise NotFound()
    return lead


def lead_history(lead: Lead, user: User | None = None, limit: int = 200) -> list:
    """The lead's changes, newest first, each with readable ``.lines``."""
    changes = list(history_for("lead", lead.pk)[:limit])
    for change in changes:
        change.changes = sensitive.mask_changes(user, "lead", change.changes)
    return with_change_lines("lead", changes)


def trash(user: User, limit: int = 200) -> list[Lead]:
    return list(
        leads_visible_to(user, include_deleted=True)
        .filter(deleted_at__isnull=False)
        .select_related("deleted_by", "owner")
        .order_by("-deleted_at")[:limit]
    )


def converted_from(user: User, record: Account | Contact) -> list[Lead]:
    """The leads (``user`` sees) that were converted into ``record``."""
    key = "converted_account" if isinstance(record, Account) else "converted_contact"
    return list(
        leads_visible_to(user)
        .filter(**{key: record})
        .select_related("converted_by")
        .order_by("-converted_at")[:20]
    )


# --- duplicates -----------------------------------------------------------------------------

# Legal forms and filler words that say nothing about which company it is (after folding and
# removing dots: "e.K." -> "ek", "S.A." -> "sa").
_LEGAL_FORM_WORDS = (
    "gmbh mbh ggmbh ag kg kgaa ohg gbr ug haftungsbeschrankt haftungsbeschraenkt ek ev eg "
    "se partg ltd limited inc incorporated llc llp lp plc corp corporation co company cie "
    "sa sarl sas srl spa sl bv nv oy oyj ab as aps asa kft sro spzoo zoo holding group gruppe "
    "und and et the der die das"
)
LEGAL_FORMS = frozenset(_LEGAL_FORM_WORDS.split())
SIMILAR_NAME = 85  # rapidfuzz score (0-100) from which two company names count as similar
MAX_CANDIDATES = 10


def normalise_company(name: str) -> str:
    """A company name reduced to what identifies it: folded (umlauts as ae, oe, ue),
    without legal forms, punctuation and filler words. "Müller & Söhne GmbH & Co. KG" and
    "Mueller und Soehne KG" both become "mueller soehne"."""
    text = (name or "").casefold()
    for umlaut, plain in (("ä", "ae"), ("ö", "oe"), ("ü", "ue")):
        text = text.replace(umlaut, plain)
    text = fold(text).replace(".", "").replace("&", " ")
    words = re.findall(r"\w+", text)
    kept = [w for w in words if w not in LEGAL_FORMS]
    return " ".join(kept or words)


def name_similarity(a: str, b: str) -> float:
    """0-100: how alike two company names are once legal forms and spelling are set aside."""
    left, right = normalise_company(a), normalise_company(b)
    if not left or not right:
        return 0.0
    if left == right:
        return 100.0
    return max(
        fuzz.token_sort_ratio(left, right),
        fuzz.ratio(left.replace(" ", ""), right.replace(" ", "")),
    )


@dataclass
class Candidate:
    """An existing account or contact a lead may be, with why it was found."""

    record: Account | Contact
    score: float
    reasons: list[str] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return "account" if isinstance(self.record, Account) else "contact"

    def as_dict(self) -> dict[str, Any]:
        data = {
            "id": self.record.pk,
            "name": self.record.name,
            "score": round(self.score, 1),
            "reasons": self.reasons,
        }
        if isinstance(self.record, Account):
            data["customer_number"] = self.record.customer_number
            data["city"] = self.record.city
        else:
            data["email"] = self.record.primary_email
            data["account"] = (
                self.record.primary_account.name if self.record.primary_account_id else ""
            )
        return data


@dataclass
class Duplicates:
    accounts: list[Candidate]
    contacts: list[Candidate]

    @property
    def count(self) -> int:
        return len(self.accounts) + len(self.contacts)

    def as_dict(self) -> dict[str, list[dict[str, Any]]]:
        return {
            "accounts": [c.as_dict() for c in self.accounts],
            "contacts": [c.as_dict() for c in self.contacts],
        }


def _add(found: dict[int, Candidate], record: Any, score: float, reason: str) -> None:
    candidate = found.setdefault(record.pk, Candidate(record, 0.0))
    candidate.score = max(candidate.score, score)
    if reason not in candidate.reasons:
        candidate.reasons.append(reason)


def _ranked(found: dict[int, Candidate]) -> list[Candidate]:
    return sorted(found.values(), key=lambda c: (-c.score, c.record.name, c.record.pk))[
        :MAX_CANDIDATES
    ]


def similar_accounts(user: User, company_name: str) -> list[tuple[Account, float]]:
    """Accounts ``user`` sees whose name is similar to ``company_name`` (legal forms aside),
    best first. Candidates come from the search index (typo-tolerant) and a name match, and
    are then scored with rapidfuzz."""
    from farley.core.search import search

    core = normalise_company(company_name)
    if len(core.replace(" ", "")) < 2:
        return []
    visible = contact_selectors.accounts_visible_to(user)
    # The search index (trigram, typo-tolerant) holds names folded: "Müller" as "muller".
    # Ask for the umlauts spelt out and folded both; an exact name is found by its index.
    queries = {core, re.sub(r"([aou])e", r"\1", core)}
    ids: set[int] = set()
    for query in queries:
        ids |= {hit.object_id for hit in search(user, query, entities=["account"], limit=30)}
    candidates = list(
        visible.filter(Q(pk__in=ids) | Q(name=company_name.strip())).order_by("name", "pk")[:60]
    )
    scored = [(a, name_similarity(company_name, a.name)) for a in candidates]
    return sorted(
        [(a, s) for a, s in scored if s >= SIMILAR_NAME], key=lambda pair: (-pair[1], pair[0].name)
    )


def duplicates_of(user: User, lead: Lead) -> Duplicates:
    """The accounts and contacts ``user`` sees that ``lead`` may already be: accounts with a
    similar company name, contacts with the same email (any case) or the same phone number
    (E.164), and the accounts those contacts work at or that have the email or phone."""
    accounts: dict[int, Candidate] = {}
    contacts: dict[int, Candidate] = {}
    visible_contacts = contact_selectors.contacts_visible_to(user).select_related("primary_account")
    visible_accounts = contact_selectors.accounts_visible_to(user)
    if lead.company_name:
        for account, score in similar_accounts(user, lead.company_name):
            _add(accounts, account, score, _("similar name (%(score)d %%)") % {"score": score})
    channel_q = Q()
    if lead.email:
        # Every email is stored in lower case (the services' cleaner), so the equality on
        # the indexed column ignores the case.
        email = lead.email.lower()
        for contact in visible_contacts.filter(emails__address=email).distinct()[:20]:
            _add(contacts, contact, 100, _("same email"))
        channel_q |= Q(emails__address=email)
    if lead.phone:
        phones = Q(phones__number=lead.phone)
        if not sensitive.may_see(user, "contact"):
            phones &= ~Q(phones__kind=sensitive.PRIVATE_PHONE)
        for contact in visible_contacts.filter(phones).distinct()[:20]:
            _add(contacts, contact, 100, _("same phone number"))
        channel_q |= Q(phones__number=lead.phone)
    if channel_q:
        for account in visible_accounts.filter(channel_q).distinct()[:20]:
            reason = _("same email or phone number")
            _add(accounts, account, 100, reason)
    if contacts:
        links = ContactAccountLink.objects.filter(
            contact_id__in=list(contacts), account__in=visible_accounts.values("pk")
        ).select_related("account")
        for link in links[:20]:
            _add(accounts, link.account, 90, _("a matching contact works there"))
    return Duplicates(accounts=_ranked(accounts), contacts=_ranked(contacts))


# --- assignment rules -----------------------------------------------------------------------


def assignment_rules() -> QuerySet[AssignmentRule]:
    return AssignmentRule.objects.select_related("team", "user", "last_assigned").order_by(
        "order", "id"
    )


# --- export ---------------------------------------------------------------------------------

LEAD_COLUMNS = [
    transfer.Column("id", "ID"),
    transfer.Column("company_name", gettext_lazy("Company")),
    transfer.Column("salutation", gettext_lazy("Salutation")),
    transfer.Column("first_name", gettext_lazy("First name")),
    transfer.Column("last_name", gettext_lazy("Last name")),
    transfer.Column("job_title", gettext_lazy("Job title")),
    transfer.Column("email", gettext_lazy("Email")),
    transfer.Column("phone", gettext_lazy("Phone")),
    transfer.Column("website", gettext_lazy("Website")),
    transfer.Column("street", gettext_lazy("Street")),
    transfer.Column("postal_code", gettext_lazy("Postal code")),
    transfer.Column("city", gettext_lazy("City")),
    transfer.Column("country", gettext_lazy("Country")),
    transfer.Column("industry_code", gettext_lazy("Industry code")),
    transfer.Column("source", gettext_lazy("Source")),
    transfer.Column("status", gettext_lazy("Status")),
    transfer.Column("disqualify_reason", gettext_lazy("Reason for disqualification")),
    transfer.Column("estimated_value", gettext_lazy("Estimated value")),
    transfer.Column("currency", gettext_lazy("Currency")),
    transfer.Column("description", gettext_lazy("Description")),
    transfer.Column("owner", gettext_lazy("Owner")),
    transfer.Column("team", gettext_lazy("Team")),
    transfer.Column("created_at", gettext_lazy("Created"), importable=False),
    transfer.Column("converted_at", gettext_lazy("Converted"), importable=False),
]
PLAIN_COLUMNS = [
    c.key for c in LEAD_COLUMNS if c.key not in ("owner", "team", "created_at", "converted_at")
]


def lead_columns(user: User | None = None, definitions: list | None = None) -> list:
    """The file layout of leads: the fixed columns, then one per active custom field (given
    ``user``, without the sensitive ones they may not see)."""
    if definitions is None:
        definitions = customfields.definitions_for("lead")
    if user is not None:
        definitions = sensitive.visible_definitions(user, "lead", definitions)
    return [*LEAD_COLUMNS, *(transfer.Column(f"cf_{d.key}", d.label) for d in definitions)]


def export_rows(
    user: User, params: Mapping[str, Any], *, ignore_unknown: bool = False
) -> tuple[list, Iterator[dict[str, Any]]]:
    """The columns and, lazily, the rows of every lead of the filtered list ``user`` sees, read
    in chunks (one query per thousand leads)."""
    permissions.require(user, "export", "lead")
    queryset, _sort, _descending = filtered_list(
        user, params, strict=True, ignore_unknown=ignore_unknown
    )
    filters = ", ".join(f"{k}={v}" for k, v in sorted(params.items()) if v)
    audit.log_access(user, "lead", None, "export", detail=filters or "(all)")
    definitions = sensitive.visible_definitions(user, "lead", customfields.definitions_for("lead"))
    columns = lead_columns(user, definitions)

    def rows() -> Iterator[dict[str, Any]]:
        last = 0
        while True:
            chunk = list(queryset.filter(pk__gt=last).order_by("pk")[: transfer.EXPORT_CHUNK])
            if not chunk:
                return
            for lead in chunk:
                row: dict[str, Any] = {key: getattr(lead, key) for key in PLAIN_COLUMNS}
                row["estimated_value"] = (
                    "" if lead.estimated_value is None else lead.estimated_value
                )
                row["owner"] = lead.owner.email if lead.owner_id else ""
                row["team"] = lead.team.name if lead.team_id else ""
                row["created_at"] = timezone.localtime(lead.created_at).isoformat(
                    timespec="seconds"
                )
                row["converted_at"] = (
                    timezone.localtime(lead.converted_at).isoformat(timespec="seconds")
                    if lead.converted_at
                    else ""
                )
                for d in definitions:
                    row[f"cf_{d.key}"] = transfer._custom_cell(d, lead.custom.get(d.key))
                yield {c.key: row.get(c.key) for c in columns}
            last = chunk[-1].pk

    return columns, rows()
