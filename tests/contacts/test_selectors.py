"""Reads of accounts and contacts: visibility everywhere, list filters, paging, query counts."""

from __future__ import annotations

import datetime as dt
import warnings
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from farley.contacts import selectors
from farley.contacts.models import Account, Contact
from farley.core.errors import NotFound, ValidationFailed
from farley.core.models import User
from farley.core.search import search
from farley.core.services import custom_field_create
from tests.factories import log_interaction, make_account, make_contact, make_user, relate

pytestmark = pytest.mark.django_db

BERLIN_TZ = ZoneInfo("Europe/Berlin")


def at(day: str, hour: int = 10) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(hour=hour, tzinfo=BERLIN_TZ)


def names(entity: str, user: User, **params) -> list[str]:
    """All names on every page of a list, in list order."""
    result, cursor = [], None
    while True:
        page = selectors.list_page(entity, user, {**params, "cursor": cursor}, strict=True)
        result += [item.name for item in page.items]
        cursor = page.next_cursor
        if cursor is None:
            return result


# --- visibility -----------------------------------------------------------------------------


@pytest.fixture
def shared(admin, sales1, sales2, team1, team2):
    """An account of team 1 and a private contact of sales2 (team 2) tied to it by an admin."""
    account = make_account(admin, name="Gemeinsam GmbH", team_id=team1.pk)
    secret = make_contact(
        admin,
        first_name="Gerda",
        last_name="Geheim",
        owner_id=sales2.pk,
        team_id=team2.pk,
        account_links=[{"account_id": account.pk}],
    )
    mine = make_contact(
        sales1, first_name="Nora", last_name="Nord", account_links=[{"account_id": account.pk}]
    )
    return account, secret, mine


def test_private_record_of_another_team_is_invisible_in_lists_and_details(shared, sales1):
    account, secret, _mine = shared
    assert names("contact", sales1) == ["Nora Nord"]
    assert names("account", sales1) == ["Gemeinsam GmbH"]
    with pytest.raises(NotFound):
        selectors.contact_detail(sales1, secret.pk)
    with pytest.raises(NotFound):
        selectors.contact_detail(sales1, secret.pk, include_deleted=True)
    assert [link.contact.last_name for link in selectors.account_contacts(sales1, account)] == [
        "Nord"
    ]
    assert [hit.title for hit in search(sales1, "Geheim")] == []


def test_administrator_and_owner_see_the_private_record(shared, admin, sales2):
    _account, secret, _mine = shared
    assert names("contact", admin) == ["Gerda Geheim", "Nora Nord"]
    assert selectors.contact_detail(admin, secret.pk).last_name == "Geheim"
    assert names("contact", sales2) == ["Gerda Geheim"]
    assert names("account", sales2) == []


def test_relationship_to_an_invisible_record_is_hidden(shared, admin, sales1):
    account, secret, mine = shared
    relate(admin, mine, secret, "partner_of")
    relate(admin, secret, account, "supplier_of")
    assert selectors.relationships_of(sales1, mine) == []
    assert selectors.relationships_of(sales1, account) == []
    assert [label for label, _o, _r in selectors.relationships_of(admin, account)] == [
        "customer of"
    ]
    assert list(selectors.relationships_visible_to(sales1)) == []


def test_timeline_of_a_private_contact_is_not_shown(shared, admin, sales1):
    account, secret, mine = shared
    log_interaction(sales1, contact_id=mine.pk, subject="Besuch bei Nora")
    log_interaction(admin, contact_id=secret.pk, subject="Vertraulich: Gerda kündigt")
    assert [e.subject for e in selectors.timeline_of(admin, account)] == [
        "Vertraulich: Gerda kündigt",
        "Besuch bei Nora",
    ]
    assert [e.subject for e in selectors.timeline_of(sales1, mine)] == ["Besuch bei Nora"]


def test_private_contacts_timeline_does_not_leak_through_a_shared_account(shared, admin, sales1):
    account, secret, mine = shared
    log_interaction(sales1, contact_id=mine.pk, subject="Besuch bei Nora")
    log_interaction(admin, contact_id=secret.pk, subject="Vertraulich: Gerda kündigt")
    assert [e.subject for e in selectors.timeline_of(sales1, account)] == ["Besuch bei Nora"]
    assert [e.subject for e in selectors.timeline_entries_visible_to(sales1)] == ["Besuch bei Nora"]


