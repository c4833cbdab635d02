"""Every write to leads: capture (create, update, delete, restore), assignment rules,
qualification and conversion into an account, a contact and optionally an opportunity, and
the import of lead files.

One function per use case, keyword arguments, one transaction each; every field is validated
here (collecting all field errors first), the change goes into the history, the search index
and the sharing rules. The pages, the API and the import call these and nothing else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _

from farley.contacts import selectors as contact_selectors
from farley.contacts import services as contact_services
from farley.contacts import transfer
from farley.contacts.models import Account, Contact, Salutation
from farley.core import history, permissions, search, sensitive, sharing, softdelete
from farley.core.customfields import clean_custom_values, definitions_for
from farley.core.errors import Forbidden, NotFound, ValidationFailed
from farley.core.models import ChangeAction, Team, User
from farley.core.validation import Cleaner, check_version, phone_display
from farley.core.visibility import is_administrator, team_ids, visibility_scope
from farley.sales.models import (
    AssignmentMethod,
    AssignmentRule,
    ContactRole,
    Lead,
    LeadSource,
    LeadStatus,
    Opportunity,
    Pipeline,
    Stage,
    StageKind,
)
from farley.sales.selectors import leads as selectors

LEAD_FIELDS = [
    "company_name",
    "salutation",
    "first_name",
    "last_name",
    "job_title",
    "email",
    "phone",
    "website",
    "street",
    "postal_code",
    "city",
    "country",
    "industry_code",
    "source",
    "status",
    "disqualify_reason",
    "description",
    "estimated_value",
    "currency",
]
COMMON_FIELDS = ["owner_id", "team_id", "custom"]
TEXT_LIMITS = {
    "company_name": 200,
    "first_name": 100,
    "last_name": 100,
    "job_title": 120,
    "street": 200,
    "city": 100,
    "disqualify_reason": 300,
    "description": 20000,
}
INDUSTRY_CODE = contact_services.INDUSTRY_CODE
CURRENCY = re.compile(r"[A-Z]{3}")


def _currency(c: Cleaner, field: str, value: Any) -> str:
    text = c.text(field, value or "EUR", max_length=3).upper()
    if not CURRENCY.fullmatch(text):
        c.add(field, _("Enter a three-letter currency code, e.g. EUR."))
    return text


# --- capture --------------------------------------------------------------------------------


def _clean_lead(
    actor: User, data: dict[str, Any], lead: Lead | None
) -> tuple[dict[str, Any], Cleaner]:
    """The clean values of ``data`` (only the keys it has, when ``lead`` is changed)."""
    c = Cleaner()
    if not isinstance(data, dict):
        raise ValidationFailed({"": [_("Expected an object.")]})
    for key in data:
        if key not in LEAD_FIELDS + COMMON_FIELDS:
            c.add(key, _("Unknown field."))
    creating = lead is None
    values: dict[str, Any] = {}

    def has(key: str) -> bool:
        return creating or key in data

    for key, length in TEXT_LIMITS.items():
        if has(key):
            values[key] = c.text(key, data.get(key), max_length=length)
    if has("salutation"):
        values["salutation"] = c.choice(
            "salutation", data.get("salutation") or "", Salutation.choices
        )
    if has("email"):
        values["email"] = c.email("email", data.get("email"))
    if has("website"):
        values["website"] = c.url("website", data.get("website"))
    if has("country"):
        values["country"] = c.country("country", data.get("country"))
    country = values.get("country", lead.country if lead else "")
    if has("postal_code") or (has("country") and lead and lead.postal_code):
        raw = data.get("postal_code") if "postal_code" in data or creating else lead.postal_code
        values["postal_code"] = c.postal_code("postal_code", raw, country=country)
    if has("phone"):
        raw = data.get("phone")
        if raw not in (None, "") and not isinstance(raw, str):
            c.add("phone", _("Enter text."))
            raw = ""
        values["phone"] = (
            c.phone("phone", raw, region=country or "DE") if raw and raw.strip() else ""
        )
    if has("industry_code"):
        code = c.text("industry_code", data.get("industry_code"), max_length=10).upper()
        if code and not re.fullmatch(INDUSTRY_CODE, code):
            c.add("industry_code", _("Enter a NACE/WZ code such as 62.01."))
        values["industry_code"] = code
    if has("source"):
        values["source"] = c.choice(
            "source", data.get("source") or LeadSource.OTHER, LeadSource.choices
        )
    if has("status"):
        status = c.choice("status", data.get("status") or LeadStatus.NEW, LeadStatus.choices)
        if status == LeadStatus.CONVERTED and (lead is None or lead.status != status):
            c.add("status", _("A lead becomes converted by converting it, not by its status."))
            status = ""
        values["status"] = status
    if has("estimated_value"):
        values["estimated_value"] = c.decimal(
            "estimated_value", data.get("estimated_value"), minimum=Decimal("0")
        )
    if has("currency"):
        values["currency"] = _currency(c, "currency", data.get("currency"))
    # A reason belongs to a disqualified lead, and a disqualified lead needs one.
    status = values.get("status") or (lead.status if lead else LeadStatus.NEW)
    reason = values.get("disqualify_reason", lead.disqualify_reason if lead else "")
    if status == LeadStatus.DISQUALIFIED and not reason and "disqualify_reason" not in c.errors:
        c.add("disqualify_reason", _("Give a reason when you disqualify a lead."))
    elif status and status != LeadStatus.DISQUALIFIED and reason:
        if "disqualify_reason" in data and data.get("disqualify_reason"):
            c.add("disqualify_reason", _("Only a disqualified lead has a reason."))
        else:  # reopened: the old reason goes (it stays in the history)
            values["disqualify_reason"] = ""
    first = values.get("first_name", lead.first_name if lead else "")
    last = values.get("last_name", lead.last_name if lead else "")
    company = values.get("company_name", lead.company_name if lead else "")
    if not (first or last or company) and not (
        {"first_name", "last_name", "company_name"} & set(c.errors)
    ):
        c.add("last_name", _("Enter a name or a company."))
    values.update(contact_services._clean_owner_and_team(c, actor, data, lead))
    if has("custom"):
        custom = data.get("custom")
        if isinstance(custom, dict) and not sensitive.may_see(actor, "lead"):
            for key in sensitive.sensitive_custom_keys("lead") & set(custom):
                c.add(f"custom.{key}", _("Your role may not see or change this field."))
        values["custom"] = clean_custom_values(
            "lead", custom, existing=lead.custom if lead else {}, cleaner=c
        )
    return values, c


def lead_snapshot(lead: Lead) -> dict[str, Any]:
    snap = {f: getattr(lead, f) for f in LEAD_FIELDS}
    snap["owner"] = str(lead.owner) if lead.owner_id else None
    snap["team"] = str(lead.team) if lead.team_id else None
    snap["custom"] = dict(lead.custom)
    for key in ("converted_account", "converted_contact", "converted_opportunity"):
        related = getattr(lead, key) if getattr(lead, f"{key}_id") else None
        snap[key] = str(related) if related is not None else None
    return snap


def lead_title(lead: Lead) -> str:
    return lead.full_name or lead.company_name or f"#{lead.pk}"


def _index_lead(lead: Lead) -> None:
    # No translated words in the index (whoever saves last would set its language); the
    # search results tell leads apart by their icon.
    subtitle = " · ".join(p for p in [lead.company_name if lead.full_name else "", lead.city] if p)
    search.index_document(
        entity="lead",
        object_id=lead.pk,
        owner_id=lead.owner_id,
        team_id=lead.team_id,
        title=lead_title(lead),
        subtitle=subtitle,
        parts=[lead.company_name, lead.email, lead.phone, lead.city, lead.postal_code,
               lead.job_title],
    )  # fmt: skip


def _owner_given(data: dict[str, Any]) -> bool:
    return data.get("owner_id") not in (None, "")


def lead_create(*, actor: User, data: dict[str, Any]) -> Lead:
    """Capture a lead. Without an owner, the first matching active assignment rule chooses
    owner and team (else the creator owns it)."""
    permissions.require(actor, "create", "lead")
    values, cleaner = _clean_lead(actor, data, None)
    cleaner.raise_if_invalid()
    with transaction.atomic():
        if not _owner_given(data):
            assigned = assign(
                country=values["country"],
                postal_code=values["postal_code"],
                industry_code=values["industry_code"],
                source=values["source"],
            )
            if assigned is not None:
                values["owner"], values["team"] = assigned.owner, assigned.team
        now = timezone.now()
        lead = Lead.objects.create(**values, created_at=now, updated_at=now)
        history.record_change(
            entity="lead",
            object_id=lead.pk,
            action=ChangeAction.CREATE,
            actor=actor,
            after=lead_snapshot(lead),
        )
        _index_lead(lead)
        sharing.apply_rules("lead", lead)
    return lead


def _lead_for_edit(actor: User, lead_id: int) -> Lead:
    lead = (
        selectors.leads_visible_to(actor, for_edit=True)
        .select_for_update()
        .filter(pk=lead_id)
        .first()
    )
    if lead is None:
        raise NotFound()
    return lead


def lead_update(*, actor: User, lead_id: int, data: dict[str, Any], version: Any = None) -> Lead:
    """Change a lead; ``version`` (if given) must be the one the caller read, else 409.
    A converted lead stays as it was converted."""
    permissions.require(actor, "edit", "lead")
    if not isinstance(data, dict):
        raise ValidationFailed({"": [_("Expected an object.")]})
    with transaction.atomic():
        lead = _lead_for_edit(actor, lead_id)
        check_version(lead, version if version is not None else data.get("version"))
        data = {k: v for k, v in data.items() if k != "version"}
        values, cleaner = _clean_lead(actor, data, lead)
        cleaner.raise_if_invalid()
        before = lead_snapshot(lead)
        for key, value in values.items():
            setattr(lead, key, value)
        after = lead_snapshot(lead)
        if history.diff(before, after) and before["status"] == LeadStatus.CONVERTED:
            raise ValidationFailed(
                {"status": [_("This lead was converted; it cannot be changed any more.")]}
            )
        if history.diff(before, after):
            lead.version += 1
            lead.updated_at = timezone.now()
            lead.save()
            history.record_change(
                entity="lead",
                object_id=lead.pk,
                action=ChangeAction.UPDATE,
                actor=actor,
                before=before,
                after=after,
            )
            _index_lead(lead)
            sharing.apply_rules("lead", lead)
    return lead


def lead_delete(*, actor: User, lead_id: int) -> Lead:
    """Move a lead to the trash (soft delete); it can be restored."""
    permissions.require(actor, "delete", "lead")
    with transaction.atomic():
        lead = _lead_for_edit(actor, lead_id)
        lead.deleted_at = lead.updated_at = timezone.now()
        lead.deleted_by = actor
        lead.version += 1
        lead.save(update_fields=["deleted_at", "deleted_by", "version", "updated_at"])
        history.record_change(
            entity="lead", object_id=lead.pk, action=ChangeAction.DELETE, actor=actor
        )
        search.remove_document(entity="lead", object_id=lead.pk)
    return lead


def lead_restore(*, actor: User, lead_id: int) -> Lead:
    """Bring a lead back from the trash."""
    records = selectors.leads_visible_to(actor, include_deleted=True, for_edit=True)
    return softdelete.restore(actor, "lead", records, lead_id, _index_lead)


# --- assignment rules -----------------------------------------------------------------------


@dataclass(frozen=True)
class Assignment:
    owner: User
    team: Team
    rule: AssignmentRule


def _listed(text: str) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def rule_matches(
    rule: AssignmentRule, *, country: str, postal_code: str, industry_code: str, source: str
) -> bool:
    """Whether a lead with these values lies in the rule's territory (an empty criterion
    matches every lead)."""
    countries = {c.upper() for c in _listed(rule.countries)}
    if countries and (country or "").upper() not in countries:
        return False
    if (rule.postal_code_from or rule.postal_code_to) and not selectors.postal_code_in_range(
        postal_code, rule.postal_code_from, rule.postal_code_to
    ):
        return False
    if rule.industry_prefix and not (industry_code or "").upper().startswith(
        rule.industry_prefix.upper()
    ):
        return False
    sources = set(_listed(rule.sources))
    return not (sources and source not in sources)


def _next_in_turn(rule: AssignmentRule) -> User | None:
    """The next active member of the rule's team after the one who got the last lead; the
    rule's row is locked, so that two leads created at once go to two people."""
    locked = AssignmentRule.objects.select_for_update().filter(pk=rule.pk).first()
    if locked is None:
        return None
    members = list(locked.team.members.filter(is_active=True).order_by("pk"))
    if not members:
        return None
    last = locked.last_assigned_id or 0
    chosen = next((m for m in members if m.pk > last), members[0])
    AssignmentRule.objects.filter(pk=rule.pk).update(last_assigned=chosen)
    return chosen


