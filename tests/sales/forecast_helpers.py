"""Small factories for the forecast and analysis tests: deals with known amounts, dates and
stage histories, written straight to the models (the reports only read them), and the known
data set the exact-number tests use."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from farley.contacts.models import Account
from farley.core.models import Team, User
from farley.sales.models import (
    LossReason,
    Opportunity,
    Pipeline,
    SalesTarget,
    Stage,
    StageChange,
    StageKind,
)
from tests.factories import make_account, make_user

BERLIN = ZoneInfo("Europe/Berlin")
D = Decimal


def at(day: str, time: str = "12:00") -> dt.datetime:
    """A moment in Farley's time zone: at("2025-02-01", "00:30")."""
    return dt.datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=BERLIN)


def stage(name: str, pipeline: Pipeline | None = None) -> Stage:
    pipeline = pipeline or Pipeline.objects.get(name="Sales")
    return Stage.objects.get(pipeline=pipeline, name=name)


def make_pipeline(name: str, stages: list[tuple[str, int, str]]) -> Pipeline:
    pipeline = Pipeline.objects.create(name=name, order=50)
    for order, (stage_name, probability, kind) in enumerate(stages, start=1):
        Stage.objects.create(
            pipeline=pipeline, name=stage_name, order=order * 10, probability=probability, kind=kind
        )
    return pipeline


def deal(
    owner: User,
    in_stage: Stage,
    amount: str,
    *,
    team: Team | str | None = "owner",
    currency: str = "EUR",
    close: str | None = None,
    closed_at: dt.datetime | None = None,
    created_at: dt.datetime | None = None,
    probability: int | None = None,
    competitor: str = "",
    loss_reason: str | None = None,
    deleted: bool = False,
    name: str = "",
) -> Opportunity:
    """A deal in ``in_stage``; ``team`` defaults to the owner's first team."""
    if team == "owner":
        team = owner.teams.order_by("pk").first()
    account = Account.objects.filter(owner=owner).first() or make_account(owner)
    now = created_at or at("2025-01-01", "09:00")
    return Opportunity.objects.create(
        name=name or f"Deal {Opportunity.objects.count() + 1}",
        account=account,
        pipeline=in_stage.pipeline,
        stage=in_stage,
        amount=D(amount),
        currency=currency,
        expected_close_date=dt.date.fromisoformat(close) if close else None,
        probability_override=probability,
        probability=in_stage.probability if probability is None else probability,
        competitor=competitor,
        loss_reason=LossReason.objects.get(name=loss_reason) if loss_reason else None,
        closed_at=closed_at,
        created_at=now,
        updated_at=now,
        stage_changed_at=now,
        owner=owner,
        team=team,
        deleted_at=now if deleted else None,
    )


def moves(opportunity: Opportunity, *steps: tuple[str, dt.datetime]) -> None:
    """The deal's stage history: each step enters the named stage (of its pipeline) at the
    given moment; the last one is the deal's stage now (won/lost set ``closed_at``)."""
    previous = None
    for stage_name, moment in steps:
        to = Stage.objects.get(pipeline=opportunity.pipeline, name=stage_name)
        StageChange.objects.create(
            opportunity=opportunity,
            from_stage=previous,
            to_stage=to,
            changed_at=moment,
            changed_by=opportunity.owner,
            amount=opportunity.amount,
        )
        previous = to
    opportunity.stage = previous
    opportunity.stage_changed_at = steps[-1][1]
    if previous.kind != StageKind.OPEN:
        opportunity.closed_at = steps[-1][1]
    opportunity.save()


def target(who: User | Team, month: str, amount: str, currency: str = "EUR") -> SalesTarget:
    field = "user" if isinstance(who, User) else "team"
    return SalesTarget.objects.create(
        **{field: who}, month=dt.date.fromisoformat(month + "-01"), amount=D(amount),
        currency=currency,
    )  # fmt: skip


@dataclass
class World:
    """The known data set: who is who, and the pipelines."""

    sales1: User  # team 1
    tom: User  # team 1
    sales2: User  # team 2
    team1: Team
    team2: Team
    service: Pipeline
    deals: dict[str, Opportunity]


