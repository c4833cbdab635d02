"""Every write to pipelines, stages, loss reasons and opportunities (deals).

Configuration (pipelines with their stages, loss reasons) is for users who may *administer*
the entity "opportunity". Deals are customer records (owner, team, version, soft delete).

The rules of a deal's stage live in :func:`_apply_stage`, which creating, editing and moving a
deal all go through: the stage must belong to the deal's pipeline, a lost stage needs an active
loss reason, won and lost stages set ``closed_at`` (an open stage clears it), the stored
probability is the stage's unless the owner overrode it (closed stages always use the
stage's), and every change of stage is a :class:`~farley.sales.models.StageChange` row (time,
user, amount) besides the field history.

Amount and line items: a deal without line items has the amount its owner enters; a deal with
line items has their net total (:func:`farley.sales.money.totals`), and an ``amount`` that
differs from it is refused.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from babel.numbers import list_currencies
from django.db import transaction
from django.db.models import Min, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from farley.contacts import selectors as contact_selectors
from farley.contacts.services import (
    _clean_list,
    _clean_owner_and_team,
    _reject_unknown,
)
from farley.core import history, permissions, search, sensitive, sharing, softdelete
from farley.core.customfields import clean_custom_values
from farley.core.errors import Forbidden, NotFound, ValidationFailed
from farley.core.models import ChangeAction, User
from farley.core.validation import Cleaner, check_version
from farley.sales import money
from farley.sales.models import (
    MONEY,
    ContactRole,
    LossReason,
    Opportunity,
    OpportunityContact,
    OpportunityLine,
    Pipeline,
    Product,
    ProductUnit,
    Stage,
    StageChange,
    StageKind,
    TaxRate,
)
from farley.sales.selectors import opportunities as selectors

ENTITY = "opportunity"
MAX_STAGES = 30
MAX_LINES = 200
CURRENCIES = frozenset(list_currencies())

# Labels of the history snapshot's keys that are no model fields of the same name.
history.SNAPSHOT_LABELS.setdefault("deal_contacts", gettext_lazy("contacts with roles"))
history.SNAPSHOT_LABELS.setdefault("line_items", gettext_lazy("line items"))
history.SNAPSHOT_LABELS.setdefault("stage_list", gettext_lazy("stages"))


# --- configuration: pipelines, stages, loss reasons ------------------------------------------


def may_configure(actor: User) -> bool:
    """Whether ``actor`` may change pipelines, stages and loss reasons (not through an API
    token that is limited to scopes: those cover records only)."""
    return getattr(actor, "_farley_scopes", None) is None and permissions.can(
        actor, "administer", ENTITY
    )


def _require_configure(actor: User) -> None:
    if not may_configure(actor):
        raise Forbidden(_("Only users who administer deals may change pipelines and loss reasons."))


PIPELINE_FIELDS = ["name", "order", "is_default", "active", "stale_after_days", "stages"]
STAGE_FIELDS = ["id", "name", "name_de", "probability", "kind"]
DEFAULT_PROBABILITY = {StageKind.OPEN: 10, StageKind.WON: 100, StageKind.LOST: 0}


def _clean_stage(
    c: Cleaner, prefix: str, item: dict[str, Any], existing: dict[int, Stage], current: Stage | None
) -> dict[str, Any]:
    """One stage of a pipeline's list; ``current`` is the stored stage it changes, if any."""
    nested = Cleaner(prefix=prefix)
    _reject_unknown(item, STAGE_FIELDS, nested)
    c.merge(nested)
    values: dict[str, Any] = {}
    if "id" in item and item["id"] not in (None, ""):
        pk = c.integer(prefix + "id", item["id"], minimum=1, maximum=2**63 - 1)
        current = existing.get(pk) if pk else None
        if pk and current is None:
            c.add(prefix + "id", _("This stage does not belong to this pipeline."))
    values["stage"] = current

    def has(key: str) -> bool:
        return current is None or key in item

    values["name"] = (
        c.text(prefix + "name", item.get("name"), max_length=120, required=True)
        if has("name")
        else current.name
    )
    values["name_de"] = (
        c.text(prefix + "name_de", item.get("name_de"), max_length=120)
        if has("name_de")
        else current.name_de
    )
    values["kind"] = (
        c.choice(prefix + "kind", item.get("kind") or StageKind.OPEN, StageKind.choices)
        if has("kind")
        else current.kind
    )
    if has("probability") and item.get("probability") not in (None, ""):
        values["probability"] = c.integer(
            prefix + "probability", item.get("probability"), minimum=0, maximum=100
        )
    elif current is not None:
        values["probability"] = current.probability
    else:
        values["probability"] = DEFAULT_PROBABILITY.get(values["kind"], 10)
    return values


def _check_stage_rules(c: Cleaner, stages: list[dict[str, Any]]) -> None:
    """At least one open stage, exactly one won stage and at least one lost stage; unique names."""
    if not stages:
        c.add("stages", _("A pipeline needs stages."))
        return
    if len(stages) > MAX_STAGES:
        c.add("stages", _("At most %(max)d stages are allowed.") % {"max": MAX_STAGES})
    kinds = [s["kind"] for s in stages]
    if kinds.count(StageKind.OPEN) < 1:
        c.add("stages", _("A pipeline needs at least one open stage."))
    if kinds.count(StageKind.WON) != 1:
        c.add("stages", _("A pipeline needs exactly one won stage."))
    if kinds.count(StageKind.LOST) < 1:
        c.add("stages", _("A pipeline needs at least one lost stage."))
    seen: set[str] = set()
    for i, stage in enumerate(stages):
        name = (stage.get("name") or "").casefold()
        if name and name in seen:
            c.add(f"stages.{i}.name", _("Two stages of a pipeline cannot have the same name."))
        seen.add(name)
    ids = [s["stage"].pk for s in stages if s.get("stage") is not None]
    if len(ids) != len(set(ids)):
        c.add("stages", _("A stage is listed twice."))


