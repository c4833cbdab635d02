"""A query compiled once with an open condition, filled in several ways."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models import BooleanField, Value
from django.db.models.expressions import RawSQL

from farley.contacts.models import Account
from farley.core.sqlparts import Condition, compile_with_slot
from tests.factories import make_account

pytestmark = pytest.mark.django_db


def rows(condition: Condition) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(condition.sql, condition.params)
        return cursor.fetchall()


def owner_is(user_id: int) -> Condition:
    return Condition('"contacts_account"."owner_id" = %s', [user_id])


def test_each_filling_selects_what_the_condition_adds_to_the_query(sales1, sales2):
    make_account(sales1, name="Alpha Nord")
    make_account(sales1, name="Beta Nord")
    make_account(sales2, name="Alpha Süd")
    slotted = compile_with_slot(
        Account.objects.filter(name__startswith="Alpha").order_by("name").values("name")
    )
    assert rows(slotted.fill(owner_is(sales1.pk))) == [("Alpha Nord",)]
    assert rows(slotted.fill(owner_is(sales2.pk))) == [("Alpha Süd",)]
    assert rows(slotted.fill(Condition("1 = 1"))) == [("Alpha Nord",), ("Alpha Süd",)]


def test_values_before_and_after_the_slot_stay_in_their_places(sales1):
    """Values of the select list come before the slot's; a literal percent sign is no value."""
    make_account(sales1, name="100% Bio")
    make_account(sales1, name="Bio 2")
    queryset = (
        Account.objects.annotate(tag=Value("x"))
        .filter(RawSQL('"contacts_account"."name" LIKE \'%%Bio%%\'', [], BooleanField()))
        .filter(name__icontains="bio")
        .order_by("-name")
        .values("name", "tag")
    )
    slotted = compile_with_slot(queryset, limit=1)
    filled = slotted.fill(Condition('"contacts_account"."name" <> %s', ["Bio 2"]))
    assert rows(filled) == [("100% Bio", "x")]
    assert rows(slotted.fill(Condition("1 = 1"))) == [("Bio 2", "x")]


def test_a_query_cut_before_the_slot_is_refused():
    with pytest.raises(TypeError):
        compile_with_slot(Account.objects.all()[:5])
