"""Browser journeys: a due reminder shows on the bell and in the notification list and leads
to its task; an invitation (.ics) imported on its page becomes an appointment; the profile
shows the calendar feed address and gives it a new one; a contact's reply to an emailed
invitation, imported on the same page, shows their answer on the appointment."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from playwright.sync_api import expect

from farley.activities import reminders, services
from farley.activities.models import Activity

INVITATION = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//EN\r\nBEGIN:VEVENT\r\nUID:e2e-1@example\r\n"
    "SUMMARY:Messebesuch Hannover\r\nDTSTART:20261210T090000Z\r\nDTEND:20261210T110000Z\r\n"
    "LOCATION:Halle 7\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)


def test_a_reminder_on_the_bell_leads_to_its_task(page, admin_login):
    task = services.activity_create(actor=admin_login, kind="task", data={
        "title": "Rückruf Frau Keller",
        "remind_at": (timezone.now() - dt.timedelta(minutes=1)).isoformat()})  # fmt: skip
    reminders.run_due()
    page.goto(page.base_url + "/")
    expect(page.locator("#bell-count")).to_contain_text("1")
    page.click("#nav-bell")
    expect(page.locator("#notification-list")).to_contain_text("Reminder: Rückruf Frau Keller")
    page.get_by_role("button", name="Reminder: Rückruf Frau Keller").click()
    page.wait_for_url(page.base_url + f"/activities/{task.pk}/")
    expect(page.locator("h1")).to_contain_text("Rückruf Frau Keller")
    page.goto(page.base_url + "/")
    expect(page.locator("#bell-count")).to_have_count(0)


def test_an_invitation_is_imported_and_the_feed_renewed(page, admin_login, tmp_path):
    page.goto(page.base_url + "/profile/")
    feed = page.locator("#calendar-feed-url")
    old = feed.input_value()
    assert "/calendar/" in old and old.endswith(".ics")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="New address").click()
    expect(page.locator("#calendar-feed-url")).not_to_have_value(old)
    page.get_by_role("link", name="Import invitations (.ics)").click()
    bad = tmp_path / "bad.ics"
    bad.write_bytes(b"kein Kalender")
    page.set_input_files("#f-file", str(bad))
    page.get_by_role("button", name="Import").click()
    expect(page.locator("#import-errors")).to_contain_text("iCalendar")
    assert not Activity.objects.exists()
    good = tmp_path / "invite.ics"
    good.write_text(INVITATION, encoding="utf-8")
    page.set_input_files("#f-file", str(good))
    page.get_by_role("button", name="Import").click()
    expect(page.locator("h1")).to_contain_text("Messebesuch Hannover")
    expect(page.locator("body")).to_contain_text("Halle 7")


def test_an_invitation_on_the_bell_is_accepted_and_the_organiser_told(page, admin_login):
    from farley.core.models import Notification
    from farley.core.services import user_create

    organiser = user_create(actor=None, email="bernd@example.com", password="Lang-genug-2026!x",
                            role="sales", full_name="Bernd Berger", team_names=["Vertrieb"])  # fmt: skip
    meeting = services.activity_create(actor=organiser, kind="appointment", data={
        "title": "Jahresplanung", "start_at": "2026-12-10T10:00",
        "attendees": [{"type": "user", "id": admin_login.pk}]})  # fmt: skip
    page.goto(page.base_url + "/")
    page.click("#nav-bell")
    invitation = "Bernd Berger invited you: Jahresplanung"
    page.get_by_role("button", name=invitation).click()
    page.wait_for_url(page.base_url + f"/activities/{meeting.pk}/")
    expect(page.locator("#activity-attendees")).to_contain_text("Anna Admin (No answer yet)")
    page.locator("#activity-invitation").get_by_role("button", name="Accept").click()
    expect(page.locator("body")).to_contain_text("Your answer was saved")
    expect(page.locator("#activity-attendees")).to_contain_text("Anna Admin (Accepted)")
    expect(page.locator('[data-response="accepted"]')).to_have_attribute("aria-pressed", "true")
    reply = Notification.objects.get(user=organiser, kind="reply")
    assert reply.title == "Anna Admin accepted: Jahresplanung"


def test_the_invitation_is_emailed_to_the_invited_contact(page, admin_login, mailoutbox):
    from farley.contacts.services import contact_create

    contact = contact_create(actor=admin_login, data={
        "first_name": "Greta", "last_name": "Muster", "emails": [{"address": "greta@example.de"}]})  # fmt: skip
    meeting = services.activity_create(actor=admin_login, kind="appointment", data={
        "title": "Vorführung", "start_at": "2026-12-10T10:00",
        "attendees": [{"type": "contact", "id": contact.pk}]})  # fmt: skip
    page.goto(page.base_url + f"/activities/{meeting.pk}/")
    page.get_by_role("button", name="Email the invitation to the contacts").click()
    expect(page.locator("body")).to_contain_text("Invitation sent to greta@example.de.")
    assert [m.to for m in mailoutbox] == [["greta@example.de"]]


def test_a_contacts_reply_imported_shows_their_answer(page, admin_login, tmp_path):
    import icalendar

    from farley.activities import ical
    from farley.contacts.services import contact_create

    greta = contact_create(actor=admin_login, data={
        "first_name": "Greta", "last_name": "Muster",
        "emails": [{"address": "greta@example.de"}]})  # fmt: skip
    meeting = services.activity_create(actor=admin_login, kind="appointment", data={
        "title": "Jahresgespräch", "start_at": "2026-12-10T15:00",
        "attendees": [{"type": "contact", "id": greta.pk}]})  # fmt: skip
    calendar = icalendar.Calendar.from_ical(ical.invitation_bytes(meeting))
    calendar["method"] = "REPLY"
    (event,) = calendar.walk("VEVENT")
    answer = icalendar.vCalAddress("mailto:greta@example.de")
    answer.params["PARTSTAT"] = "DECLINED"
    event.pop("attendee", None)
    event.add("attendee", answer, encode=0)
    file = tmp_path / "reply.ics"
    file.write_bytes(calendar.to_ical())

    page.goto(page.base_url + "/activities/import-ics/")
    page.set_input_files("#f-file", str(file))
    page.get_by_role("button", name="Import").click()
    page.wait_for_url(page.base_url + f"/activities/{meeting.pk}/")
    expect(page.locator("body")).to_contain_text("The answer to 1 invitation was recorded.")
    expect(page.locator("body")).to_contain_text("Declined")
