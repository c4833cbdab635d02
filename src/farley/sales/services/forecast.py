"""Writes of the forecast area: sales targets (a revenue target for a user or a team in a
month), for users who may *administer* the entity "opportunity" (administrators by default;
not through an API token limited to scopes, which covers records only).

A target belongs to exactly one user or one team and one month (stored as its first day);
there is at most one per user or team and month, whatever its currency (a second one is a
field error on ``month``). Every change is in the history (entity ``sales_target``).
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

from babel.numbers import list_currencies
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from farley.core import history
from farley.core.errors import Conflict, NotFound, ValidationFailed
from farley.core.models import ChangeAction, Team, User
from farley.core.validation import Cleaner
from farley.sales.models import SalesTarget
from farley.sales.selectors.forecast import require_target_manager

ENTITY = "sales_target"
CURRENCIES = frozenset(list_currencies())
FIELDS = {"user_id", "team_id", "month", "amount", "currency"}
MONTH = re.compile(r"(\d{4})-(\d{1,2})")
MAX_AMOUNT = Decimal("99999999999999.99")


def _require(actor: User) -> None:
    require_target_manager(actor)


def _clean_month(c: Cleaner, value: Any) -> dt.date | None:
    """ "2025-03" (or any day of the month, "2025-03-15", "15.03.2025") → 2025-03-01."""
    if value in (None, ""):
        c.add("month", _("This field is required."))
        return None
    if isinstance(value, dt.date):
        return value.replace(day=1)
    text = str(value).strip()
    match = MONTH.fullmatch(text)
    if match:
        year, month = int(match.group(1)), int(match.group(2))
        if 1900 <= year <= 2200 and 1 <= month <= 12:
            return dt.date(year, month, 1)
        c.add("month", _("Enter a month as YYYY-MM, e.g. 2025-03."))
        return None
    probe = Cleaner()
    day = probe.date("month", text)
    if day is None:
        c.add("month", _("Enter a month as YYYY-MM, e.g. 2025-03."))
        return None
    return day.replace(day=1)


def _clean_person(c: Cleaner, data: dict[str, Any]) -> tuple[User | None, Team | None]:
    user_raw, team_raw = data.get("user_id"), data.get("team_id")
    user = team = None
    if user_raw not in (None, "") and team_raw not in (None, ""):
        c.add("team_id", _("A target is for a user or for a team, not both."))
        return None, None
    if user_raw in (None, "") and team_raw in (None, ""):
        c.add("user_id", _("Choose a user or a team."))
        return None, None
    if user_raw not in (None, ""):
        pk = c.integer("user_id", user_raw, minimum=1, maximum=2**63 - 1)
        user = User.objects.filter(pk=pk).first() if pk is not None else None
        if user is None and "user_id" not in c.errors:
            c.add("user_id", _("Select a valid choice."))
    else:
        pk = c.integer("team_id", team_raw, minimum=1, maximum=2**63 - 1)
        team = Team.objects.filter(pk=pk).first() if pk is not None else None
        if team is None and "team_id" not in c.errors:
            c.add("team_id", _("Select a valid choice."))
    return user, team


def _clean_amount(c: Cleaner, value: Any) -> Decimal | None:
    if value in (None, ""):
        c.add("amount", _("This field is required."))
        return None
    if isinstance(value, float):
        value = str(value)
    amount = c.decimal("amount", value, max_digits=16, places=2, minimum=Decimal("0"))
    return amount


def _clean_currency(c: Cleaner, value: Any) -> str:
    text = c.text("currency", value if value not in (None, "") else "EUR", max_length=3)
    text = text.upper()
    if text and text not in CURRENCIES:
        c.add("currency", _("Enter a three-letter currency code (ISO 4217), e.g. EUR."))
    return text


def _duplicate(user: User | None, team: Team | None, month: dt.date, exclude: int | None) -> bool:
    others = SalesTarget.objects.filter(month=month)
    others = others.filter(user=user) if user is not None else others.filter(team=team)
    if exclude is not None:
        others = others.exclude(pk=exclude)
    return others.exists()


def _duplicate_message(user: User | None) -> str:
    if user is not None:
        return _("This user has a target for this month already.")
    return _("This team has a target for this month already.")


def _snapshot(target: SalesTarget) -> dict[str, Any]:
    return {
        "user": str(target.user) if target.user_id else None,
        "team": str(target.team) if target.team_id else None,
        "month": target.month.isoformat(),
        "amount": str(target.amount),
        "currency": target.currency,
    }


def _reject_unknown(c: Cleaner, data: dict[str, Any], allowed: set[str]) -> None:
    for key in sorted(set(data) - allowed):
        c.add(key, _("Unknown field."))


def target_create(*, actor: User, data: dict[str, Any]) -> SalesTarget:
    """Create a target: ``user_id`` or ``team_id``, ``month`` (YYYY-MM), ``amount`` (≥ 0),
    ``currency`` (default EUR)."""
    _require(actor)
    c = Cleaner()
    _reject_unknown(c, data, FIELDS)
    user, team = _clean_person(c, data)
    month = _clean_month(c, data.get("month"))
    amount = _clean_amount(c, data.get("amount"))
    currency = _clean_currency(c, data.get("currency"))
    if (user or team) and month and _duplicate(user, team, month, None):
        c.add("month", _duplicate_message(user))
    c.raise_if_invalid()
    try:
        with transaction.atomic():
            target = SalesTarget.objects.create(
                user=user, team=team, month=month, amount=amount, currency=currency
            )
            history.record_change(
                entity=ENTITY,
                object_id=target.pk,
                action=ChangeAction.CREATE,
                actor=actor,
                after=_snapshot(target),
            )
    except IntegrityError:  # the same target saved at the same moment by someone else
        raise ValidationFailed({"month": [_duplicate_message(user)]}) from None
    return target


def target_update(
    *, actor: User, target_id: int, data: dict[str, Any], version: Any = None
) -> SalesTarget:
    """Change the fields given; ``version`` (the one read) guards against lost updates."""
    _require(actor)
    try:
        with transaction.atomic():
            target = (
                SalesTarget.objects.select_for_update(of=("self",))
                .select_related("user", "team")
                .filter(pk=target_id)
                .first()
            )
            if target is None:
                raise NotFound()
            if version not in (None, ""):
                check = Cleaner()
                expected = check.integer("version", version, minimum=0)
                check.raise_if_invalid()
                if expected != target.version:
                    raise Conflict(current_version=target.version)
            c = Cleaner()
            _reject_unknown(c, data, FIELDS | {"version"})
            before = _snapshot(target)
            if "user_id" in data or "team_id" in data:
                user_raw = data.get("user_id", target.user_id)
                team_raw = data.get("team_id", target.team_id)
                # Naming only the other one moves the target to it.
                if data.get("user_id") not in (None, "") and "team_id" not in data:
                    team_raw = None
                if data.get("team_id") not in (None, "") and "user_id" not in data:
                    user_raw = None
                target.user, target.team = _clean_person(
                    c, {"user_id": user_raw, "team_id": team_raw}
                )
            if "month" in data:
                target.month = _clean_month(c, data.get("month")) or target.month
            if "amount" in data:
                amount = _clean_amount(c, data.get("amount"))
                if amount is not None:
                    target.amount = amount
            if "currency" in data:
                target.currency = _clean_currency(c, data.get("currency"))
            if (
                c.ok
                and (target.user_id or target.team_id)
                and _duplicate(target.user, target.team, target.month, target.pk)
            ):
                c.add("month", _duplicate_message(target.user))
            c.raise_if_invalid()
            after = _snapshot(target)
            if history.diff(before, after):
                target.version += 1
                target.updated_at = timezone.now()
                target.save()
                history.record_change(
                    entity=ENTITY,
                    object_id=target.pk,
                    action=ChangeAction.UPDATE,
                    actor=actor,
                    before=before,
                    after=after,
                )
    except IntegrityError:  # the same month saved at the same moment by someone else
        raise ValidationFailed(
            {"month": [_("There is a target for this month already.")]}
        ) from None
    return target


def target_delete(*, actor: User, target_id: int) -> None:
    _require(actor)
    with transaction.atomic():
        target = SalesTarget.objects.select_related("user", "team").filter(pk=target_id).first()
        if target is None:
            raise NotFound()
        history.record_change(
            entity=ENTITY,
            object_id=target.pk,
            action=ChangeAction.DELETE,
            actor=actor,
            before=_snapshot(target),
        )
        target.delete()
