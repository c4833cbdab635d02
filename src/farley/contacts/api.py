"""API for accounts, contacts, relationships and timeline entries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Annotated, Any

from django.db.models import Prefetch, Q, prefetch_related_objects
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils.translation import gettext as _
from ninja import File, Router, Schema, Status, UploadedFile
from pydantic import ConfigDict, WithJsonSchema

from farley.contacts import privacy, selectors, services, transfer
from farley.contacts.models import Account, Contact, Relationship, RelationshipType, TimelineEntry
from farley.core import audit, permissions, sensitive
from farley.core.apiutil import (
    ERRORS,
    ChangeOut,
    Id,
    api_page,
    change_out,
    history_page,
    query_params,
    requested_version,
)
from farley.core.errors import NotFound, ValidationFailed
from farley.core.models import User
from farley.core.prefetch import release
from farley.core.validation import phone_display

router = Router()


class Strict(Schema):
    model_config = ConfigDict(extra="forbid")


# --- shared parts ---------------------------------------------------------------------------


class EmailIn(Strict):
    address: str
    kind: str = "work"


class PhoneIn(Strict):
    number: str
    kind: str = "work"


class AddressIn(Strict):
    kind: str = "business"
    street: str = ""
    house_number: str = ""
    extra: str = ""
    postal_code: str = ""
    city: str = ""
    region: str = ""
    country: str = "DE"


class EmailOut(Schema):
    address: str
    kind: str


class PhoneOut(Schema):
    number: str
    kind: str
    display: str


class AddressOut(Schema):
    kind: str
    street: str
    house_number: str
    extra: str
    postal_code: str
    city: str
    region: str
    country: str


class AccountLinkIn(Strict):
    account_id: int
    role: str = ""


class AccountLinkOut(Schema):
    account_id: int
    account_name: str
    role: str


LIST_RELATIONS = ("emails", "phones", "addresses", "tags")


def _related(record: Account | Contact, name: str) -> Iterable[Any]:
    """The rows of relation ``name``: the list a list endpoint prefetched into ``<name>_rows``
    (a plain list: Django makes no queryset per record for it, some 250 clones of a query per
    page of 50 contacts), else the relation's, prefetched or not."""
    rows = record.__dict__.get(f"{name}_rows")
    return rows if rows is not None else getattr(record, name).all()


def _channels(record: Account | Contact, user: User) -> dict[str, Any]:
    entity = "account" if isinstance(record, Account) else "contact"
    return {
        "emails": [{"address": e.address, "kind": e.kind} for e in _related(record, "emails")],
        "phones": [
            {"number": p.number, "kind": p.kind, "display": phone_display(p.number)}
            for p in sensitive.visible_phones(user, entity, _related(record, "phones"))
        ],
        "addresses": [
            {
                k: getattr(a, k)
                for k in (
                    "kind",
                    "street",
                    "house_number",
                    "extra",
                    "postal_code",
                    "city",
                    "region",
                    "country",
                )
            }
            for a in _related(record, "addresses")
        ],
        "tags": sorted(t.name for t in _related(record, "tags")),
    }


def _record_meta(record: Account | Contact, user: User) -> dict[str, Any]:
    entity = "account" if isinstance(record, Account) else "contact"
    return {
        "id": record.pk,
        "version": record.version,
        "created_at": record.created_at,
        "updated_at": record.updated_at,
        "owner_id": record.owner_id,
        "team_id": record.team_id,
        "custom": sensitive.visible_custom(user, entity, record.custom),
        "last_interaction_at": record.last_interaction_at,
        "deleted_at": record.deleted_at,
    }


class RecordOut(Schema):
    id: int
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
    owner_id: int
    team_id: int | None
    custom: dict[str, Any]
    tags: list[str]
    emails: list[EmailOut]
    phones: list[PhoneOut]
    addresses: list[AddressOut]
    last_interaction_at: dt.datetime | None
    deleted_at: dt.datetime | None