def assign(*, country: str, postal_code: str, industry_code: str, source: str) -> Assignment | None:
    """The owner and team of a new lead by the first active matching rule (in ``order``) that
    has someone to give it to; None when no rule applies. Call inside the transaction that
    creates the lead."""
    rules = AssignmentRule.objects.filter(active=True).select_related("team", "team__lead", "user")
    for rule in rules.order_by("order", "id"):
        if not rule_matches(
            rule,
            country=country,
            postal_code=postal_code,
            industry_code=industry_code,
            source=source,
        ):
            continue
        if rule.method == AssignmentMethod.ROUND_ROBIN:
            owner = _next_in_turn(rule)
        else:
            owner = next(
                (u for u in (rule.user, rule.team.lead) if u is not None and u.is_active), None
            )
        if owner is not None:
            return Assignment(owner=owner, team=rule.team, rule=rule)
    return None


RULE_FIELDS = [
    "name",
    "order",
    "active",
    "method",
    "team_id",
    "user_id",
    "countries",
    "postal_code_from",
    "postal_code_to",
    "industry_prefix",
    "sources",
]


def _require_rule_admin(actor: User) -> None:
    if not permissions.can(actor, "administer", "opportunity"):
        raise Forbidden(_("Only administrators of sales manage the lead-assignment rules."))