def _clean_stage_list(
    c: Cleaner, value: Any, pipeline: Pipeline | None
) -> list[dict[str, Any]] | None:
    existing = {s.pk: s for s in pipeline.stages.all()} if pipeline else {}
    items = value if isinstance(value, list) else None
    if items is None or any(not isinstance(i, dict) for i in items):
        c.add("stages", _("Enter a list of stages."))
        return None
    stages = [_clean_stage(c, f"stages.{i}.", item, existing, None) for i, item in enumerate(items)]
    _check_stage_rules(c, stages)
    return stages


def _stage_in_use(stage: Stage) -> bool:
    return (
        Opportunity.objects.filter(stage=stage).exists()
        or StageChange.objects.filter(Q(from_stage=stage) | Q(to_stage=stage)).exists()
    )


def _sync_stages(c: Cleaner, pipeline: Pipeline, stages: list[dict[str, Any]]) -> None:
    """Make ``pipeline``'s stages the list ``stages`` (in this order): change the listed stored
    ones, create the new ones, delete the stored ones left out (only if no deal and no stage
    history uses them). Raises ValidationFailed before writing anything."""
    existing = {s.pk: s for s in pipeline.stages.all()}
    kept = {s["stage"].pk for s in stages if s.get("stage") is not None}
    removed = [s for pk, s in existing.items() if pk not in kept]
    for stage in removed:
        if _stage_in_use(stage):
            c.add(
                "stages",
                _(
                    "The stage “%(name)s” is used by deals or their stage history; it cannot be removed."
                )
                % {"name": stage.name},
            )
    for i, item in enumerate(stages):
        stage = item.get("stage")
        if (
            stage is not None
            and stage.kind != item["kind"]
            and Opportunity.objects.filter(stage=stage).exists()
        ):
            c.add(
                f"stages.{i}.kind",
                _("Deals are in this stage; move them to another stage before changing its kind."),
            )
    c.raise_if_invalid()
    for stage in removed:
        stage.delete()
    # Temporary names first: swapping two names must not trip the unique constraint.
    for item in stages:
        if item.get("stage") is not None:
            Stage.objects.filter(pk=item["stage"].pk).update(name=f"\u2060{item['stage'].pk}")
    changed_probability = []
    for position, item in enumerate(stages, start=1):
        stage = item.get("stage") or Stage(pipeline=pipeline)
        if stage.pk and stage.probability != item["probability"]:
            changed_probability.append(stage.pk)
        stage.name = item["name"]
        stage.name_de = item["name_de"]
        stage.kind = item["kind"]
        stage.probability = item["probability"]
        stage.order = position * 10
        stage.save()
    for stage in Stage.objects.filter(pk__in=changed_probability):
        # The probability of a deal follows its stage unless its owner overrode it.
        follows = Q(probability_override__isnull=True) | ~Q(stage__kind=StageKind.OPEN)
        Opportunity.objects.filter(follows, stage=stage).update(probability=stage.probability)


def _pipeline_snapshot(pipeline: Pipeline) -> dict[str, Any]:
    return {
        "name": pipeline.name,
        "order": pipeline.order,
        "is_default": pipeline.is_default,
        "active": pipeline.active,
        "stale_after_days": pipeline.stale_after_days,
        "stage_list": [
            f"{s.name} ({s.get_kind_display()}, {s.probability} %)" for s in pipeline.stages.all()
        ],
    }


def _clean_pipeline(
    c: Cleaner, data: dict[str, Any], pipeline: Pipeline | None
) -> tuple[dict[str, Any], list[dict[str, Any]] | None]:
    if not isinstance(data, dict):
        raise ValidationFailed({"": [_("Expected an object.")]})
    _reject_unknown(data, PIPELINE_FIELDS, c)
    creating = pipeline is None
    values: dict[str, Any] = {}

    def has(key: str) -> bool:
        return creating or key in data

    if has("name"):
        name = c.text("name", data.get("name"), max_length=120, required=True)
        clash = Pipeline.objects.filter(name__iexact=name)
        if pipeline is not None:
            clash = clash.exclude(pk=pipeline.pk)
        if name and clash.exists():
            c.add("name", _("A pipeline with this name exists already."))
        values["name"] = name
    if has("order"):
        values["order"] = c.integer("order", data.get("order") or 100, minimum=0, maximum=100_000)
    if has("stale_after_days"):
        values["stale_after_days"] = c.integer(
            "stale_after_days", data.get("stale_after_days") or 30, minimum=1, maximum=3650
        )
    if has("active"):
        values["active"] = c.boolean(
            "active", True if data.get("active") is None else data["active"]
        )
    if has("is_default"):
        values["is_default"] = c.boolean("is_default", data.get("is_default"))
    stages = None
    if creating or "stages" in data:
        stages = _clean_stage_list(c, data.get("stages"), pipeline)
    is_default = values.get("is_default", pipeline.is_default if pipeline else False)
    active = values.get("active", pipeline.active if pipeline else True)
    if is_default and not active:
        c.add(
            "active", _("The default pipeline must be active; make another one the default first.")
        )
    if pipeline is not None and pipeline.is_default and not is_default:
        c.add(
            "is_default",
            _("There must be a default pipeline: make another one the default instead."),
        )
    if (
        pipeline is None
        and not is_default
        and not Pipeline.objects.filter(is_default=True).exists()
    ):
        values["is_default"] = True  # the first pipeline is the default
    return values, stages


def _record_config(actor: User, entity: str, pk: int, action: str, before=None, after=None) -> None:
    history.record_change(
        entity=entity, object_id=pk, action=action, actor=actor, before=before, after=after
    )