def _list_response(request: HttpRequest, entity: str, serialize) -> dict[str, Any]:
    permissions.require(request.user, "view", entity)
    page = selectors.list_page(entity, request.user, query_params(request), strict=True)
    lookups: list[Any] = [Prefetch(name, to_attr=f"{name}_rows") for name in LIST_RELATIONS]
    if entity == "contact":
        lookups.append(selectors.active_account_links(request.user, to_attr="account_links_rows"))
    prefetch_related_objects(page.items, *lookups)
    items = [serialize(r, request.user) for r in page.items]
    release(page.items, attributes=[*LIST_RELATIONS, "account_links"])
    return {"items": items, "next_cursor": page.next_cursor, "limit": page.limit}


LIST_FILTER_DOC = (
    "Filters: q, postal_code (prefix), postal_code_from, postal_code_to, city, country, industry, "
    "status, tag (comma list), owner, team, interaction_from, interaction_to (YYYY-MM-DD), "
    "has_email (true/false), cf_<custom field key>. Sort: sort=name|city|postal_code|created|updated|"
    "last_interaction (prefix - for descending). Pagination: limit (1-200), cursor."
)


# --- import and export ----------------------------------------------------------------------


class ImportOut(Schema):
    created: int
    updated: int
    dry_run: bool
    ignored_columns: list[str]


TRANSFER_DOC = (
    "Export: the records of the list with the same filters, as `format=csv` (default) or "
    "`xlsx`. Import: a CSV or .xlsx file (multipart field `file`) with the export's columns; "
    "rows with an `id` update, others create; all or nothing (422 with `rows.<row>.<column>` "
    "field errors). `dry_run=true` checks without saving."
)


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _export(request: HttpRequest, entity: str, format: str) -> HttpResponse:
    if format not in transfer.FORMATS:
        raise ValidationFailed({"format": [_("Choose csv or xlsx.")]})
    params = {k: v for k, v in query_params(request).items() if k not in ("format", "cursor")}
    columns, rows = transfer.export_rows(entity, request.user, params)
    name = f"{entity}s.{format}"
    if format == "xlsx":
        response = HttpResponse(
            transfer.xlsx_bytes(columns, rows, f"{entity}s"),
            content_type=XLSX,
        )
    else:
        response = StreamingHttpResponse(
            transfer.csv_chunks(columns, rows), content_type="text/csv; charset=utf-8"
        )
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _import(request: HttpRequest, entity: str, file: UploadedFile, dry_run: bool) -> dict:
    if file.size > transfer.MAX_BYTES:
        raise transfer.FileProblem(
            _("The file is larger than %(size)d MB.") % {"size": transfer.MAX_BYTES // 2**20}
        )
    table = transfer.read_table(file.name or "", file.read())
    result = transfer.import_table(actor=request.user, entity=entity, table=table, dry_run=dry_run)
    if result.errors:
        raise ValidationFailed(result.field_errors())
    return {
        "created": result.created,
        "updated": result.updated,
        "dry_run": dry_run,
        "ignored_columns": result.ignored_columns,
    }


# What the exports answer, for the spec (a file, not JSON); the format is checked by the
# service, with a translated message.
ExportFormat = Annotated[str, WithJsonSchema({"type": "string", "enum": list(transfer.FORMATS)})]
EXPORT_FILES = {
    "responses": {
        200: {
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                XLSX: {"schema": {"type": "string", "format": "binary"}},
            }
        }
    }
}


@router.get(
    "/accounts/export",
    response={200: None, **ERRORS},
    tags=["accounts"],
    description=TRANSFER_DOC,
    openapi_extra=EXPORT_FILES,
)
def export_accounts(request: HttpRequest, format: ExportFormat = "csv"):
    return _export(request, "account", format)


@router.post(
    "/accounts/import",
    response={200: ImportOut, **ERRORS},
    tags=["accounts"],
    description=TRANSFER_DOC,
)
def import_accounts(request: HttpRequest, file: File[UploadedFile], dry_run: bool = False):
    return _import(request, "account", file, dry_run)


