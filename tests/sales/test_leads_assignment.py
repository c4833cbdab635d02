"""Lead-assignment rules: territory matching (countries, postal-code prefix ranges, industry
prefix, sources), round robin over the team's active members (also when leads arrive at the
same moment), territory owners, the order of the rules, "no rule matches: the creator owns
it", and the rules' own administration."""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest
from django.db import OperationalError, connection

from farley.core.errors import Forbidden, NotFound, ValidationFailed
from farley.core.history import history_for
from farley.sales.models import AssignmentRule, Lead
from farley.sales.services import leads as services
from tests.factories import TeamFactory, make_lead, make_user

pytestmark = pytest.mark.django_db


def rule(admin, **data):
    data.setdefault("name", f"Regel {AssignmentRule.objects.count() + 1}")
    data.setdefault("method", "round_robin")
    return services.rule_create(actor=admin, data=data)


def new_lead(actor, **data):
    """A lead captured without an owner: the rules decide."""
    return make_lead(actor, owner_id=None, **data)


@pytest.fixture
def inside(db):
    """A sales team of three (one of them deactivated) with a lead."""
    team = TeamFactory(name="Innendienst")
    members = [make_user("sales", team, full_name=f"Innen {i}") for i in range(3)]
    members[1].is_active = False
    members[1].save()
    team.lead = make_user("manager", team, full_name="Teamleiterin")
    team.save()
    return team, members


def test_no_rule_matches_the_creator_owns_it(admin, sales1, team1):
    rule(admin, team_id=TeamFactory().pk, countries=["AT"])
    lead = new_lead(sales1, country="DE")
    assert (lead.owner, lead.team) == (sales1, team1)


def test_round_robin_cycles_through_the_active_members(admin, sales1, inside):
    team, members = inside
    rule(admin, team_id=team.pk)
    owners = [new_lead(sales1).owner for _ in range(6)]
    active = sorted([members[0], members[2], team.lead], key=lambda u: u.pk)
    assert owners == active + active
    assert {lead.team for lead in Lead.objects.all()} == {team}
    assert AssignmentRule.objects.get().last_assigned == owners[-1]


def test_an_explicit_owner_is_kept(admin, sales1, inside):
    team, _members = inside
    rule(admin, team_id=team.pk)
    lead = make_lead(sales1)
    assert lead.owner == sales1


def test_territories_countries_postal_codes_industry_and_sources(admin, sales1):
    north, south, it, fair = (TeamFactory(name=n) for n in ("Nord", "Süd", "IT", "Messe"))
    for team in (north, south, it, fair):
        team.lead = make_user("sales", team, full_name=f"Leitung {team.name}")
        team.save()
    rule(admin, name="Messe", method="territory", team_id=fair.pk, sources=["fair"], order=1)
    rule(admin, name="IT", method="territory", team_id=it.pk, industry_prefix="62", order=2)
    rule(admin, name="Süd", method="territory", team_id=south.pk, countries="DE, at",
         postal_code_from="7", postal_code_to="9", order=3)  # fmt: skip
    rule(admin, name="Nord", method="territory", team_id=north.pk, countries=["DE"],
         postal_code_from="0", postal_code_to="3", order=4)  # fmt: skip

    def team_of(**data):
        return new_lead(sales1, **data).team

    assert team_of(source="fair", country="DE", postal_code="80331") == fair
    assert team_of(industry_code="62.01", country="DE", postal_code="10117") == it
    assert team_of(country="DE", postal_code="80331") == south
    assert team_of(country="DE", postal_code="99999") == south  # "to 9" includes 99999
    assert team_of(country="AT", postal_code="8010") == south
    assert team_of(country="DE", postal_code="20095") == north
    assert team_of(country="DE", postal_code="50667") is not north  # Köln: no rule
    assert team_of(country="CH", postal_code="8001") not in (north, south)
    assert team_of(country="DE") not in (north, south)  # no postal code, no range


def test_full_postal_codes_fix_the_length(admin, sales1):
    team = TeamFactory(name="Zehner")
    team.lead = make_user("sales", team)
    team.save()
    rule(admin, method="territory", team_id=team.pk, postal_code_from="10000",
         postal_code_to="19999")  # fmt: skip
    assert new_lead(sales1, country="DE", postal_code="10117").team == team
    assert new_lead(sales1, country="AT", postal_code="1010").team != team


def test_territory_gives_the_lead_to_the_chosen_user_or_the_team_lead(admin, sales1, inside):
    team, members = inside
    chosen = rule(admin, method="territory", team_id=team.pk, user_id=members[2].pk)
    assert new_lead(sales1).owner == members[2]
    services.rule_update(actor=admin, rule_id=chosen.pk, data={"user_id": None})
    assert new_lead(sales1).owner == team.lead


def test_a_rule_without_anyone_to_assign_is_skipped(admin, sales1):
    empty = TeamFactory(name="Leer")
    fallback = TeamFactory(name="Auffang")
    taker = make_user("sales", fallback, full_name="Auffang")
    rule(admin, name="leer", team_id=empty.pk, order=1)
    rule(admin, name="auffang", team_id=fallback.pk, order=2)
    assert new_lead(sales1).owner == taker