def test_deleted_account_disappears_from_lists_but_is_in_the_trash(shared, sales1):
    from farley.contacts.services import account_delete

    account, _secret, _mine = shared
    account_delete(actor=sales1, account_id=account.pk)
    assert names("account", sales1) == []
    assert [r.name for r in selectors.trash(sales1)] == ["Gemeinsam GmbH"]
    assert selectors.account_detail(sales1, account.pk, include_deleted=True).is_deleted
    # A link to a deleted account is not shown on the contact.
    _mine = selectors.contact_detail(sales1, _mine.pk)
    assert list(_mine.account_links.all()) == []


def test_inactive_user_sees_nothing(shared):
    gone = make_user("administrator", is_active=False)
    assert names("contact", gone) == []
    assert names("account", gone) == []


# --- list filters ---------------------------------------------------------------------------


@pytest.fixture
def crm(admin, sales2, team2):
    """Five accounts and six contacts spread over Germany and Austria, as an administrator sees them."""
    segment = custom_field_create(
        actor=admin,
        data={
            "entity": "contact",
            "key": "segment",
            "label": "Segment",
            "field_type": "choice",
            "choices": ["A", "B"],
        },
    )
    baker = make_account(
        admin,
        name="Bäckerei Albrecht",
        industry_code="10.71",
        status="customer",
        tags=["VIP"],
        emails=[{"address": "info@baeckerei.de"}],
        addresses=[{"postal_code": "10117", "city": "Berlin"}],
    )
    soft = make_account(
        admin,
        name="Software Becker",
        industry_code="62.01",
        status="prospect",
        addresses=[{"postal_code": "80331", "city": "München"}],
    )
    cafe = make_account(
        admin,
        name="Café Wien",
        industry_code="56.30",
        status="partner",
        addresses=[{"postal_code": "1010", "city": "Wien", "country": "AT"}],
    )
    make_account(
        admin,
        name="Hafen Hamburg",
        industry_code="52.22",
        status="customer",
        owner_id=sales2.pk,
        team_id=team2.pk,
        addresses=[{"postal_code": "20095", "city": "Hamburg"}],
    )
    make_account(admin, name="Leer AG")

    make_contact(
        admin,
        first_name="Anna",
        last_name="Albrecht",
        tags=["VIP"],
        custom={"segment": "A"},
        emails=[{"address": "anna@baeckerei.de"}],
        account_links=[{"account_id": baker.pk}],
        addresses=[{"postal_code": "10115", "city": "Berlin"}],
    )
    make_contact(
        admin,
        first_name="Bernd",
        last_name="Becker",
        custom={"segment": "B"},
        account_links=[{"account_id": soft.pk}],
        addresses=[{"postal_code": "10999", "city": "Berlin"}],
    )
    make_contact(
        admin,
        first_name="Clara",
        last_name="Christ",
        emails=[{"address": "clara@christ.de"}],
        account_links=[{"account_id": cafe.pk}],
        addresses=[{"postal_code": "19053", "city": "Schwerin"}],
    )
    make_contact(
        admin,
        first_name="Dieter",
        last_name="Dorn",
        owner_id=sales2.pk,
        team_id=team2.pk,
        emails=[{"address": "dieter@dorn.de"}],
        addresses=[{"postal_code": "20095", "city": "Hamburg"}],
    )
    make_contact(
        admin,
        first_name="Emil",
        last_name="Ernst",
        addresses=[{"postal_code": "1010", "city": "Wien", "country": "AT"}],
    )
    make_contact(
        admin,
        first_name="Frida",
        last_name="Fuchs",
        addresses=[{"street": "Seestr. 1", "postal_code": "88662", "city": "Überlingen"}],
    )
    Contact.objects.filter(last_name="Albrecht").update(last_interaction_at=at("2024-03-10"))
    Contact.objects.filter(last_name="Becker").update(last_interaction_at=at("2024-03-15", 23))
    Contact.objects.filter(last_name="Fuchs").update(last_interaction_at=at("2024-03-16", 0))
    return segment