def pipeline_create(*, actor: User, data: dict[str, Any]) -> Pipeline:
    """A pipeline with its stages (``stages``: a list of name, name_de, probability, kind)."""
    _require_configure(actor)
    c = Cleaner()
    values, stages = _clean_pipeline(c, data, None)
    c.raise_if_invalid()
    with transaction.atomic():
        if values.get("is_default"):
            Pipeline.objects.filter(is_default=True).update(is_default=False)
        pipeline = Pipeline.objects.create(**values)
        _sync_stages(c, pipeline, stages or [])
        _record_config(
            actor, "pipeline", pipeline.pk, ChangeAction.CREATE, after=_pipeline_snapshot(pipeline)
        )
    return pipeline


def _locked_pipeline(pipeline_id: int) -> Pipeline:
    pipeline = Pipeline.objects.select_for_update().filter(pk=pipeline_id).first()
    if pipeline is None:
        raise NotFound()
    return pipeline


def pipeline_update(*, actor: User, pipeline_id: int, data: dict[str, Any]) -> Pipeline:
    """Change a pipeline; ``stages``, if given, is its complete new list of stages (stored ones
    by ``id``; stored ones left out are removed if no deal uses them)."""
    _require_configure(actor)
    with transaction.atomic():
        pipeline = _locked_pipeline(pipeline_id)
        c = Cleaner()
        values, stages = _clean_pipeline(c, data, pipeline)
        c.raise_if_invalid()
        before = _pipeline_snapshot(pipeline)
        if values.get("is_default") and not pipeline.is_default:
            Pipeline.objects.filter(is_default=True).update(is_default=False)
        for key, value in values.items():
            setattr(pipeline, key, value)
        pipeline.save()
        if stages is not None:
            _sync_stages(c, pipeline, stages)
        _record_config(
            actor, "pipeline", pipeline.pk, ChangeAction.UPDATE,
            before=before, after=_pipeline_snapshot(pipeline),
        )  # fmt: skip
    return pipeline


def pipeline_delete(*, actor: User, pipeline_id: int) -> None:
    """Delete a pipeline that no deal uses (nor used: its stage history keeps it)."""
    _require_configure(actor)
    with transaction.atomic():
        pipeline = _locked_pipeline(pipeline_id)
        if Opportunity.objects.filter(pipeline=pipeline).exists():
            raise ValidationFailed(
                {"pipeline": [_("Deals use this pipeline; it can be deactivated, not deleted.")]}
            )
        if StageChange.objects.filter(
            Q(from_stage__pipeline=pipeline) | Q(to_stage__pipeline=pipeline)
        ).exists():
            raise ValidationFailed(
                {"pipeline": [_("The stage history of deals uses this pipeline; it can be deactivated, not deleted.")]}
            )  # fmt: skip
        if pipeline.is_default:
            raise ValidationFailed(
                {"pipeline": [_("Make another pipeline the default before deleting this one.")]}
            )
        _record_config(actor, "pipeline", pipeline.pk, ChangeAction.DELETE)
        pipeline.delete()


def _current_stage_items(pipeline: Pipeline) -> list[dict[str, Any]]:
    return [
        {
            "stage": s,
            "name": s.name,
            "name_de": s.name_de,
            "kind": s.kind,
            "probability": s.probability,
        }
        for s in pipeline.stages.all()
    ]


def _change_stages(
    actor: User,
    pipeline: Pipeline,
    c: Cleaner,
    items: list[dict[str, Any]],
    index: int | None = None,
) -> None:
    """Save ``items`` as the pipeline's stages; errors about the stage at ``index`` (the one a
    single-stage change is about) are reported at its own fields."""
    try:
        _check_stage_rules(c, items)
        c.raise_if_invalid()
        before = _pipeline_snapshot(pipeline)
        _sync_stages(c, pipeline, items)
    except ValidationFailed as exc:
        if index is None:
            raise
        prefix = f"stages.{index}."
        raise ValidationFailed(
            {key.removeprefix(prefix): messages for key, messages in exc.fields.items()}
        ) from None
    _record_config(
        actor, "pipeline", pipeline.pk, ChangeAction.UPDATE,
        before=before, after=_pipeline_snapshot(pipeline),
    )  # fmt: skip


def stage_add(*, actor: User, pipeline_id: int, data: dict[str, Any]) -> Stage:
    """Add a stage to a pipeline, at ``position`` (1 = first; default: before the closed
    stages)."""
    _require_configure(actor)
    with transaction.atomic():
        pipeline = _locked_pipeline(pipeline_id)
        c = Cleaner()
        if not isinstance(data, dict):
            raise ValidationFailed({"": [_("Expected an object.")]})
        position = data.get("position")
        data = {k: v for k, v in data.items() if k not in ("position", "id")}
        items = _current_stage_items(pipeline)
        new = _clean_stage(c, "", data, {}, None)
        if position in (None, ""):
            open_count = sum(1 for i in items if i["kind"] == StageKind.OPEN)
            index = open_count if new["kind"] == StageKind.OPEN else len(items)
        else:
            index = (c.integer("position", position, minimum=1, maximum=MAX_STAGES + 1) or 1) - 1
        index = min(index, len(items))
        items.insert(index, new)
        c.raise_if_invalid()
        _change_stages(actor, pipeline, c, items, index)
    return Stage.objects.filter(pipeline=pipeline, name=new["name"]).get()