def _listed_input(c: Cleaner, field: str, value: Any) -> list[str]:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list | tuple) or any(not isinstance(v, str) for v in value):
        c.add(field, _("Enter a list."))
        return []
    return [v.strip() for v in value if v.strip()]


def _clean_rule(c: Cleaner, data: dict[str, Any], rule: AssignmentRule | None) -> dict[str, Any]:
    for key in data:
        if key not in RULE_FIELDS:
            c.add(key, _("Unknown field."))
    creating = rule is None
    values: dict[str, Any] = {}

    def has(key: str) -> bool:
        return creating or key in data

    if has("name"):
        values["name"] = c.text("name", data.get("name"), max_length=120, required=True)
    if has("order"):
        order = c.integer("order", data.get("order"), minimum=0, maximum=1_000_000)
        values["order"] = 100 if order is None else order
    if has("active"):
        values["active"] = (
            True
            if creating and data.get("active") is None
            else c.boolean("active", data.get("active"))
        )
    if has("method"):
        values["method"] = c.choice(
            "method", data.get("method"), AssignmentMethod.choices, required=True
        )
    if has("team_id"):
        pk = c.integer("team_id", data.get("team_id"), minimum=1, maximum=2**63 - 1)
        team = Team.objects.filter(pk=pk).first() if pk else None
        if team is None and "team_id" not in c.errors:
            c.add("team_id", _("Select a team."))
        values["team"] = team
    if has("user_id"):
        pk = c.integer("user_id", data.get("user_id"), minimum=1, maximum=2**63 - 1)
        user = User.objects.filter(pk=pk, is_active=True).first() if pk else None
        if pk and user is None:
            c.add("user_id", _("Select an active user."))
        values["user"] = user
    if has("countries"):
        codes = []
        for code in _listed_input(c, "countries", data.get("countries")):
            checked = c.country("countries", code)
            if checked and checked not in codes:
                codes.append(checked)
        values["countries"] = ",".join(codes)
        if len(values["countries"]) > 200:
            c.add("countries", _("At most %(max)d entries are allowed.") % {"max": 60})
    for key in ("postal_code_from", "postal_code_to"):
        if has(key):
            code = c.text(key, data.get(key), max_length=12).upper()
            if code and not re.fullmatch(r"[A-Z0-9][A-Z0-9 \-]*", code):
                c.add(key, _("Enter the beginning of a postal code, e.g. 10 or 80331."))
            values[key] = code
    if has("industry_prefix"):
        prefix = c.text("industry_prefix", data.get("industry_prefix"), max_length=10).upper()
        if prefix and not re.fullmatch(r"[A-U]?[0-9.]*", prefix):
            c.add("industry_prefix", _("Enter the beginning of a NACE/WZ code, e.g. 62."))
        values["industry_prefix"] = prefix
    if has("sources"):
        chosen = []
        for source in _listed_input(c, "sources", data.get("sources")):
            if source not in LeadSource.values:
                c.add("sources", _("Select a valid choice."))
            elif source not in chosen:
                chosen.append(source)
        values["sources"] = ",".join(chosen)
    plz_from = values.get("postal_code_from", rule.postal_code_from if rule else "")
    plz_to = values.get("postal_code_to", rule.postal_code_to if rule else "")
    if plz_from and plz_to and plz_from > plz_to + "\uffff" and "postal_code_to" not in c.errors:
        c.add("postal_code_to", _("The range ends before it begins."))
    method = values.get("method") or (rule.method if rule else "")
    user = values.get("user", rule.user if rule else None)
    if method == AssignmentMethod.ROUND_ROBIN and user is not None and "user_id" not in c.errors:
        c.add("user_id", _("Round robin gives leads to the team's members; leave the user empty."))
    return values