CONTACT_FILTER_CASES = [
    (
        {},
        [
            "Anna Albrecht",
            "Bernd Becker",
            "Clara Christ",
            "Dieter Dorn",
            "Emil Ernst",
            "Frida Fuchs",
        ],
    ),
    ({"q": "becker"}, ["Bernd Becker"]),
    ({"q": "anna alb"}, ["Anna Albrecht"]),
    ({"postal_code": "10"}, ["Anna Albrecht", "Bernd Becker", "Emil Ernst"]),
    ({"postal_code": "101"}, ["Anna Albrecht", "Emil Ernst"]),
    ({"postal_code": "101", "country": "DE"}, ["Anna Albrecht"]),
    (
        {"postal_code_from": "10000", "postal_code_to": "19", "country": "DE"},
        ["Anna Albrecht", "Bernd Becker", "Clara Christ"],
    ),
    (
        {"postal_code_from": "10500", "postal_code_to": "19999"},
        ["Bernd Becker", "Clara Christ"],
    ),
    ({"postal_code_from": "20000"}, ["Dieter Dorn", "Frida Fuchs"]),
    # a complete five-digit bound means five-digit codes: not the Austrian "1010"
    ({"postal_code_to": "10115"}, ["Anna Albrecht"]),
    ({"postal_code_to": "10"}, ["Anna Albrecht", "Bernd Becker", "Emil Ernst"]),
    ({"city": "berlin"}, ["Anna Albrecht", "Bernd Becker"]),
    ({"city": "Wien"}, ["Emil Ernst"]),
    ({"country": "at"}, ["Emil Ernst"]),
    ({"industry": "62"}, ["Bernd Becker"]),
    ({"industry": "10.7"}, ["Anna Albrecht"]),
    ({"status": "customer"}, ["Anna Albrecht"]),
    ({"status": "partner"}, ["Clara Christ"]),
    ({"tag": "VIP"}, ["Anna Albrecht"]),
    ({"cf_segment": "B"}, ["Bernd Becker"]),
    ({"interaction_from": "2024-03-12"}, ["Bernd Becker", "Frida Fuchs"]),
    ({"interaction_to": "2024-03-15"}, ["Anna Albrecht", "Bernd Becker"]),
    ({"interaction_from": "2024-03-10", "interaction_to": "2024-03-10"}, ["Anna Albrecht"]),
    ({"interaction_from": "16.03.2024"}, ["Frida Fuchs"]),
    ({"has_email": "yes"}, ["Anna Albrecht", "Clara Christ", "Dieter Dorn"]),
    ({"has_email": "no"}, ["Bernd Becker", "Emil Ernst", "Frida Fuchs"]),
    ({"city": "Berlin", "has_email": "no"}, ["Bernd Becker"]),
    ({"city": "Paris"}, []),
]


def test_contact_filters(crm, admin):
    # One data set, every filter: the dicts show each filter that lists the wrong contacts.
    found = {repr(params): names("contact", admin, **params) for params, _ in CONTACT_FILTER_CASES}
    assert found == {repr(params): expected for params, expected in CONTACT_FILTER_CASES}


def test_owner_and_team_filters(crm, admin, sales2, team2):
    assert names("contact", admin, owner=str(sales2.pk)) == ["Dieter Dorn"]
    assert names("contact", admin, team=str(team2.pk)) == ["Dieter Dorn"]
    assert names("account", admin, owner=str(sales2.pk)) == ["Hafen Hamburg"]
    assert names("contact", admin, owner=str(admin.pk)) == [
        "Anna Albrecht",
        "Bernd Becker",
        "Clara Christ",
        "Emil Ernst",
        "Frida Fuchs",
    ]


ACCOUNT_FILTER_CASES = [
    ({}, ["Bäckerei Albrecht", "Café Wien", "Hafen Hamburg", "Leer AG", "Software Becker"]),
    ({"q": "Becker"}, ["Software Becker"]),
    ({"postal_code": "1"}, ["Bäckerei Albrecht", "Café Wien"]),
    ({"city": "münchen"}, ["Software Becker"]),
    ({"industry": "5"}, ["Café Wien", "Hafen Hamburg"]),
    ({"status": "customer"}, ["Bäckerei Albrecht", "Hafen Hamburg"]),
    ({"tag": "VIP"}, ["Bäckerei Albrecht"]),
    ({"has_email": "1"}, ["Bäckerei Albrecht"]),
    (
        {"country": "DE", "postal_code_from": "20000", "postal_code_to": "99999"},
        ["Hafen Hamburg", "Software Becker"],
    ),
]


def test_account_filters(crm, admin):
    found = {repr(params): names("account", admin, **params) for params, _ in ACCOUNT_FILTER_CASES}
    assert found == {repr(params): expected for params, expected in ACCOUNT_FILTER_CASES}