@router.get(
    "/contacts/export",
    response={200: None, **ERRORS},
    tags=["contacts"],
    description=TRANSFER_DOC,
    openapi_extra=EXPORT_FILES,
)
def export_contacts(request: HttpRequest, format: ExportFormat = "csv"):
    return _export(request, "contact", format)


@router.post(
    "/contacts/import",
    response={200: ImportOut, **ERRORS},
    tags=["contacts"],
    description=TRANSFER_DOC,
)
def import_contacts(request: HttpRequest, file: File[UploadedFile], dry_run: bool = False):
    return _import(request, "contact", file, dry_run)


# --- data protection ------------------------------------------------------------------------


class ErasedOut(Schema):
    id: int
    erased: bool


@router.get(
    "/privacy/contacts/{contact_id}/export",
    response={200: dict[str, Any], **ERRORS},
    tags=["data protection"],
    description="Everything stored about a contact (GDPR Art. 15): `format=json` (default) or "
    "`zip` (data.json and attachments). Needs the contact permissions export and sensitive.",
    openapi_extra={
        "responses": {
            200: {
                "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}}
            }
        }
    },
)
def privacy_export(
    request: HttpRequest,
    contact_id: Id,
    format: Annotated[str, WithJsonSchema({"type": "string", "enum": ["json", "zip"]})] = "json",
):
    if format not in ("json", "zip"):
        raise ValidationFailed({"format": [_("Choose json or zip.")]})
    if format == "zip":
        response = HttpResponse(
            privacy.access_export_zip(actor=request.user, contact_id=contact_id),
            content_type="application/zip",
        )
        response["Content-Disposition"] = f'attachment; filename="contact-{contact_id}-data.zip"'
        return response
    return privacy.access_export(actor=request.user, contact_id=contact_id)


@router.post(
    "/privacy/contacts/{contact_id}/erase",
    response={200: ErasedOut, **ERRORS},
    tags=["data protection"],
    description="Anonymise a contact irreversibly (GDPR Art. 17). Administrators only.",
)
def privacy_erase(request: HttpRequest, contact_id: Id):
    contact = privacy.erase(actor=request.user, contact_id=contact_id)
    return {"id": contact.pk, "erased": True}


# --- accounts -------------------------------------------------------------------------------


class AccountIn(Strict):
    name: str
    legal_form: str = ""
    industry_code: str = ""
    industry_label: str = ""
    employees: int | None = None
    annual_revenue: Decimal | str | None = None
    revenue_currency: str = "EUR"
    website: str = ""
    vat_id: str = ""
    status: str = "prospect"
    parent_id: int | None = None
    description: str = ""
    owner_id: int | None = None
    team_id: int | None = None
    tags: list[str] = []
    custom: dict[str, Any] = {}
    emails: list[EmailIn] = []
    phones: list[PhoneIn] = []
    addresses: list[AddressIn] = []


class AccountPatch(Strict):
    name: str | None = None
    legal_form: str | None = None
    industry_code: str | None = None
    industry_label: str | None = None
    employees: int | None = None
    annual_revenue: Decimal | str | None = None
    revenue_currency: str | None = None
    website: str | None = None
    vat_id: str | None = None
    status: str | None = None
    parent_id: int | None = None
    description: str | None = None
    owner_id: int | None = None
    team_id: int | None = None
    tags: list[str] | None = None
    custom: dict[str, Any] | None = None
    emails: list[EmailIn] | None = None
    phones: list[PhoneIn] | None = None
    addresses: list[AddressIn] | None = None
    version: int | None = None


class AccountOut(RecordOut):
    name: str
    customer_number: str
    legal_form: str
    industry_code: str
    industry_label: str
    employees: int | None
    annual_revenue: str | None
    revenue_currency: str
    website: str
    vat_id: str
    status: str
    parent_id: int | None
    description: str


class AccountList(Schema):
    items: list[AccountOut]
    next_cursor: str | None
    limit: int


