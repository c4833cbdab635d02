"""REST API for accounts, contacts, relationships and timeline entries (/api/v1)."""

from __future__ import annotations

import pytest

from farley.contacts.models import Contact
from farley.core.services import custom_field_create
from tests.apiclient import Api, assert_error
from tests.factories import (
    TeamFactory,
    log_interaction,
    make_account,
    make_contact,
    make_user,
    relate,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def api1(sales1):
    return Api(sales1)


@pytest.fixture
def api2(sales2):
    return Api(sales2)


# --- accounts ---------------------------------------------------------------------------


def test_account_crud(api1, sales1, team1, berlin):
    response = api1.post(
        "/accounts",
        {
            "name": "Müller Maschinenbau GmbH",
            "emails": [{"address": "info@mueller.de"}],
            "phones": [{"number": "+49 30 1234567", "kind": "work"}],
            "addresses": [berlin],
            "tags": ["Maschinenbau"],
        },
    )
    assert response.status_code == 201, response.content
    account = response.json()
    for key in ("id", "version", "created_at", "updated_at"):
        assert account[key]
    assert account["name"] == "Müller Maschinenbau GmbH"
    assert account["emails"] == [{"address": "info@mueller.de", "kind": "work"}]
    assert account["phones"][0]["number"] == "+49301234567"
    assert account["phones"][0]["kind"] == "work"
    assert account["addresses"][0]["postal_code"] == "10117"
    assert account["addresses"][0]["city"] == "Berlin"
    assert account["owner_id"] == sales1.pk
    assert account["team_id"] == team1.pk

    pk = account["id"]
    assert api1.get(f"/accounts/{pk}").json() == account

    response = api1.patch(f"/accounts/{pk}", {"name": "Müller AG", "version": account["version"]})
    assert response.status_code == 200, response.content
    assert response.json()["name"] == "Müller AG"
    assert response.json()["version"] == account["version"] + 1

    assert api1.delete(f"/accounts/{pk}").status_code == 204
    assert_error(api1.get(f"/accounts/{pk}"), 404, "not_found")
    assert pk not in [a["id"] for a in api1.get("/accounts").json()["items"]]

    response = api1.post(f"/accounts/{pk}/restore")
    assert response.status_code == 200, response.content
    assert response.json()["deleted_at"] is None
    assert api1.get(f"/accounts/{pk}").status_code == 200


def test_account_invalid_vat_id(api1):
    error = assert_error(api1.post("/accounts", {"name": "X GmbH", "vat_id": "DE123"}), 422)
    assert error["code"] == "validation_error"
    assert "vat_id" in error["fields"]


def test_account_stale_version_conflict(api1, sales1):
    account = make_account(sales1, name="Alt GmbH")
    api1.patch(f"/accounts/{account.pk}", {"name": "Neu GmbH", "version": account.version})
    error = assert_error(
        api1.patch(f"/accounts/{account.pk}", {"name": "Verloren", "version": account.version}),
        409,
        "conflict",
    )
    assert error["current_version"] == account.version + 1
    assert api1.get(f"/accounts/{account.pk}").json()["name"] == "Neu GmbH"


# --- contacts ---------------------------------------------------------------------------


def test_contact_crud_with_nested_data(api1, sales1, berlin):
    firm = make_account(sales1, name="Øster Logistik ApS")
    response = api1.post(
        "/contacts",
        {
            "first_name": "Jürgen",
            "last_name": "Müller",
            "emails": [{"address": "j.mueller@example.de", "kind": "work"}],
            "phones": [{"number": "030 1234567", "kind": "mobile"}],
            "addresses": [berlin],
            "account_links": [{"account_id": firm.pk, "role": "Einkauf"}],
        },
    )
    assert response.status_code == 201, response.content
    contact = response.json()
    for key in ("id", "version", "created_at", "updated_at"):
        assert contact[key]
    assert contact["full_name"] == "Jürgen Müller"
    assert contact["emails"] == [{"address": "j.mueller@example.de", "kind": "work"}]
    assert contact["phones"][0]["number"] == "+49301234567"
    assert contact["phones"][0]["kind"] == "mobile"
    assert contact["addresses"][0]["postal_code"] == "10117"
    assert contact["account_links"] == [
        {"account_id": firm.pk, "account_name": "Øster Logistik ApS", "role": "Einkauf"}
    ]

    pk = contact["id"]
    assert api1.get(f"/contacts/{pk}").json() == contact
    response = api1.patch(f"/contacts/{pk}", {"job_title": "Leiter Einkauf"}, HTTP_IF_MATCH='"1"')
    assert response.status_code == 200, response.content
    assert response.json()["job_title"] == "Leiter Einkauf"

    assert api1.delete(f"/contacts/{pk}").status_code == 204
    assert_error(api1.get(f"/contacts/{pk}"), 404, "not_found")
    response = api1.post(f"/contacts/{pk}/restore")
    assert response.status_code == 200, response.content
    assert response.json()["job_title"] == "Leiter Einkauf"


def test_contact_unicode_round_trip(api1):
    names = {"first_name": "李 😀", "last_name": "Øster-Müller"}
    response = api1.post("/contacts", {**names, "description": "Grüße aus Zürich 😀 李"})
    assert response.status_code == 201, response.content
    assert response["Content-Type"].startswith("application/json")
    fetched = api1.get(f"/contacts/{response.json()['id']}").json()
    assert fetched["first_name"] == "李 😀"
    assert fetched["last_name"] == "Øster-Müller"
    assert fetched["description"] == "Grüße aus Zürich 😀 李"


def test_contact_patch_stale_version_changes_nothing(api1, sales1):
    contact = make_contact(sales1, last_name="Schmidt", job_title="Einkauf")
    ok = api1.patch(
        f"/contacts/{contact.pk}", {"job_title": "Vertrieb", "version": contact.version}
    )
    assert ok.status_code == 200
    error = assert_error(
        api1.patch(f"/contacts/{contact.pk}", {"job_title": "Lager", "version": contact.version}),
        409,
        "conflict",
    )
    assert error["current_version"] == contact.version + 1
    contact.refresh_from_db()
    assert contact.job_title == "Vertrieb"
    assert contact.version == ok.json()["version"] == 2


def test_contact_patch_stale_if_match_header(api1, sales1):
    contact = make_contact(sales1, last_name="Schmidt", job_title="Einkauf")
    api1.patch(f"/contacts/{contact.pk}", {"job_title": "Vertrieb"})
    assert_error(
        api1.patch(
            f"/contacts/{contact.pk}", {"job_title": "Lager"}, HTTP_IF_MATCH=f'"{contact.version}"'
        ),
        409,
        "conflict",
    )
    assert Contact.objects.get(pk=contact.pk).job_title == "Vertrieb"


def test_contact_history_shows_create_and_update(api1, sales1):
    contact = make_contact(sales1, last_name="Schmidt", job_title="Einkauf")
    api1.patch(f"/contacts/{contact.pk}", {"job_title": "Vertrieb"})
    response = api1.get(f"/contacts/{contact.pk}/history")
    assert response.status_code == 200
    history = response.json()
    actions = [h["action"] for h in history]
    assert set(actions) >= {"create", "update"}
    update = next(h for h in history if h["action"] == "update")
    assert update["changes"]["job_title"] == ["Einkauf", "Vertrieb"]
    assert update["actor_id"] == sales1.pk
    create = next(h for h in history if h["action"] == "create")
    assert create["changes"]["last_name"] == [None, "Schmidt"]


@pytest.mark.parametrize(
    ("payload", "path"),
    [
        ({"emails": [{"address": "not-an-email"}]}, "emails.0.address"),
        ({"phones": [{"number": "abc"}]}, "phones.0.number"),
        (
            {"addresses": [{"postal_code": "1234", "city": "Berlin", "country": "DE"}]},
            "addresses.0.postal_code",
        ),
        ({"emails": [{"address": "a@b.de"}, {"address": "bad@"}]}, "emails.1.address"),
    ],
)
def test_contact_invalid_nested_values(api1, payload, path):
    error = assert_error(api1.post("/contacts", {"last_name": "Test", **payload}), 422)
    assert error["code"] == "validation_error"
    assert path in error["fields"], error["fields"]
    assert all(isinstance(m, str) for m in error["fields"][path])
    assert not Contact.objects.exists()


def test_contact_link_to_invisible_account(api1, sales2):
    hidden = make_account(sales2, name="Geheim GmbH", team_id=None)
    error = assert_error(
        api1.post("/contacts", {"last_name": "Test", "account_links": [{"account_id": hidden.pk}]}),
        422,
    )
    assert "account_links.0.account_id" in error["fields"]


def test_private_contact_of_other_team_is_not_found(api1, sales2):
    private = make_contact(sales2, last_name="Privat", team_id=None)
    team_record = make_contact(sales2, last_name="Süd")
    assert_error(api1.get(f"/contacts/{private.pk}"), 404, "not_found")
    assert_error(api1.get(f"/contacts/{team_record.pk}"), 404, "not_found")
    assert_error(api1.patch(f"/contacts/{private.pk}", {"job_title": "x"}), 404)
    assert_error(api1.delete(f"/contacts/{private.pk}"), 404)
    ids = [c["id"] for c in api1.get("/contacts").json()["items"]]
    assert private.pk not in ids and team_record.pk not in ids


def test_read_only_role_cannot_write(reader, sales1):
    api = Api(reader)
    assert_error(api.post("/contacts", {"last_name": "Nope"}), 403, "forbidden")
    contact = make_contact(sales1, last_name="Da")
    assert api.get(f"/contacts/{contact.pk}").status_code == 200
    assert_error(api.patch(f"/contacts/{contact.pk}", {"job_title": "x"}), 403, "forbidden")
    assert_error(api.delete(f"/contacts/{contact.pk}"), 403, "forbidden")
    assert not Contact.objects.filter(last_name="Nope").exists()


# --- lists ------------------------------------------------------------------------------


def test_list_filter_postal_code_prefix(api1, sales1):
    for name, plz, city in [
        ("Berliner", "10117", "Berlin"),
        ("Mitte", "10115", "Berlin"),
        ("Hamburger", "20095", "Hamburg"),
    ]:
        make_account(sales1, name=name, addresses=[{"postal_code": plz, "city": city}])
    response = api1.get("/accounts", {"postal_code": "101"})
    assert response.status_code == 200
    assert sorted(a["name"] for a in response.json()["items"]) == ["Berliner", "Mitte"]
    response = api1.get("/accounts", {"city": "Hamburg"})
    assert [a["name"] for a in response.json()["items"]] == ["Hamburger"]


def test_list_bad_sort_and_limit_are_rejected(api1):
    error = assert_error(api1.get("/contacts", {"sort": "password"}), 422, "validation_error")
    assert "sort" in error["fields"]
    error = assert_error(api1.get("/contacts", {"limit": "1000"}), 422, "validation_error")
    assert "limit" in error["fields"]


def test_list_bad_cursor(api1):
    error = assert_error(api1.get("/contacts", {"cursor": "garbage"}), 422)
    assert "cursor" in error["fields"]


def test_cursor_pagination_returns_every_record_once(api1, sales1):
    made = {
        make_contact(sales1, last_name=f"Meier{i % 3}", first_name=f"F{i:02}").pk for i in range(23)
    }
    seen: list[int] = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": 5, **({"cursor": cursor} if cursor else {})}
        response = api1.get("/contacts", params)
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["limit"] == 5
        assert len(body["items"]) <= 5
        seen += [c["id"] for c in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if not cursor:
            break
        assert pages < 10
    assert pages == 5
    assert len(seen) == len(set(seen))
    assert set(seen) == made


def test_custom_field_filter(api1, admin, sales1):
    custom_field_create(
        actor=admin,
        data={"entity": "contact", "key": "region", "label": "Region", "field_type": "text"},
    )
    response = api1.post("/contacts", {"last_name": "Nord", "custom": {"region": "Nord"}})
    assert response.status_code == 201, response.content
    assert response.json()["custom"] == {"region": "Nord"}
    make_contact(sales1, last_name="Süd", custom={"region": "Süd"})
    response = api1.get("/contacts", {"cf_region": "Nord"})
    assert response.status_code == 200, response.content
    assert [c["last_name"] for c in response.json()["items"]] == ["Nord"]


def test_contact_list_query_count_is_constant(api1, sales1, django_assert_max_num_queries):
    firms = [make_account(sales1, name=f"Firma {i}") for i in range(3)]
    for i in range(50):
        make_contact(
            sales1,
            last_name=f"Kontakt{i:02}",
            emails=[{"address": f"k{i}@example.de"}],
            phones=[{"number": f"+49 30 1234{i:03}"}],
            addresses=[{"postal_code": "10117", "city": "Berlin"}],
            account_links=[{"account_id": firms[i % 3].pk}],
            tags=["A"],
        )
    with django_assert_max_num_queries(12):
        response = api1.get("/contacts", {"limit": 50})
    assert response.status_code == 200
    items = response.json()["items"]
    assert len(items) == 50
    assert all(c["emails"] and c["phones"] and c["addresses"] and c["account_links"] for c in items)


# --- relationships and timeline ---------------------------------------------------------


def test_relationships_create_list_delete(api1, sales1):
    boss = make_contact(sales1, last_name="Chef")
    worker = make_contact(sales1, last_name="Mitarbeiter")
    response = api1.post(
        "/relationships",
        {
            "type": "reports_to",
            "from_type": "contact",
            "from_id": worker.pk,
            "to_type": "contact",
            "to_id": boss.pk,
            "note": "seit 2020",
        },
    )
    assert response.status_code == 201, response.content
    rel = response.json()
    assert (rel["from_type"], rel["from_id"], rel["to_id"]) == ("contact", worker.pk, boss.pk)
    assert rel["type"] == "reports_to"

    listed = api1.get("/relationships", {"contact_id": boss.pk}).json()["items"]
    assert [r["id"] for r in listed] == [rel["id"]]
    assert api1.get(f"/relationships/{rel['id']}").status_code == 200

    assert api1.delete(f"/relationships/{rel['id']}").status_code == 204
    assert_error(api1.get(f"/relationships/{rel['id']}"), 404)
    assert api1.get("/relationships", {"contact_id": boss.pk}).json()["items"] == []


def test_relationships_of_other_team_are_hidden(api1, sales2):
    a = make_contact(sales2, last_name="A")
    b = make_contact(sales2, last_name="B")
    rel = relate(sales2, a, b)
    assert api1.get("/relationships").json()["items"] == []
    assert_error(api1.get(f"/relationships/{rel.pk}"), 404)


def test_timeline_entries_crud(api1, sales1):
    contact = make_contact(sales1, last_name="Kunde")
    response = api1.post(
        "/timeline-entries",
        {"kind": "call", "direction": "out", "subject": "Rückruf", "contact_id": contact.pk},
    )
    assert response.status_code == 201, response.content
    entry = response.json()
    assert entry["subject"] == "Rückruf"
    assert entry["author_id"] == sales1.pk

    listed = api1.get("/timeline-entries", {"contact_id": contact.pk}).json()["items"]
    assert [e["id"] for e in listed] == [entry["id"]]

    response = api1.patch(
        f"/timeline-entries/{entry['id']}",
        {"subject": "Rückruf erledigt", "version": entry["version"]},
    )
    assert response.status_code == 200, response.content
    assert response.json()["subject"] == "Rückruf erledigt"
    assert_error(
        api1.patch(
            f"/timeline-entries/{entry['id']}", {"subject": "x", "version": entry["version"]}
        ),
        409,
        "conflict",
    )

    assert api1.delete(f"/timeline-entries/{entry['id']}").status_code == 204
    assert_error(api1.get(f"/timeline-entries/{entry['id']}"), 404)


def test_timeline_of_other_team_is_hidden(api1, sales2):
    contact = make_contact(sales2, last_name="Fremd")
    entry = log_interaction(sales2, contact_id=contact.pk)
    assert api1.get("/timeline-entries").json()["items"] == []
    assert_error(api1.get(f"/timeline-entries/{entry.pk}"), 404)
    other = Api(make_user("sales", TeamFactory()))
    assert_error(other.delete(f"/timeline-entries/{entry.pk}"), 404)


def test_history_is_paged_newest_first_with_before(api1, sales1):
    from farley.contacts import services

    contact = make_contact(sales1, last_name="Version0")
    for i in range(1, 6):
        services.contact_update(
            actor=sales1, contact_id=contact.pk, data={"last_name": f"Version{i}"}
        )
    first = api1.get(f"/contacts/{contact.pk}/history?limit=2").json()
    assert [c["changes"]["last_name"][1] for c in first] == ["Version5", "Version4"]
    rest = api1.get(f"/contacts/{contact.pk}/history?limit=100&before={first[-1]['id']}").json()
    assert [c["action"] for c in rest][-1] == "create"
    assert len(first) + len(rest) == 6
    assert api1.get(f"/contacts/{contact.pk}/history?limit=0").status_code == 422


def test_a_deleted_timeline_entry_keeps_its_history_and_can_be_restored(api1, sales1):
    contact = make_contact(sales1, last_name="Zeitreise")
    entry = api1.post("/timeline-entries", {"contact_id": contact.pk, "subject": "Anruf"}).json()
    assert api1.delete(f"/timeline-entries/{entry['id']}").status_code == 204
    assert api1.get(f"/timeline-entries/{entry['id']}").status_code == 404
    history = api1.get(f"/timeline-entries/{entry['id']}/history").json()
    assert history[0]["action"] == "delete"
    restored = api1.post(f"/timeline-entries/{entry['id']}/restore")
    assert restored.status_code == 200
    assert api1.get(f"/timeline-entries/{entry['id']}").status_code == 200
    assert api1.post(f"/timeline-entries/{entry['id']}/restore").status_code == 404


def test_a_misspelt_filter_is_an_error_not_the_whole_list(api1, sales1):
    make_contact(sales1, last_name="Irgendwer")
    response = api1.get("/contacts", {"citty": "Berlin", "deleted": "true"})
    assert response.status_code == 422
    assert set(response.json()["error"]["fields"]) == {"citty", "deleted"}
    assert (
        api1.get("/contacts", {"city": "Berlin", "sort": "-name", "limit": "5"}).status_code == 200
    )


def test_timeline_entries_take_sanitised_html_bodies(api1, sales1):
    from tests.factories import make_contact

    contact = make_contact(sales1, last_name="Postfach")
    created = api1.post(
        "/timeline-entries",
        {"contact_id": contact.pk, "kind": "email", "subject": "Re: Angebot", "body_format": "html",
         "body": '<p>Danke, <a href="javascript:alert(1)">hier</a> <i>klicken</i></p><img src=x onerror=alert(1)>'},
    )  # fmt: skip
    assert created.status_code == 201, created.content
    entry = created.json()
    assert entry["body_format"] == "html"
    assert (
        entry["body"]
        == '<p>Danke, <a rel="noopener noreferrer nofollow">hier</a> <i>klicken</i></p>'
    )
    bad = api1.post(
        "/timeline-entries", {"contact_id": contact.pk, "subject": "x", "body_format": "docx"}
    )
    assert_error(bad, 422)["fields"]["body_format"]
