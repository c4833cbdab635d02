"""API of the data-protection administration: the register of processing and the retention
policies (administrators only)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import ConfigDict

from farley.contacts import retention
from farley.core import register
from farley.core.apiutil import ERRORS
from farley.core.errors import Forbidden
from farley.core.models import LegalBasis, RetentionPolicy
from farley.core.visibility import is_administrator

router = Router(tags=["data protection"])


class Strict(Schema):
    model_config = ConfigDict(extra="forbid")


# --- register of processing -------------------------------------------------------------------


class RegisterRowOut(Schema):
    key: str
    entity: str
    field: str
    label: str
    purpose: str
    legal_basis: str
    retention: str


class RegisterEntryIn(Strict):
    purpose: str = ""
    legal_basis: str = ""
    retention: str = ""


class RegisterIn(Strict):
    entries: dict[str, RegisterEntryIn]


class RegisterSaved(Schema):
    changed: int


@router.get(
    "/privacy/register",
    response={200: list[RegisterRowOut], **ERRORS},
    description="The register of processing (GDPR Art. 30): every entity and custom field "
    "with purpose, legal basis (" + ", ".join(LegalBasis.values) + ") and retention.",
)
def register_list(request: HttpRequest):
    if not is_administrator(request.user):
        raise Forbidden()
    return [
        {"key": row.key, "entity": row.entity, "field": row.field, "label": row.label,
         "purpose": row.record.purpose if row.record else "",
         "legal_basis": row.record.legal_basis if row.record else "",
         "retention": row.record.retention if row.record else ""}
        for row in register.rows()
    ]  # fmt: skip


@router.put(
    "/privacy/register",
    response={200: RegisterSaved, **ERRORS},
    description='Save rows of the register by key (`"contact"`, `"contact.vip"`).',
)
def register_save(request: HttpRequest, payload: RegisterIn):
    entries = {key: entry.model_dump() for key, entry in payload.entries.items()}
    return {"changed": register.save(actor=request.user, entries=entries)}


# --- retention policies -------------------------------------------------------------------------


class PolicyOut(Schema):
    id: int
    name: str
    inactive_months: int
    action: str
    automatic: bool
    criteria: dict[str, str]
    last_run_at: dt.datetime | None
    last_run_count: int


class PolicyIn(Strict):
    name: str
    inactive_months: int = 24
    action: str = RetentionPolicy.Action.FLAG
    automatic: bool = False
    criteria: dict[str, str] = {}


class PolicyPatch(Strict):
    name: str | None = None
    inactive_months: int | None = None
    action: str | None = None
    automatic: bool | None = None
    criteria: dict[str, str] | None = None


class AffectedContact(Schema):
    id: int
    name: str
    last_interaction_at: dt.datetime | None


class PreviewOut(Schema):
    count: int
    contacts: list[AffectedContact]


class RunOut(Schema):
    count: int


def policy_out(policy: RetentionPolicy) -> dict[str, Any]:
    fields = ("id", "name", "inactive_months", "action", "automatic", "criteria",
              "last_run_at", "last_run_count")  # fmt: skip
    return {f: getattr(policy, f) for f in fields}


POLICY_DOC = (
    "`action`: `flag` (tag the contacts “retention review”) or `anonymise` (erase their "
    "personal data); `criteria` narrows the contacts by `status`, `tag`, `country`, "
    "`postal_code` (prefix) and `city`."
)


@router.get("/privacy/retention-policies", response={200: list[PolicyOut], **ERRORS})
def policy_list(request: HttpRequest):
    return [policy_out(p) for p in retention.policies(actor=request.user)]


@router.post(
    "/privacy/retention-policies", response={201: PolicyOut, **ERRORS}, description=POLICY_DOC
)
def policy_create(request: HttpRequest, payload: PolicyIn):
    policy = retention.save_policy(actor=request.user, data=payload.model_dump())
    return Status(201, policy_out(policy))


@router.get("/privacy/retention-policies/{policy_id}", response={200: PolicyOut, **ERRORS})
def policy_detail(request: HttpRequest, policy_id: int):
    return policy_out(retention.get_policy(actor=request.user, policy_id=policy_id))


@router.patch(
    "/privacy/retention-policies/{policy_id}",
    response={200: PolicyOut, **ERRORS},
    description=POLICY_DOC,
)
def policy_update(request: HttpRequest, policy_id: int, payload: PolicyPatch):
    policy = retention.get_policy(actor=request.user, policy_id=policy_id)
    data = payload.model_dump(exclude_unset=True)
    return policy_out(retention.update_policy(actor=request.user, policy=policy, data=data))


@router.delete("/privacy/retention-policies/{policy_id}", response={204: None, **ERRORS})
def policy_delete(request: HttpRequest, policy_id: int):
    policy = retention.get_policy(actor=request.user, policy_id=policy_id)
    retention.delete_policy(actor=request.user, policy=policy)
    return Status(204, None)


@router.get(
    "/privacy/retention-policies/{policy_id}/preview",
    response={200: PreviewOut, **ERRORS},
    description="What a run would affect now: the number of contacts and the first 50.",
)
def policy_preview(request: HttpRequest, policy_id: int):
    policy = retention.get_policy(actor=request.user, policy_id=policy_id)
    count, contacts = retention.preview(policy)
    return {
        "count": count,
        "contacts": [
            {"id": c.pk, "name": c.full_name, "last_interaction_at": c.last_interaction_at}
            for c in contacts
        ],
    }


@router.post(
    "/privacy/retention-policies/{policy_id}/run",
    response={200: RunOut, **ERRORS},
    description="Apply the policy now; answers how many contacts it flagged or anonymised.",
)
def policy_run(request: HttpRequest, policy_id: int):
    policy = retention.get_policy(actor=request.user, policy_id=policy_id)
    return {"count": retention.run(actor=request.user, policy=policy)}
