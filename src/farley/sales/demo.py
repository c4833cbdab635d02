"""Sales demo data for ``farley demo-data``: products, a partner price list, leads in every
status, deals across the default pipeline (with won and lost ones over the past year),
quotes (drafts, sent, accepted) with their orders, and this quarter's targets. Everything
goes through the services, so history, search and totals are what users get; only the dates
of closed deals and stage changes are moved into the past afterwards."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

from django.test.utils import override_settings
from django.utils import timezone

from farley.contacts.models import Account
from farley.contacts.selectors import contacts_visible_to
from farley.core.models import User
from farley.sales.models import (
    LeadSource,
    LossReason,
    Opportunity,
    Pipeline,
    StageChange,
    StageKind,
)
from farley.sales.services import catalogue, forecast, leads, opportunities, orders, quotes

PRODUCTS = [
    # sku, name, unit, price, tax rate, service
    ("CRM-LIZ", "CRM-Lizenz (Jahr, je Benutzer)", "license", "480.00", "19", False),
    ("CRM-CLOUD", "Cloud-Betrieb (Monat)", "month", "290.00", "19", True),
    ("BER-TAG", "Beratung (Tagessatz)", "day", "1150.00", "19", True),
    ("BER-STD", "Beratung (Stunde)", "hour", "160.00", "19", True),
    ("SCH-WS", "Schulung Workshop (Tag)", "day", "1450.00", "19", True),
    ("SUP-GOLD", "Supportvertrag Gold (Jahr)", "year", "3600.00", "19", True),
    ("SUP-SILBER", "Supportvertrag Silber (Jahr)", "year", "1800.00", "19", True),
    ("HW-SCAN", "Visitenkarten-Scanner", "piece", "249.00", "19", False),
    ("BUCH-CRM", "Fachbuch „CRM in der Praxis“", "piece", "39.90", "7", False),
    ("MIG-PAK", "Datenmigration Paket", "flat", "2900.00", "19", True),
]
DEAL_NAMES = [
    "CRM-Einführung", "Supportverlängerung", "Schulungspaket", "Cloud-Umstieg",
    "Lizenzerweiterung", "Datenmigration", "Rollout Vertrieb", "Servicepaket Premium",
]  # fmt: skip
COMPETITORS = ["Salesforce", "HubSpot", "Odoo", "SuiteCRM", ""]


def _products(admin: User) -> list[Any]:
    made = []
    for sku, name, unit, price, tax, service in PRODUCTS:
        made.append(
            catalogue.product_create(
                actor=admin,
                data={
                    "sku": sku,
                    "name": name,
                    "unit": unit,
                    "list_price": price,
                    "tax_rate": tax,
                    "is_service": service,
                },
            )
        )
    catalogue.price_list_create(
        actor=admin,
        data={"name": "Partner", "currency": "EUR", "customer_group": "Partner",
              "items": [{"product_id": p.pk, "unit_price": str((p.list_price * Decimal("0.85")).quantize(Decimal("0.01")))}
                        for p in made]},
    )  # fmt: skip
    return made


def _lines(rng: random.Random, products: list[Any]) -> list[dict[str, Any]]:
    return [
        {"product_id": p.pk, "quantity": str(rng.choice([1, 2, 3, 5, 10, 20])),
         "discount_percent": str(rng.choice([0, 0, 0, 5, 10]))}
        for p in rng.sample(products, rng.randint(1, 3))
    ]  # fmt: skip


def _backdate(opportunity: Opportunity, created: dt.datetime, closed: dt.datetime | None) -> None:
    """Spread a deal's life over the past instead of today (demo only)."""
    changes = list(StageChange.objects.filter(opportunity=opportunity).order_by("changed_at", "id"))
    span = ((closed or timezone.now()) - created) / max(1, len(changes))
    for i, change in enumerate(changes):
        StageChange.objects.filter(pk=change.pk).update(changed_at=created + span * i)
    Opportunity.objects.filter(pk=opportunity.pk).update(
        created_at=created, closed_at=closed, stage_changed_at=created + span * (len(changes) - 1),
        last_activity_at=closed or created + span * (len(changes) - 1),
    )  # fmt: skip


