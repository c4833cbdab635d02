"""Record pages: correcting and removing timeline entries in place (htmx) and without
JavaScript, with field errors, stale versions and read-only users."""

from __future__ import annotations

import pytest

from farley.contacts.models import TimelineEntry
from tests.factories import log_interaction, make_contact

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def entry(sales1):
    contact = make_contact(sales1, first_name="Jana", last_name="Jäger")
    return log_interaction(sales1, contact_id=contact.pk, kind="call", subject="Rückruf")


def edit_url(entry: TimelineEntry) -> str:
    return f"/contacts/{entry.contact_id}/timeline/{entry.pk}/edit/"


def delete_url(entry: TimelineEntry) -> str:
    return f"/contacts/{entry.contact_id}/timeline/{entry.pk}/delete/"


def form(entry: TimelineEntry, **changes: str) -> dict[str, str]:
    data = {
        "kind": entry.kind,
        "direction": entry.direction,
        "subject": entry.subject,
        "body": entry.body,
        "occurred_at": entry.occurred_at.strftime("%Y-%m-%dT%H:%M"),
        "version": str(entry.version),
    }
    return {**data, **changes}


def test_the_record_page_offers_edit_and_delete_for_each_entry(client, sales1, entry):
    client.force_login(sales1)
    page = client.get(f"/contacts/{entry.contact_id}/").content.decode()
    assert edit_url(entry) in page
    assert delete_url(entry) in page


def test_a_read_only_user_gets_no_buttons_and_cannot_edit(client, reader, entry):
    client.force_login(reader)
    page = client.get(f"/contacts/{entry.contact_id}/").content.decode()
    assert "Rückruf" in page
    assert edit_url(entry) not in page
    response = client.post(edit_url(entry), form(entry, subject="Hacked"), **HTMX)
    assert response.status_code == 403
    entry.refresh_from_db()
    assert entry.subject == "Rückruf"