def stage_update(*, actor: User, pipeline_id: int, stage_id: int, data: dict[str, Any]) -> Stage:
    """Rename a stage, change its German name, default probability or kind."""
    _require_configure(actor)
    with transaction.atomic():
        pipeline = _locked_pipeline(pipeline_id)
        items = _current_stage_items(pipeline)
        index = next((i for i, item in enumerate(items) if item["stage"].pk == stage_id), None)
        if index is None:
            raise NotFound()
        if not isinstance(data, dict):
            raise ValidationFailed({"": [_("Expected an object.")]})
        c = Cleaner()
        data = {k: v for k, v in data.items() if k != "id"}
        items[index] = _clean_stage(c, "", data, {}, items[index]["stage"])
        c.raise_if_invalid()
        _change_stages(actor, pipeline, c, items, index)
    return Stage.objects.get(pk=stage_id)


def stage_delete(*, actor: User, pipeline_id: int, stage_id: int) -> None:
    """Remove a stage that no deal is in (nor was: the stage history keeps it)."""
    _require_configure(actor)
    with transaction.atomic():
        pipeline = _locked_pipeline(pipeline_id)
        items = _current_stage_items(pipeline)
        left = [item for item in items if item["stage"].pk != stage_id]
        if len(left) == len(items):
            raise NotFound()
        _change_stages(actor, pipeline, Cleaner(), left)


def stages_reorder(*, actor: User, pipeline_id: int, stage_ids: Any) -> Pipeline:
    """Put a pipeline's stages in the order of ``stage_ids`` (all of its stages, each once)."""
    _require_configure(actor)
    with transaction.atomic():
        pipeline = _locked_pipeline(pipeline_id)
        c = Cleaner()
        ids = c.id_list("stage_ids", stage_ids)
        items = {item["stage"].pk: item for item in _current_stage_items(pipeline)}
        if c.ok and (sorted(ids) != sorted(items) or len(ids) != len(set(ids))):
            c.add("stage_ids", _("List every stage of this pipeline exactly once."))
        c.raise_if_invalid()
        _change_stages(actor, pipeline, c, [items[pk] for pk in ids])
    return pipeline


LOSS_REASON_FIELDS = ["name", "name_de", "order", "active"]


def _clean_loss_reason(data: Any, reason: LossReason | None) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ValidationFailed({"": [_("Expected an object.")]})
    c = Cleaner()
    _reject_unknown(data, LOSS_REASON_FIELDS, c)
    values: dict[str, Any] = {}

    def has(key: str) -> bool:
        return reason is None or key in data

    if has("name"):
        name = c.text("name", data.get("name"), max_length=120, required=True)
        clash = LossReason.objects.filter(name__iexact=name)
        if reason is not None:
            clash = clash.exclude(pk=reason.pk)
        if name and clash.exists():
            c.add("name", _("A loss reason with this name exists already."))
        values["name"] = name
    if has("name_de"):
        values["name_de"] = c.text("name_de", data.get("name_de"), max_length=120)
    if has("order"):
        values["order"] = c.integer("order", data.get("order") or 100, minimum=0, maximum=100_000)
    if has("active"):
        values["active"] = c.boolean(
            "active", True if data.get("active") is None else data["active"]
        )
    c.raise_if_invalid()
    return values


def _reason_snapshot(reason: LossReason) -> dict[str, Any]:
    return {f: getattr(reason, f) for f in LOSS_REASON_FIELDS}


def loss_reason_create(*, actor: User, data: dict[str, Any]) -> LossReason:
    _require_configure(actor)
    values = _clean_loss_reason(data, None)
    with transaction.atomic():
        reason = LossReason.objects.create(**values)
        _record_config(
            actor, "loss_reason", reason.pk, ChangeAction.CREATE, after=_reason_snapshot(reason)
        )
    return reason


def loss_reason_update(*, actor: User, reason_id: int, data: dict[str, Any]) -> LossReason:
    """Rename, reorder, deactivate (``active``: false) or reactivate a loss reason. Reasons
    are never deleted: lost deals keep theirs."""
    _require_configure(actor)
    with transaction.atomic():
        reason = LossReason.objects.select_for_update().filter(pk=reason_id).first()
        if reason is None:
            raise NotFound()
        values = _clean_loss_reason(data, reason)
        before = _reason_snapshot(reason)
        for key, value in values.items():
            setattr(reason, key, value)
        reason.save()
        _record_config(
            actor, "loss_reason", reason.pk, ChangeAction.UPDATE,
            before=before, after=_reason_snapshot(reason),
        )  # fmt: skip
    return reason


# --- opportunities ---------------------------------------------------------------------------

OPPORTUNITY_FIELDS = [
    "name",
    "account_id",
    "pipeline_id",
    "stage_id",
    "amount",
    "currency",
    "expected_close_date",
    "probability",
    "next_step",
    "competitor",
    "loss_reason_id",
    "loss_note",
    "description",
    "owner_id",
    "team_id",
    "custom",
    "contacts",
    "lines",
]
MOVE_FIELDS = ["stage_id", "loss_reason_id", "loss_note", "competitor"]
LINE_FIELDS = [
    "product_id",
    "sku",
    "description",
    "quantity",
    "unit",
    "unit_price",
    "discount_percent",
    "discount_amount",
    "tax_rate",
]
SNAPSHOT_FIELDS = [
    "name",
    "amount",
    "currency",
    "expected_close_date",
    "probability",
    "probability_override",
    "next_step",
    "competitor",
    "loss_note",
    "description",
    "closed_at",
]


def opportunity_snapshot(opportunity: Opportunity) -> dict[str, Any]:
    snap: dict[str, Any] = {f: getattr(opportunity, f) for f in SNAPSHOT_FIELDS}
    snap["account"] = opportunity.account.name if opportunity.account_id else None
    snap["pipeline"] = opportunity.pipeline.name if opportunity.pipeline_id else None
    snap["stage"] = opportunity.stage.name if opportunity.stage_id else None
    snap["loss_reason"] = opportunity.loss_reason.name if opportunity.loss_reason_id else None
    snap["owner"] = str(opportunity.owner) if opportunity.owner_id else None
    snap["team"] = str(opportunity.team) if opportunity.team_id else None
    snap["custom"] = dict(opportunity.custom)
    if opportunity.pk:
        snap["deal_contacts"] = [
            f"{r.contact.full_name} ({r.get_role_display()})"
            for r in opportunity.contact_roles.select_related("contact").order_by("pk")
        ]
        snap["line_items"] = [
            f"{line.quantity.normalize():f} × {line.description} = {line.net_amount}"
            for line in opportunity.lines.order_by("position", "pk")
        ]
    return snap


