"""API: pipelines with their stages, loss reasons, and opportunities (deals)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db.models import prefetch_related_objects
from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import ConfigDict

from farley.core import permissions, sensitive
from farley.core.apiutil import (
    ERRORS,
    ChangeOut,
    change_out,
    history_page,
    query_params,
    requested_version,
)
from farley.core.errors import NotFound
from farley.core.models import User
from farley.core.prefetch import release
from farley.sales.models import LossReason, Opportunity, Pipeline, Stage
from farley.sales.selectors import opportunities as selectors
from farley.sales.services import opportunities as services

router = Router()


class Strict(Schema):
    model_config = ConfigDict(extra="forbid")


# --- pipelines and stages --------------------------------------------------------------------


class StageIn(Strict):
    id: int | None = None
    name: str
    name_de: str = ""
    probability: int | None = None
    kind: str = "open"


class StageAdd(Strict):
    name: str
    name_de: str = ""
    probability: int | None = None
    kind: str = "open"
    position: int | None = None


class StagePatch(Strict):
    name: str | None = None
    name_de: str | None = None
    probability: int | None = None
    kind: str | None = None


class StageOut(Schema):
    id: int
    name: str
    name_de: str
    order: int
    probability: int
    kind: str


class PipelineIn(Strict):
    name: str
    order: int = 100
    is_default: bool = False
    active: bool = True
    stale_after_days: int = 30
    stages: list[StageIn]


class PipelinePatch(Strict):
    name: str | None = None
    order: int | None = None
    is_default: bool | None = None
    active: bool | None = None
    stale_after_days: int | None = None
    stages: list[StageIn] | None = None


class PipelineOut(Schema):
    id: int
    name: str
    order: int
    is_default: bool
    active: bool
    stale_after_days: int
    stages: list[StageOut]


class PipelineList(Schema):
    items: list[PipelineOut]


class ReorderIn(Strict):
    stage_ids: list[int]


def stage_out(stage: Stage) -> dict[str, Any]:
    return {
        "id": stage.pk,
        "name": stage.name,
        "name_de": stage.name_de,
        "order": stage.order,
        "probability": stage.probability,
        "kind": stage.kind,
    }


def pipeline_out(pipeline: Pipeline) -> dict[str, Any]:
    return {
        "id": pipeline.pk,
        "name": pipeline.name,
        "order": pipeline.order,
        "is_default": pipeline.is_default,
        "active": pipeline.active,
        "stale_after_days": pipeline.stale_after_days,
        "stages": [stage_out(s) for s in pipeline.stages.all()],
    }


def _pipeline(request: HttpRequest, pipeline_id: int) -> dict[str, Any]:
    return pipeline_out(selectors.pipeline_detail(pipeline_id))


def _may_read_configuration(user: User) -> None:
    """Pipelines and loss reasons are read by whoever may see deals (clients need the ids)."""
    permissions.require(user, "view", "opportunity")


PIPELINE_DOC = (
    "Pipelines with their ordered stages (kind open, won or lost; at least one open, exactly "
    "one won and at least one lost stage). Reading needs the permission to view deals; "
    "changes need `administer` on opportunity."
)


@router.get(
    "/pipelines", response={200: PipelineList, **ERRORS}, tags=["pipelines"],
    description=PIPELINE_DOC + " `active=true` lists the active ones only.",
)  # fmt: skip
def list_pipelines(request: HttpRequest, active: bool = False):
    _may_read_configuration(request.user)
    return {"items": [pipeline_out(p) for p in selectors.pipelines(active_only=active)]}


@router.post(
    "/pipelines", response={201: PipelineOut, **ERRORS}, tags=["pipelines"],
    description=PIPELINE_DOC,
)  # fmt: skip
def create_pipeline(request: HttpRequest, payload: PipelineIn):
    pipeline = services.pipeline_create(
        actor=request.user, data=payload.model_dump(exclude_unset=True)
    )
    return Status(201, _pipeline(request, pipeline.pk))


@router.get("/pipelines/{pipeline_id}", response={200: PipelineOut, **ERRORS}, tags=["pipelines"])
def get_pipeline(request: HttpRequest, pipeline_id: int):
    _may_read_configuration(request.user)
    return _pipeline(request, pipeline_id)


@router.patch(
    "/pipelines/{pipeline_id}", response={200: PipelineOut, **ERRORS}, tags=["pipelines"],
    description="`stages`, if given, is the complete new list: stored stages by `id` (changed "
    "in place), new ones without; stages left out are removed, which only works for stages "
    "that no deal is or was in.",
)  # fmt: skip
def update_pipeline(request: HttpRequest, pipeline_id: int, payload: PipelinePatch):
    data = payload.model_dump(exclude_unset=True)
    if data.get("stages") is not None:
        data["stages"] = [
            {k: v for k, v in s.items() if not (k == "id" and v is None)} for s in data["stages"]
        ]
    services.pipeline_update(actor=request.user, pipeline_id=pipeline_id, data=data)
    return _pipeline(request, pipeline_id)


@router.delete(
    "/pipelines/{pipeline_id}", response={204: None, **ERRORS}, tags=["pipelines"],
    description="Only a pipeline that no deal uses (nor used) and that is not the default.",
)  # fmt: skip
def delete_pipeline(request: HttpRequest, pipeline_id: int):
    services.pipeline_delete(actor=request.user, pipeline_id=pipeline_id)
    return Status(204, None)


@router.post(
    "/pipelines/{pipeline_id}/stages", response={201: StageOut, **ERRORS}, tags=["pipelines"],
    description="Add a stage; `position` 1 is the first (default: after the open stages for "
    "an open stage, else at the end).",
)  # fmt: skip
def add_stage(request: HttpRequest, pipeline_id: int, payload: StageAdd):
    stage = services.stage_add(
        actor=request.user, pipeline_id=pipeline_id, data=payload.model_dump(exclude_unset=True)
    )
    return Status(201, stage_out(stage))


@router.post(
    "/pipelines/{pipeline_id}/stages/reorder", response={200: PipelineOut, **ERRORS},
    tags=["pipelines"], description="`stage_ids`: every stage of the pipeline, in the new order.",
)  # fmt: skip
def reorder_stages(request: HttpRequest, pipeline_id: int, payload: ReorderIn):
    services.stages_reorder(
        actor=request.user, pipeline_id=pipeline_id, stage_ids=payload.stage_ids
    )
    return _pipeline(request, pipeline_id)


@router.patch(
    "/pipelines/{pipeline_id}/stages/{stage_id}", response={200: StageOut, **ERRORS},
    tags=["pipelines"],
    description="A new default probability also applies to the deals in the stage that follow it.",
)  # fmt: skip
def update_stage(request: HttpRequest, pipeline_id: int, stage_id: int, payload: StagePatch):
    stage = services.stage_update(
        actor=request.user, pipeline_id=pipeline_id, stage_id=stage_id,
        data=payload.model_dump(exclude_unset=True),
    )  # fmt: skip
    return stage_out(stage)


@router.delete(
    "/pipelines/{pipeline_id}/stages/{stage_id}", response={204: None, **ERRORS},
    tags=["pipelines"], description="Only a stage that no deal is or was in.",
)  # fmt: skip
def delete_stage(request: HttpRequest, pipeline_id: int, stage_id: int):
    services.stage_delete(actor=request.user, pipeline_id=pipeline_id, stage_id=stage_id)
    return Status(204, None)


class BoardCardOut(Schema):
    id: int
    version: int
    name: str
    account_id: int
    account_name: str
    amount: str
    currency: str
    probability: int
    expected_close_date: dt.date | None
    owner_id: int
    stale: list[str]


class BoardSumOut(Schema):
    currency: str
    amount: str


class BoardColumnOut(Schema):
    stage: StageOut
    count: int
    sums: list[BoardSumOut]
    cards: list[BoardCardOut]
    next_cursor: str | None


class BoardOut(Schema):
    pipeline_id: int
    columns: list[BoardColumnOut]


def _card_out(card: Opportunity) -> dict[str, Any]:
    return {
        "id": card.pk,
        "version": card.version,
        "name": card.name,
        "account_id": card.account_id,
        "account_name": card.account.name,
        "amount": str(card.amount),
        "currency": card.currency,
        "probability": card.probability,
        "expected_close_date": card.expected_close_date,
        "owner_id": card.owner_id,
        "stale": [str(r) for r in getattr(card, "stale", [])],
    }


def _column_out(column: selectors.Column) -> dict[str, Any]:
    return {
        "stage": stage_out(column.stage),
        "count": column.count,
        "sums": [{"currency": c, "amount": str(a)} for c, a in column.sums],
        "cards": [_card_out(card) for card in column.cards],
        "next_cursor": column.next_cursor,
    }


@router.get(
    "/pipelines/{pipeline_id}/board", response={200: BoardOut, **ERRORS}, tags=["pipelines"],
    description="The kanban board: per stage the count and sum (per currency) of the visible "
    "deals that match the filters owner, team, close_from, close_to (YYYY-MM-DD), amount_min, "
    "amount_max, q, and the first 50 cards by board rank. `stage` and `cursor` (a column's "
    "`next_cursor`) page through one column.",
)  # fmt: skip
def pipeline_board(request: HttpRequest, pipeline_id: int, stage: int | None = None,
                   cursor: str | None = None):  # fmt: skip
    permissions.require(request.user, "view", "opportunity")
    pipeline = selectors.pipeline_detail(pipeline_id)
    params = query_params(request)
    if stage is not None:
        chosen = next((s for s in pipeline.stages.all() if s.pk == stage), None)
        if chosen is None:
            raise NotFound()
        column = selectors.board_column(request.user, pipeline, chosen, params, cursor)
        return {"pipeline_id": pipeline.pk, "columns": [_column_out(column)]}
    board = selectors.board(request.user, pipeline, params)
    return {"pipeline_id": pipeline.pk, "columns": [_column_out(c) for c in board.columns]}


# --- loss reasons ----------------------------------------------------------------------------


class LossReasonIn(Strict):
    name: str
    name_de: str = ""
    order: int = 100
    active: bool = True


class LossReasonPatch(Strict):
    name: str | None = None
    name_de: str | None = None
    order: int | None = None
    active: bool | None = None


class LossReasonOut(Schema):
    id: int
    name: str
    name_de: str
    order: int
    active: bool


class LossReasonList(Schema):
    items: list[LossReasonOut]


def _reason_out(reason: LossReason) -> dict[str, Any]:
    return {
        "id": reason.pk,
        "name": reason.name,
        "name_de": reason.name_de,
        "order": reason.order,
        "active": reason.active,
    }


@router.get(
    "/loss-reasons", response={200: LossReasonList, **ERRORS}, tags=["loss reasons"],
    description="The reasons a deal can be lost for; `active=true` lists the usable ones only.",
)  # fmt: skip
def list_loss_reasons(request: HttpRequest, active: bool = False):
    _may_read_configuration(request.user)
    return {"items": [_reason_out(r) for r in selectors.loss_reasons(active_only=active)]}


@router.post(
    "/loss-reasons", response={201: LossReasonOut, **ERRORS}, tags=["loss reasons"],
    description="Needs `administer` on opportunity.",
)  # fmt: skip
def create_loss_reason(request: HttpRequest, payload: LossReasonIn):
    reason = services.loss_reason_create(
        actor=request.user, data=payload.model_dump(exclude_unset=True)
    )
    return Status(201, _reason_out(reason))


@router.get(
    "/loss-reasons/{reason_id}", response={200: LossReasonOut, **ERRORS}, tags=["loss reasons"]
)
def get_loss_reason(request: HttpRequest, reason_id: int):
    _may_read_configuration(request.user)
    reason = LossReason.objects.filter(pk=reason_id).first()
    if reason is None:
        raise NotFound()
    return _reason_out(reason)


@router.patch(
    "/loss-reasons/{reason_id}", response={200: LossReasonOut, **ERRORS}, tags=["loss reasons"],
    description="Rename, reorder or deactivate (`active: false`); reasons are not deleted.",
)  # fmt: skip
def update_loss_reason(request: HttpRequest, reason_id: int, payload: LossReasonPatch):
    reason = services.loss_reason_update(
        actor=request.user, reason_id=reason_id, data=payload.model_dump(exclude_unset=True)
    )
    return _reason_out(reason)


# --- opportunities ---------------------------------------------------------------------------


class ContactRoleIn(Strict):
    contact_id: int
    role: str = "other"


class ContactRoleOut(Schema):
    contact_id: int
    contact_name: str
    role: str


class LineIn(Strict):
    product_id: int | None = None
    sku: str = ""
    description: str = ""
    quantity: Decimal | str = "1"
    unit: str = ""
    unit_price: Decimal | str | None = None
    discount_percent: Decimal | str = "0"
    discount_amount: Decimal | str = "0"
    tax_rate: str = ""


class LineOut(Schema):
    position: int
    product_id: int | None
    sku: str
    description: str
    quantity: str
    unit: str
    unit_price: str
    discount_percent: str
    discount_amount: str
    tax_rate: str
    net_amount: str


class OpportunityIn(Strict):
    name: str
    account_id: int
    pipeline_id: int | None = None
    stage_id: int | None = None
    amount: Decimal | str | None = None
    currency: str = "EUR"
    expected_close_date: str | None = None
    probability: int | None = None
    next_step: str = ""
    competitor: str = ""
    loss_reason_id: int | None = None
    loss_note: str = ""
    description: str = ""
    owner_id: int | None = None
    team_id: int | None = None
    custom: dict[str, Any] = {}
    contacts: list[ContactRoleIn] = []
    lines: list[LineIn] = []


class OpportunityPatch(Strict):
    name: str | None = None
    account_id: int | None = None
    pipeline_id: int | None = None
    stage_id: int | None = None
    amount: Decimal | str | None = None
    currency: str | None = None
    expected_close_date: str | None = None
    probability: int | None = None
    next_step: str | None = None
    competitor: str | None = None
    loss_reason_id: int | None = None
    loss_note: str | None = None
    description: str | None = None
    owner_id: int | None = None
    team_id: int | None = None
    custom: dict[str, Any] | None = None
    contacts: list[ContactRoleIn] | None = None
    lines: list[LineIn] | None = None
    version: int | None = None


class MoveIn(Strict):
    stage_id: int
    version: int | None = None
    loss_reason_id: int | None = None
    loss_note: str | None = None
    competitor: str | None = None


class OpportunityOut(Schema):
    id: int
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
    deleted_at: dt.datetime | None
    owner_id: int
    team_id: int | None
    name: str
    account_id: int
    account_name: str
    pipeline_id: int
    stage_id: int
    stage_name: str
    status: str
    amount: str
    currency: str
    expected_close_date: dt.date | None
    probability: int
    probability_overridden: bool
    next_step: str
    competitor: str
    loss_reason_id: int | None
    loss_note: str
    description: str
    stage_changed_at: dt.datetime
    closed_at: dt.datetime | None
    last_activity_at: dt.datetime | None
    stale: list[str]
    custom: dict[str, Any]
    contacts: list[ContactRoleOut]
    lines: list[LineOut]


class OpportunityList(Schema):
    items: list[OpportunityOut]
    next_cursor: str | None
    limit: int


class StageChangeOut(Schema):
    id: int
    from_stage_id: int | None
    from_stage: str | None
    to_stage_id: int
    to_stage: str
    changed_at: dt.datetime
    changed_by_id: int | None
    changed_by: str | None
    amount: str


def _line_out(line: Any) -> dict[str, Any]:
    return {
        "position": line.position,
        "product_id": line.product_id,
        "sku": line.sku,
        "description": line.description,
        "quantity": str(line.quantity),
        "unit": line.unit,
        "unit_price": str(line.unit_price),
        "discount_percent": str(line.discount_percent),
        "discount_amount": str(line.discount_amount),
        "tax_rate": line.tax_rate,
        "net_amount": str(line.net_amount),
    }


def opportunity_out(opportunity: Opportunity, user: User) -> dict[str, Any]:
    return {
        "id": opportunity.pk,
        "version": opportunity.version,
        "created_at": opportunity.created_at,
        "updated_at": opportunity.updated_at,
        "deleted_at": opportunity.deleted_at,
        "owner_id": opportunity.owner_id,
        "team_id": opportunity.team_id,
        "name": opportunity.name,
        "account_id": opportunity.account_id,
        "account_name": opportunity.account.name,
        "pipeline_id": opportunity.pipeline_id,
        "stage_id": opportunity.stage_id,
        "stage_name": opportunity.stage.name,
        "status": opportunity.stage.kind,
        "amount": str(opportunity.amount),
        "currency": opportunity.currency,
        "expected_close_date": opportunity.expected_close_date,
        "probability": opportunity.probability,
        "probability_overridden": opportunity.probability_override is not None,
        "next_step": opportunity.next_step,
        "competitor": opportunity.competitor,
        "loss_reason_id": opportunity.loss_reason_id,
        "loss_note": opportunity.loss_note,
        "description": opportunity.description,
        "stage_changed_at": opportunity.stage_changed_at,
        "closed_at": opportunity.closed_at,
        "last_activity_at": opportunity.last_activity_at,
        "stale": [str(r) for r in getattr(opportunity, "stale", [])],
        "custom": sensitive.visible_custom(user, "opportunity", opportunity.custom),
        "contacts": [
            {"contact_id": r.contact_id, "contact_name": r.contact.full_name, "role": r.role}
            for r in opportunity.contact_roles.all()
        ],
        "lines": [_line_out(line) for line in opportunity.lines.all()],
    }


def _payload(payload: Schema) -> dict[str, Any]:
    data = payload.model_dump(exclude_unset=True)
    for key in ("amount",):
        if isinstance(data.get(key), Decimal):
            data[key] = str(data[key])
    for line in data.get("lines") or []:
        for key, value in list(line.items()):
            if isinstance(value, Decimal):
                line[key] = str(value)
    return data


def _detail(request: HttpRequest, opportunity_id: int) -> dict[str, Any]:
    return opportunity_out(selectors.opportunity_detail(request.user, opportunity_id), request.user)


LIST_DOC = (
    "Filters: q (name or account), pipeline, stage, owner, team, account, contact (ids), "
    "close_from, close_to (YYYY-MM-DD, expected close date), amount_min, amount_max, "
    "status (open, won, lost), stale (true/false: no activity for the pipeline's days, or the "
    "close date passed). Sort: sort=close_date|name|amount|probability|created|updated|"
    "last_activity (prefix - for descending). Pagination: limit (1-200), cursor."
)


@router.get(
    "/opportunities", response={200: OpportunityList, **ERRORS}, tags=["opportunities"],
    description=LIST_DOC,
)  # fmt: skip
def list_opportunities(request: HttpRequest):
    permissions.require(request.user, "view", "opportunity")
    page = selectors.list_page(request.user, query_params(request), strict=True)
    prefetch_related_objects(page.items, selectors.visible_contact_roles(request.user), "lines")
    selectors.mark_stale(page.items)
    items = [opportunity_out(o, request.user) for o in page.items]
    release(page.items)
    return {"items": items, "next_cursor": page.next_cursor, "limit": page.limit}


@router.post(
    "/opportunities", response={201: OpportunityOut, **ERRORS}, tags=["opportunities"],
    description="Without `pipeline_id` the default pipeline, without `stage_id` its first open "
    "stage. `probability` overrides the stage's (null: follow the stage). With `lines`, "
    "`amount` is their net total.",
)  # fmt: skip
def create_opportunity(request: HttpRequest, payload: OpportunityIn):
    opportunity = services.opportunity_create(actor=request.user, data=_payload(payload))
    return Status(201, _detail(request, opportunity.pk))


@router.get(
    "/opportunities/{opportunity_id}", response={200: OpportunityOut, **ERRORS},
    tags=["opportunities"],
)  # fmt: skip
def get_opportunity(request: HttpRequest, opportunity_id: int):
    return _detail(request, opportunity_id)


@router.patch(
    "/opportunities/{opportunity_id}", response={200: OpportunityOut, **ERRORS},
    tags=["opportunities"],
    description="`version` (or If-Match) must be the one read, else 409 and nothing changes. "
    "A `stage_id` follows the rules of a move (a lost stage needs `loss_reason_id`).",
)  # fmt: skip
def update_opportunity(request: HttpRequest, opportunity_id: int, payload: OpportunityPatch):
    data = _payload(payload)
    version = requested_version(request, data.pop("version", None))
    services.opportunity_update(
        actor=request.user, opportunity_id=opportunity_id, data=data, version=version
    )
    return _detail(request, opportunity_id)


@router.post(
    "/opportunities/{opportunity_id}/move", response={200: OpportunityOut, **ERRORS},
    tags=["opportunities"],
    description="Move the deal to `stage_id` (a stage of its pipeline, else 422). A lost stage "
    "needs `loss_reason_id` (`loss_note` and `competitor` optional). A stale `version` "
    "answers 409 and nothing changes.",
)  # fmt: skip
def move_opportunity(request: HttpRequest, opportunity_id: int, payload: MoveIn):
    data = payload.model_dump(exclude_unset=True)
    version = requested_version(request, data.pop("version", None))
    services.opportunity_move(
        actor=request.user, opportunity_id=opportunity_id, data=data, version=version
    )
    return _detail(request, opportunity_id)


@router.delete(
    "/opportunities/{opportunity_id}", response={204: None, **ERRORS}, tags=["opportunities"]
)
def delete_opportunity(request: HttpRequest, opportunity_id: int):
    services.opportunity_delete(actor=request.user, opportunity_id=opportunity_id)
    return Status(204, None)


@router.post(
    "/opportunities/{opportunity_id}/restore", response={200: OpportunityOut, **ERRORS},
    tags=["opportunities"],
)  # fmt: skip
def restore_opportunity(request: HttpRequest, opportunity_id: int):
    services.opportunity_restore(actor=request.user, opportunity_id=opportunity_id)
    return _detail(request, opportunity_id)


@router.get(
    "/opportunities/{opportunity_id}/history", response={200: list[ChangeOut], **ERRORS},
    tags=["opportunities"],
)  # fmt: skip
def opportunity_history(
    request: HttpRequest, opportunity_id: int, limit: int = 100, before: int | None = None
):
    selectors.opportunity_detail(request.user, opportunity_id, include_deleted=True)
    return [
        {**change_out(c), "changes": sensitive.mask_changes(request.user, "opportunity", c.changes)}
        for c in history_page("opportunity", opportunity_id, limit, before)
    ]


@router.get(
    "/opportunities/{opportunity_id}/stage-changes", response={200: list[StageChangeOut], **ERRORS},
    tags=["opportunities"], description="Every move between stages, newest first.",
)  # fmt: skip
def opportunity_stage_changes(request: HttpRequest, opportunity_id: int):
    opportunity = selectors.opportunity_detail(request.user, opportunity_id, include_deleted=True)
    return [
        {
            "id": change.pk,
            "from_stage_id": change.from_stage_id,
            "from_stage": change.from_stage.name if change.from_stage else None,
            "to_stage_id": change.to_stage_id,
            "to_stage": change.to_stage.name,
            "changed_at": change.changed_at,
            "changed_by_id": change.changed_by_id,
            "changed_by": str(change.changed_by) if change.changed_by else None,
            "amount": str(change.amount),
        }
        for change in selectors.stage_changes(opportunity)
    ]