def test_filters_never_widen_visibility(crm, sales2):
    assert names("contact", sales2) == ["Dieter Dorn"]
    assert names("contact", sales2, city="Berlin") == []
    assert names("account", sales2, status="customer") == ["Hafen Hamburg"]


BAD_FILTER_CASES = [
    ({"status": "boss"}, {"status": ["Select a valid choice."]}),
    (
        {"sort": "shoe_size"},
        {"sort": ["Sort by one of: name, city, postal_code, created, updated, last_interaction."]},
    ),
    ({"owner": "ich"}, {"owner": ["Enter a whole number."]}),
    (
        {"interaction_from": "2024-02-30"},
        {"interaction_from": ["Enter a valid date (YYYY-MM-DD)."]},
    ),
    ({"has_email": "vielleicht"}, {"has_email": ["Enter yes or no."]}),
    ({"cf_unknown": "x"}, {"cf_unknown": ["There is no custom field with this key."]}),
    ({"limit": "0"}, {"limit": ["Enter a number of at least 1."]}),
    ({"limit": "1000"}, {"limit": ["Enter a number of at most 200."]}),
    ({"cursor": "kaputt!"}, {"cursor": ["This cursor is not valid."]}),
]


def strict_errors(user, params) -> dict | None:
    try:
        selectors.list_page("contact", user, params, strict=True)
    except ValidationFailed as exc:
        return exc.fields
    return None


def test_bad_filters_are_field_errors_in_strict_mode(crm, admin):
    found = {repr(params): strict_errors(admin, params) for params, _ in BAD_FILTER_CASES}
    assert found == {repr(params): errors for params, errors in BAD_FILTER_CASES}


def test_bad_filters_are_ignored_in_the_ui(crm, admin):
    page = selectors.list_page(
        "contact", admin, {"sort": "shoe_size", "cursor": "kaputt!", "limit": "x"}
    )
    assert [c.name for c in page.items] == [
        "Anna Albrecht",
        "Bernd Becker",
        "Clara Christ",
        "Dieter Dorn",
        "Emil Ernst",
        "Frida Fuchs",
    ]
    assert page.limit == 50


def test_interaction_date_filter_works_without_naive_datetime_warnings(crm, admin):
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        assert names("contact", admin, interaction_from="2024-03-12") == [
            "Bernd Becker",
            "Frida Fuchs",
        ]


def test_tag_filter_ignores_case(crm, admin):
    assert names("contact", admin, tag="vip") == ["Anna Albrecht"]


def test_city_filter_ignores_case_of_umlauts(crm, admin):
    assert names("contact", admin, city="überlingen") == ["Frida Fuchs"]


def test_postal_code_range_of_complete_codes_does_not_mix_countries(crm, admin):
    # The Austrian "1010" sorts between "10000" and "19999" but is no German PLZ.
    assert names("contact", admin, postal_code_from="10000", postal_code_to="19999") == [
        "Anna Albrecht",
        "Bernd Becker",
        "Clara Christ",
    ]


# --- keyset pagination through the list -----------------------------------------------------


@pytest.fixture
def many(admin):
    """14 contacts and 8 accounts with ties, blanks and missing interactions."""
    people = [
        ("Müller", "Anna", "10115", "Berlin"),
        ("Müller", "Anna", "10115", "Berlin"),
        ("Müller", "Bert", "", ""),
        ("Meier", "Zoe", "80331", "München"),
        ("Øster", "Åse", "", "Oslo"),
        ("李", "小龙", "20095", "Hamburg"),
        ("Adams", "", "20095", "Hamburg"),
        ("Zander", "Ute", "10115", "Berlin"),
        ("Becker", "Ben", "01067", "Dresden"),
        ("Becker", "Ben", "01067", "Dresden"),
        ("Smile 😀", "", "", ""),
        ("Ötzi", "Ö", "6020", "Innsbruck"),
        ("Young", "Yan", "99084", "Erfurt"),
        ("Xu", "Xi", "", ""),
    ]
    base = dt.datetime(2024, 5, 1, 12, tzinfo=dt.UTC)
    for i, (last, first, plz, city) in enumerate(people):
        address = (
            [{"postal_code": plz, "city": city, "country": "AT" if plz == "6020" else "DE"}]
            if (plz or city)
            else []
        )
        if city == "Oslo":
            address = [{"city": "Oslo", "country": "NO"}]
        contact = make_contact(admin, last_name=last, first_name=first, addresses=address)
        interaction = None if i % 3 == 0 else base - dt.timedelta(days=i % 4)
        Contact.objects.filter(pk=contact.pk).update(
            last_interaction_at=interaction, created_at=base if i % 2 else F("created_at")
        )
    for i in range(8):
        account = make_account(
            admin,
            name=["Beta", "Alpha", "Beta", "Gamma", "Ähre", "alpha", "Zeta", "Beta"][i],
            addresses=[
                {
                    "city": ["Köln", "Bonn", "Köln", "Hürth", "Bonn", "Aachen", "Köln", "Ulm"][i],
                    "postal_code": ["50667", "53111", "50667", "", "53111", "52062", "", "89073"][
                        i
                    ],
                }
            ],
        )
        Account.objects.filter(pk=account.pk).update(
            last_interaction_at=None if i % 2 else base - dt.timedelta(days=i % 3)
        )


