"""API: leads (capture, list, export/import, conversion) and lead-assignment rules."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils.translation import gettext as _
from ninja import File, Router, Schema, Status, UploadedFile
from pydantic import ConfigDict

from farley.contacts import transfer
from farley.core import permissions, sensitive
from farley.core.apiutil import (
    ERRORS,
    ChangeOut,
    change_out,
    history_page,
    query_params,
    requested_version,
)
from farley.core.errors import Forbidden, NotFound, ValidationFailed
from farley.core.models import User
from farley.core.validation import phone_display
from farley.sales.models import AssignmentRule, Lead
from farley.sales.selectors import leads as selectors
from farley.sales.services import leads as services

router = Router()


class Strict(Schema):
    model_config = ConfigDict(extra="forbid")


# --- schemas --------------------------------------------------------------------------------


class LeadIn(Strict):
    company_name: str = ""
    salutation: str = ""
    first_name: str = ""
    last_name: str = ""
    job_title: str = ""
    email: str = ""
    phone: str = ""
    website: str = ""
    street: str = ""
    postal_code: str = ""
    city: str = ""
    country: str = ""
    industry_code: str = ""
    source: str = "other"
    status: str = "new"
    disqualify_reason: str = ""
    description: str = ""
    estimated_value: Decimal | str | None = None
    currency: str = "EUR"
    owner_id: int | None = None
    team_id: int | None = None
    custom: dict[str, Any] = {}


class LeadPatch(Strict):
    company_name: str | None = None
    salutation: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    job_title: str | None = None
    email: str | None = None
    phone: str | None = None
    website: str | None = None
    street: str | None = None
    postal_code: str | None = None
    city: str | None = None
    country: str | None = None
    industry_code: str | None = None
    source: str | None = None
    status: str | None = None
    disqualify_reason: str | None = None
    description: str | None = None
    estimated_value: Decimal | str | None = None
    currency: str | None = None
    owner_id: int | None = None
    team_id: int | None = None
    custom: dict[str, Any] | None = None
    version: int | None = None


class LeadOut(Schema):
    id: int
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
    deleted_at: dt.datetime | None
    owner_id: int
    team_id: int | None
    company_name: str
    salutation: str
    first_name: str
    last_name: str
    full_name: str
    job_title: str
    email: str
    phone: str
    phone_display: str
    website: str
    street: str
    postal_code: str
    city: str
    country: str
    industry_code: str
    source: str
    status: str
    disqualify_reason: str
    description: str
    estimated_value: str | None
    currency: str
    custom: dict[str, Any]
    converted_at: dt.datetime | None
    converted_by_id: int | None
    converted_account_id: int | None
    converted_contact_id: int | None
    converted_opportunity_id: int | None


class LeadList(Schema):
    items: list[LeadOut]
    next_cursor: str | None
    limit: int


PLAIN = [
    "id", "version", "created_at", "updated_at", "deleted_at", "owner_id", "team_id",
    "company_name", "salutation", "first_name", "last_name", "full_name", "job_title", "email",
    "phone", "website", "street", "postal_code", "city", "country", "industry_code", "source",
    "status", "disqualify_reason", "description", "currency", "converted_at", "converted_by_id",
    "converted_account_id", "converted_contact_id", "converted_opportunity_id",
]  # fmt: skip


def lead_out(lead: Lead, user: User) -> dict[str, Any]:
    data = {key: getattr(lead, key) for key in PLAIN}
    data["phone_display"] = phone_display(lead.phone) if lead.phone else ""
    data["estimated_value"] = None if lead.estimated_value is None else str(lead.estimated_value)
    data["custom"] = sensitive.visible_custom(user, "lead", lead.custom)
    return data


def _payload(payload: Schema) -> dict[str, Any]:
    data = payload.model_dump(exclude_unset=True)
    if data.get("estimated_value") is not None:
        data["estimated_value"] = str(data["estimated_value"])
    return data


LIST_DOC = (
    "Filters: q (name, company or email contains), status and source (comma lists), owner, "
    "team, created_from, created_to (YYYY-MM-DD), country, postal_code (prefix), "
    "postal_code_from, postal_code_to, industry (prefix), cf_<custom field key>. Sort: "
    "sort=created|updated|name|company|status (prefix - for descending; default -created). "
    "Pagination: limit (1-200), cursor."
)
TRANSFER_DOC = (
    "Export: the leads of the list with the same filters, as `format=csv` (default) or `xlsx`. "
    "Import: a CSV or .xlsx file (multipart field `file`) with the export's columns; rows with "
    "an `id` update, others create (without an owner, the assignment rules choose one); all or "
    "nothing (422 with `rows.<row>.<column>` field errors). `dry_run=true` checks only."
)


# --- list, export, import -------------------------------------------------------------------


@router.get("/leads", response={200: LeadList, **ERRORS}, tags=["leads"], description=LIST_DOC)
def list_leads(request: HttpRequest):
    permissions.require(request.user, "view", "lead")
    page = selectors.list_page(request.user, query_params(request), strict=True)
    return {
        "items": [lead_out(lead, request.user) for lead in page.items],
        "next_cursor": page.next_cursor,
        "limit": page.limit,
    }


@router.get(
    "/leads/export", response={200: None, **ERRORS}, tags=["leads"], description=TRANSFER_DOC
)
def export_leads(request: HttpRequest, format: str = "csv"):
    if format not in transfer.FORMATS:
        raise ValidationFailed({"format": [_("Choose csv or xlsx.")]})
    params = {k: v for k, v in query_params(request).items() if k not in ("format", "cursor")}
    columns, rows = selectors.export_rows(request.user, params)
    if format == "xlsx":
        response = HttpResponse(
            transfer.xlsx_bytes(columns, rows, "leads"),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    else:
        response = StreamingHttpResponse(
            transfer.csv_chunks(columns, rows), content_type="text/csv; charset=utf-8"
        )
    response["Content-Disposition"] = f'attachment; filename="leads.{format}"'
    return response


class LeadImportOut(Schema):
    created: int
    updated: int
    dry_run: bool
    ignored_columns: list[str]


@router.post(
    "/leads/import",
    response={200: LeadImportOut, **ERRORS},
    tags=["leads"],
    description=TRANSFER_DOC,
)
def import_leads(request: HttpRequest, file: File[UploadedFile], dry_run: bool = False):
    if file.size > transfer.MAX_BYTES:
        raise transfer.FileProblem(
            _("The file is larger than %(size)d MB.") % {"size": transfer.MAX_BYTES // 2**20}
        )
    table = transfer.read_table(file.name or "", file.read())
    result = services.import_table(actor=request.user, table=table, dry_run=dry_run)
    if result.errors:
        raise ValidationFailed(result.field_errors())
    return {
        "created": result.created,
        "updated": result.updated,
        "dry_run": dry_run,
        "ignored_columns": result.ignored_columns,
    }


# --- one lead -------------------------------------------------------------------------------


@router.post("/leads", response={201: LeadOut, **ERRORS}, tags=["leads"])
def create_lead(request: HttpRequest, payload: LeadIn):
    """Without `owner_id`, the first matching lead-assignment rule chooses owner and team
    (else the caller owns the lead)."""
    lead = services.lead_create(actor=request.user, data=_payload(payload))
    return Status(201, lead_out(lead, request.user))


@router.get("/leads/{lead_id}", response={200: LeadOut, **ERRORS}, tags=["leads"])
def get_lead(request: HttpRequest, lead_id: int):
    return lead_out(selectors.lead_detail(request.user, lead_id), request.user)


@router.patch("/leads/{lead_id}", response={200: LeadOut, **ERRORS}, tags=["leads"])
def update_lead(request: HttpRequest, lead_id: int, payload: LeadPatch):
    data = _payload(payload)
    version = requested_version(request, data.pop("version", None))
    lead = services.lead_update(actor=request.user, lead_id=lead_id, data=data, version=version)
    return lead_out(lead, request.user)


@router.delete("/leads/{lead_id}", response={204: None, **ERRORS}, tags=["leads"])
def delete_lead(request: HttpRequest, lead_id: int):
    services.lead_delete(actor=request.user, lead_id=lead_id)
    return Status(204, None)


@router.post("/leads/{lead_id}/restore", response={200: LeadOut, **ERRORS}, tags=["leads"])
def restore_lead(request: HttpRequest, lead_id: int):
    lead = services.lead_restore(actor=request.user, lead_id=lead_id)
    return lead_out(lead, request.user)


@router.get("/leads/{lead_id}/history", response={200: list[ChangeOut], **ERRORS}, tags=["leads"])
def lead_history(request: HttpRequest, lead_id: int, limit: int = 100, before: int | None = None):
    selectors.lead_detail(request.user, lead_id, include_deleted=True)
    return [
        {**change_out(c), "changes": sensitive.mask_changes(request.user, "lead", c.changes)}
        for c in history_page("lead", lead_id, limit, before)
    ]


# --- qualification and conversion -----------------------------------------------------------


class LeadCandidateOut(Schema):
    id: int
    name: str
    score: float
    reasons: list[str]
    customer_number: str | None = None
    city: str | None = None
    email: str | None = None
    account: str | None = None


class LeadDuplicatesOut(Schema):
    accounts: list[LeadCandidateOut]
    contacts: list[LeadCandidateOut]


@router.get(
    "/leads/{lead_id}/duplicates", response={200: LeadDuplicatesOut, **ERRORS}, tags=["leads"]
)
def lead_duplicates(request: HttpRequest, lead_id: int):
    """What a conversion would find: accounts with a similar company name (legal forms
    aside) and contacts with the same email or phone number, best first."""
    lead = selectors.lead_detail(request.user, lead_id)
    return selectors.duplicates_of(request.user, lead).as_dict()


class ConversionOpportunityIn(Strict):
    name: str = ""
    amount: Decimal | str | None = None
    currency: str = ""
    pipeline_id: int | None = None
    expected_close_date: dt.date | None = None


class LeadConvertIn(Strict):
    account_id: int | None = None
    account_name: str = ""
    contact_id: int | None = None
    create_anyway: bool = False
    opportunity: ConversionOpportunityIn | None = None
    version: int | None = None


class LeadConvertOut(Schema):
    lead_id: int
    status: str
    account_id: int
    contact_id: int | None
    opportunity_id: int | None


CONVERT_DOC = (
    "Convert a lead (new, contacted or qualified) in one transaction: `account_id` links an "
    "existing account, else a new one is made (named `account_name`, default the company); "
    "`contact_id` links an existing contact, else one is made from the lead's person; "
    "`opportunity` (an object, `{}` for the defaults) also makes a deal in the pipeline's first "
    "open stage. When similar accounts or contacts with the same email or phone exist and "
    "neither an id nor `create_anyway: true` is given, the answer is 422 with the candidates "
    "in `error.candidates`. A converted or disqualified lead answers 422."
)


@router.post(
    "/leads/{lead_id}/convert",
    response={200: LeadConvertOut, **ERRORS},
    tags=["leads"],
    description=CONVERT_DOC,
)
def convert_lead(request: HttpRequest, lead_id: int, payload: LeadConvertIn):
    data = payload.model_dump(exclude_unset=True)
    version = requested_version(request, data.pop("version", None))
    opportunity = data.get("opportunity")
    if isinstance(opportunity, dict):
        if opportunity.get("amount") is not None:
            opportunity["amount"] = str(opportunity["amount"])
        if opportunity.get("expected_close_date") is not None:
            opportunity["expected_close_date"] = opportunity["expected_close_date"].isoformat()
    try:
        result = services.lead_convert(
            actor=request.user, lead_id=lead_id, data=data, version=version
        )
    except services.DuplicatesFound as exc:
        from farley.api import error_response

        return error_response(
            request, 422, exc.message, code=exc.code, fields=exc.fields,
            extra={"candidates": exc.candidates},
        )  # fmt: skip
    return {
        "lead_id": result.lead.pk,
        "status": result.lead.status,
        "account_id": result.account.pk,
        "contact_id": result.contact.pk if result.contact else None,
        "opportunity_id": result.opportunity.pk if result.opportunity else None,
    }


# --- assignment rules -----------------------------------------------------------------------


class AssignmentRuleIn(Strict):
    name: str
    order: int = 100
    active: bool = True
    method: str
    team_id: int
    user_id: int | None = None
    countries: list[str] = []
    postal_code_from: str = ""
    postal_code_to: str = ""
    industry_prefix: str = ""
    sources: list[str] = []


class AssignmentRulePatch(Strict):
    name: str | None = None
    order: int | None = None
    active: bool | None = None
    method: str | None = None
    team_id: int | None = None
    user_id: int | None = None
    countries: list[str] | None = None
    postal_code_from: str | None = None
    postal_code_to: str | None = None
    industry_prefix: str | None = None
    sources: list[str] | None = None


class AssignmentRuleOut(Schema):
    id: int
    name: str
    order: int
    active: bool
    method: str
    team_id: int
    user_id: int | None
    countries: list[str]
    postal_code_from: str
    postal_code_to: str
    industry_prefix: str
    sources: list[str]
    last_assigned_id: int | None


def rule_out(rule: AssignmentRule) -> dict[str, Any]:
    return {
        "id": rule.pk,
        "name": rule.name,
        "order": rule.order,
        "active": rule.active,
        "method": rule.method,
        "team_id": rule.team_id,
        "user_id": rule.user_id,
        "countries": services._listed(rule.countries),
        "postal_code_from": rule.postal_code_from,
        "postal_code_to": rule.postal_code_to,
        "industry_prefix": rule.industry_prefix,
        "sources": services._listed(rule.sources),
        "last_assigned_id": rule.last_assigned_id,
    }


RULES_DOC = (
    "Rules that give new leads without an owner an owner and a team: the first active rule (by "
    "`order`) whose territory matches (`countries`, `postal_code_from`/`_to` as prefixes, "
    "`industry_prefix`, `sources`; empty matches everything). `method` `round_robin` takes the "
    "active members of `team_id` in turn; `territory` gives the lead to `user_id`, else to the "
    "team lead. Administrators of sales (administer on opportunity) only."
)


def _require_rules(request: HttpRequest) -> None:
    if not permissions.can(request.user, "administer", "opportunity"):
        raise Forbidden(_("Only administrators of sales manage the lead-assignment rules."))


@router.get(
    "/lead-assignment-rules",
    response={200: list[AssignmentRuleOut], **ERRORS},
    tags=["lead assignment rules"],
    description=RULES_DOC,
)
def list_rules(request: HttpRequest):
    _require_rules(request)
    return [rule_out(r) for r in selectors.assignment_rules()]


@router.post(
    "/lead-assignment-rules",
    response={201: AssignmentRuleOut, **ERRORS},
    tags=["lead assignment rules"],
    description=RULES_DOC,
)
def create_rule(request: HttpRequest, payload: AssignmentRuleIn):
    rule = services.rule_create(actor=request.user, data=payload.model_dump())
    return Status(201, rule_out(rule))


def _rule(request: HttpRequest, rule_id: int) -> AssignmentRule:
    _require_rules(request)
    rule = selectors.assignment_rules().filter(pk=rule_id).first()
    if rule is None:
        raise NotFound()
    return rule


@router.get(
    "/lead-assignment-rules/{rule_id}",
    response={200: AssignmentRuleOut, **ERRORS},
    tags=["lead assignment rules"],
)
def get_rule(request: HttpRequest, rule_id: int):
    return rule_out(_rule(request, rule_id))


@router.patch(
    "/lead-assignment-rules/{rule_id}",
    response={200: AssignmentRuleOut, **ERRORS},
    tags=["lead assignment rules"],
)
def update_rule(request: HttpRequest, rule_id: int, payload: AssignmentRulePatch):
    rule = services.rule_update(
        actor=request.user, rule_id=rule_id, data=payload.model_dump(exclude_unset=True)
    )
    return rule_out(rule)


@router.delete(
    "/lead-assignment-rules/{rule_id}",
    response={204: None, **ERRORS},
    tags=["lead assignment rules"],
)
def delete_rule(request: HttpRequest, rule_id: int):
    services.rule_delete(actor=request.user, rule_id=rule_id)
    return Status(204, None)
