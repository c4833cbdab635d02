"""Browser journeys of tasks and follow-ups: a follow-up set in one click on a contact's page
shows up in "My day", is completed in the dialog with a next task, and the next task is
listed; a task made in the form (a field error first), then postponed and completed from the
task list with the bulk actions."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from farley.activities.models import Activity, ActivityStatus
from farley.core import timezones
from tests.factories import make_contact

pytestmark = pytest.mark.django_db(transaction=True)


def local_input(user, days: int, hour: int = 9) -> str:
    zone = timezones.zone(user)
    day = timezone.now().astimezone(zone).date() + dt.timedelta(days=days)
    return dt.datetime.combine(day, dt.time(hour, 0)).strftime("%Y-%m-%dT%H:%M")


def test_follow_up_from_a_contact_completed_in_my_day_with_a_next_task(page, admin_login):
    base = page.base_url
    contact = make_contact(admin_login, first_name="Greta", last_name="Grün")

    # On the contact's page: one click sets a follow-up a week from now, 09:00.
    page.goto(base + f"/contacts/{contact.pk}/")
    panel = page.locator("#panel-activities")
    expect(panel.locator("#f-follow-up-due")).to_have_value(local_input(admin_login, 7))
    panel.get_by_role("button", name="Follow-up", exact=True).click()
    expect(page.get_by_role("alert").filter(has_text="Follow-up set for")).to_be_visible()
    expect(page.locator("#panel-tasks")).to_contain_text("Follow up: Greta Grün")
    follow_up = Activity.objects.get()
    assert (follow_up.is_follow_up, follow_up.owner) == (True, admin_login)

    # "My day" lists it among the next seven days and the follow-ups, with the contact.
    page.get_by_role("link", name=re.compile("^My day")).click()
    expect(page.locator("h1")).to_contain_text("My day")
    upcoming = page.locator("#section-upcoming")
    expect(upcoming).to_contain_text("Follow up: Greta Grün")
    expect(page.locator("#section-follow-ups")).to_contain_text("Greta Grün")

    # Done: the dialog asks for the outcome and offers a next task in two weeks.
    upcoming.locator(f'[data-complete-task="{follow_up.pk}"]').click()
    dialog = page.locator("#complete-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator("#complete-task-title")).to_have_text("Follow up: Greta Grün")
    expect(dialog.locator("#f-next_due_at")).to_have_value(local_input(admin_login, 14))
    dialog.locator("#f-outcome").fill("Erreicht – möchte ein Angebot bis Freitag")
    # A next task without a title is refused in the dialog, and nothing is saved.
    dialog.locator("#f-next_title").fill("")
    expect(dialog.locator("#f-next_create")).to_be_checked()
    dialog.get_by_role("button", name="Mark as done").click()
    expect(dialog.locator("#f-next_title")).to_have_class(re.compile("is-invalid"))
    assert Activity.objects.get(pk=follow_up.pk).status == ActivityStatus.OPEN
    expect(dialog.locator("#f-outcome")).to_have_value("Erreicht – möchte ein Angebot bis Freitag")
    dialog.locator("#f-next_title").fill("Angebot nachfassen")
    dialog.get_by_role("button", name="Tomorrow").click()
    expect(dialog.locator("#f-next_due_at")).to_have_value(local_input(admin_login, 1))
    dialog.get_by_role("button", name="Mark as done").click()

    # The page reloads: the follow-up is done, the next task is listed.
    expect(
        page.get_by_role("alert").filter(has_text="Done. Next: Angebot nachfassen")
    ).to_be_visible()
    expect(upcoming).to_contain_text("Angebot nachfassen")
    expect(upcoming).not_to_contain_text("Follow up: Greta Grün")
    follow_up.refresh_from_db()
    assert follow_up.status == ActivityStatus.DONE
    assert "möchte ein Angebot" in follow_up.description
    following = Activity.objects.get(title="Angebot nachfassen")
    assert [(link.entity, link.object_id) for link in following.links.all()] == [
        ("contact", contact.pk)
    ]
    # ... and on the contact's page, whose link it carries.
    upcoming.get_by_role("link", name="Greta Grün").click()
    expect(page.locator("#panel-tasks")).to_contain_text("Angebot nachfassen")
    expect(page.locator("#panel-tasks")).not_to_contain_text("Follow up: Greta Grün")


def test_a_task_from_the_form_then_postponed_and_completed_in_the_list(page, admin_login):
    base = page.base_url
    contact = make_contact(admin_login, first_name="Jörg", last_name="Öztürk")

    # From the contact's page to the task form, with the contact preset.
    page.goto(base + f"/contacts/{contact.pk}/")
    page.locator("#panel-activities").get_by_role("link", name="Task", exact=True).click()
    expect(page.locator("h1")).to_have_text("New task")
    expect(page.locator("#related-list")).to_contain_text("Jörg Öztürk")
    page.fill("#f-title", "Vertrag prüfen")
    page.fill("#f-due_at", "2026-13-45T10:00")  # refused by the browser: stays empty
    page.fill("#f-due_at", local_input(admin_login, -1, 10))
    page.select_option("#f-recurrence_preset", "weekly")
    expect(page.locator("#f-recurrence_count")).to_be_visible()
    expect(page.locator("#f-recurrence")).to_be_hidden()
    page.fill("#f-recurrence_count", "0")
    page.locator("#activity-form button[type=submit]").click()
    expect(page.locator("#f-recurrence_count")).to_have_class(re.compile("is-invalid"))
    expect(page.locator("#f-recurrence_count")).to_be_focused()
    expect(page.locator("#form-errors")).to_contain_text("Nothing was saved.")
    assert Activity.objects.count() == 0
    page.select_option("#f-recurrence_preset", "")
    page.locator("#activity-form button[type=submit]").click()
    # Saved: back on the contact's page, the task is overdue (counted in the navigation).
    expect(page.locator("h1")).to_have_text("Jörg Öztürk")
    expect(page.locator("#panel-tasks")).to_contain_text("Vertrag prüfen")
    expect(page.locator("#my-day-count")).to_contain_text("1")

    # The task list: postpone it by a week (the date field shows only for "to a date").
    page.goto(base + "/tasks/")
    row = page.locator("#task-table tbody tr", has_text="Vertrag prüfen")
    row.locator("input[name=ids]").check()
    page.select_option("#bulk-action", "postpone")
    expect(page.locator("#bulk-assignee")).to_be_hidden()
    expect(page.locator("#bulk-postpone-to")).to_be_hidden()
    page.select_option("#bulk-postpone", "1w")
    page.click("#bulk-apply")
    expect(page.get_by_role("alert").filter(has_text="1 task was changed.")).to_be_visible()
    task = Activity.objects.get()
    assert timezone.localtime(task.due_at, timezones.zone(admin_login)).strftime(
        "%Y-%m-%dT%H:%M"
    ) == local_input(admin_login, 6, 10)
    expect(page.locator("#my-day-count")).to_have_count(0)

    # Check all, complete: the list of open tasks is empty.
    page.check("#check-all")
    page.select_option("#bulk-action", "complete")
    page.click("#bulk-apply")
    expect(page.get_by_role("alert").filter(has_text="1 task was changed.")).to_be_visible()
    expect(page.locator("#task-table")).to_contain_text("No tasks found.")
    task.refresh_from_db()
    assert task.status == ActivityStatus.DONE