def expected_ids(entity: str, fields: list[str], descending: bool) -> list[int]:
    model = Account if entity == "account" else Contact
    if fields == ["last_interaction_at"]:
        key = (
            F(fields[0]).desc(nulls_last=True) if descending else F(fields[0]).asc(nulls_last=True)
        )
        order = [key, "-id" if descending else "id"]
    else:
        order = [f"-{f}" if descending else f for f in [*fields, "id"]]
    return list(model.objects.order_by(*order).values_list("pk", flat=True))


@pytest.mark.parametrize(
    ("entity", "sorts"),
    [("contact", selectors.CONTACT_SORTS), ("account", selectors.ACCOUNT_SORTS)],
)
def test_every_record_once_for_every_sort_and_direction(many, admin, entity, sorts):
    total = (Account if entity == "account" else Contact).objects.count()
    for sort, fields in sorts.items():
        for descending in (False, True):
            for limit in (1, 4, 200):
                ids, cursor, pages = [], None, 0
                while True:
                    page = selectors.list_page(
                        entity,
                        admin,
                        {
                            "sort": ("-" if descending else "") + sort,
                            "limit": str(limit),
                            "cursor": cursor,
                        },
                        strict=True,
                    )
                    ids += [item.pk for item in page.items]
                    pages += 1
                    cursor = page.next_cursor
                    if cursor is None:
                        break
                    assert pages <= total
                label = (sort, descending, limit)
                assert len(ids) == len(set(ids)) == total, label
                assert ids == expected_ids(entity, fields, descending), label


def test_never_contacted_come_last_in_both_directions(many, admin):
    for sort in ("last_interaction", "-last_interaction"):
        page = selectors.list_page("contact", admin, {"sort": sort, "limit": "200"})
        moments = [c.last_interaction_at for c in page.items]
        assert moments[-5:] == [None] * 5
        assert None not in moments[:-5]
        assert moments[:-5] == sorted(moments[:-5], reverse=sort.startswith("-"))


def test_name_sort_is_last_then_first_name(many, admin):
    page = selectors.list_page("contact", admin, {"sort": "name", "limit": "5"})
    assert [c.name for c in page.items] == [
        "Adams",
        "Ben Becker",
        "Ben Becker",
        "Zoe Meier",
        "Anna Müller",
    ]


def test_filtered_list_pages_cover_the_filter_exactly(many, admin):
    ids, cursor = [], None
    while True:
        page = selectors.list_page(
            "contact", admin, {"city": "Berlin", "limit": "1", "cursor": cursor}
        )
        ids += [c.pk for c in page.items]
        if not (cursor := page.next_cursor):
            break
    assert ids == list(
        Contact.objects.filter(city="Berlin")
        .order_by("last_name", "first_name", "id")
        .values_list("pk", flat=True)
    )
    assert len(ids) == 3


# --- a restricted user's pages: the union of own, team's and shared records --------------------