def account_out(account: Account, user: User) -> dict[str, Any]:
    return {
        **_record_meta(account, user),
        **_channels(account, user),
        "name": account.name,
        "customer_number": account.customer_number,
        "legal_form": account.legal_form,
        "industry_code": account.industry_code,
        "industry_label": account.industry_label,
        "employees": account.employees,
        "annual_revenue": None if account.annual_revenue is None else str(account.annual_revenue),
        "revenue_currency": account.revenue_currency,
        "website": account.website,
        "vat_id": account.vat_id,
        "status": account.status,
        "parent_id": account.parent_id,
        "description": account.description,
    }


def _payload(payload: Schema) -> dict[str, Any]:
    data = payload.model_dump(exclude_unset=True)
    if data.get("annual_revenue") is not None:
        data["annual_revenue"] = str(data["annual_revenue"])
    return data


@router.get(
    "/accounts",
    response={200: AccountList, **ERRORS},
    tags=["accounts"],
    description=LIST_FILTER_DOC,
)
def list_accounts(request: HttpRequest):
    return _list_response(request, "account", account_out)


@router.post("/accounts", response={201: AccountOut, **ERRORS}, tags=["accounts"])
def create_account(request: HttpRequest, payload: AccountIn):
    account = services.account_create(actor=request.user, data=_payload(payload))
    return Status(
        201, account_out(selectors.account_detail(request.user, account.pk), request.user)
    )


@router.get("/accounts/{account_id}", response={200: AccountOut, **ERRORS}, tags=["accounts"])
def get_account(request: HttpRequest, account_id: Id):
    return account_out(selectors.account_detail(request.user, account_id), request.user)


@router.patch("/accounts/{account_id}", response={200: AccountOut, **ERRORS}, tags=["accounts"])
def update_account(request: HttpRequest, account_id: Id, payload: AccountPatch):
    data = _payload(payload)
    version = requested_version(request, data.pop("version", None))
    services.account_update(actor=request.user, account_id=account_id, data=data, version=version)
    return account_out(selectors.account_detail(request.user, account_id), request.user)


@router.delete("/accounts/{account_id}", response={204: None, **ERRORS}, tags=["accounts"])
def delete_account(request: HttpRequest, account_id: Id):
    services.account_delete(actor=request.user, account_id=account_id)
    return Status(204, None)


@router.post(
    "/accounts/{account_id}/restore", response={200: AccountOut, **ERRORS}, tags=["accounts"]
)
def restore_account(request: HttpRequest, account_id: Id):
    services.account_restore(actor=request.user, account_id=account_id)
    return account_out(selectors.account_detail(request.user, account_id), request.user)


@router.get(
    "/accounts/{account_id}/history", response={200: list[ChangeOut], **ERRORS}, tags=["accounts"]
)
def account_history(
    request: HttpRequest, account_id: Id, limit: int = 100, before: Id | None = None
):
    selectors.account_detail(request.user, account_id, include_deleted=True)
    return [
        {**change_out(c), "changes": sensitive.mask_changes(request.user, "account", c.changes)}
        for c in history_page("account", account_id, limit, before)
    ]


# --- contacts -------------------------------------------------------------------------------


class ContactIn(Strict):
    salutation: str = ""
    academic_title: str = ""
    first_name: str = ""
    last_name: str
    job_title: str = ""
    department: str = ""
    language: str = ""
    birthday: str | None = None
    preferred_channel: str = ""
    description: str = ""
    owner_id: int | None = None
    team_id: int | None = None
    tags: list[str] = []
    custom: dict[str, Any] = {}
    emails: list[EmailIn] = []
    phones: list[PhoneIn] = []
    addresses: list[AddressIn] = []
    account_links: list[AccountLinkIn] = []


class ContactPatch(Strict):
    salutation: str | None = None
    academic_title: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    job_title: str | None = None
    department: str | None = None
    language: str | None = None
    birthday: str | None = None
    preferred_channel: str | None = None
    description: str | None = None
    owner_id: int | None = None
    team_id: int | None = None
    tags: list[str] | None = None
    custom: dict[str, Any] | None = None
    emails: list[EmailIn] | None = None
    phones: list[PhoneIn] | None = None
    addresses: list[AddressIn] | None = None
    account_links: list[AccountLinkIn] | None = None
    version: int | None = None