def _rule_snapshot(rule: AssignmentRule) -> dict[str, Any]:
    return {
        "name": rule.name,
        "order": rule.order,
        "active": rule.active,
        "method": rule.method,
        "team": str(rule.team) if rule.team_id else None,
        "user": str(rule.user) if rule.user_id else None,
        "countries": rule.countries,
        "postal_code_from": rule.postal_code_from,
        "postal_code_to": rule.postal_code_to,
        "industry_prefix": rule.industry_prefix,
        "sources": rule.sources,
    }


def rule_create(*, actor: User, data: dict[str, Any]) -> AssignmentRule:
    """A new lead-assignment rule (administrators of sales)."""
    _require_rule_admin(actor)
    if not isinstance(data, dict):
        raise ValidationFailed({"": [_("Expected an object.")]})
    c = Cleaner()
    values = _clean_rule(c, data, None)
    c.raise_if_invalid()
    with transaction.atomic():
        rule = AssignmentRule.objects.create(**values)
        history.record_change(
            entity="assignment_rule", object_id=rule.pk, action=ChangeAction.CREATE,
            actor=actor, after=_rule_snapshot(rule),
        )  # fmt: skip
    return rule


def rule_update(*, actor: User, rule_id: int, data: dict[str, Any]) -> AssignmentRule:
    """Change a rule (also ``active``: deactivate or activate it, and its ``order``)."""
    _require_rule_admin(actor)
    if not isinstance(data, dict):
        raise ValidationFailed({"": [_("Expected an object.")]})
    with transaction.atomic():
        rule = AssignmentRule.objects.select_for_update().filter(pk=rule_id).first()
        if rule is None:
            raise NotFound()
        c = Cleaner()
        values = _clean_rule(c, data, rule)
        c.raise_if_invalid()
        before = _rule_snapshot(rule)
        for key, value in values.items():
            setattr(rule, key, value)
        rule.save()
        history.record_change(
            entity="assignment_rule", object_id=rule.pk, action=ChangeAction.UPDATE,
            actor=actor, before=before, after=_rule_snapshot(rule),
        )  # fmt: skip
    return rule


def rule_delete(*, actor: User, rule_id: int) -> None:
    _require_rule_admin(actor)
    with transaction.atomic():
        rule = AssignmentRule.objects.select_for_update().filter(pk=rule_id).first()
        if rule is None:
            raise NotFound()
        history.record_change(
            entity="assignment_rule", object_id=rule.pk, action=ChangeAction.DELETE,
            actor=actor, before=_rule_snapshot(rule),
        )  # fmt: skip
        rule.delete()


def rule_move(*, actor: User, rule_id: int, up: bool) -> AssignmentRule:
    """Move a rule one place up (earlier) or down in the order; the orders become 10, 20, ..."""
    _require_rule_admin(actor)
    with transaction.atomic():
        rules = list(AssignmentRule.objects.select_for_update().order_by("order", "id"))
        index = next((i for i, r in enumerate(rules) if r.pk == rule_id), None)
        if index is None:
            raise NotFound()
        other = index - 1 if up else index + 1
        if 0 <= other < len(rules):
            rules[index], rules[other] = rules[other], rules[index]
        for position, rule in enumerate(rules, start=1):
            if rule.order != position * 10:
                rule.order = position * 10
                rule.save(update_fields=["order"])
        moved = next(r for r in rules if r.pk == rule_id)
        history.record_change(
            entity="assignment_rule", object_id=moved.pk, action=ChangeAction.UPDATE,
            actor=actor, before={"order": None}, after={"order": moved.order},
        )  # fmt: skip
    return moved


# --- conversion -----------------------------------------------------------------------------

CONVERT_FIELDS = ["account_id", "account_name", "contact_id", "create_anyway", "opportunity"]
OPPORTUNITY_FIELDS = ["name", "amount", "currency", "pipeline_id", "expected_close_date"]


@dataclass
class Conversion:
    lead: Lead
    account: Account
    contact: Contact | None
    opportunity: Opportunity | None


class DuplicatesFound(ValidationFailed):
    """Possible duplicates exist and the caller chose neither to link one nor to create new
    records anyway; ``candidates`` lists them (``{"accounts": [...], "contacts": [...]}``)."""

    def __init__(self, fields: dict[str, list[str]], candidates: dict[str, list[dict]]):
        super().__init__(
            fields,
            message=_(
                "Records that may be the same exist: link the lead to them or create new "
                "ones anyway."
            ),
        )
        self.candidates = candidates