@pytest.fixture
def territory(admin, sales1, sales2, team1, team2):
    """Contacts sales1 sees in every way (own, team 1's, shared with them, shared with team 1,
    in team 1's territory rule for PLZ 28) and some they do not, in Berlin and Bremen."""
    from farley.core import sharing

    def person(last: str, plz: str, **fields) -> Contact:
        city = {"1": "Berlin", "2": "Bremen"}.get(plz[0], "Düsseldorf")
        return make_contact(
            admin,
            last_name=last,
            first_name=plz,
            addresses=[{"postal_code": plz, "city": city}],
            tags=["vip"] if last.startswith("V") else [],
            **fields,
        )

    other = {"owner_id": sales2.pk, "team_id": team2.pk}
    person("Eigen", "10115", owner_id=sales1.pk, team_id=None)
    person("Eigen", "28195", owner_id=sales1.pk, team_id=team2.pk)
    for last in ("Team", "Vteam", "Ahrens", "Zorn"):
        person(last, "10117", owner_id=admin.pk, team_id=team1.pk)
    person("Team", "28199", owner_id=admin.pk, team_id=team1.pk)
    for last, plz, data in [
        ("Geteilt", "10178", {"user_id": sales1.pk}),
        ("Vgeteilt", "28195", {"user_id": sales1.pk, "can_edit": True}),
        ("Teamgeteilt", "10243", {"team_id": team1.pk}),
    ]:
        record = person(last, plz, **other)
        sharing.share_create(actor=admin, entity="contact", object_id=record.pk, data=data)
    for last, plz in [("Bremer", "28195"), ("Vbremer", "28209"), ("Bremer", "28199")]:
        person(last, plz, **other)  # in team 1's territory
    for last in ("Fremd", "Vfremd", "Ahrens"):
        person(last, "10115", **other)  # not visible to sales1
    person("Fremd", "40210", owner_id=sales2.pk, team_id=None)
    sharing.rule_create(
        actor=admin,
        data={"entity": "contact", "name": "Bremen", "criteria": {"postal_code": "28"},
              "team_id": team1.pk},
    )  # fmt: skip


@pytest.fixture(params=[True, False], ids=["union", "one filter"])
def union(request, monkeypatch):
    """Both ways of applying the visibility to a page, on either database."""
    monkeypatch.setattr(selectors, "union_pages", lambda: request.param)
    return request.param


@pytest.mark.parametrize("sort", ["name", "-name", "city", "-last_interaction", "postal_code"])
@pytest.mark.parametrize(
    "params",
    [{}, {"postal_code": "10"}, {"postal_code": "28"}, {"city": "Bremen", "tag": "vip"},
     {"q": "e", "postal_code_from": "10000", "postal_code_to": "19999"}, {"owner": "1"},
     {"city": "bremen"}, {"postal_code": "281", "country": "DE"}, {"postal_code_to": "2819"},
     {"postal_code": "28", "tag": "VIP"}],
)  # fmt: skip
def test_a_restricted_users_pages_are_the_visible_filtered_list(
    territory, sales1, params, sort, union
):
    """The pages are made from the first rows of each way of seeing a record (own, team's,
    shared with the user, shared with the team), shares narrowed by the address and tag filters
    first; together they are exactly the visible, filtered list, page by page."""
    params = {**params, "sort": sort}
    queryset, fields, descending = selectors.filtered_list("contact", fresh(sales1), params)
    order = [f"-{f}" if descending else f for f in [*fields, "id"]]
    if fields == ["last_interaction_at"]:
        order = [F(fields[0]).desc(nulls_last=True), "-id"]
    expected = list(queryset.order_by(*order).values_list("pk", flat=True))
    for limit in ("1", "2", "50"):
        ids, cursor = [], None
        while True:
            page = selectors.list_page(
                "contact", fresh(sales1), {**params, "limit": limit, "cursor": cursor}
            )
            ids += [c.pk for c in page.items]
            if not (cursor := page.next_cursor):
                break
        assert ids == expected, (params, limit)
    assert len(expected) < Contact.objects.count()


def test_a_restricted_users_list_page_is_one_query_for_the_records(territory, sales1, union):
    user = fresh(sales1)
    with CaptureQueriesContext(connection) as ctx:
        page = selectors.list_page("contact", user, {"postal_code": "28", "limit": "50"})
    contact_queries = [q for q in ctx.captured_queries if '"contacts_contact"' in q["sql"]]
    assert len(contact_queries) == 1
    assert sorted(c.last_name for c in page.items) == [
        "Bremer", "Bremer", "Eigen", "Team", "Vbremer", "Vgeteilt",
    ]  # fmt: skip


# --- query counts ---------------------------------------------------------------------------


def fresh(user: User) -> User:
    """The user as a new request loads it: nothing cached on the instance."""
    return User.objects.get(pk=user.pk)