def _clean_contact_roles(c: Cleaner, actor: User, value: Any) -> list[dict[str, Any]] | None:
    items = _clean_list(c, "contacts", value)
    wanted = []
    for i, item in enumerate(items):
        nested = Cleaner(prefix=f"contacts.{i}.")
        _reject_unknown(item, ["contact_id", "role"], nested)
        c.merge(nested)
        pk = c.integer(
            f"contacts.{i}.contact_id", item.get("contact_id"), minimum=1, maximum=2**63 - 1
        )
        if pk is None and f"contacts.{i}.contact_id" not in c.errors:
            c.add(f"contacts.{i}.contact_id", _("Select a contact."))
        role = c.choice(
            f"contacts.{i}.role", item.get("role") or ContactRole.OTHER, ContactRole.choices
        )
        wanted.append((i, pk, role))
    ids = [pk for _i, pk, _r in wanted if pk]
    visible = {
        contact.pk: contact
        for contact in contact_selectors.contacts_visible_to(actor).filter(pk__in=ids)
    }
    roles, seen = [], set()
    for i, pk, role in wanted:
        if pk is None:
            continue
        if pk not in visible:
            c.add(f"contacts.{i}.contact_id", _("Select a contact you can see."))
        elif pk in seen:
            c.add(f"contacts.{i}.contact_id", _("This contact is listed twice."))
        else:
            roles.append({"contact": visible[pk], "role": role})
        seen.add(pk)
    return roles


def _clean_lines(c: Cleaner, value: Any, currency: str) -> list[dict[str, Any]]:
    if value in (None, ""):
        return []
    if not isinstance(value, list) or any(not isinstance(item, dict) for item in value):
        c.add("lines", _("Enter a list of objects."))
        return []
    if len(value) > MAX_LINES:
        c.add("lines", _("At most %(max)d entries are allowed.") % {"max": MAX_LINES})
        return []
    items = value
    product_ids = []
    for item in items:
        raw = item.get("product_id")
        if isinstance(raw, int) and not isinstance(raw, bool) and 0 < raw < 2**63:
            product_ids.append(raw)
        elif isinstance(raw, str) and raw.isdigit() and len(raw) < 19:
            product_ids.append(int(raw))
    products = {p.pk: p for p in Product.objects.filter(pk__in=product_ids)}
    lines = []
    for i, item in enumerate(items):
        p = f"lines.{i}."
        nested = Cleaner(prefix=p)
        _reject_unknown(item, LINE_FIELDS, nested)
        c.merge(nested)
        product = None
        if item.get("product_id") not in (None, ""):
            pk = c.integer(p + "product_id", item.get("product_id"), minimum=1, maximum=2**63 - 1)
            product = products.get(pk) if pk else None
            if pk and product is None:
                c.add(p + "product_id", _("Select a product from the catalogue."))
            elif product is not None and product.currency != currency:
                c.add(
                    p + "product_id",
                    _("This product is priced in %(product)s, the deal in %(deal)s.")
                    % {"product": product.currency, "deal": currency},
                )
        description = c.text(p + "description", item.get("description"), max_length=500)
        if not description and product is not None:
            description = product.name
        if not description and p + "description" not in c.errors:
            c.add(p + "description", _("This field is required."))
        quantity = c.decimal(
            p + "quantity",
            item.get("quantity") if item.get("quantity") not in (None, "") else "1",
            max_digits=14,
            places=3,
        )
        if quantity is not None and quantity <= 0:
            c.add(p + "quantity", _("Enter a quantity above 0."))
        raw_price = item.get("unit_price")
        if raw_price in (None, "") and product is not None:
            raw_price = product.list_price
        unit_price = c.decimal(
            p + "unit_price",
            raw_price if raw_price not in (None, "") else "0",
            minimum=Decimal("0"),
        )
        discount_percent = c.decimal(
            p + "discount_percent",
            item.get("discount_percent") or "0",
            max_digits=5,
            minimum=Decimal("0"),
        )
        if discount_percent is not None and discount_percent > 100:
            c.add(p + "discount_percent", _("A discount cannot be more than 100 %."))
        discount_amount = c.decimal(
            p + "discount_amount", item.get("discount_amount") or "0", minimum=Decimal("0")
        )
        tax_rate = c.choice(
            p + "tax_rate",
            item.get("tax_rate") or (product.tax_rate if product else TaxRate.STANDARD),
            TaxRate.choices,
        )
        unit = c.choice(
            p + "unit", item.get("unit") or (product.unit if product else ProductUnit.PIECE),
            ProductUnit.choices,
        )  # fmt: skip
        sku = c.text(p + "sku", item.get("sku") or (product.sku if product else ""), max_length=40)
        line = {
            "product": product,
            "sku": sku,
            "description": description,
            "quantity": quantity,
            "unit": unit,
            "unit_price": unit_price,
            "discount_percent": discount_percent,
            "discount_amount": discount_amount,
            "tax_rate": tax_rate,
        }
        if None not in (quantity, unit_price, discount_percent, discount_amount) and tax_rate:
            amount = money.line_amount(_money_line(line))
            if amount < 0:
                c.add(p + "discount_amount", _("The discount is larger than the line's amount."))
            elif len(amount.as_tuple().digits) > MONEY["max_digits"]:
                c.add(p + "quantity", _("This number is too large."))
            line["net_amount"] = amount
        lines.append(line)
    return lines