def _names(candidates: list[selectors.Candidate]) -> str:
    shown = []
    for candidate in candidates[:5]:
        number = getattr(candidate.record, "customer_number", "")
        shown.append(f"{candidate.record.name} ({number or '#' + str(candidate.record.pk)})")
    return ", ".join(shown)


def _may_own(actor: User, lead: Lead) -> dict[str, Any]:
    """Owner and team for the records made from ``lead``: the lead's, as far as ``actor``
    may give records to them (else the services' defaults: the actor and their team)."""
    data: dict[str, Any] = {}
    if lead.owner_id == actor.pk or visibility_scope(actor) == "all":
        data["owner_id"] = lead.owner_id
    if lead.team_id and (
        is_administrator(actor)
        or lead.team_id in team_ids(actor)
        or visibility_scope(actor) == "all"
    ):
        data["team_id"] = lead.team_id
    return data


def _prefixed(prefix: str, exc: ValidationFailed) -> ValidationFailed:
    return ValidationFailed({f"{prefix}.{k}" if k else prefix: v for k, v in exc.fields.items()})


def _clean_opportunity(c: Cleaner, raw: Any, lead: Lead) -> dict[str, Any] | None:
    if raw in (None, False):
        return None
    if raw is True:
        raw = {}
    if not isinstance(raw, dict):
        c.add("opportunity", _("Expected an object."))
        return None
    for key in raw:
        if key not in OPPORTUNITY_FIELDS:
            c.add(f"opportunity.{key}", _("Unknown field."))
    default_name = lead.company_name or lead.full_name
    values: dict[str, Any] = {
        "name": c.text("opportunity.name", raw.get("name") or default_name, max_length=200,
                       required=True),
    }  # fmt: skip
    amount = raw.get("amount")
    if amount in (None, ""):
        values["amount"] = lead.estimated_value or Decimal("0")
    else:
        values["amount"] = c.decimal("opportunity.amount", amount, minimum=Decimal("0"))
    values["currency"] = _currency(c, "opportunity.currency", raw.get("currency") or lead.currency)
    pipeline_id = c.integer(
        "opportunity.pipeline_id", raw.get("pipeline_id"), minimum=1, maximum=2**63 - 1
    )
    pipelines = Pipeline.objects.filter(active=True)
    if pipeline_id is not None:
        pipeline = pipelines.filter(pk=pipeline_id).first()
        if pipeline is None:
            c.add("opportunity.pipeline_id", _("Select an active pipeline."))
    elif "opportunity.pipeline_id" in c.errors:
        pipeline = None
    else:
        pipeline = pipelines.order_by("-is_default", "order", "name").first()
        if pipeline is None:
            c.add("opportunity.pipeline_id", _("There is no active pipeline; create one first."))
    stage = None
    if pipeline is not None:
        stage = (
            Stage.objects.filter(pipeline=pipeline, kind=StageKind.OPEN).order_by("order", "id")
        ).first()
        if stage is None:
            c.add("opportunity.pipeline_id", _("This pipeline has no open stage."))
    values["pipeline"], values["stage"] = pipeline, stage
    values["expected_close_date"] = c.date(
        "opportunity.expected_close_date", raw.get("expected_close_date")
    )
    return values


def _opportunity_create(
    actor: User,
    *,
    lead: Lead,
    account: Account,
    contact: Contact | None,
    values: dict[str, Any],
    ownership: dict[str, Any],
) -> Opportunity:
    """The opportunity of a conversion, made by the opportunity services (first open stage
    of the pipeline, the stage's probability, its first stage change, history, search), with
    the contact as decision maker and the lead as its source."""
    from farley.sales.services import opportunities as opportunity_services

    data = {
        "name": values["name"],
        "account_id": account.pk,
        "pipeline_id": values["pipeline"].pk,
        "stage_id": values["stage"].pk,
        "amount": str(values["amount"]),
        "currency": values["currency"],
        "expected_close_date": values["expected_close_date"].isoformat()
        if values["expected_close_date"]
        else None,
        "contacts": [{"contact_id": contact.pk, "role": ContactRole.DECISION_MAKER}]
        if contact is not None
        else [],
        **ownership,
    }
    try:
        opportunity = opportunity_services.opportunity_create(actor=actor, data=data)
    except ValidationFailed as exc:
        raise _prefixed("opportunity", exc) from None
    Opportunity.objects.filter(pk=opportunity.pk).update(source_lead=lead)
    opportunity.source_lead = lead
    return opportunity


def _summary(lead: Lead, actor: User) -> str:
    """The lead's data, notes and change history as text, for the note on the new records."""

    def line(label: str, value: Any) -> str | None:
        return f"{label}: {value}" if value not in (None, "") else None

    address = " ".join(p for p in [lead.street, lead.postal_code, lead.city, lead.country] if p)
    value = (
        f"{number_format(lead.estimated_value, 2, force_grouping=True)} {lead.currency}"
        if lead.estimated_value is not None
        else ""
    )
    lines = [
        line(_("Lead"), f"{lead_title(lead)} (#{lead.pk})"),
        line(
            _("Created"), date_format(timezone.localtime(lead.created_at), "SHORT_DATETIME_FORMAT")
        ),
        line(_("Company"), lead.company_name),
        line(_("Name"), lead.full_name),
        line(_("Job title"), lead.job_title),
        line(_("Email"), lead.email),
        line(_("Phone"), phone_display(lead.phone) if lead.phone else ""),
        line(_("Website"), lead.website),
        line(_("Address"), address),
        line(_("Source"), lead.get_source_display()),
        line(_("Estimated value"), value),
        line(_("Owner"), str(lead.owner)),
    ]
    text = "\n".join(x for x in lines if x)
    if lead.description:
        text += "\n\n" + _("Notes") + ":\n" + lead.description
    changes = selectors.lead_history(lead, actor, limit=500)
    if changes:
        text += "\n\n" + _("History of the lead") + ":"
        for change in reversed(changes):
            when = date_format(timezone.localtime(change.at), "SHORT_DATETIME_FORMAT")
            who = str(change.actor) if change.actor else _("system")
            text += f"\n- {when} {who}: {change.get_action_display()}"
            for item in change.lines:
                text += f"\n    {item.label}: {item.old or '–'} → {item.new or '–'}"
    return text[:100_000]