def test_inactive_rules_and_the_order(admin, sales1, inside):
    team, members = inside
    other = TeamFactory(name="Andere")
    other_member = make_user("sales", other)
    first = rule(admin, name="zuerst", team_id=other.pk, order=5)
    rule(admin, name="danach", method="territory", team_id=team.pk, user_id=members[0].pk,
         order=10)  # fmt: skip
    assert new_lead(sales1).owner == other_member
    services.rule_update(actor=admin, rule_id=first.pk, data={"active": False})
    assert new_lead(sales1).owner == members[0]
    moved = services.rule_move(actor=admin, rule_id=first.pk, up=False)
    assert moved.order == 20
    assert list(AssignmentRule.objects.order_by("order").values_list("name", flat=True)) == [
        "danach", "zuerst",
    ]  # fmt: skip


def test_rules_apply_to_imports(admin, sales1, inside):
    from farley.contacts import transfer

    team, _members = inside
    rule(admin, team_id=team.pk)
    table = transfer.read_table(
        "l.csv", b"company_name,last_name,owner\nA GmbH,Eins,\nB GmbH,Zwei,\n"
    )
    result = services.import_table(actor=admin, table=table)
    assert result.created == 2
    assert {lead.team for lead in Lead.objects.all()} == {team}
    assert len({lead.owner_id for lead in Lead.objects.all()}) == 2


def test_only_sales_administrators_manage_rules(sales1, manager, team1):
    for actor in (sales1, manager):
        with pytest.raises(Forbidden):
            services.rule_create(
                actor=actor, data={"name": "X", "method": "round_robin", "team_id": team1.pk}
            )


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": ""}, "name"),
        ({"method": "lottery"}, "method"),
        ({"team_id": None}, "team_id"),
        ({"team_id": 999999}, "team_id"),
        ({"user_id": 999999}, "user_id"),
        ({"countries": ["DE", "Germany"]}, "countries"),
        ({"countries": "XX"}, "countries"),
        ({"countries": 5}, "countries"),
        ({"sources": ["web", "pigeon"]}, "sources"),
        ({"postal_code_from": "<b>"}, "postal_code_from"),
        ({"postal_code_from": "9", "postal_code_to": "1"}, "postal_code_to"),
        ({"industry_prefix": "software"}, "industry_prefix"),
        ({"order": -1}, "order"),
        ({"active": "maybe"}, "active"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_rules_are_refused(admin, team1, data, field):
    base = {"name": "Regel", "method": "round_robin", "team_id": team1.pk}
    with pytest.raises(ValidationFailed) as caught:
        services.rule_create(actor=admin, data={**base, **data})
    assert field in caught.value.fields, caught.value.fields
    assert AssignmentRule.objects.count() == 0


def test_round_robin_takes_no_user(admin, team1, sales1):
    with pytest.raises(ValidationFailed) as caught:
        rule(admin, team_id=team1.pk, user_id=sales1.pk)
    assert "user_id" in caught.value.fields


def test_rule_changes_are_recorded_and_deleting_works(admin, team1):
    created = rule(admin, team_id=team1.pk, countries="de,at", sources="web")
    assert (created.countries, created.sources) == ("DE,AT", "web")
    services.rule_update(actor=admin, rule_id=created.pk, data={"name": "Neu"})
    services.rule_delete(actor=admin, rule_id=created.pk)
    assert [c.action for c in history_for("assignment_rule", created.pk)] == [
        "delete", "update", "create",
    ]  # fmt: skip
    with pytest.raises(NotFound):
        services.rule_update(actor=admin, rule_id=created.pk, data={"name": "Weg"})


@pytest.mark.django_db(transaction=True)
def test_leads_arriving_at_once_are_spread_evenly(admin_user_in_db):
    """Eight threads capture three leads each at the same moment: the rule's row is locked
    while a lead is given out, so the three members get eight leads each.

    PostgreSQL makes the others wait for the row lock. SQLite's in-memory test database
    answers "table is locked" at once instead of waiting (the busy timeout of the file
    database does not apply to its shared cache), so there a thread waits and tries again, as
    the busy timeout does in production."""
    admin, creator, team, members = admin_user_in_db
    rule(admin, team_id=team.pk)
    start = threading.Barrier(8)
    errors: list[BaseException] = []

    def capture_one(name: str) -> None:
        for _attempt in range(500):
            try:
                new_lead(creator, company_name=name)
                return
            except OperationalError as exc:
                if connection.vendor != "sqlite" or "locked" not in str(exc):
                    raise
                time.sleep(0.005)
        raise AssertionError(f"{name}: the database stayed locked")

    def capture(n: int) -> None:
        try:
            start.wait()
            for i in range(3):
                capture_one(f"Gleichzeitig {n}-{i}")
        except BaseException as exc:  # reported by the test
            errors.append(exc)
        finally:
            connection.close()  # this thread's own connection

    threads = [threading.Thread(target=capture, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    counts = Counter(Lead.objects.values_list("owner_id", flat=True))
    assert counts == {m.pk: 8 for m in members}


@pytest.fixture
def admin_user_in_db():
    from farley.core.permissions import ensure_built_in_roles

    ensure_built_in_roles()
    admin = make_user("administrator", full_name="Ada")
    team = TeamFactory(name="Gleichzeitig")
    members = [make_user("sales", team, full_name=f"G{i}") for i in range(3)]
    creator = make_user("manager", full_name="Erfasser")
    return admin, creator, team, members
