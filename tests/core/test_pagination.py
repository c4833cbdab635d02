"""Keyset pagination: walking all pages yields each record exactly once, in order."""

from __future__ import annotations

import base64
import datetime as dt
import json

import pytest
from django.db.models import F
from django.utils import timezone

from farley.contacts.models import Account
from farley.core.pagination import BadCursor, keyset_page
from tests.factories import make_account

pytestmark = pytest.mark.django_db

CITIES = [
    "Berlin",
    "Köln",
    "Berlin",
    "",
    "Aachen",
    "Köln",
    "Berlin",
    "Zwickau",
    "",
    "Aachen",
    "Ülzen",
]


@pytest.fixture
def accounts(admin):
    """11 accounts with repeated and empty cities, some with the same last interaction."""
    base = timezone.now().replace(microsecond=0)
    made = []
    for i, city in enumerate(CITIES):
        addresses = [{"city": city, "country": "DE"}] if city else []
        made.append(make_account(admin, name=f"Firma {i:02d}", addresses=addresses))
    # Interactions: four distinct, three equal, four never.
    moments = [base - dt.timedelta(days=d) for d in (5, 1, 3, 3, 3, 9, 2)] + [None] * 4
    for account, moment in zip(made, moments, strict=True):
        Account.objects.filter(pk=account.pk).update(last_interaction_at=moment)
    return made


def walk(queryset, *, fields, descending=False, limit=3):
    """Every page's ids in order; fails if a listing does not end."""
    pages, cursor = [], None
    for _ in range(100):
        page = keyset_page(
            queryset, fields=fields, descending=descending, limit=limit, cursor=cursor
        )
        pages.append([a.pk for a in page.items])
        cursor = page.next_cursor
        if cursor is None:
            return pages
    raise AssertionError("pagination never ended")


def expected(fields, descending):
    if fields == ["last_interaction_at"]:
        key = (
            F("last_interaction_at").desc(nulls_last=True)
            if descending
            else F("last_interaction_at").asc(nulls_last=True)
        )
        order = [key, "-id" if descending else "id"]
    else:
        order = [f"-{f}" if descending else f for f in [*fields, "id"]]
    return list(Account.objects.order_by(*order).values_list("pk", flat=True))


@pytest.mark.parametrize(
    "fields",
    [
        ["name"],
        ["city"],
        ["city", "name"],
        ["created_at"],
        ["customer_number"],
        ["last_interaction_at"],
    ],
)
def test_every_record_exactly_once_in_order(accounts, fields):
    for descending in (False, True):
        for limit in (1, 3, 4, 11, 50):
            pages = walk(Account.objects.all(), fields=fields, descending=descending, limit=limit)
            ids = [pk for page in pages for pk in page]
            assert len(ids) == len(set(ids)) == 11, (descending, limit)
            assert ids == expected(fields, descending), (descending, limit)
            assert [len(p) for p in pages[:-1]] == [limit] * (len(pages) - 1)
            assert len(pages) == max(1, -(-11 // limit))


def test_never_interacted_come_last_both_ways(accounts):
    for descending in (False, True):
        ids = [
            pk
            for page in walk(
                Account.objects.all(),
                fields=["last_interaction_at"],
                descending=descending,
                limit=2,
            )
            for pk in page
        ]
        tail = [a.last_interaction_at for a in Account.objects.filter(pk__in=ids[-4:])]
        assert tail == [None] * 4


def test_city_order_is_by_text_then_id(accounts):
    ids = [pk for page in walk(Account.objects.all(), fields=["city"], limit=2) for pk in page]
    cities = [Account.objects.get(pk=pk).city for pk in ids]
    assert cities == [
        "",
        "",
        "Aachen",
        "Aachen",
        "Berlin",
        "Berlin",
        "Berlin",
        "Köln",
        "Köln",
        "Zwickau",
        "Ülzen",
    ]


def test_last_page_has_no_cursor(accounts):
    page = keyset_page(Account.objects.all(), fields=["name"], limit=11)
    assert len(page.items) == 11
    assert page.next_cursor is None
    assert page.limit == 11


def test_empty_listing():
    page = keyset_page(Account.objects.all(), fields=["name"], limit=5)
    assert page.items == []
    assert page.next_cursor is None


def test_filtered_queryset_pages_only_the_filtered_rows(accounts):
    queryset = Account.objects.filter(city="Berlin")
    ids = [pk for page in walk(queryset, fields=["name"], limit=2) for pk in page]
    assert ids == list(queryset.order_by("name", "id").values_list("pk", flat=True))
    assert len(ids) == 3


def test_record_added_before_the_cursor_does_not_shift_later_pages(accounts, admin):
    first = keyset_page(Account.objects.all(), fields=["name"], limit=5)
    make_account(admin, name="Firma 00a")  # sorts into the first page
    second = keyset_page(Account.objects.all(), fields=["name"], limit=5, cursor=first.next_cursor)
    assert [a.name for a in second.items] == [
        "Firma 05",
        "Firma 06",
        "Firma 07",
        "Firma 08",
        "Firma 09",
    ]


def encode(values) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    ("fields", "cursor"),
    [
        (["name"], "!!!not base64!!!"),
        (["name"], encode({"name": "x"})),
        (["name"], encode(["x"])),  # id missing
        (["name"], encode(["x", 1, 2])),  # one too many
        (["name"], encode(["x", "1"])),  # id is not a number
        (["name"], encode(["x", True])),
        (["name"], encode([None, 1])),  # name cannot be null
        (["name"], encode([5, 1])),  # name is text
        (["created_at"], encode(["yesterday", 1])),
        (["name"], base64.urlsafe_b64encode(b"\xff\xfe").decode()),
    ],
)
def test_bad_cursor(fields, cursor):
    with pytest.raises(BadCursor):
        keyset_page(Account.objects.all(), fields=fields, cursor=cursor)


def test_null_in_a_cursor_is_allowed_for_a_nullable_field(accounts):
    cursor = encode([None, 0])
    page = keyset_page(
        Account.objects.all(), fields=["last_interaction_at"], cursor=cursor, limit=50
    )
    assert len(page.items) == 4
    assert {a.last_interaction_at for a in page.items} == {None}