class ContactOut(RecordOut):
    salutation: str
    academic_title: str
    first_name: str
    last_name: str
    full_name: str
    job_title: str
    department: str
    language: str
    birthday: dt.date | None
    preferred_channel: str
    description: str
    account_links: list[AccountLinkOut]


class ContactList(Schema):
    items: list[ContactOut]
    next_cursor: str | None
    limit: int


def contact_out(contact: Contact, user: User) -> dict[str, Any]:
    return {
        **_record_meta(contact, user),
        **_channels(contact, user),
        "salutation": contact.salutation,
        "academic_title": contact.academic_title,
        "first_name": contact.first_name,
        "last_name": contact.last_name,
        "full_name": contact.full_name,
        "job_title": contact.job_title,
        "department": contact.department,
        "language": contact.language,
        "birthday": contact.birthday if sensitive.may_see(user, "contact") else None,
        "preferred_channel": contact.preferred_channel,
        "description": contact.description,
        "account_links": [
            {"account_id": link.account_id, "account_name": link.account.name, "role": link.role}
            for link in _related(contact, "account_links")
        ],
    }


@router.get(
    "/contacts",
    response={200: ContactList, **ERRORS},
    tags=["contacts"],
    description=LIST_FILTER_DOC,
)
def list_contacts(request: HttpRequest):
    return _list_response(request, "contact", contact_out)


@router.post("/contacts", response={201: ContactOut, **ERRORS}, tags=["contacts"])
def create_contact(request: HttpRequest, payload: ContactIn):
    contact = services.contact_create(actor=request.user, data=_payload(payload))
    return Status(
        201, contact_out(selectors.contact_detail(request.user, contact.pk), request.user)
    )


@router.get("/contacts/{contact_id}", response={200: ContactOut, **ERRORS}, tags=["contacts"])
def get_contact(request: HttpRequest, contact_id: Id):
    contact = selectors.contact_detail(request.user, contact_id)
    audit.log_record_view(request.user, "contact", contact.pk, channel="api")
    return contact_out(contact, request.user)


@router.patch("/contacts/{contact_id}", response={200: ContactOut, **ERRORS}, tags=["contacts"])
def update_contact(request: HttpRequest, contact_id: Id, payload: ContactPatch):
    data = _payload(payload)
    version = requested_version(request, data.pop("version", None))
    services.contact_update(actor=request.user, contact_id=contact_id, data=data, version=version)
    return contact_out(selectors.contact_detail(request.user, contact_id), request.user)


@router.delete("/contacts/{contact_id}", response={204: None, **ERRORS}, tags=["contacts"])
def delete_contact(request: HttpRequest, contact_id: Id):
    services.contact_delete(actor=request.user, contact_id=contact_id)
    return Status(204, None)


@router.post(
    "/contacts/{contact_id}/restore", response={200: ContactOut, **ERRORS}, tags=["contacts"]
)
def restore_contact(request: HttpRequest, contact_id: Id):
    services.contact_restore(actor=request.user, contact_id=contact_id)
    return contact_out(selectors.contact_detail(request.user, contact_id), request.user)


@router.get(
    "/contacts/{contact_id}/history", response={200: list[ChangeOut], **ERRORS}, tags=["contacts"]
)
def contact_history(
    request: HttpRequest, contact_id: Id, limit: int = 100, before: Id | None = None
):
    selectors.contact_detail(request.user, contact_id, include_deleted=True)
    return [
        {**change_out(c), "changes": sensitive.mask_changes(request.user, "contact", c.changes)}
        for c in history_page("contact", contact_id, limit, before)
    ]


# --- relationship types ---------------------------------------------------------------------


class RelationshipTypeOut(Schema):
    id: int
    key: str
    label: str
    label_de: str
    inverse_label: str
    inverse_label_de: str
    is_built_in: bool


