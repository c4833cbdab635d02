"""Retention policies (GDPR storage limitation): contacts without activity for a while are
flagged for review or anonymised. Every run can be previewed first (:func:`affected`); a
policy marked automatic is applied once a day by the server (:func:`run_due`, started by
``farley serve``) or by ``farley apply-retention`` from cron."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from farley.contacts import privacy, selectors
from farley.contacts.models import Contact
from farley.core import history
from farley.core.errors import Forbidden, NotFound, ValidationFailed
from farley.core.models import ChangeAction, ChangeRecord, RetentionPolicy, Tag, User
from farley.core.validation import Cleaner
from farley.core.visibility import is_administrator

FLAG_TAG = "retention review"
# The list filters a policy may narrow its contacts by.
CRITERIA = {
    "status": _lazy("Status"),
    "tag": _lazy("Tag"),
    "country": _lazy("Country"),
    "postal_code": _lazy("Postal code starts with"),
    "city": _lazy("City"),
}


def _require_admin(actor: User | None) -> None:
    if actor is not None and not is_administrator(actor):
        raise Forbidden()


def affected(policy: RetentionPolicy) -> QuerySet[Contact]:
    """The contacts the policy applies to now: no activity (or, never any, created) before
    the cut-off, matching the criteria, not erased yet."""
    cutoff = timezone.now() - dt.timedelta(days=round(policy.inactive_months * 30.44))
    erased = ChangeRecord.objects.filter(entity="contact", action=ChangeAction.ERASE).values(
        "object_id"
    )
    inactive = Q(last_interaction_at__lt=cutoff) | Q(
        last_interaction_at__isnull=True, created_at__lt=cutoff
    )
    contacts = Contact.objects.filter(inactive).exclude(pk__in=erased)
    if policy.action == RetentionPolicy.Action.FLAG:
        contacts = contacts.exclude(tags__name__iexact=FLAG_TAG)
    if policy.criteria:
        contacts = contacts.filter(selectors.criteria_q("contact", policy.criteria))
    return contacts.order_by("last_interaction_at", "pk")


def preview(policy: RetentionPolicy, *, limit: int = 50) -> tuple[int, list[Contact]]:
    """How many contacts a run would affect now, and the first ``limit`` of them."""
    contacts = affected(policy)
    return contacts.count(), list(contacts.select_related("primary_account")[:limit])


def save_policy(
    *, actor: User, data: dict[str, Any], policy: RetentionPolicy | None = None
) -> RetentionPolicy:
    _require_admin(actor)
    c = Cleaner()
    name = c.text("name", data.get("name"), max_length=120, required=True)
    months = c.integer("inactive_months", data.get("inactive_months"), minimum=1, maximum=1200)
    action = c.choice(
        "action", data.get("action") or RetentionPolicy.Action.FLAG, RetentionPolicy.Action.choices
    )
    automatic = c.boolean("automatic", data.get("automatic"))
    raw = data.get("criteria") or {}
    if not isinstance(raw, dict):
        c.add("criteria", _("Invalid value."))
        raw = {}
    for key in set(raw) - set(CRITERIA):
        c.add(f"criteria.{key}", _("Unknown field."))
    criteria = {
        k: c.text(f"criteria.{k}", v, max_length=100)
        for k, v in raw.items()
        if k in CRITERIA and str(v or "").strip()
    }
    if "country" in criteria:
        criteria["country"] = c.country("criteria.country", criteria["country"])
    try:
        selectors.criteria_q("contact", criteria)
    except ValidationFailed as exc:
        for key, messages in exc.fields.items():
            for message in messages:
                c.add(f"criteria.{key}", message)
    if months is None and "inactive_months" not in c.errors:
        c.add("inactive_months", _("This field is required."))
    c.raise_if_invalid()
    created = policy is None
    policy = policy or RetentionPolicy()
    before = snapshot(policy)
    policy.name, policy.inactive_months, policy.action = name, months, action
    policy.automatic, policy.criteria = automatic, criteria
    with transaction.atomic():
        policy.save()
        history.record_change(
            entity="retention_policy", object_id=policy.pk,
            action=ChangeAction.CREATE if created else ChangeAction.UPDATE, actor=actor,
            before=before, after=snapshot(policy),
        )  # fmt: skip
    return policy


def snapshot(policy: RetentionPolicy) -> dict[str, Any]:
    fields = ("name", "inactive_months", "action", "automatic", "criteria")
    return {f: getattr(policy, f) for f in fields}


def run(*, actor: User | None, policy: RetentionPolicy) -> int:
    """Apply the policy to the contacts it affects now; returns how many."""
    _require_admin(actor)
    ids = list(affected(policy).values_list("pk", flat=True))
    with transaction.atomic():
        if policy.action == RetentionPolicy.Action.ANONYMISE:
            for contact_id in ids:
                privacy.erase(actor=actor, contact_id=contact_id)
        else:
            tag = Tag.objects.filter(name__iexact=FLAG_TAG).first() or Tag.objects.create(
                name=FLAG_TAG
            )
            link = Contact.tags.through
            link.objects.bulk_create(
                [link(contact_id=pk, tag_id=tag.pk) for pk in ids], ignore_conflicts=True
            )
        policy.last_run_at = timezone.now()
        policy.last_run_count = len(ids)
        policy.save(update_fields=["last_run_at", "last_run_count"])
        history.record_change(
            entity="retention_policy", object_id=policy.pk, action=ChangeAction.UPDATE,
            actor=actor, after={"run": policy.action, "contacts": len(ids)},
        )  # fmt: skip
    return len(ids)


def delete_policy(*, actor: User, policy: RetentionPolicy) -> None:
    _require_admin(actor)
    with transaction.atomic():
        history.record_change(
            entity="retention_policy", object_id=policy.pk, action=ChangeAction.DELETE,
            actor=actor, before={"name": policy.name},
        )  # fmt: skip
        policy.delete()


def run_automatic() -> dict[str, int]:
    """Apply every automatic policy now; ``{policy name: contacts}``."""
    return {
        p.name: run(actor=None, policy=p) for p in RetentionPolicy.objects.filter(automatic=True)
    }


def run_due(*, every: dt.timedelta = dt.timedelta(days=1)) -> dict[str, int]:
    """Apply the automatic policies that have not run for a day (the server calls this
    hourly, so a restart never skips a day)."""
    due = RetentionPolicy.objects.filter(automatic=True).filter(
        Q(last_run_at__isnull=True) | Q(last_run_at__lt=timezone.now() - every)
    )
    return {p.name: run(actor=None, policy=p) for p in due}


def get_policy(*, actor: User, policy_id: int) -> RetentionPolicy:
    _require_admin(actor)
    policy = RetentionPolicy.objects.filter(pk=policy_id).first()
    if policy is None:
        raise NotFound()
    return policy


def policies(*, actor: User) -> QuerySet[RetentionPolicy]:
    _require_admin(actor)
    return RetentionPolicy.objects.all()


def update_policy(*, actor: User, policy: RetentionPolicy, data: dict[str, Any]) -> RetentionPolicy:
    """Change some fields of a policy; the others keep their values."""
    return save_policy(actor=actor, data={**snapshot(policy), **data}, policy=policy)
