"""Import and export of accounts and contacts as CSV or Excel (.xlsx) files.

Both directions use one flat column layout per entity (:func:`columns_for`), so a user can
export a list, edit it in a spreadsheet and import it again: a row with an ``id`` updates that
record, a row without one creates a record. Every row goes through the same services as the
forms and the API (validation, history, search index). An import is all or nothing: if any
row has an error, nothing is written and every error is reported with its line and column.
Exports contain exactly the records of the list (same filters, same visibility).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from farley.contacts import selectors, services
from farley.contacts.models import (
    Account,
    AccountStatus,
    Channel,
    Contact,
    Salutation,
)
from farley.core import audit, permissions, sensitive
from farley.core.customfields import definitions_for
from farley.core.errors import NotFound, ValidationFailed
from farley.core.models import CustomFieldDefinition, Team, User

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5_000
EXPORT_CHUNK = 1_000
FORMATS = ("csv", "xlsx")


@dataclass(frozen=True)
class Column:
    key: str
    label: Any  # lazy translation
    importable: bool = True


ADDRESS_KEYS = (
    "kind",
    "street",
    "house_number",
    "extra",
    "postal_code",
    "city",
    "region",
    "country",
)
_ADDRESS = [
    Column("street", gettext_lazy("Street")),
    Column("house_number", gettext_lazy("House number")),
    Column("postal_code", gettext_lazy("Postal code")),
    Column("city", gettext_lazy("City")),
    Column("region", gettext_lazy("Region")),
    Column("country", gettext_lazy("Country")),
]
_OWNERSHIP = [
    Column("tags", gettext_lazy("Tags")),
    Column("owner", gettext_lazy("Owner")),
    Column("team", gettext_lazy("Team")),
    Column("description", gettext_lazy("Description")),
]
CONTACT_COLUMNS = [
    Column("id", "ID"),
    Column("salutation", gettext_lazy("Salutation")),
    Column("academic_title", gettext_lazy("Academic title")),
    Column("first_name", gettext_lazy("First name")),
    Column("last_name", gettext_lazy("Last name")),
    Column("job_title", gettext_lazy("Job title")),
    Column("department", gettext_lazy("Department")),
    Column("language", gettext_lazy("Language")),
    Column("birthday", gettext_lazy("Birthday")),
    Column("preferred_channel", gettext_lazy("Preferred channel")),
    Column("email", gettext_lazy("Email")),
    Column("email_2", gettext_lazy("Email 2")),
    Column("phone", gettext_lazy("Phone")),
    Column("phone_2", gettext_lazy("Phone 2")),
    *_ADDRESS,
    Column("account", gettext_lazy("Account")),
    Column("account_number", gettext_lazy("Customer number")),
    Column("account_role", gettext_lazy("Role")),
    *_OWNERSHIP,
]
ACCOUNT_COLUMNS = [
    Column("id", "ID"),
    Column("customer_number", gettext_lazy("Customer number"), importable=False),
    Column("name", gettext_lazy("Name")),
    Column("legal_form", gettext_lazy("Legal form")),
    Column("industry_code", gettext_lazy("Industry code")),
    Column("industry_label", gettext_lazy("Industry")),
    Column("employees", gettext_lazy("Employees")),
    Column("annual_revenue", gettext_lazy("Annual revenue")),
    Column("revenue_currency", gettext_lazy("Currency")),
    Column("website", gettext_lazy("Website")),
    Column("vat_id", gettext_lazy("VAT ID")),
    Column("status", gettext_lazy("Status")),
    Column("parent", gettext_lazy("Parent account"), importable=False),
    Column("parent_number", gettext_lazy("Parent customer number")),
    Column("email", gettext_lazy("Email")),
    Column("phone", gettext_lazy("Phone")),
    *_ADDRESS,
    *_OWNERSHIP,
]
# Headers people commonly use that are no label of ours (normalised: lower case, "_").
HEADER_ALIASES = {
    "plz": "postal_code",
    "zip": "postal_code",
    "zip_code": "postal_code",
    "postcode": "postal_code",
    "hausnr": "house_number",
    "nr": "house_number",
    "e_mail_adresse": "email",
    "mail": "email",
    "telefonnummer": "phone",
    "tel": "phone",
    "mobil": "phone_2",
    "handy": "phone_2",
    "mobile": "phone_2",
    "firma": "account",
    "company": "account",
    "land": "country",
    "bundesland": "region",
    "state": "region",
}
CHOICES = {"salutation": Salutation, "preferred_channel": Channel, "status": AccountStatus}


def columns_for(
    entity: str,
    definitions: list[CustomFieldDefinition] | None = None,
    user: User | None = None,
) -> list[Column]:
    """The file layout of ``entity``: its fixed columns, then one per active custom field;
    given ``user``, without the sensitive ones they may not see."""
    fixed = ACCOUNT_COLUMNS if entity == "account" else CONTACT_COLUMNS
    if definitions is None:
        definitions = definitions_for(entity)
    if user is not None and not sensitive.may_see(user, entity):
        hidden = sensitive.SENSITIVE_FIELDS.get(entity, set())
        fixed = [c for c in fixed if c.key not in hidden]
        definitions = sensitive.visible_definitions(user, entity, definitions)
    return [*fixed, *(Column(f"cf_{d.key}", d.label) for d in definitions)]


# --- export ---------------------------------------------------------------------------------


def _joined(values: Iterable[str]) -> str:
    return "; ".join(v for v in values if v)


def _custom_cell(definition: CustomFieldDefinition, value: Any) -> Any:
    if value in (None, ""):
        return ""
    if definition.field_type == "multi_choice":
        return _joined(value)
    if definition.field_type == "boolean":
        return "true" if value else "false"
    if definition.field_type == "decimal":
        return Decimal(format(Decimal(str(value)).normalize(), "f"))
    return value


def _row(
    entity: str, record: Any, definitions: list[CustomFieldDefinition], user: User
) -> dict[str, Any]:
    emails = list(record.emails.all())
    phones = sensitive.visible_phones(user, entity, record.phones.all())
    address = next(iter(record.addresses.all()), None)
    row: dict[str, Any] = {
        "id": record.pk,
        "email": emails[0].address if emails else "",
        "phone": phones[0].number if phones else "",
        "tags": _joined(sorted(t.name for t in record.tags.all())),
        "owner": record.owner.email if record.owner_id else "",
        "team": record.team.name if record.team_id else "",
        "description": record.description,
    }
    for column in _ADDRESS:
        row[column.key] = getattr(address, column.key) if address else ""
    if entity == "contact":
        link = next(iter(record.account_links.all()), None)
        row.update({
            "salutation": record.salutation,
            "academic_title": record.academic_title,
            "first_name": record.first_name,
            "last_name": record.last_name,
            "job_title": record.job_title,
            "department": record.department,
            "language": record.language,
            "birthday": record.birthday or "",
            "preferred_channel": record.preferred_channel,
            "email_2": emails[1].address if len(emails) > 1 else "",
            "phone_2": phones[1].number if len(phones) > 1 else "",
            "account": link.account.name if link else "",
            "account_number": link.account.customer_number if link else "",
            "account_role": link.role if link else "",
        })  # fmt: skip
    else:
        row.update({
            "customer_number": record.customer_number,
            "name": record.name,
            "legal_form": record.legal_form,
            "industry_code": record.industry_code,
            "industry_label": record.industry_label,
            "employees": record.employees if record.employees is not None else "",
            "annual_revenue": record.annual_revenue if record.annual_revenue is not None else "",
            "revenue_currency": record.revenue_currency,
            "website": record.website,
            "vat_id": record.vat_id,
            "status": record.status,
            "parent": record.parent.name if record.parent_id else "",
            "parent_number": record.parent.customer_number if record.parent_id else "",
        })  # fmt: skip
    for definition in definitions:
        row[f"cf_{definition.key}"] = _custom_cell(definition, record.custom.get(definition.key))
    return row


def export_rows(
    entity: str, user: User, params: dict[str, Any], *, ignore_unknown: bool = False
) -> tuple[list[Column], Iterator[dict[str, Any]]]:
    """The columns and, lazily, the rows of every record of the filtered list ``user`` sees,
    read in chunks (a few queries per thousand records, not per record)."""
    permissions.require(user, "export", entity)
    filters = ", ".join(f"{k}={v}" for k, v in sorted(params.items()) if v)
    audit.log_access(user, entity, None, "export", detail=filters or "(all)")
    queryset, _sort, _descending = selectors.filtered_list(
        entity, user, params, strict=True, ignore_unknown=ignore_unknown
    )
    definitions = sensitive.visible_definitions(user, entity, definitions_for(entity))
    columns = columns_for(entity, definitions, user)
    related: list[Any] = ["emails", "phones", "addresses", "tags"]
    if entity == "contact":
        related.append(selectors.active_account_links(user))
    else:
        queryset = queryset.select_related("parent")

    def rows() -> Iterator[dict[str, Any]]:
        last = 0
        while True:
            chunk = list(
                queryset.filter(pk__gt=last)
                .order_by("pk")
                .prefetch_related(*related)[:EXPORT_CHUNK]
            )
            if not chunk:
                return
            for record in chunk:
                row = _row(entity, record, definitions, user)
                yield {c.key: row.get(c.key) for c in columns}
            last = chunk[-1].pk

    return columns, rows()


def _text(value: Any) -> str:
    if isinstance(value, dt.date):
        return value.isoformat()
    return "" if value is None else str(value)


def _defused(value: Any) -> Any:
    """A text a spreadsheet would run as a formula gets a leading apostrophe (which Excel
    shows as plain text and :func:`_undefused` removes on import); "+49 30 ..." stays."""
    if isinstance(value, str) and (
        value[:1] in ("=", "@", "\t", "\r")
        or (value[:1] in ("+", "-") and not re.fullmatch(r"[+-][\d\s()/.-]*", value))
    ):
        return "'" + value
    return value


def _undefused(value: Any) -> Any:
    if isinstance(value, str) and value[:1] == "'" and value[1:2] in ("=", "@", "+", "-", "\t"):
        return value[1:]
    return value


def csv_chunks(columns: list[Column], rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    """CSV text in pieces: a byte-order mark (so that Excel reads UTF-8), the header of column
    keys, one line per row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow([c.key for c in columns])
    for number, row in enumerate(rows, start=1):
        writer.writerow([_text(_defused(row.get(c.key))) for c in columns])
        if number % 500 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _xlsx_cell(value: Any) -> Any:
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    value = _defused(value)
    # Control characters (e.g. a vertical tab pasted from a word processor) are not allowed
    # in an .xlsx file.
    return ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value


