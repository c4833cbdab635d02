"""The field history as people read it on the record page: labels in their language,
choices by name, custom fields by label, lists as text."""

from __future__ import annotations

import pytest
from django.utils import translation

from farley.contacts import selectors, services
from farley.core.services import custom_field_create
from tests.factories import make_account, make_contact

pytestmark = pytest.mark.django_db


def lines_of_last_change(record, user=None) -> dict[str, tuple[str, str]]:
    latest = selectors.record_history(record, user)[0]
    return {line.label: (line.old, line.new) for line in latest.lines}


def test_an_update_shows_field_labels_and_choice_names(admin):
    account = make_account(admin, name="Alt GmbH", status="prospect")
    services.account_update(
        actor=admin, account_id=account.pk, data={"name": "Neu GmbH", "status": "customer"}
    )
    assert lines_of_last_change(account) == {
        "Name": ("Alt GmbH", "Neu GmbH"),
        "Status": ("Prospect", "Customer"),
    }


def test_lists_and_custom_fields_are_shown_as_text(admin):
    custom_field_create(
        actor=admin,
        data={"entity": "contact", "key": "vip", "label": "VIP", "label_de": "Top-Kunde",
              "field_type": "boolean"},
    )  # fmt: skip
    contact = make_contact(admin, first_name="Ada", last_name="Lovelace")
    services.contact_update(
        actor=admin,
        contact_id=contact.pk,
        data={"tags": ["Wichtig", "Messe"], "custom": {"vip": True}},
    )
    lines = lines_of_last_change(contact)
    assert lines["Tags"] == ("", "Messe, Wichtig")
    assert lines["VIP"] == ("", "Yes")
    with translation.override("de"):
        german = lines_of_last_change(contact)
    assert german["Top-Kunde"] == ("", "Ja")
    assert german["Tags"] == ("", "Messe, Wichtig")


def test_creation_lists_the_values_set(admin):
    contact = make_contact(admin, first_name="Grace", last_name="Hopper", job_title="Admiral")
    created = selectors.record_history(contact)[-1]
    labels = {line.label: line.new for line in created.lines}
    assert labels["First name"] == "Grace"
    assert labels["Job title"] == "Admiral"


def test_numbers_and_dates_are_shown_in_the_users_format(admin):
    account = make_account(admin, name="Zahlen GmbH")
    services.account_update(
        actor=admin, account_id=account.pk, data={"annual_revenue": "1234567.5", "employees": 1200}
    )
    with translation.override("de"):
        german = lines_of_last_change(account)
    assert german["Jahresumsatz"] == ("", "1.234.567,50")
    assert german["Mitarbeiter"][1] == "1.200"
    contact = make_contact(admin, first_name="Doris", last_name="Datum")
    services.contact_update(actor=admin, contact_id=contact.pk, data={"birthday": "1980-02-29"})
    with translation.override("de"):
        assert lines_of_last_change(contact, admin)["Geburtstag"] == ("", "29.02.1980")
        assert lines_of_last_change(contact)["Geburtstag"] == ("", "•••")  # for no one else


def test_kinds_of_emails_and_phones_are_shown_in_the_users_language(admin):
    contact = make_contact(admin, last_name="Art", emails=[{"address": "a@b.de", "kind": "work"}])
    with translation.override("de"):
        lines = lines_of_last_change(contact, admin)
    assert lines["E-Mail-Adressen"][1] == "a@b.de (Geschäftlich)"


def test_an_appointments_history_names_its_attendees_assignee_and_records(sales1, team1):
    """Attendees are a reverse relation of the activity, the assignee and the records it is
    about are no fields at all: each still gets a label (the page used to fail on them)."""
    from farley.activities import services as activities
    from farley.core.history import history_for, with_change_lines
    from tests.factories import make_user

    colleague = make_user("sales", team1)
    contact = make_contact(sales1, last_name="Muster")
    meeting = activities.activity_create(actor=sales1, kind="appointment", data={
        "title": "Planung", "start_at": "2026-12-10T10:00",
        "attendees": [{"type": "user", "id": colleague.pk}],
        "related": [{"type": "contact", "id": contact.pk}],
    })  # fmt: skip
    with translation.override("de"):
        created = with_change_lines("activity", list(history_for("activity", meeting.pk)))[0]
        labels = {line.label for line in created.lines}
    assert {"Teilnehmende", "Zugewiesen an", "Betrifft"} <= labels