def forecast_world(sales1: User, sales2: User, team1: Team, team2: Team) -> World:
    """Open, won and lost deals from December 2024 to July 2025 in EUR and USD, two
    pipelines, and targets per user and team (the numbers are in tests/sales/test_forecast_selectors.py)."""
    tom = make_user("sales", team1, full_name="Tom Team-One")
    service = make_pipeline(
        "Service", [("Open A", 20, "open"), ("Open B", 80, "open"), ("Done", 100, "won"),
                    ("Gone", 0, "lost")]
    )  # fmt: skip
    proposal, negotiation, qualification = (
        stage("Proposal"),
        stage("Negotiation"),
        stage("Qualification"),
    )
    won, lost = stage("Won"), stage("Lost")
    d: dict[str, Any] = {}
    d["o1"] = deal(sales1, proposal, "10000.00", close="2025-01-15")
    d["o2"] = deal(sales1, negotiation, "20000.00", close="2025-02-10")
    d["o3"] = deal(tom, qualification, "5000.00", close="2025-02-20")
    d["o4"] = deal(sales2, negotiation, "8000.00", close="2025-04-05", probability=90)
    d["o5"] = deal(sales2, proposal, "3333.33", close="2025-05-31")
    d["o6"] = deal(sales1, proposal, "7000.00", close="2025-03-01", currency="USD")
    d["o7"] = deal(sales1, proposal, "999.00", close="2025-07-01")
    d["o8"] = deal(sales1, proposal, "888.00")
    d["o9"] = deal(sales2, stage("Open B", service), "4000.00", close="2025-03-15")
    d["o10"] = deal(sales1, proposal, "1000.00", close="2025-01-20", deleted=True)
    d["w1"] = deal(sales1, won, "12000.00", close="2025-01-20", closed_at=at("2025-02-01", "00:30"))
    d["w2"] = deal(tom, won, "6000.00", closed_at=at("2025-04-10"))
    d["w3"] = deal(sales2, won, "9000.00", closed_at=at("2025-05-15"))
    d["w4"] = deal(sales2, won, "7777.00", closed_at=at("2024-12-31"))
    d["w5"] = deal(sales1, won, "2000.00", closed_at=at("2025-02-15"), currency="USD")
    d["l1"] = deal(sales1, lost, "15000.00", closed_at=at("2025-03-10"), loss_reason="Price")
    # Targets: team 1 has none of its own (its members' add up), team 2 has its own.
    for month in ("2025-01", "2025-02", "2025-03"):
        target(sales1, month, "10000")
    for month in ("2025-01", "2025-02", "2025-03", "2025-04"):
        target(tom, month, "5000")
    for month in ("2025-04", "2025-05", "2025-06"):
        target(team2, month, "20000")
    target(sales2, "2025-04", "8000")
    target(sales1, "2025-05", "1000", currency="USD")
    return World(sales1, tom, sales2, team1, team2, service, d)


def cycle_world(sales1: User, sales2: User) -> dict[str, Opportunity]:
    """Deals of the default pipeline with stage histories at known moments (2025)."""
    qualification = stage("Qualification")
    d: dict[str, Opportunity] = {}

    def new(owner: User, key: str, created: str, amount: str = "1000.00") -> Opportunity:
        d[key] = deal(owner, qualification, amount, created_at=at(created), close="2025-12-31")
        return d[key]

    moves(new(sales1, "d1", "2025-01-01"), ("Qualification", at("2025-01-01")),
          ("Needs analysis", at("2025-01-03")), ("Proposal", at("2025-01-08")),
          ("Won", at("2025-01-18")))  # fmt: skip
    moves(new(sales1, "d2", "2025-02-01"), ("Qualification", at("2025-02-01")),
          ("Needs analysis", at("2025-02-05")), ("Lost", at("2025-02-11")))  # fmt: skip
    moves(new(sales1, "d3", "2025-03-01"), ("Qualification", at("2025-03-01")),
          ("Proposal", at("2025-03-02")), ("Negotiation", at("2025-03-05")))  # fmt: skip
    moves(new(sales1, "d4", "2025-04-01"), ("Qualification", at("2025-04-01")))
    moves(new(sales1, "d5", "2025-05-01"), ("Qualification", at("2025-05-01")),
          ("Won", at("2025-05-10")))  # fmt: skip
    moves(new(sales2, "d6", "2025-06-01"), ("Qualification", at("2025-06-01")),
          ("Needs analysis", at("2025-06-21")))  # fmt: skip
    return d


def lost_world(sales1: User, sales2: User) -> dict[str, Opportunity]:
    """Lost deals of the first half of 2025 with reasons, competitors and the stage they were
    lost from."""
    qualification = stage("Qualification")
    d: dict[str, Opportunity] = {}

    def lost_from(owner: User, key: str, amount: str, previous: str, day: str, **kw: Any) -> None:
        start = at("2024-11-01")
        d[key] = deal(owner, qualification, amount, created_at=start, **kw)
        moves(d[key], (previous, start), ("Lost", at(day)))

    lost_from(sales1, "l1", "15000.00", "Proposal", "2025-03-10", loss_reason="Price",
              competitor="Acme")  # fmt: skip
    lost_from(sales2, "l2", "2500.00", "Negotiation", "2025-03-20", loss_reason="Competitor",
              competitor=" ACME ")  # fmt: skip
    lost_from(sales2, "l3", "1000.00", "Qualification", "2025-05-02", loss_reason="Price",
              currency="USD")  # fmt: skip
    d["l4"] = deal(sales1, stage("Lost"), "500.00", closed_at=at("2025-06-01"), competitor="Bolt")
    lost_from(sales1, "l5", "4000.00", "Proposal", "2024-12-01", loss_reason="Timing")
    return d