class RelationshipTypeIn(Strict):
    key: str
    label: str
    label_de: str = ""
    inverse_label: str
    inverse_label_de: str = ""


class RelationshipTypePatch(Strict):
    label: str | None = None
    label_de: str | None = None
    inverse_label: str | None = None
    inverse_label_de: str | None = None


@router.get(
    "/relationship-types",
    response={200: list[RelationshipTypeOut], **ERRORS},
    tags=["relationships"],
)
def list_relationship_types(request: HttpRequest):
    """The kinds of relation; ``key`` is what ``POST /relationships`` takes as ``type``."""
    return list(RelationshipType.objects.all())


@router.post(
    "/relationship-types", response={201: RelationshipTypeOut, **ERRORS}, tags=["relationships"]
)
def create_relationship_type(request: HttpRequest, payload: RelationshipTypeIn):
    return Status(
        201, services.relationship_type_create(actor=request.user, data=payload.model_dump())
    )


@router.patch(
    "/relationship-types/{type_id}",
    response={200: RelationshipTypeOut, **ERRORS},
    tags=["relationships"],
)
def update_relationship_type(request: HttpRequest, type_id: Id, payload: RelationshipTypePatch):
    return services.relationship_type_update(
        actor=request.user, type_id=type_id, data=payload.model_dump(exclude_unset=True)
    )


@router.delete(
    "/relationship-types/{type_id}", response={204: None, **ERRORS}, tags=["relationships"]
)
def delete_relationship_type(request: HttpRequest, type_id: Id):
    services.relationship_type_delete(actor=request.user, type_id=type_id)
    return Status(204, None)


# --- relationships --------------------------------------------------------------------------


class RelationshipIn(Strict):
    type: str
    from_type: str
    from_id: int
    to_type: str
    to_id: int
    note: str = ""


class RelationshipOut(Schema):
    id: int
    type: str
    label: str
    from_type: str
    from_id: int
    to_type: str
    to_id: int
    note: str
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


class RelationshipList(Schema):
    items: list[RelationshipOut]
    next_cursor: str | None


def relationship_out(rel: Relationship) -> dict[str, Any]:
    return {
        "id": rel.pk,
        "type": rel.type.key,
        "label": rel.type.display_label(),
        "from_type": "account" if rel.from_account_id else "contact",
        "from_id": rel.from_account_id or rel.from_contact_id,
        "to_type": "account" if rel.to_account_id else "contact",
        "to_id": rel.to_account_id or rel.to_contact_id,
        "note": rel.note,
        "version": rel.version,
        "created_at": rel.created_at,
        "updated_at": rel.updated_at,
    }


@router.get("/relationships", response={200: RelationshipList, **ERRORS}, tags=["relationships"])
def list_relationships(
    request: HttpRequest, account_id: Id | None = None, contact_id: Id | None = None
):
    queryset = selectors.relationships_visible_to(request.user)
    if account_id:
        queryset = queryset.filter(Q(from_account_id=account_id) | Q(to_account_id=account_id))
    if contact_id:
        queryset = queryset.filter(Q(from_contact_id=contact_id) | Q(to_contact_id=contact_id))
    page = api_page(request, queryset, ["created_at"])
    return {"items": [relationship_out(r) for r in page.items], "next_cursor": page.next_cursor}


@router.post("/relationships", response={201: RelationshipOut, **ERRORS}, tags=["relationships"])
def create_relationship(request: HttpRequest, payload: RelationshipIn):
    rel = services.relationship_create(actor=request.user, data=payload.model_dump())
    return Status(201, relationship_out(rel))


@router.get(
    "/relationships/{relationship_id}",
    response={200: RelationshipOut, **ERRORS},
    tags=["relationships"],
)
def get_relationship(request: HttpRequest, relationship_id: Id):
    rel = selectors.relationships_visible_to(request.user).filter(pk=relationship_id).first()
    if rel is None:
        raise NotFound()
    return relationship_out(rel)