def _money_line(line: dict[str, Any]) -> money.Line:
    return money.Line(
        quantity=line["quantity"],
        unit_price=line["unit_price"],
        tax_rate=line["tax_rate"],
        discount_percent=line["discount_percent"],
        discount_amount=line["discount_amount"],
    )


def _clean_currency(c: Cleaner, value: Any) -> str:
    currency = c.text("currency", value or "EUR", max_length=3).upper()
    if "currency" not in c.errors and currency not in CURRENCIES:
        c.add("currency", _("Enter a three-letter ISO 4217 currency code, e.g. EUR."))
    return currency


def _resolve_pipeline(
    c: Cleaner, data: dict[str, Any], current: Pipeline | None
) -> Pipeline | None:
    if "pipeline_id" in data and data["pipeline_id"] not in (None, ""):
        pk = c.integer("pipeline_id", data["pipeline_id"], minimum=1, maximum=2**63 - 1)
        pipeline = Pipeline.objects.filter(pk=pk).first() if pk else None
        if pk and pipeline is None:
            c.add("pipeline_id", _("Select a pipeline."))
        elif pipeline is not None and not pipeline.active and pipeline != current:
            c.add("pipeline_id", _("This pipeline is no longer in use; choose an active one."))
        return pipeline
    if current is not None:
        return current
    pipeline = selectors.default_pipeline()
    if pipeline is None:
        c.add("pipeline_id", _("There is no active pipeline; an administrator has to set one up."))
    return pipeline


def _resolve_stage(
    c: Cleaner, data: dict[str, Any], pipeline: Pipeline | None, current: Stage | None
) -> Stage | None:
    if pipeline is None:
        return None
    if data.get("stage_id") not in (None, ""):
        pk = c.integer("stage_id", data["stage_id"], minimum=1, maximum=2**63 - 1)
        stage = Stage.objects.filter(pk=pk).select_related("pipeline").first() if pk else None
        if pk and stage is None:
            c.add(
                "stage_id",
                _("Select a stage of the pipeline “%(name)s”.") % {"name": pipeline.name},
            )
        elif stage is not None and stage.pipeline_id != pipeline.pk:
            c.add(
                "stage_id",
                _(
                    "“%(stage)s” is a stage from another pipeline (“%(other)s”); choose a stage of “%(name)s”."
                )
                % {"stage": stage.name, "other": stage.pipeline.name, "name": pipeline.name},
            )
            return None
        return stage
    if current is not None and current.pipeline_id == pipeline.pk:
        return current
    stage = pipeline.stages.filter(kind=StageKind.OPEN).order_by("order", "id").first()
    if stage is None:
        c.add("stage_id", _("This pipeline has no open stage."))
    return stage


def _clean_loss(
    c: Cleaner, data: dict[str, Any], stage: Stage | None, opportunity: Opportunity | None
) -> dict[str, Any]:
    """A lost stage needs an active loss reason (a deal that stays lost keeps its reason); a
    deal in another stage has none."""
    values: dict[str, Any] = {}
    reason = opportunity.loss_reason if opportunity is not None else None
    if data.get("loss_reason_id") not in (None, ""):
        pk = c.integer("loss_reason_id", data["loss_reason_id"], minimum=1, maximum=2**63 - 1)
        reason = LossReason.objects.filter(pk=pk).first() if pk else None
        if pk and (
            reason is None
            or (
                not reason.active
                and reason.pk != (opportunity.loss_reason_id if opportunity else None)
            )
        ):
            c.add("loss_reason_id", _("Select one of the loss reasons."))
            reason = None
    elif "loss_reason_id" in data:
        reason = None
    note = opportunity.loss_note if opportunity is not None else ""
    if "loss_note" in data:
        note = c.text("loss_note", data.get("loss_note"), max_length=500)
    if stage is None:
        return values
    if stage.kind == StageKind.LOST:
        if reason is None and "loss_reason_id" not in c.errors:
            c.add("loss_reason_id", _("A lost deal needs a loss reason."))
        values["loss_reason"] = reason
        values["loss_note"] = note
    else:
        if data.get("loss_reason_id") not in (None, ""):
            c.add("loss_reason_id", _("Only a lost deal has a loss reason."))
        if "loss_note" in data and note:
            c.add("loss_note", _("Only a lost deal has a loss note."))
        values["loss_reason"] = None
        values["loss_note"] = ""
    return values


