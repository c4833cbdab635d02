"""Calls, notes, meetings and completed tasks show in the timelines of the records they are
about, for those who may see them, and the timeline's kind filter applies to them."""

from __future__ import annotations

import pytest

from farley.activities import services
from tests.factories import make_account, make_contact

pytestmark = pytest.mark.django_db


def test_activities_are_in_the_timeline_of_their_records(client, sales1, sales2):
    contact = make_contact(sales1, first_name="Greta", last_name="Muster")
    account = make_account(sales1, name="Muster GmbH")
    related = [{"type": "contact", "id": contact.pk}, {"type": "account", "id": account.pk}]
    services.activity_create(actor=sales1, kind="call", data={
        "description": "Angerufen wegen Angebot", "related": related})  # fmt: skip
    services.activity_create(actor=sales1, kind="note", data={
        "description": "Mag keinen Kaffee", "related": related[:1]})  # fmt: skip
    open_task = services.activity_create(actor=sales1, kind="task", data={
        "title": "Offene Aufgabe", "related": related[:1]})  # fmt: skip
    done = services.activity_create(actor=sales1, kind="task", data={
        "title": "Erledigte Aufgabe", "related": related[:1]})  # fmt: skip
    services.task_complete(actor=sales1, task_id=done.pk)
    services.activity_create(actor=sales2, kind="note", data={
        "description": "Geheime Notiz von Team 2"})  # fmt: skip
    client.force_login(sales1)
    page = client.get(f"/contacts/{contact.pk}/").content.decode()
    timeline = page[page.index('id="timeline-items"') :]
    for text in ("Angerufen wegen Angebot", "Mag keinen Kaffee", "Erledigte Aufgabe"):
        assert text in timeline, text
    assert f'id="activity-{open_task.pk}"' not in timeline
    assert "Geheime Notiz" not in page
    calls_only = client.get(f"/contacts/{contact.pk}/", {"kind": "call"}).content.decode()
    calls_only = calls_only[calls_only.index('id="timeline-items"') :]
    assert "Angerufen wegen Angebot" in calls_only
    assert "Mag keinen Kaffee" not in calls_only
    account_page = client.get(f"/accounts/{account.pk}/").content.decode()
    assert "Angerufen wegen Angebot" in account_page[account_page.index('id="timeline-items"') :]
    client.force_login(sales2)
    assert client.get(f"/contacts/{contact.pk}/").status_code == 404


def test_a_follow_up_from_a_timeline_entry(client, sales1):
    from farley.activities.models import Activity
    from tests.factories import log_interaction

    contact = make_contact(sales1, first_name="Greta", last_name="Muster")
    log_interaction(sales1, contact_id=contact.pk, subject="Angebot besprochen")
    client.force_login(sales1)
    page = client.get(f"/contacts/{contact.pk}/").content.decode()
    assert 'value="Follow up: Angebot besprochen"' in page
    form = page[page.index('value="Follow up: Angebot besprochen"') - 900 :]
    due = form[form.index('name="due_at" value="') + 21 :][:16]
    response = client.post("/activities/follow-up/", {
        "related": f"contact:{contact.pk}", "due_at": due,
        "title": "Follow up: Angebot besprochen", "next": f"/contacts/{contact.pk}/",
    })  # fmt: skip
    assert response.status_code == 302
    task = Activity.objects.get(is_follow_up=True)
    assert task.title == "Follow up: Angebot besprochen"
    assert [(link.entity, link.object_id) for link in task.links.all()] == [("contact", contact.pk)]
