"""Browser journeys of the calendar (FullCalendar v7 in Chromium, under the strict CSP): an
appointment dragged to another day and time stays there after a reload and is saved at that
time in the user's zone (the browser runs in Tokyo, the user in Berlin); a drag of an entry
someone else changed meanwhile jumps back with a message; the picker shows a colleague's and a
team's calendar, the month and agenda views; German puts Monday first. No page shows a
Content-Security-Policy violation or a script error."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from farley.activities import services
from farley.activities.models import Activity
from farley.core import timezones
from farley.core.models import Team
from tests.factories import make_user

pytestmark = pytest.mark.django_db(transaction=True)

UTC = dt.UTC
WEEK = "/calendar/?view=week&date=2026-12-09"  # Sunday 6 to Saturday 12 December (English)


@pytest.fixture
def page(browser, live_server):
    """The browser in Tokyo: the calendar must show the user's zone (Berlin), not this one."""
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="en-GB", timezone_id="Asia/Tokyo"
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.base_url = live_server.url
    page.problems = []

    def console(message) -> None:
        # Chromium logs every answer >= 400 ("Failed to load resource"): the 409 is expected.
        if "Content Security Policy" in message.text or (
            message.type == "error" and not message.text.startswith("Failed to load resource")
        ):
            page.problems.append(message.text)

    page.on("console", console)
    page.on("pageerror", lambda e: page.problems.append(str(e)))
    yield page
    context.close()


def appointment(actor, title, start, end, **data) -> Activity:
    return services.activity_create(
        actor=actor,
        kind="appointment",
        data={"title": title, "start_at": start, "end_at": end, **data},
    )


def entry(page, activity):
    return page.locator(f'#calendar [data-activity-id="{activity.pk}"]')


def lane(page, day: str):
    """The time-grid column of a day (the all-day row has a cell with the same date)."""
    return page.locator(f'#calendar [role="cell"][data-date="{day}"]').last


def slot(page, time: str):
    return page.locator(f'#calendar [data-time="{time}"]').last


def drag(page, source, day: str, time: str) -> None:
    """Drag an entry by its upper part onto ``day`` at ``time``."""
    slot(page, time).scroll_into_view_if_needed()
    box = source.bounding_box()
    grab_x, grab_y = box["x"] + box["width"] / 2, box["y"] + 8
    column, row = lane(page, day).bounding_box(), slot(page, time).bounding_box()
    page.mouse.move(grab_x, grab_y)
    page.mouse.down()
    page.mouse.move(grab_x + 5, grab_y + 5, steps=3)
    page.mouse.move(column["x"] + column["width"] / 2, row["y"] + 8, steps=15)
    page.mouse.up()


def assert_at(page, activity, day: str, time: str) -> None:
    """The entry is shown in ``day``'s column, its top at ``time``."""
    expect(entry(page, activity)).to_be_visible()
    slot(page, time).scroll_into_view_if_needed()
    box = entry(page, activity).bounding_box()
    column, row = lane(page, day).bounding_box(), slot(page, time).bounding_box()
    assert column["x"] <= box["x"] + box["width"] / 2 <= column["x"] + column["width"]
    assert abs(box["y"] - row["y"]) < 4, (box, row)


def test_drag_an_appointment_to_another_day_and_time_and_find_it_there(page, admin_login):
    base = page.base_url
    assert timezones.zone_name(admin_login) == "Europe/Berlin"
    meeting = appointment(admin_login, "Kundentermin", "2026-12-09T10:00", "2026-12-09T11:00")
    follow_up = services.activity_create(
        actor=admin_login, kind="task", data={"title": "Rückruf", "due_at": "2026-12-10T09:00"}
    )

    page.goto(base + WEEK)
    expect(page.locator("h1")).to_have_text("Calendar")
    # At Berlin's 10:00 on Wednesday, though the browser is in Tokyo (18:00 there).
    assert_at(page, meeting, "2026-12-09", "10:00:00")
    assert_at(page, follow_up, "2026-12-10", "09:00:00")
    expect(entry(page, meeting)).to_contain_text("Kundentermin")
    # Colour by type: appointments and tasks differ.
    colours = [
        entry(page, a).evaluate("el => getComputedStyle(el).backgroundColor")
        for a in (meeting, follow_up)
    ]
    assert colours[0] != colours[1]

    # Drag it to Friday 14:00.
    drag(page, entry(page, meeting), "2026-12-11", "14:00:00")
    expect(page.locator("#calendar-message")).to_contain_text("Moved “Kundentermin”.")
    meeting.refresh_from_db()
    assert (meeting.start_at, meeting.end_at) == (
        dt.datetime(2026, 12, 11, 13, 0, tzinfo=UTC),  # 14:00 in Berlin
        dt.datetime(2026, 12, 11, 14, 0, tzinfo=UTC),
    )
    assert meeting.version == 2

    # Reloaded (the address kept the week), it is there; and it moves again (new version).
    page.reload()
    assert_at(page, meeting, "2026-12-11", "14:00:00")
    drag(page, entry(page, meeting), "2026-12-10", "08:00:00")
    expect(page.locator("#calendar-message")).to_contain_text("Moved “Kundentermin”.")
    meeting.refresh_from_db()
    assert meeting.start_at == dt.datetime(2026, 12, 10, 7, 0, tzinfo=UTC)
    # The link leads to the appointment's page.
    assert entry(page, meeting).get_attribute("href") == f"/activities/{meeting.pk}/"
    assert page.problems == []