def _clean_opportunity(
    actor: User, data: dict[str, Any], opportunity: Opportunity | None
) -> tuple[dict[str, Any], dict[str, Any], Cleaner]:
    c = Cleaner()
    if not isinstance(data, dict):
        raise ValidationFailed({"": [_("Expected an object.")]})
    _reject_unknown(data, OPPORTUNITY_FIELDS, c)
    creating = opportunity is None
    values: dict[str, Any] = {}
    nested: dict[str, Any] = {"contacts": None, "lines": None}

    def has(key: str) -> bool:
        return creating or key in data

    if has("name"):
        values["name"] = c.text("name", data.get("name"), max_length=200, required=True)
    for key, length in (("next_step", 300), ("competitor", 200), ("description", 20000)):
        if has(key):
            values[key] = c.text(key, data.get(key), max_length=length)
    if has("account_id"):
        pk = c.integer("account_id", data.get("account_id"), minimum=1, maximum=2**63 - 1)
        account = contact_selectors.accounts_visible_to(actor).filter(pk=pk).first() if pk else None
        if account is None and "account_id" not in c.errors:
            c.add("account_id", _("Select an account you can see."))
        values["account"] = account
    if has("currency"):
        values["currency"] = _clean_currency(c, data.get("currency"))
    currency = values.get("currency") or (opportunity.currency if opportunity else "EUR")
    if has("expected_close_date"):
        values["expected_close_date"] = c.date(
            "expected_close_date", data.get("expected_close_date")
        )
    if has("probability"):
        values["probability_override"] = c.integer(
            "probability", data.get("probability"), minimum=0, maximum=100
        )
    if has("amount"):
        values["amount"] = c.decimal(
            "amount",
            data.get("amount") if data.get("amount") not in (None, "") else "0",
            minimum=Decimal("0"),
        )
    pipeline = _resolve_pipeline(c, data, opportunity.pipeline if opportunity else None)
    stage = _resolve_stage(
        c, data, pipeline,
        opportunity.stage if opportunity and pipeline and opportunity.pipeline_id == pipeline.pk else None,
    )  # fmt: skip
    values["pipeline"], values["stage"] = pipeline, stage
    values.update(_clean_loss(c, data, stage, opportunity))
    values.update(_clean_owner_and_team(c, actor, data, opportunity))
    if has("contacts"):
        nested["contacts"] = _clean_contact_roles(c, actor, data.get("contacts"))
    if has("lines"):
        nested["lines"] = _clean_lines(c, data.get("lines"), currency)
    elif opportunity is not None and "currency" in data and currency != opportunity.currency:
        for line in opportunity.lines.select_related("product"):
            if line.product is not None and line.product.currency != currency:
                c.add("currency", _("The line items' products are priced in another currency."))
                break
    lines = nested["lines"]
    if lines is None and opportunity is not None:
        has_lines = opportunity.lines.exists()
    else:
        has_lines = bool(lines)
    if lines and c.ok:
        total = money.totals([_money_line(line) for line in lines]).net_total
        if "amount" in data and data["amount"] not in (None, "") and values.get("amount") != total:
            c.add(
                "amount",
                _(
                    "A deal with line items has their net total (%(total)s) as its amount; change the lines instead."
                )
                % {"total": total},
            )
        values["amount"] = total
    elif (
        has_lines
        and lines is None
        and "amount" in data
        and "amount" not in c.errors
        and values.get("amount") != opportunity.amount
    ):
        c.add(
            "amount",
            _(
                "A deal with line items has their net total as its amount; change the lines instead."
            ),
        )
    if has("custom"):
        custom = data.get("custom")
        if not sensitive.may_see(actor, ENTITY) and isinstance(custom, dict):
            for key in sensitive.sensitive_custom_keys(ENTITY) & set(custom):
                c.add(f"custom.{key}", _("Your role may not see or change this field."))
        values["custom"] = clean_custom_values(
            ENTITY, custom, existing=opportunity.custom if opportunity else {}, cleaner=c
        )
    return values, nested, c


def _probability(opportunity: Opportunity) -> int:
    stage = opportunity.stage
    if stage.kind != StageKind.OPEN or opportunity.probability_override is None:
        return stage.probability
    return opportunity.probability_override


def _top_rank(stage: Stage) -> float:
    lowest = Opportunity.objects.filter(pipeline_id=stage.pipeline_id, stage=stage).aggregate(
        m=Min("board_rank")
    )["m"]
    return (lowest if lowest is not None else 1.0) - 1.0


def _enter_stage(
    opportunity: Opportunity, stage: Stage, previous: Stage | None, actor: User, now: dt.datetime
) -> None:
    """``opportunity`` is now in ``stage`` (it was in ``previous``): closing, board rank, the
    time in the stage and a StageChange row (saved by the caller after the record)."""
    opportunity.stage = stage
    opportunity.stage_changed_at = now
    if stage.kind == StageKind.OPEN:
        opportunity.closed_at = None
    elif previous is None or previous.kind != stage.kind:
        opportunity.closed_at = now
    opportunity.board_rank = _top_rank(stage)


def _record_stage_change(
    opportunity: Opportunity, previous: Stage | None, actor: User, now: dt.datetime
) -> None:
    StageChange.objects.create(
        opportunity=opportunity,
        from_stage=previous,
        to_stage=opportunity.stage,
        changed_at=now,
        changed_by=actor if actor and actor.pk else None,
        amount=opportunity.amount,
    )


def _set_contact_roles(
    actor: User, opportunity: Opportunity, roles: list[dict[str, Any]] | None
) -> None:
    if roles is None:
        return
    # Roles of contacts the user cannot see are not shown to them, so not in ``roles``: keep them.
    hidden = OpportunityContact.objects.filter(opportunity=opportunity).exclude(
        contact__in=contact_selectors.contacts_visible_to(actor).values("pk")
    )
    opportunity.contact_roles.exclude(pk__in=hidden.values("pk")).delete()
    OpportunityContact.objects.bulk_create(
        OpportunityContact(opportunity=opportunity, contact=r["contact"], role=r["role"])
        for r in roles
    )


def _set_lines(opportunity: Opportunity, lines: list[dict[str, Any]] | None) -> None:
    if lines is None:
        return
    opportunity.lines.all().delete()
    OpportunityLine.objects.bulk_create(
        OpportunityLine(opportunity=opportunity, position=i, **line)
        for i, line in enumerate(lines, start=1)
    )


def _index(opportunity: Opportunity) -> None:
    account = opportunity.account.name if opportunity.account_id else ""
    search.index_document(
        entity=ENTITY,
        object_id=opportunity.pk,
        owner_id=opportunity.owner_id,
        team_id=opportunity.team_id,
        title=opportunity.name,
        subtitle=" · ".join(p for p in (account, opportunity.stage.display_name()) if p),
        parts=[account, opportunity.competitor, opportunity.next_step],
    )