def test_edit_form_comes_in_place_with_the_current_values(client, sales1, entry):
    client.force_login(sales1)
    response = client.get(edit_url(entry), **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert f'id="entry-{entry.pk}"' in html
    assert 'value="Rückruf"' in html
    assert "<html" not in html


def test_saving_updates_the_entry_and_returns_the_timeline(client, sales1, entry):
    client.force_login(sales1)
    response = client.post(
        edit_url(entry), form(entry, subject="Rückruf – erledigt ✅", kind="meeting"), **HTMX
    )
    assert response.status_code == 200
    assert "Rückruf – erledigt ✅" in response.content.decode()
    entry.refresh_from_db()
    assert (entry.subject, entry.kind, entry.version) == ("Rückruf – erledigt ✅", "meeting", 2)


def test_an_empty_subject_is_shown_at_the_field_and_nothing_changes(client, sales1, entry):
    client.force_login(sales1)
    response = client.post(edit_url(entry), form(entry, subject="  "), **HTMX)
    assert response.status_code == 422
    assert response["HX-Retarget"] == f"#entry-{entry.pk}"
    assert "is-invalid" in response.content.decode()
    entry.refresh_from_db()
    assert entry.subject == "Rückruf"


def test_a_stale_version_is_refused(client, sales1, entry):
    client.force_login(sales1)
    client.post(edit_url(entry), form(entry, subject="Erste Änderung"), **HTMX)
    response = client.post(edit_url(entry), form(entry, subject="Zweite Änderung"), **HTMX)
    assert response.status_code == 409
    entry.refresh_from_db()
    assert entry.subject == "Erste Änderung"


def test_without_javascript_the_form_is_a_page_and_saving_redirects(client, sales1, entry):
    client.force_login(sales1)
    page = client.get(edit_url(entry))
    assert "<html" in page.content.decode()
    response = client.post(edit_url(entry), form(entry, body="Angebot folgt"))
    assert response.status_code == 302
    assert response["Location"] == f"/contacts/{entry.contact_id}/"


def test_delete_hides_the_entry_but_keeps_it(client, sales1, entry):
    client.force_login(sales1)
    response = client.post(delete_url(entry), **HTMX)
    assert response.status_code == 200
    assert "Rückruf" not in response.content.decode().split('id="timeline-items"')[1]
    entry.refresh_from_db()
    assert entry.deleted_at is not None


def test_an_entry_of_another_record_cannot_be_reached_through_this_one(client, sales1, entry):
    other = make_contact(sales1, first_name="Olaf", last_name="Otto")
    client.force_login(sales1)
    response = client.get(f"/contacts/{other.pk}/timeline/{entry.pk}/edit/", **HTMX)
    assert response.status_code == 404


def test_an_entry_the_user_may_not_see_is_not_found(client, sales2, entry):
    client.force_login(sales2)
    assert client.post(delete_url(entry), **HTMX).status_code == 404
    entry.refresh_from_db()
    assert entry.deleted_at is None


def test_the_edit_form_offers_every_stored_language_so_saving_keeps_it(client, sales1):
    contact = make_contact(sales1, first_name="Sven", last_name="Svensson", language="sv")
    client.force_login(sales1)
    form = client.get(f"/contacts/{contact.pk}/edit/").content.decode()
    assert '<option value="sv" selected>' in form


def test_a_new_contact_has_no_preferred_channel_unless_chosen(client, sales1):
    client.force_login(sales1)
    form = client.get("/contacts/new/").content.decode()
    channel_select = form.split('id="f-preferred_channel"')[1].split("</select>")[0]
    assert channel_select.index('value=""') < channel_select.index('value="email"')


def test_the_timeline_shows_older_entries_on_request(client, sales1):
    contact = make_contact(sales1, first_name="Olga", last_name="Oldtimer")
    oldest = log_interaction(
        sales1, contact_id=contact.pk, subject="Allererster Kontakt", occurred_at="2020-01-01T10:00"
    )
    for i in range(55):
        log_interaction(sales1, contact_id=contact.pk, subject=f"Anruf {i}")
    client.force_login(sales1)
    page = client.get(f"/contacts/{contact.pk}/").content.decode()
    assert oldest.subject not in page
    assert 'id="timeline-more"' in page
    more = client.get(
        f"/contacts/{contact.pk}/?shown=100&partial=timeline", **HTMX
    ).content.decode()
    assert oldest.subject in more
    assert 'id="timeline-more"' not in more


def test_a_removed_entry_waits_in_the_trash_and_can_be_restored(client, sales1, entry):
    client.force_login(sales1)
    client.post(delete_url(entry), **HTMX)
    trash = client.get("/trash/").content.decode()
    assert "Rückruf" in trash
    response = client.post(f"/timeline-entries/{entry.pk}/restore/")
    assert response.status_code == 302
    entry.refresh_from_db()
    assert entry.deleted_at is None
    assert "Rückruf" in client.get(f"/contacts/{entry.contact_id}/").content.decode()


def test_the_parent_account_is_picked_by_name(client, sales1):
    from tests.factories import make_account

    parent = make_account(sales1, name="Mutter Holding AG")
    child = make_account(sales1, name="Tochter GmbH")
    client.force_login(sales1)
    form = client.get(f"/accounts/{child.pk}/edit/").content.decode()
    assert 'name="parent"' in form and 'name="parent_id"' not in form
    data = {"version": child.version, "name": "Tochter GmbH", "status": "prospect",
            "revenue_currency": "EUR", "parent": f"Mutter Holding AG [{parent.customer_number}]"}  # fmt: skip
    assert client.post(f"/accounts/{child.pk}/edit/", data).status_code == 302
    child.refresh_from_db()
    assert child.parent == parent
    child_version = child.version
    bad = client.post(
        f"/accounts/{child.pk}/edit/", {**data, "version": child_version, "parent": "Gibt es nicht"}
    )
    assert bad.status_code == 422
    assert "Choose an account from the list." in bad.content.decode()


def test_new_contact_from_an_account_page_is_linked_to_it(client, sales1):
    from tests.factories import make_account

    account = make_account(sales1, name="Verlinkt GmbH")
    client.force_login(sales1)
    page = client.get(f"/accounts/{account.pk}/").content.decode()
    assert f"/contacts/new/?account={account.pk}" in page
    form = client.get(f"/contacts/new/?account={account.pk}").content.decode()
    assert f'value="Verlinkt GmbH [{account.customer_number}]"' in form


def test_a_trashed_record_offers_no_forms_but_restore(client, sales1, entry):
    from farley.contacts import services

    services.contact_delete(actor=sales1, contact_id=entry.contact_id)
    client.force_login(sales1)
    page = client.get(f"/contacts/{entry.contact_id}/").content.decode()
    assert "/restore/" in page
    assert f"/contacts/{entry.contact_id}/timeline/" not in page.split('id="timeline-items"')[0]
    assert "relationships/" not in page


def test_an_edit_conflict_keeps_what_the_user_typed(client, sales1, sales2, team1):
    from farley.contacts import services

    contact = make_contact(sales1, first_name="Kurt", last_name="Konflikt")
    stale_version = contact.version
    services.contact_update(actor=sales1, contact_id=contact.pk, data={"job_title": "Chef"})
    client.force_login(sales1)
    response = client.post(
        f"/contacts/{contact.pk}/edit/",
        {"version": stale_version, "first_name": "Kurt", "last_name": "Konflikt",
         "department": "Einkauf (mein Text)"},
    )  # fmt: skip
    page = response.content.decode()
    assert response.status_code == 409
    assert "Someone else saved this record" in page
    assert "Einkauf (mein Text)" in page
    assert f'name="version" value="{stale_version + 1}"' in page