@router.delete(
    "/relationships/{relationship_id}", response={204: None, **ERRORS}, tags=["relationships"]
)
def delete_relationship(request: HttpRequest, relationship_id: Id):
    services.relationship_delete(actor=request.user, relationship_id=relationship_id)
    return Status(204, None)


# --- timeline entries -----------------------------------------------------------------------


class TimelineIn(Strict):
    kind: str = "note"
    direction: str = ""
    subject: str
    body: str = ""
    body_format: str = "text"
    occurred_at: str | None = None
    account_id: int | None = None
    contact_id: int | None = None


class TimelinePatch(Strict):
    kind: str | None = None
    direction: str | None = None
    subject: str | None = None
    body: str | None = None
    body_format: str | None = None
    occurred_at: str | None = None
    version: int | None = None


class TimelineOut(Schema):
    id: int
    kind: str
    direction: str
    subject: str
    body: str
    body_format: str
    occurred_at: dt.datetime
    account_id: int | None
    contact_id: int | None
    author_id: int | None
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


class TimelineList(Schema):
    items: list[TimelineOut]
    next_cursor: str | None


@router.get("/timeline-entries", response={200: TimelineList, **ERRORS}, tags=["timeline"])
def list_timeline(
    request: HttpRequest,
    account_id: Id | None = None,
    contact_id: Id | None = None,
    kind: str | None = None,
):
    queryset = selectors.timeline_entries_visible_to(request.user)
    if account_id:
        queryset = queryset.filter(account_id=account_id)
    if contact_id:
        queryset = queryset.filter(contact_id=contact_id)
    if kind:
        queryset = queryset.filter(kind__in=kind.split(","))
    page = api_page(request, queryset, ["occurred_at"], descending=True)
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.post("/timeline-entries", response={201: TimelineOut, **ERRORS}, tags=["timeline"])
def create_timeline_entry(request: HttpRequest, payload: TimelineIn):
    return Status(
        201,
        services.timeline_entry_create(
            actor=request.user, data=payload.model_dump(exclude_unset=True)
        ),
    )


def _entry(request: HttpRequest, entry_id: int, *, include_deleted: bool = False) -> TimelineEntry:
    entries = selectors.timeline_entries_visible_to(request.user, include_deleted=include_deleted)
    entry = entries.filter(pk=entry_id).first()
    if entry is None:
        raise NotFound()
    return entry


@router.get(
    "/timeline-entries/{entry_id}", response={200: TimelineOut, **ERRORS}, tags=["timeline"]
)
def get_timeline_entry(request: HttpRequest, entry_id: Id):
    return _entry(request, entry_id)


@router.patch(
    "/timeline-entries/{entry_id}", response={200: TimelineOut, **ERRORS}, tags=["timeline"]
)
def update_timeline_entry(request: HttpRequest, entry_id: Id, payload: TimelinePatch):
    data = payload.model_dump(exclude_unset=True)
    version = requested_version(request, data.pop("version", None))
    return services.timeline_entry_update(
        actor=request.user, entry_id=entry_id, data=data, version=version
    )


@router.delete("/timeline-entries/{entry_id}", response={204: None, **ERRORS}, tags=["timeline"])
def delete_timeline_entry(request: HttpRequest, entry_id: Id):
    services.timeline_entry_delete(actor=request.user, entry_id=entry_id)
    return Status(204, None)


@router.get(
    "/timeline-entries/{entry_id}/history",
    response={200: list[ChangeOut], **ERRORS},
    tags=["timeline"],
)
def timeline_entry_history(
    request: HttpRequest, entry_id: Id, limit: int = 100, before: Id | None = None
):
    _entry(request, entry_id, include_deleted=True)
    return [change_out(c) for c in history_page("timeline_entry", entry_id, limit, before)]


@router.post(
    "/timeline-entries/{entry_id}/restore", response={200: TimelineOut, **ERRORS}, tags=["timeline"]
)
def restore_timeline_entry(request: HttpRequest, entry_id: Id):
    return services.timeline_entry_restore(actor=request.user, entry_id=entry_id)
