"""Sensitive data (birthday, private phone numbers, custom fields flagged sensitive) is seen
only by roles with the "sensitive" permission: on pages, in the API, exports, history and
filters, and it is not in the search index at all."""

from __future__ import annotations

import pytest

from farley.contacts import selectors, transfer
from farley.contacts import services as contacts
from farley.core.errors import ValidationFailed
from farley.core.search import search
from farley.core.services import custom_field_create, token_create
from tests.factories import make_contact, make_user

pytestmark = pytest.mark.django_db

PRIVATE = "+4917612345678"


@pytest.fixture
def marketer():
    return make_user("marketing")  # sees all records, but no sensitive data


@pytest.fixture
def person(admin):
    custom_field_create(
        actor=admin,
        data={"entity": "contact", "key": "health", "label": "Health note", "field_type": "text",
              "is_sensitive": True},
    )  # fmt: skip
    custom_field_create(
        actor=admin,
        data={"entity": "contact", "key": "hobby", "label": "Hobby", "field_type": "text"},
    )
    return make_contact(
        admin,
        first_name="Petra",
        last_name="Privat",
        birthday="1980-02-29",
        phones=[{"number": PRIVATE, "kind": "private"}, {"number": "+49301234567", "kind": "work"}],
        custom={"health": "Allergie", "hobby": "Segeln"},
    )


def api_get(client, user, path):
    _token, key = token_create(user=user, name="t")
    return client.get(path, HTTP_AUTHORIZATION=f"Bearer {key}")


def test_the_api_leaves_out_what_the_role_may_not_see(client, admin, marketer, person):
    hidden = api_get(client, marketer, f"/api/v1/contacts/{person.pk}").json()
    assert hidden["birthday"] is None
    assert [p["number"] for p in hidden["phones"]] == ["+49301234567"]
    assert hidden["custom"] == {"hobby": "Segeln"}
    listed = api_get(client, marketer, "/api/v1/contacts").json()["items"][0]
    assert PRIVATE not in str(listed) and "Allergie" not in str(listed)
    full = api_get(client, admin, f"/api/v1/contacts/{person.pk}").json()
    assert full["birthday"] == "1980-02-29"
    assert full["custom"]["health"] == "Allergie"


def test_pages_leave_it_out_and_saving_the_form_keeps_it(client, marketer, person):
    client.force_login(marketer)
    page = client.get(f"/contacts/{person.pk}/").content.decode()
    for secret in ("1980", "29.02", "0176 12345678", "Allergie", "Health note"):
        assert secret not in page
    form = client.get(f"/contacts/{person.pk}/edit/").content.decode()
    assert 'name="birthday"' not in form
    assert "0176" not in form
    phone_kinds = form.split('id="phones-template"')[1].split("</template>")[0]
    assert 'value="private"' not in phone_kinds
    response = client.post(
        f"/contacts/{person.pk}/edit/",
        {
            "version": person.version, "first_name": "Petra", "last_name": "Privat-Neu",
            "phones-0-number": "+49301234567", "phones-0-kind": "work", "cf_hobby": "Golf",
        },
    )  # fmt: skip
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.last_name == "Privat-Neu"
    assert str(person.birthday) == "1980-02-29"
    assert {p.number for p in person.phones.all()} == {PRIVATE, "+49301234567"}
    assert person.custom == {"health": "Allergie", "hobby": "Golf"}


def test_the_role_may_not_set_sensitive_data_either(marketer, person):
    with pytest.raises(ValidationFailed) as caught:
        contacts.contact_update(
            actor=marketer,
            contact_id=person.pk,
            data={"birthday": "1990-01-01", "custom": {"health": "x"},
                  "phones": [{"number": "+4917699999999", "kind": "private"}]},
        )  # fmt: skip
    assert set(caught.value.fields) == {"birthday", "custom.health", "phones.0.kind"}


def test_exports_history_and_filters_leave_it_out(marketer, admin, person):
    columns, rows = transfer.export_rows("contact", marketer, {})
    keys = [c.key for c in columns]
    assert "birthday" not in keys and "cf_health" not in keys and "cf_hobby" in keys
    row = next(iter(rows))
    assert PRIVATE not in row.values() and row["phone"] == "+49301234567"
    created = selectors.record_history(person, marketer)[-1]
    texts = " ".join(f"{line.label} {line.old} {line.new}" for line in created.lines)
    assert "1980" not in texts and PRIVATE not in texts and "Allergie" not in texts
    with pytest.raises(ValidationFailed):
        selectors.list_page("contact", marketer, {"cf_health": "Allergie"}, strict=True)
    assert len(selectors.list_page("contact", admin, {"cf_health": "Allergie"}).items) == 1


def test_private_numbers_are_not_searchable_by_anyone(admin, person):
    assert search(admin, "0176 12345678") == []
    assert [h.title for h in search(admin, "030 1234567")] == ["Petra Privat"]


def test_a_private_number_is_never_the_records_primary_phone(person):
    assert person.primary_phone == "+49301234567"