def xlsx_bytes(columns: list[Column], rows: Iterable[dict[str, Any]], title: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title[:31])
    sheet.freeze_panes = "A2"
    header = []
    for column in columns:
        cell = WriteOnlyCell(sheet, value=column.key)
        cell.font = Font(bold=True)
        header.append(cell)
    sheet.append(header)
    for row in rows:
        sheet.append([_xlsx_cell(row.get(column.key)) for column in columns])
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


# --- reading files --------------------------------------------------------------------------


class FileProblem(ValidationFailed):
    """The file itself cannot be read (empty, too big, not CSV/Excel, broken)."""

    def __init__(self, message: str):
        super().__init__({"file": [message]})


def read_table(name: str, content: bytes) -> list[list[Any]]:
    """The rows (header first) of an uploaded CSV or .xlsx file."""
    if not content:
        raise FileProblem(_("The file is empty."))
    if len(content) > MAX_BYTES:
        raise FileProblem(
            _("The file is larger than %(size)d MB.") % {"size": MAX_BYTES // (1024 * 1024)}
        )
    if content[:4] == b"PK\x03\x04" or name.lower().endswith(".xlsx"):
        table = _read_xlsx(content)
    else:
        table = _read_csv(content)
    filled = sum(1 for row in table[1:] if not _blank(row))
    if not table or _blank(table[0]) or not filled:
        raise FileProblem(_("The file has no rows below its header."))
    if filled > MAX_ROWS:
        raise FileProblem(
            _("The file has more than %(max)d rows; split it into smaller files.")
            % {"max": MAX_ROWS}
        )
    return table


def _blank(row: list[Any]) -> bool:
    return not any(_text(v).strip() for v in row)


def _read_csv(content: bytes) -> list[list[Any]]:
    if b"\x00" in content[:4096]:
        raise FileProblem(_("This is not a CSV or Excel (.xlsx) file."))
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - cp1252 fails only on five undefined bytes
        text = content.decode("latin-1")
    sample = text[:8192]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    try:
        return list(csv.reader(io.StringIO(text), dialect))[: MAX_ROWS * 2 + 2]
    except csv.Error as exc:
        raise FileProblem(_("The CSV file cannot be read: %(error)s") % {"error": exc}) from None


def _read_xlsx(content: bytes) -> list[list[Any]]:
    from zipfile import BadZipFile

    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (BadZipFile, KeyError, OSError, ValueError, TypeError):
        raise FileProblem(_("This is not a valid Excel (.xlsx) file.")) from None
    try:
        sheet = workbook.worksheets[0]
        table = []
        for row in sheet.iter_rows(values_only=True):
            table.append(list(row))
            if len(table) > MAX_ROWS * 2 + 1:
                break
        return table
    except Exception:  # any parse error of a hostile file is the file's fault
        raise FileProblem(_("This is not a valid Excel (.xlsx) file.")) from None
    finally:
        workbook.close()


def _normal(header: Any) -> str:
    return re.sub(r"[\s\-./]+", "_", _text(header).strip().casefold().rstrip("*").strip())


def map_headers(
    entity: str, header: list[Any], user: User | None = None
) -> tuple[dict[int, str], list[str]]:
    """Which file column feeds which field (by key, English or German label, custom-field
    label), and the headers that are not imported (also those ``user`` may not see)."""
    names: dict[str, str] = {}
    definitions = definitions_for(entity)
    if user is not None:
        definitions = sensitive.visible_definitions(user, entity, definitions)
    for column in columns_for(entity, definitions, user):
        if not column.importable:
            continue
        names.setdefault(_normal(column.key), column.key)
        for language in ("en", "de"):
            with translation.override(language):
                names.setdefault(_normal(str(column.label)), column.key)
    for definition in definitions:
        if definition.label_de:
            names.setdefault(_normal(definition.label_de), f"cf_{definition.key}")
    for alias, key in HEADER_ALIASES.items():
        if entity == "contact" or key != "account":
            names.setdefault(alias, key)
    mapping: dict[int, str] = {}
    ignored: list[str] = []
    for index, title in enumerate(header):
        key = names.get(_normal(title))
        if key and key not in mapping.values():
            mapping[index] = key
        elif _text(title).strip():
            ignored.append(_text(title).strip())
    return mapping, ignored


# --- import ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    row: int  # as the spreadsheet counts: the header is row 1
    column: str
    messages: list[str]


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    ignored_columns: list[str] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    dry_run: bool = False

    @property
    def rows(self) -> int:
        return self.created + self.updated

    def field_errors(self) -> dict[str, list[str]]:
        """The errors as API field paths ``rows.<row>.<column>``."""
        return {f"rows.{e.row}.{e.column}": e.messages for e in self.errors}


def _choice(kind: Any, raw: str) -> str:
    """A choice by key or by its English or German label (any case)."""
    wanted = raw.strip().casefold()
    if not wanted:
        return ""
    for value, label in kind.choices:
        for language in ("en", "de"):
            with translation.override(language):
                if wanted in (str(value).casefold(), str(label).casefold()):
                    return value
    return raw.strip()


def _date(raw: Any) -> Any:
    if isinstance(raw, dt.datetime):
        return raw.date().isoformat()
    if isinstance(raw, dt.date):
        return raw.isoformat()
    text = _text(raw).strip()
    german = re.fullmatch(r"(\d{1,2})\.(\d{1,2})\.(\d{4})", text)
    if german:
        day, month, year = german.groups()
        return f"{year}-{int(month):02d}-{int(day):02d}"
    return text


def _custom_value(definition: CustomFieldDefinition, raw: Any) -> Any:
    if definition.field_type == "multi_choice":
        return [v.strip() for v in re.split(r"[;,]", _text(raw)) if v.strip()]
    if definition.field_type == "boolean":
        text = _text(raw).strip().casefold()
        return {"ja": "true", "nein": "false", "x": "true", "wahr": "true", "falsch": "false"}.get(
            text, text
        )
    if definition.field_type == "date":
        return _date(raw)
    if isinstance(raw, float) and raw.is_integer():
        return int(raw)
    return raw if isinstance(raw, int | float | Decimal) else _text(raw).strip()


class _Lookups:
    """Owners, teams and accounts named in the file, looked up once per import."""

    def __init__(self, actor: User):
        self.actor = actor
        self.users = {u.email.casefold(): u.pk for u in User.objects.filter(is_active=True)}
        self.teams = {t.name.casefold(): t.pk for t in Team.objects.all()}
        self._accounts: dict[tuple[str, str], int | None] = {}

    def account(self, number: str, name: str) -> int | None:
        key = (number.strip().upper(), name.strip().casefold())
        if key not in self._accounts:
            visible = selectors.accounts_visible_to(self.actor)
            found = None
            if key[0]:
                found = visible.filter(customer_number=key[0]).values_list("pk", flat=True).first()
            elif key[1]:
                matches = list(
                    visible.filter(name__iexact=name.strip()).values_list("pk", flat=True)[:2]
                )
                found = matches[0] if len(matches) == 1 else None
            self._accounts[key] = found
        return self._accounts[key]


_NESTED_COLUMNS = {
    "emails.0.address": "email",
    "emails.1.address": "email_2",
    "phones.0.number": "phone",
    "phones.1.number": "phone_2",
    "owner_id": "owner",
    "team_id": "team",
    "parent_id": "parent_number",
    "account_links": "account",
}


def _column_of(path: str) -> str:
    if path in _NESTED_COLUMNS:
        return _NESTED_COLUMNS[path]
    if path.startswith("addresses.0."):
        return path.removeprefix("addresses.0.")
    if path.startswith("account_links."):
        return "account"
    if path.startswith("custom."):
        return "cf_" + path.removeprefix("custom.")
    return path.split(".")[0] or "row"


def _record_data(
    entity: str,
    values: dict[str, Any],
    existing: Any | None,
    lookups: _Lookups,
    definitions: dict[str, CustomFieldDefinition],
    problems: dict[str, list[str]],
) -> dict[str, Any]:
    """The service payload of one row: only the fields that the file has columns for."""
    data: dict[str, Any] = {}
    plain = (
        ["name", "legal_form", "industry_code", "industry_label", "employees", "annual_revenue",
         "revenue_currency", "website", "vat_id", "status", "description"]
        if entity == "account"
        else ["salutation", "academic_title", "first_name", "last_name", "job_title", "department",
              "language", "birthday", "preferred_channel", "description"]
    )  # fmt: skip
    for key in plain:
        if key in values:
            raw = values[key]
            if key in CHOICES:
                raw = _choice(CHOICES[key], _text(raw))
            elif key == "birthday":
                raw = _date(raw)
            elif key in ("employees", "annual_revenue") and isinstance(raw, int | float | Decimal):
                raw = str(raw)
            else:
                raw = _text(raw).strip()
            data[key] = raw
    if "language" in data:
        data["language"] = data["language"].lower()
    if any(c.key in values for c in _ADDRESS):
        old = (
            [{k: getattr(a, k) for k in ADDRESS_KEYS} for a in existing.addresses.all()]
            if existing
            else []
        )
        # The first address: the file's columns over what the record has (e.g. its "extra").
        first = dict(old[0]) if old else {"kind": "business", "extra": ""}
        for column in _ADDRESS:
            if column.key in values:
                first[column.key] = _text(values[column.key]).strip()
            first.setdefault(column.key, "")
        first["country"] = (first["country"] or "DE").upper()
        if any(first[k] for k in ("street", "postal_code", "city")):
            data["addresses"] = [first, *old[1:]]
        elif old:
            data["addresses"] = old[1:]
    for kind_key, columns, attr, defaults in (
        ("emails", ("email", "email_2"), "address", ("work", "private")),
        ("phones", ("phone", "phone_2"), "number", ("work", "mobile")),
    ):
        if not any(c in values for c in columns):
            continue
        old = list(getattr(existing, kind_key).all()) if existing else []
        if kind_key == "phones":  # private numbers the user may not see stay as they are
            old = sensitive.visible_phones(lookups.actor, entity, old)
        kinds = {getattr(o, attr): o.kind for o in old}
        items = []
        for i, column in enumerate(columns):
            if column in values:
                text = _text(values[column]).strip()
            else:
                text = getattr(old[i], attr) if len(old) > i else ""
            if text:
                items.append({attr: text, "kind": kinds.get(text, defaults[i])})
        items += [{attr: getattr(o, attr), "kind": o.kind} for o in old[len(columns) :]]
        data[kind_key] = items
    if "tags" in values:
        data["tags"] = [t.strip() for t in re.split(r"[;,]", _text(values["tags"])) if t.strip()]
    if existing is not None:
        # Unchanged references stay as they are, even to a deactivated owner or an account in
        # the trash (the file only repeats what the export wrote).
        current = {
            "owner": existing.owner.email if existing.owner_id else "",
            "team": existing.team.name if existing.team_id else "",
            "parent_number": getattr(getattr(existing, "parent", None), "customer_number", ""),
        }
        for key, value in current.items():
            if key in values and _text(values[key]).strip().casefold() == (value or "").casefold():
                del values[key]
    if "owner" in values:
        email = _text(values["owner"]).strip().casefold()
        if email and email not in lookups.users:
            problems.setdefault("owner", []).append(_("There is no active user with this email."))
        data["owner_id"] = lookups.users.get(email) if email else None
    if "team" in values:
        name = _text(values["team"]).strip().casefold()
        if name and name not in lookups.teams:
            problems.setdefault("team", []).append(_("There is no team with this name."))
        data["team_id"] = lookups.teams.get(name) if name else None
    if entity == "account" and "parent_number" in values:
        number = _text(values["parent_number"]).strip()
        parent = lookups.account(number, "") if number else None
        if number and parent is None:
            problems.setdefault("parent_number", []).append(
                _("There is no account with this customer number.")
            )
        data["parent_id"] = parent
    if entity == "contact" and ("account" in values or "account_number" in values):
        number = _text(values.get("account_number")).strip()
        name = _text(values.get("account")).strip()
        role = _text(values.get("account_role")).strip()
        links = []
        if number or name:
            account_id = lookups.account(number, name)
            if account_id is None:
                problems.setdefault("account", []).append(
                    _("No single account you can see has this customer number or name; "
                      "import the accounts first.")
                )  # fmt: skip
            else:
                links.append({"account_id": account_id, "role": role})
        if existing:
            links += [
                {"account_id": link.account_id, "role": link.role}
                for link in existing.account_links.all()
                if all(link.account_id != new["account_id"] for new in links)
            ]
        data["account_links"] = links
    custom = {
        key.removeprefix("cf_"): _custom_value(definitions[key.removeprefix("cf_")], raw)
        for key, raw in values.items()
        if key.startswith("cf_") and key.removeprefix("cf_") in definitions
    }
    if custom:
        data["custom"] = custom
    return data


def import_table(
    *, actor: User, entity: str, table: list[list[Any]], dry_run: bool = False
) -> ImportResult:
    """Import the rows of ``table`` (header first), all or nothing; see the module."""
    permissions.require(actor, "import", entity)
    mapping, ignored = map_headers(entity, table[0], actor)
    result = ImportResult(ignored_columns=ignored, dry_run=dry_run)
    if not any(key not in ("id",) for key in mapping.values()):
        raise FileProblem(_("No column of the file matches a field; see the list of columns."))
    definitions = {d.key: d for d in definitions_for(entity)}
    lookups = _Lookups(actor)
    model = Account if entity == "account" else Contact
    visible = (
        selectors.accounts_visible_to(actor)
        if entity == "account"
        else selectors.contacts_visible_to(actor)
    )
    related: list[Any] = ["emails", "phones", "addresses"]
    if entity == "contact":
        related.append(selectors.active_account_links(actor))
    references = ["owner", "team", "parent"] if entity == "account" else ["owner", "team"]
    create = services.account_create if entity == "account" else services.contact_create
    update = services.account_update if entity == "account" else services.contact_update
    id_name = f"{entity}_id"
    with transaction.atomic():
        for line, cells in enumerate(table[1:], start=2):
            if _blank(cells):
                continue
            values = {
                key: _undefused(cells[i]) if i < len(cells) else "" for i, key in mapping.items()
            }
            problems: dict[str, list[str]] = {}
            existing = None
            raw_id = _text(values.pop("id", "")).strip()
            if raw_id.endswith(".0"):
                raw_id = raw_id[:-2]
            if raw_id:
                existing = (
                    visible.select_related(*references)
                    .prefetch_related(*related)
                    .filter(pk=int(raw_id))
                    .first()
                    if raw_id.isdigit()
                    else None
                )
                if existing is None:
                    problems["id"] = [_("There is no %(entity)s with this ID that you can see.") % {
                        "entity": model._meta.verbose_name}]  # fmt: skip
            data = _record_data(entity, values, existing, lookups, definitions, problems)
            if not problems:
                try:
                    with transaction.atomic():
                        if existing is None:
                            create(actor=actor, data=data)
                            result.created += 1
                        else:
                            update(actor=actor, data=data, **{id_name: existing.pk})
                            result.updated += 1
                except ValidationFailed as exc:
                    for path, messages in exc.fields.items():
                        problems.setdefault(_column_of(path), []).extend(messages)
                except NotFound:
                    problems["id"] = [_("This record cannot be changed by you.")]
            for column, messages in problems.items():
                result.errors.append(RowError(line, column, messages))
        if result.errors or dry_run:
            transaction.set_rollback(True)
    if result.errors:
        result.created = result.updated = 0
    return result