def lead_convert(
    *, actor: User, lead_id: int, data: dict[str, Any], version: Any = None
) -> Conversion:
    """Turn a lead into an account (existing: ``account_id``, or new), a contact (existing:
    ``contact_id``, or new; none for a lead without a person) and, given ``opportunity``
    (an object, possibly empty), an opportunity. Similar accounts and contacts with the same
    email or phone must be linked or deliberately ignored (``create_anyway``), else
    :class:`DuplicatesFound`. One transaction: the lead becomes "converted" and points to what
    it became; its data and history go to the new records' timeline as a note."""
    permissions.require(actor, "edit", "lead")
    if not isinstance(data, dict):
        raise ValidationFailed({"": [_("Expected an object.")]})
    with transaction.atomic():
        lead = _lead_for_edit(actor, lead_id)
        check_version(lead, version if version is not None else data.get("version"))
        data = {k: v for k, v in data.items() if k != "version"}
        if lead.status == LeadStatus.CONVERTED:
            when = date_format(timezone.localtime(lead.converted_at), "SHORT_DATETIME_FORMAT")
            raise ValidationFailed(
                {"status": [_("This lead was converted already (%(when)s).") % {"when": when}]},
                message=_("This lead was converted already."),
            )
        if lead.status == LeadStatus.DISQUALIFIED:
            raise ValidationFailed(
                {"status": [_("A disqualified lead cannot be converted; reopen it first.")]}
            )
        c = Cleaner()
        for key in data:
            if key not in CONVERT_FIELDS:
                c.add(key, _("Unknown field."))
        account_id = c.integer("account_id", data.get("account_id"), minimum=1, maximum=2**63 - 1)
        contact_id = c.integer("contact_id", data.get("contact_id"), minimum=1, maximum=2**63 - 1)
        create_anyway = c.boolean("create_anyway", data.get("create_anyway"))
        account_name = c.text("account_name", data.get("account_name"), max_length=200)
        opportunity_values = _clean_opportunity(c, data.get("opportunity"), lead)
        account = contact = None
        has_person = bool(lead.first_name or lead.last_name)
        if account_id is not None:
            account = contact_selectors.accounts_visible_to(actor).filter(pk=account_id).first()
            if account is None:
                c.add("account_id", _("Select an account you can see."))
            elif (
                not has_person
                and contact_id is None
                and not (
                    permissions.can(actor, "edit", "account")
                    and contact_selectors.accounts_visible_to(actor, for_edit=True)
                    .filter(pk=account.pk)
                    .exists()
                )
            ):
                c.add("account_id", _("You may not change this account."))
        if contact_id is not None:
            visible = contact_selectors.contacts_visible_to(actor)
            contact = visible.filter(pk=contact_id).first()
            if contact is None:
                c.add("contact_id", _("Select a contact you can see."))
            elif not contact_selectors.contacts_visible_to(actor, for_edit=True).filter(
                pk=contact.pk
            ).exists() or not permissions.can(actor, "edit", "contact"):
                c.add("contact_id", _("You may not change this contact."))
                contact = None
        new_contact = contact_id is None and has_person
        if new_contact and not lead.last_name:
            c.add("last_name", _("Enter the lead's last name before converting it."))
        if account_id is None and not (account_name or lead.company_name):
            c.add("account_name", _("Enter a name for the new account or choose an account."))
        duplicate_fields: dict[str, list[str]] = {}
        duplicates = None
        if not create_anyway and (account_id is None or new_contact):
            duplicates = selectors.duplicates_of(actor, lead)
            if account_id is None and duplicates.accounts:
                duplicate_fields["account_id"] = [
                    _("Similar accounts exist: %(names)s. Link one, or create a new account "
                      "anyway.") % {"names": _names(duplicates.accounts)}
                ]  # fmt: skip
            if new_contact and duplicates.contacts:
                duplicate_fields["contact_id"] = [
                    _("Contacts with the same email or phone number exist: %(names)s. Link "
                      "one, or create a new contact anyway.")
                    % {"names": _names(duplicates.contacts)}
                ]  # fmt: skip
        if duplicate_fields and duplicates is not None:
            for key, messages in c.errors.items():
                duplicate_fields.setdefault(key, []).extend(messages)
            raise DuplicatesFound(duplicate_fields, duplicates.as_dict())
        c.raise_if_invalid()

        ownership = _may_own(actor, lead)
        if account is None:
            try:
                account = contact_services.account_create(
                    actor=actor,
                    data={
                        "name": account_name or lead.company_name,
                        "website": lead.website,
                        "industry_code": lead.industry_code,
                        "addresses": _lead_address(lead),
                        **ownership,
                    },
                )
            except ValidationFailed as exc:
                raise _prefixed("account", exc) from None
        if new_contact:
            try:
                contact = contact_services.contact_create(
                    actor=actor,
                    data={
                        "salutation": lead.salutation,
                        "first_name": lead.first_name,
                        "last_name": lead.last_name,
                        "job_title": lead.job_title,
                        "description": lead.description,
                        "emails": [{"address": lead.email}] if lead.email else [],
                        "phones": [{"number": lead.phone}] if lead.phone else [],
                        "addresses": _lead_address(lead),
                        "account_links": [{"account_id": account.pk}],
                        **ownership,
                    },
                )
            except ValidationFailed as exc:
                raise _prefixed("contact", exc) from None
        elif contact is not None:
            _complete_contact(actor, contact, lead, account)
        opportunity = None
        if opportunity_values is not None:
            opportunity = _opportunity_create(
                actor, lead=lead, account=account, contact=contact,
                values=opportunity_values, ownership=ownership,
            )  # fmt: skip
        contact_services.timeline_entry_create(
            actor=actor,
            data={
                "kind": "note",
                "subject": (_("Converted from lead: %(lead)s") % {"lead": lead_title(lead)})[:300],
                "body": _summary(lead, actor),
                "account_id": account.pk,
                "contact_id": contact.pk if contact is not None else None,
            },
        )
        before = lead_snapshot(lead)
        now = timezone.now()
        lead.status = LeadStatus.CONVERTED
        lead.converted_at = now
        lead.converted_by = actor
        lead.converted_account = account
        lead.converted_contact = contact
        lead.converted_opportunity = opportunity
        lead.last_activity_at = now
        lead.updated_at = now
        lead.version += 1
        lead.save()
        history.record_change(
            entity="lead",
            object_id=lead.pk,
            action=ChangeAction.UPDATE,
            actor=actor,
            before=before,
            after=lead_snapshot(lead),
        )
        _index_lead(lead)
    return Conversion(lead=lead, account=account, contact=contact, opportunity=opportunity)