def test_a_drag_of_an_entry_changed_meanwhile_jumps_back_with_a_message(page, admin_login):
    meeting = appointment(admin_login, "Kundentermin", "2026-12-09T10:00", "2026-12-09T11:00")
    page.goto(page.base_url + WEEK)
    assert_at(page, meeting, "2026-12-09", "10:00:00")
    # Someone else moves it an hour later while the page is open.
    colleague = make_user("administrator", full_name="Kai Kollege")
    services.activity_update(
        actor=colleague, activity_id=meeting.pk,
        data={"start_at": "2026-12-09T11:00", "end_at": "2026-12-09T12:00"},
    )  # fmt: skip

    drag(page, entry(page, meeting), "2026-12-11", "14:00:00")
    message = page.locator("#calendar-message [role=alert]")
    expect(message).to_contain_text("Someone else changed “Kundentermin” in the meantime")
    # Nothing saved; the calendar shows where the colleague put it.
    meeting.refresh_from_db()
    assert meeting.start_at == dt.datetime(2026, 12, 9, 10, 0, tzinfo=UTC)
    expect(entry(page, meeting)).to_contain_text(re.compile(r"11:00\s*–\s*12:00"))
    assert_at(page, meeting, "2026-12-09", "11:00:00")
    assert page.problems == []


def test_a_colleagues_and_a_teams_calendar_month_and_agenda(page, admin_login):
    team = Team.objects.get(name="Vertrieb")
    colleague = make_user("sales", team, full_name="Carla Kollegin")
    stranger = make_user("sales", full_name="Sam Solo")
    theirs = appointment(colleague, "Termin von Carla", "2026-12-08T09:00", "2026-12-08T10:00")
    solo = appointment(stranger, "Termin von Sam", "2026-12-08T13:00", "2026-12-08T14:00")
    mine = appointment(admin_login, "Mein Termin", "2026-12-09T10:00", "2026-12-09T11:00")

    page.goto(page.base_url + WEEK)
    expect(entry(page, mine)).to_be_visible()
    expect(entry(page, theirs)).to_have_count(0)
    page.select_option("#calendar-who", label="Carla Kollegin")
    expect(entry(page, theirs)).to_be_visible()
    expect(entry(page, mine)).to_have_count(0)
    assert f"who=user%3A{colleague.pk}" in page.url or f"who=user:{colleague.pk}" in page.url
    page.select_option("#calendar-who", label="Vertrieb")
    expect(entry(page, theirs)).to_be_visible()
    expect(entry(page, mine)).to_be_visible()
    expect(entry(page, solo)).to_have_count(0)

    # The month and the agenda (a list) of the same team.
    page.get_by_role("tab", name=re.compile("^Month")).click()
    expect(
        page.locator("h2, [role=heading]").filter(has_text="December 2026").first
    ).to_be_visible()
    expect(entry(page, theirs)).to_be_visible()
    assert "view=month" in page.url
    page.get_by_role("tab", name=re.compile("^Agenda")).click()
    expect(page.locator("#calendar")).to_contain_text("Termin von Carla")
    expect(page.locator("#calendar")).to_contain_text("Mein Termin")
    assert "view=agenda" in page.url
    # A reload keeps whose calendar and which view.
    page.reload()
    expect(page.locator("#calendar-who")).to_have_value(f"team:{team.pk}")
    expect(page.locator("#calendar")).to_contain_text("Termin von Carla")
    # A click on an entry opens its page.
    page.locator("#calendar").get_by_text("Mein Termin").click()
    page.wait_for_url(re.compile(rf"/activities/{mine.pk}/$"))
    assert page.problems == []


def test_in_german_the_week_starts_on_monday(page, admin_login):
    admin_login.language = "de"
    admin_login.save(update_fields=["language"])
    page.goto(page.base_url + WEEK)
    headers = page.locator('#calendar [role="columnheader"][data-date]')
    expect(headers.first).to_have_attribute("data-date", "2026-12-07")  # a Monday
    expect(headers.first).to_contain_text("Mo")
    expect(page.locator("#calendar")).to_contain_text("Dezember 2026")
    assert page.problems == []


def test_an_all_day_appointment_is_on_its_dates_for_a_colleague_far_away(page, admin_login):
    """A trade fair on 10 and 11 December saved in Tokyo shows on those two days in the week of
    an attendee in Los Angeles (17 hours behind), and on its page."""
    from django.utils import timezone

    admin_login.time_zone = "America/Los_Angeles"
    admin_login.save(update_fields=["time_zone"])
    organiser = make_user("sales", full_name="Taro Tokio", time_zone="Asia/Tokyo")
    with timezone.override(timezones.zone(organiser)):
        fair = appointment(organiser, "Messe", "2026-12-10T00:00", "2026-12-11T00:00",
                           all_day=True, attendees=[{"type": "user", "id": admin_login.pk}])  # fmt: skip

    page.goto(page.base_url + WEEK)
    expect(entry(page, fair)).to_be_visible()
    box = entry(page, fair).bounding_box()
    first, last = (
        page.locator(f'#calendar [role="columnheader"][data-date="{day}"]').first.bounding_box()
        for day in ("2026-12-10", "2026-12-11")
    )
    assert abs(box["x"] - first["x"]) < 6, (box, first)
    assert abs(box["x"] + box["width"] - (last["x"] + last["width"])) < 6, (box, last)
    entry(page, fair).click()
    page.wait_for_url(page.base_url + f"/activities/{fair.pk}/")
    expect(page.locator("body")).to_contain_text("12/10/2026")
    assert page.problems == []