def generate(
    *, rng: random.Random, admin: User, owners: list[User], accounts: list[Account], fake: Any
) -> dict[str, int]:
    counts = {"leads": 0, "deals": 0, "quotes": 0, "orders": 0}
    if not accounts:
        return counts
    products = _products(admin)
    now = timezone.now()
    # Leads -------------------------------------------------------------------------------
    statuses = ["new", "new", "contacted", "contacted", "qualified", "disqualified"]
    for _i in range(max(6, len(accounts) // 2)):
        status = rng.choice(statuses)
        owner = rng.choice(owners)
        data = {
            "company_name": fake.company(), "first_name": fake.first_name(),
            "last_name": fake.last_name(), "email": fake.email(), "city": fake.city(),
            "postal_code": fake.postcode(), "country": "DE", "job_title": fake.job()[:120],
            "source": rng.choice(LeadSource.values), "status": status, "owner_id": owner.pk,
            "estimated_value": str(rng.randint(2, 80) * 500),
        }  # fmt: skip
        if status == "disqualified":
            data["disqualify_reason"] = rng.choice(
                ["Kein Budget", "Falsche Zielgruppe", "Nur Student"]
            )
        leads.lead_create(actor=owner, data=data)
        counts["leads"] += 1
    # Deals -------------------------------------------------------------------------------
    pipeline = Pipeline.objects.get(is_default=True)
    stages = list(pipeline.stages.order_by("order", "pk"))
    open_stages = [s for s in stages if s.kind == StageKind.OPEN]
    won = next(s for s in stages if s.kind == StageKind.WON)
    lost = next(s for s in stages if s.kind == StageKind.LOST)
    reasons = list(LossReason.objects.filter(active=True))
    deals: list[Opportunity] = []
    for account in rng.sample(accounts, max(1, len(accounts) * 2 // 3)):
        owner = User.objects.get(pk=account.owner_id) if account.owner_id else admin
        contact = contacts_visible_to(owner).filter(primary_account=account).first()
        outcome = rng.choices(["open", "won", "lost"], weights=[55, 30, 15])[0]
        created = now - dt.timedelta(days=rng.randint(20, 330))
        close_date = (created + dt.timedelta(days=rng.randint(30, 150))).date()
        if outcome == "open" and close_date < now.date():
            close_date = now.date() + dt.timedelta(days=rng.randint(5, 120))
        deal = opportunities.opportunity_create(
            actor=owner,
            data={"name": f"{rng.choice(DEAL_NAMES)} {account.name.split()[0]}"[:200],
                  "account_id": account.pk, "pipeline_id": pipeline.pk, "stage_id": open_stages[0].pk,
                  "expected_close_date": close_date.isoformat(), "lines": _lines(rng, products),
                  "next_step": rng.choice(["Termin vereinbaren", "Angebot nachfassen", "Demo zeigen", ""]),
                  "contacts": [{"contact_id": contact.pk, "role": "decision_maker"}] if contact else []},
        )  # fmt: skip
        target = {"open": rng.choice(open_stages), "won": won, "lost": lost}[outcome]
        path = [s for s in open_stages[1:] if s.order <= target.order] if outcome == "open" else (
            open_stages[1 : rng.randint(1, len(open_stages))]
        )  # fmt: skip
        if outcome != "open":
            path.append(target)
        for stage in path:
            move: dict[str, Any] = {"stage_id": stage.pk}
            if stage == lost:
                move |= {
                    "loss_reason_id": rng.choice(reasons).pk,
                    "competitor": rng.choice(COMPETITORS),
                }
            deal = opportunities.opportunity_move(
                actor=owner, opportunity_id=deal.pk, data=move, version=deal.version
            )
        closed = None
        if outcome != "open":
            closed = min(
                now - dt.timedelta(days=1), created + dt.timedelta(days=rng.randint(15, 120))
            )
        _backdate(deal, created, closed)
        deals.append(Opportunity.objects.get(pk=deal.pk))
        counts["deals"] += 1
    # Quotes and orders ---------------------------------------------------------------------
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
        for deal in deals:
            if deal.closed_at is None and deal.stage.order < open_stages[-2].order:
                continue
            owner = User.objects.get(pk=deal.owner_id)
            quote = quotes.quote_create(
                actor=owner,
                data={"opportunity_id": deal.pk, "account_id": deal.account_id,
                      "discount_percent": str(rng.choice([0, 0, 3, 5])),
                      "terms": "Zahlbar innerhalb von 14 Tagen ohne Abzug."},
            )  # fmt: skip
            counts["quotes"] += 1
            address = quotes.email_addresses(quote)
            # Sending renders the PDF: only the won deals' quotes and a few more are sent.
            if not address or (deal.stage.kind != StageKind.WON and rng.random() < 0.7):
                continue
            quote = quotes.quote_send(actor=owner, quote_id=quote.pk, to=address[0])
            if deal.stage.kind == StageKind.WON:
                _quote, order = quotes.quote_accept(actor=owner, quote_id=quote.pk)
                counts["orders"] += 1
                for status in ["confirmed", "delivered", "invoiced", "paid"][: rng.randint(0, 4)]:
                    order = orders.order_set_status(
                        actor=owner, order_id=order.pk, status=status, version=order.version
                    )
    # Targets for this quarter --------------------------------------------------------------
    first = now.date().replace(day=1)
    quarter_start = first.replace(month=(first.month - 1) // 3 * 3 + 1)
    for owner in {o.pk: o for o in owners}.values():
        for k in range(3):
            month = (quarter_start + dt.timedelta(days=32 * k)).replace(day=1)
            forecast.target_create(
                actor=admin,
                data={"user_id": owner.pk, "month": month.isoformat(), "amount": str(rng.randint(4, 12) * 5000)},
            )  # fmt: skip
    return counts