def _lead_address(lead: Lead) -> list[dict[str, str]]:
    if not (lead.street or lead.postal_code or lead.city):
        return []
    return [
        {
            "street": lead.street,
            "postal_code": lead.postal_code,
            "city": lead.city,
            "country": lead.country or "DE",
        }
    ]


def _complete_contact(actor: User, contact: Contact, lead: Lead, account: Account) -> None:
    """A linked contact gets the account link and the lead's email and phone it lacks."""
    contact = contact_selectors.contact_detail(actor, contact.pk)
    data: dict[str, Any] = {}
    links = [{"account_id": link.account_id, "role": link.role}
             for link in contact.account_links.all()]  # fmt: skip
    if all(link["account_id"] != account.pk for link in links):
        data["account_links"] = [*links, {"account_id": account.pk, "role": ""}]
    emails = [{"address": e.address, "kind": e.kind} for e in contact.emails.all()]
    if lead.email and all(e["address"].casefold() != lead.email.casefold() for e in emails):
        data["emails"] = [*emails, {"address": lead.email, "kind": "work"}]
    phones = [
        {"number": p.number, "kind": p.kind}
        for p in sensitive.visible_phones(actor, "contact", contact.phones.all())
    ]
    if lead.phone and all(p.number != lead.phone for p in contact.phones.all()):
        data["phones"] = [*phones, {"number": lead.phone, "kind": "work"}]
    if data:
        try:
            contact_services.contact_update(actor=actor, contact_id=contact.pk, data=data)
        except ValidationFailed as exc:
            raise _prefixed("contact", exc) from None


# --- import ---------------------------------------------------------------------------------

HEADER_ALIASES = {
    "company": "company_name",
    "firma": "company_name",
    "unternehmen": "company_name",
    "firmenname": "company_name",
    "vorname": "first_name",
    "nachname": "last_name",
    "name": "last_name",
    "anrede": "salutation",
    "position": "job_title",
    "funktion": "job_title",
    "mail": "email",
    "e_mail": "email",
    "e_mail_adresse": "email",
    "tel": "phone",
    "telefon": "phone",
    "telefonnummer": "phone",
    "mobil": "phone",
    "webseite": "website",
    "homepage": "website",
    "strasse": "street",
    "straße": "street",
    "plz": "postal_code",
    "zip": "postal_code",
    "zip_code": "postal_code",
    "postcode": "postal_code",
    "ort": "city",
    "stadt": "city",
    "land": "country",
    "branche": "industry_code",
    "wz": "industry_code",
    "quelle": "source",
    "herkunft": "source",
    "grund": "disqualify_reason",
    "wert": "estimated_value",
    "value": "estimated_value",
    "währung": "currency",
    "beschreibung": "description",
    "notizen": "description",
    "notes": "description",
    "besitzer": "owner",
    "inhaber": "owner",
}
CHOICES = {"salutation": Salutation, "source": LeadSource, "status": LeadStatus}
# Words people write in German files besides the choices' labels (which are also understood
# in English and German).
CHOICE_ALIASES = {
    "status": {"neu": "new", "kontaktiert": "contacted", "qualifiziert": "qualified",
               "disqualifiziert": "disqualified", "konvertiert": "converted"},
    "source": {"webseite": "web", "internet": "web", "messe": "fair", "empfehlung": "referral",
               "kampagne": "campaign", "kaltakquise": "cold_call", "e-mail": "email",
               "telefon": "phone", "anruf": "phone", "sonstige": "other", "andere": "other"},
    "salutation": {"herr": "mr", "frau": "ms", "divers": "mx"},
}  # fmt: skip
_PATH_COLUMNS = {"owner_id": "owner", "team_id": "team"}


