"""Seed a sales benchmark database through the ORM's bulk inserts (run by bench/sales.py in
a child process with DATABASE_URL set): 100,000 opportunities (5,000 of them open in the
default pipeline, the rest closed there or in a second pipeline), one stage change each,
60,000 quotes with 300,000 lines, and one 50-line quote for the PDF. Prints a JSON line."""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import sys
import time
from decimal import Decimal

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "farley.settings")
django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from farley.contacts.models import Account  # noqa: E402
from farley.core.models import Role, Team, User  # noqa: E402
from farley.sales import money  # noqa: E402
from farley.sales.models import (  # noqa: E402
    Opportunity,
    Pipeline,
    Quote,
    QuoteLine,
    Stage,
    StageChange,
)

OPPORTUNITIES = int(os.environ.get("BENCH_OPPORTUNITIES", "100000"))
OPEN_IN_BOARD = int(os.environ.get("BENCH_OPEN_DEALS", "5000"))
QUOTES = int(os.environ.get("BENCH_QUOTES", "60000"))
LINES_PER_QUOTE = 5
BATCH = 5000


def bulk(model, rows) -> None:
    for start in range(0, len(rows), BATCH):
        model.objects.bulk_create(rows[start : start + BATCH])


def main() -> None:
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    rnd = random.Random(42)
    now = timezone.now()
    today = timezone.localdate()
    sales_role = Role.objects.get(key="sales")
    teams = [Team.objects.create(name=f"Vertrieb {i + 1}") for i in range(10)]
    users = User.objects.bulk_create(
        [
            User(
                email=f"verkauf{i}@bench.local",
                full_name=f"Verkauf {i}",
                role=sales_role,
                password="!",
            )
            for i in range(50)
        ]
    )
    users = list(User.objects.filter(email__endswith="@bench.local"))
    for i, user in enumerate(users):
        user.teams.add(teams[i % len(teams)])
    owners = [(u, teams[i % len(teams)]) for i, u in enumerate(users)]
    with transaction.atomic():
        accounts = [
            Account(name=f"Bench Firma {i} GmbH", customer_number=f"B{i:07d}", owner=owners[i % 50][0],
                    team=owners[i % 50][1], city="Berlin", postal_code=f"{10000 + i % 9000}", country="DE")
            for i in range(20000)
        ]  # fmt: skip
        bulk(Account, accounts)
    account_ids = list(Account.objects.values_list("pk", flat=True))
    board = Pipeline.objects.get(is_default=True)
    other = Pipeline.objects.create(name="Bestandskunden", order=20)
    for stage in Stage.objects.filter(pipeline=board):
        Stage.objects.create(pipeline=other, name=stage.name, name_de=stage.name_de,
                             order=stage.order, probability=stage.probability, kind=stage.kind)  # fmt: skip
    stages = {p.pk: list(Stage.objects.filter(pipeline=p)) for p in (board, other)}
    phases: dict[str, float] = {}
    t = time.perf_counter()
    with transaction.atomic():
        rows = []
        for i in range(OPPORTUNITIES):
            pipeline = board if i < OPPORTUNITIES // 5 else other
            ladder = stages[pipeline.pk]
            open_stages = [s for s in ladder if s.kind == "open"]
            closed = [s for s in ladder if s.kind != "open"]
            is_open = i < OPEN_IN_BOARD or (pipeline is other and i % 4 == 0)
            stage = rnd.choice(open_stages) if is_open else rnd.choice(closed)
            owner, team = owners[i % 50]
            created = now - dt.timedelta(days=rnd.randint(1, 700))
            rows.append(Opportunity(
                name=f"Deal {i}", account_id=account_ids[i % len(account_ids)], pipeline=pipeline,
                stage=stage, amount=Decimal(rnd.randint(500, 250000)), currency="EUR",
                expected_close_date=today + dt.timedelta(days=rnd.randint(-180, 360)),
                probability=stage.probability, owner=owner, team=team, created_at=created,
                updated_at=created, stage_changed_at=created, board_rank=float(i),
                closed_at=None if is_open else created + dt.timedelta(days=rnd.randint(5, 120)),
                last_activity_at=created,
            ))  # fmt: skip
        bulk(Opportunity, rows)
    phases["opportunities"] = time.perf_counter() - t
    t = time.perf_counter()
    with transaction.atomic():
        changes = [
            StageChange(
                opportunity_id=pk,
                from_stage=None,
                to_stage_id=stage_id,
                changed_at=created,
                amount=amount,
            )
            for pk, stage_id, created, amount in Opportunity.objects.values_list(
                "pk", "stage_id", "created_at", "amount"
            ).iterator(chunk_size=5000)
        ]
        bulk(StageChange, changes)
    phases["stage changes"] = time.perf_counter() - t
    t = time.perf_counter()
    admin = User.objects.get(email=os.environ["BENCH_ADMIN_EMAIL"])
    with transaction.atomic():
        quotes = [
            Quote(number=f"AN-B-{i:06d}", account_id=account_ids[i % len(account_ids)], currency="EUR",
                  valid_until=today + dt.timedelta(days=30), owner=owners[i % 50][0],
                  team=owners[i % 50][1], net_total=Decimal("1000.00"), tax_total=Decimal("190.00"),
                  gross_total=Decimal("1190.00"))
            for i in range(QUOTES)
        ]  # fmt: skip
        bulk(Quote, quotes)
        quote_ids = list(Quote.objects.values_list("pk", flat=True))
        lines = [
            QuoteLine(quote_id=qid, position=p + 1, description=f"Leistung {p + 1}",
                      quantity=Decimal("2"), unit_price=Decimal("100.00"), net_amount=Decimal("200.00"))
            for qid in quote_ids for p in range(LINES_PER_QUOTE)
        ]  # fmt: skip
        bulk(QuoteLine, lines)
        big = Quote.objects.create(
            number="AN-B-PDF", account_id=account_ids[0], currency="EUR", title="Rahmenangebot",
            valid_until=today + dt.timedelta(days=30), owner=admin, language="de",
        )  # fmt: skip
        big_lines = [
            QuoteLine(quote=big, position=p + 1, description=f"Position {p + 1}: Beratung und Umsetzung",
                      quantity=Decimal(p % 7 + 1), unit_price=Decimal("149.90"),
                      discount_percent=Decimal(p % 3 * 5), tax_rate="19" if p % 4 else "7")
            for p in range(50)
        ]  # fmt: skip
        result = money.totals([money.Line(ln.quantity, ln.unit_price, ln.tax_rate, ln.discount_percent)
                               for ln in big_lines])  # fmt: skip
        for ln, amount in zip(big_lines, result.line_amounts, strict=True):
            ln.net_amount = amount
        QuoteLine.objects.bulk_create(big_lines)
        big.net_total, big.tax_total, big.gross_total = (
            result.net_total,
            result.tax_total,
            result.gross_total,
        )
        big.save()
    phases["quotes"] = time.perf_counter() - t
    print(json.dumps({
        "seed_s": time.perf_counter() - started, "phases": phases, "board_pipeline": board.pk,
        "pdf_quote": big.pk, "counts": {
            "opportunities": Opportunity.objects.count(),
            "open in board": Opportunity.objects.filter(pipeline=board, closed_at__isnull=True).count(),
            "quotes": Quote.objects.count(), "quote lines": QuoteLine.objects.count(),
        },
    }))  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