def opportunity_create(*, actor: User, data: dict[str, Any]) -> Opportunity:
    """Create a deal for an account the user can see, in a stage of its pipeline (default: the
    default pipeline's first open stage), with contact roles and line items."""
    permissions.require(actor, "create", ENTITY)
    values, nested, cleaner = _clean_opportunity(actor, data, None)
    cleaner.raise_if_invalid()
    with transaction.atomic():
        now = timezone.now()
        stage = values.pop("stage")
        opportunity = Opportunity(**values, created_at=now, updated_at=now, last_activity_at=now)
        _enter_stage(opportunity, stage, None, actor, now)
        opportunity.probability = _probability(opportunity)
        opportunity.save()
        _set_contact_roles(actor, opportunity, nested["contacts"])
        _set_lines(opportunity, nested["lines"])
        _record_stage_change(opportunity, None, actor, now)
        history.record_change(
            entity=ENTITY, object_id=opportunity.pk, action=ChangeAction.CREATE, actor=actor,
            after=opportunity_snapshot(opportunity),
        )  # fmt: skip
        _index(opportunity)
        sharing.apply_rules(ENTITY, opportunity)
    return opportunity


def _editable(actor: User, opportunity_id: int) -> Opportunity:
    opportunity = (
        selectors.opportunities_visible_to(actor, for_edit=True)
        .select_for_update()
        .filter(pk=opportunity_id)
        .first()
    )
    if opportunity is None:
        if selectors.opportunities_visible_to(actor).filter(pk=opportunity_id).exists():
            raise Forbidden(_("This record is shared with you to read, not to change."))
        raise NotFound()
    return opportunity


def _save_changes(
    actor: User,
    opportunity: Opportunity,
    values: dict[str, Any],
    nested: dict[str, Any],
) -> Opportunity:
    before = opportunity_snapshot(opportunity)
    previous = opportunity.stage
    stage = values.pop("stage", None) or previous
    for key, value in values.items():
        setattr(opportunity, key, value)
    now = timezone.now()
    moved = stage.pk != previous.pk
    if moved:
        _enter_stage(opportunity, stage, previous, actor, now)
    opportunity.probability = _probability(opportunity)
    _set_contact_roles(actor, opportunity, nested.get("contacts"))
    _set_lines(opportunity, nested.get("lines"))
    after = opportunity_snapshot(opportunity)
    if history.diff(before, after):
        opportunity.version += 1
        opportunity.updated_at = opportunity.last_activity_at = now
        opportunity.save()
        if moved:
            _record_stage_change(opportunity, previous, actor, now)
        history.record_change(
            entity=ENTITY, object_id=opportunity.pk, action=ChangeAction.UPDATE, actor=actor,
            before=before, after=after,
        )  # fmt: skip
        _index(opportunity)
        sharing.apply_rules(ENTITY, opportunity)
    return opportunity


def opportunity_update(
    *, actor: User, opportunity_id: int, data: dict[str, Any], version: Any = None
) -> Opportunity:
    """Change a deal; ``version`` (if given) must be the one the caller read, else 409 and
    nothing changes. A new ``stage_id`` (or ``pipeline_id``) follows the rules of a move."""
    permissions.require(actor, "edit", ENTITY)
    with transaction.atomic():
        opportunity = _editable(actor, opportunity_id)
        if not isinstance(data, dict):
            raise ValidationFailed({"": [_("Expected an object.")]})
        check_version(opportunity, version if version is not None else data.get("version"))
        data = {k: v for k, v in data.items() if k != "version"}
        values, nested, cleaner = _clean_opportunity(actor, data, opportunity)
        cleaner.raise_if_invalid()
        return _save_changes(actor, opportunity, values, nested)


def opportunity_move(
    *, actor: User, opportunity_id: int, data: dict[str, Any], version: Any = None
) -> Opportunity:
    """Move a deal to another stage of its pipeline (the board's drag and drop): ``stage_id``,
    for a lost stage ``loss_reason_id`` and optionally ``loss_note`` and ``competitor``."""
    permissions.require(actor, "edit", ENTITY)
    if not isinstance(data, dict):
        raise ValidationFailed({"": [_("Expected an object.")]})
    with transaction.atomic():
        opportunity = _editable(actor, opportunity_id)
        check_version(opportunity, version if version is not None else data.get("version"))
        data = {k: v for k, v in data.items() if k != "version"}
        c = Cleaner()
        _reject_unknown(data, MOVE_FIELDS, c)
        if data.get("stage_id") in (None, ""):
            c.add("stage_id", _("This field is required."))
            c.raise_if_invalid()
        stage = _resolve_stage(c, data, opportunity.pipeline, None)
        values: dict[str, Any] = {"stage": stage}
        values.update(_clean_loss(c, data, stage, opportunity))
        if "competitor" in data:
            values["competitor"] = c.text("competitor", data.get("competitor"), max_length=200)
        c.raise_if_invalid()
        return _save_changes(actor, opportunity, values, {})


def opportunity_delete(*, actor: User, opportunity_id: int) -> Opportunity:
    """Move a deal to the trash (soft delete); it can be restored."""
    permissions.require(actor, "delete", ENTITY)
    with transaction.atomic():
        opportunity = _editable(actor, opportunity_id)
        opportunity.deleted_at = opportunity.updated_at = timezone.now()
        opportunity.deleted_by = actor
        opportunity.version += 1
        opportunity.save(update_fields=["deleted_at", "deleted_by", "version", "updated_at"])
        history.record_change(
            entity=ENTITY, object_id=opportunity.pk, action=ChangeAction.DELETE, actor=actor
        )
        search.remove_document(entity=ENTITY, object_id=opportunity.pk)
    return opportunity


def opportunity_restore(*, actor: User, opportunity_id: int) -> Opportunity:
    """Bring a deal back from the trash."""
    records = selectors.opportunities_visible_to(actor, include_deleted=True, for_edit=True)
    return softdelete.restore(actor, ENTITY, records, opportunity_id, _index)