def map_headers(header: list[Any], user: User | None = None) -> tuple[dict[int, str], list[str]]:
    """Which file column feeds which field (by key, English or German label or a common
    alias), and the headers that are not imported."""
    from django.utils import translation

    names: dict[str, str] = {}
    columns = selectors.lead_columns(user)
    export_only = set()
    for column in columns:
        if not column.importable:
            export_only.add(transfer._normal(column.key))
            continue
        names.setdefault(transfer._normal(column.key), column.key)
        for language in ("en", "de"):
            with translation.override(language):
                names.setdefault(transfer._normal(str(column.label)), column.key)
    definitions = definitions_for("lead")
    if user is not None:
        definitions = sensitive.visible_definitions(user, "lead", definitions)
    for definition in definitions:
        if definition.label_de:
            names.setdefault(transfer._normal(definition.label_de), f"cf_{definition.key}")
    for alias, key in HEADER_ALIASES.items():
        names.setdefault(alias, key)
    mapping: dict[int, str] = {}
    ignored: list[str] = []
    for index, title in enumerate(header):
        key = names.get(transfer._normal(title))
        if key and key not in mapping.values():
            mapping[index] = key
        elif transfer._text(title).strip() and transfer._normal(title) not in export_only:
            ignored.append(transfer._text(title).strip())
    return mapping, ignored


def _row_data(
    values: dict[str, Any],
    existing: Lead | None,
    users: dict[str, int],
    teams: dict[str, int],
    definitions: dict[str, Any],
    problems: dict[str, list[str]],
) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for key in LEAD_FIELDS:
        if key not in values:
            continue
        raw = values[key]
        if key in CHOICES:
            text = transfer._text(raw).strip()
            raw = CHOICE_ALIASES[key].get(text.casefold()) or transfer._choice(CHOICES[key], text)
        else:
            raw = transfer._text(raw).strip()
        data[key] = raw
    if existing is not None:
        current = {
            "owner": existing.owner.email if existing.owner_id else "",
            "team": existing.team.name if existing.team_id else "",
        }
        for key, value in current.items():
            if key in values and transfer._text(values[key]).strip().casefold() == value.casefold():
                del values[key]
    if "owner" in values:
        email = transfer._text(values["owner"]).strip().casefold()
        if email and email not in users:
            problems.setdefault("owner", []).append(_("There is no active user with this email."))
        data["owner_id"] = users.get(email) if email else None
    if "team" in values:
        name = transfer._text(values["team"]).strip().casefold()
        if name and name not in teams:
            problems.setdefault("team", []).append(_("There is no team with this name."))
        data["team_id"] = teams.get(name) if name else None
    custom = {
        key[3:]: transfer._custom_value(definitions[key[3:]], raw)
        for key, raw in values.items()
        if key.startswith("cf_") and key[3:] in definitions
    }
    if custom:
        data["custom"] = custom
    if existing is None:
        data = {k: v for k, v in data.items() if v not in ("", None) or k == "owner_id"}
        if data.get("owner_id") is None:
            data.pop("owner_id", None)  # no owner in the file: the assignment rules decide
    return data


def import_table(
    *, actor: User, table: list[list[Any]], dry_run: bool = False
) -> transfer.ImportResult:
    """Import the rows of ``table`` (header first): a row with an ``id`` updates that lead,
    others create leads (the assignment rules give them an owner when the file names none).
    All or nothing: any error in any row and nothing is saved; every error is reported with
    its row (the header is row 1) and column."""
    permissions.require(actor, "import", "lead")
    mapping, ignored = map_headers(table[0], actor)
    result = transfer.ImportResult(ignored_columns=ignored, dry_run=dry_run)
    if not any(key != "id" for key in mapping.values()):
        raise transfer.FileProblem(
            _("No column of the file matches a field; see the list of columns.")
        )
    definitions = {d.key: d for d in definitions_for("lead")}
    users = {u.email.casefold(): u.pk for u in User.objects.filter(is_active=True)}
    teams = {t.name.casefold(): t.pk for t in Team.objects.all()}
    visible = selectors.leads_visible_to(actor).select_related("owner", "team")
    with transaction.atomic():
        for line, cells in enumerate(table[1:], start=2):
            if transfer._blank(cells):
                continue
            values = {
                key: transfer._undefused(cells[i]) if i < len(cells) else ""
                for i, key in mapping.items()
            }
            problems: dict[str, list[str]] = {}
            existing = None
            raw_id = transfer._text(values.pop("id", "")).strip().removesuffix(".0")
            if raw_id:
                existing = (
                    visible.filter(pk=int(raw_id)).first()
                    if raw_id.isdigit() and len(raw_id) < 19
                    else None
                )
                if existing is None:
                    problems["id"] = [_("There is no lead with this ID that you can see.")]
            data = _row_data(values, existing, users, teams, definitions, problems)
            if not problems:
                try:
                    with transaction.atomic():
                        if existing is None:
                            lead_create(actor=actor, data=data)
                            result.created += 1
                        else:
                            lead_update(actor=actor, lead_id=existing.pk, data=data)
                            result.updated += 1
                except ValidationFailed as exc:
                    for path, messages in exc.fields.items():
                        column = _PATH_COLUMNS.get(path) or (
                            "cf_" + path.removeprefix("custom.")
                            if path.startswith("custom.")
                            else path or "row"
                        )
                        problems.setdefault(column, []).extend(messages)
                except NotFound:
                    problems["id"] = [_("This record cannot be changed by you.")]
                except Forbidden as exc:
                    problems["id"] = [exc.message]
            for column, messages in problems.items():
                result.errors.append(transfer.RowError(line, column, messages))
        if result.errors or dry_run:
            transaction.set_rollback(True)
    if result.errors:
        result.created = result.updated = 0
    return result