def render(page) -> list[tuple]:
    """What a list row shows: name, owner, team, company, email, phone, city."""
    return [
        (
            c.name,
            c.owner.display_name,
            c.team.name if c.team else "",
            c.primary_account.name if c.primary_account else "",
            c.primary_email,
            c.primary_phone,
            c.city,
        )
        for c in page.items
    ]


@pytest.fixture
def fifty(sales1, admin):
    custom_field_create(
        actor=admin,
        data={"entity": "contact", "key": "segment", "label": "Segment", "field_type": "text"},
    )
    accounts = [
        make_account(sales1, name=f"Firma {i}", industry_code="62.01", status="customer")
        for i in range(5)
    ]
    for i in range(50):
        make_contact(
            sales1,
            last_name=f"Kunde {i:02d}",
            emails=[{"address": f"k{i}@example.de"}],
            tags=["x"],
            phones=[{"number": f"030 12345{i:02d}"}],
            custom={"segment": "A"},
            addresses=[{"postal_code": "10115", "city": "Berlin"}],
            account_links=[{"account_id": accounts[i % 5].pk}],
        )


LIST_PARAMS = [
    {},
    {"sort": "-last_interaction"},
    {"sort": "-name"},
    {
        "city": "Berlin",
        "postal_code": "101",
        "has_email": "yes",
        "cf_segment": "A",
        "tag": "x",
        "industry": "62",
        "status": "customer",
        "interaction_to": "2100-12-31",
        "country": "DE",
    },
]


def test_contact_list_of_fifty_needs_a_fixed_number_of_queries(
    fifty, sales1, django_assert_max_num_queries
):
    expected = sorted(
        (
            f"Kunde {i:02d}",
            "Sven Sales",
            "Vertrieb Nord",
            f"Firma {i % 5}",
            f"k{i}@example.de",
            f"+493012345{i:02d}",
            "Berlin",
        )
        for i in range(50)
    )
    Contact.objects.update(last_interaction_at=at("2024-01-01"))
    for params in LIST_PARAMS:
        user = fresh(sales1)
        with django_assert_max_num_queries(5):  # the page, its relations, teams and shares
            rows = render(selectors.list_page("contact", user, {"limit": "50", **params}))
        assert sorted(rows) == expected, params


def test_query_count_does_not_grow_with_the_page(fifty, sales1):
    counts = []
    for limit in ("5", "50"):
        user = fresh(sales1)
        with CaptureQueriesContext(connection) as ctx:
            render(selectors.list_page("contact", user, {"limit": limit}))
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]


def test_account_list_of_fifty_needs_a_fixed_number_of_queries(
    sales1, django_assert_max_num_queries
):
    for i in range(50):
        make_account(
            sales1, name=f"Firma {i:02d}", addresses=[{"postal_code": "10115", "city": "Berlin"}]
        )
    user = fresh(sales1)
    with django_assert_max_num_queries(5):  # the page, its relations, teams and shares
        page = selectors.list_page("account", user, {"limit": "50", "city": "Berlin"})
        rows = [
            (a.name, a.owner.display_name, a.team.name, a.customer_number, a.city)
            for a in page.items
        ]
    assert len(rows) == 50
    assert rows[0] == ("Firma 00", "Sven Sales", "Vertrieb Nord", "K000001", "Berlin")


def test_detail_prefetches_its_children(sales1, django_assert_max_num_queries):
    account = make_account(sales1, name="Firma")
    contact = make_contact(
        sales1,
        emails=[{"address": "a@b.de"}],
        phones=[{"number": "030 1234567"}],
        tags=["x", "y"],
        account_links=[{"account_id": account.pk}],
        addresses=[{"city": "Berlin"}],
    )
    user = fresh(sales1)
    with django_assert_max_num_queries(9):
        detail = selectors.contact_detail(user, contact.pk)
        shown = (
            [e.address for e in detail.emails.all()],
            [p.display for p in detail.phones.all()],
            [str(a) for a in detail.addresses.all()],
            sorted(t.name for t in detail.tags.all()),
            [link.account.name for link in detail.account_links.all()],
            detail.owner.display_name,
            detail.primary_account.name,
        )
    assert shown == (
        ["a@b.de"],
        ["030 1234567"],
        ["Berlin, DE"],
        ["x", "y"],
        ["Firma"],
        "Sven Sales",
        "Firma",
    )
