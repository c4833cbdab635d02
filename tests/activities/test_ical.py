"""iCalendar: the private feed parses with the icalendar library and holds the right events,
its secret address can be renewed; one appointment as .ics; importing invitations, and every
kind of bad file refused with nothing written."""

from __future__ import annotations

import datetime as dt

import icalendar
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from farley.activities import ical, services
from farley.activities.models import Activity
from tests.apiclient import Api, assert_error
from tests.factories import make_contact

pytestmark = pytest.mark.django_db


def appointment(actor, **data) -> Activity:
    return services.activity_create(actor=actor, kind="appointment", data={
        "title": "Jahresgespräch", "start_at": "2026-12-10T15:00+01:00", **data})  # fmt: skip


def events_of(body: bytes) -> list[icalendar.Event]:
    return list(icalendar.Calendar.from_ical(body).walk("VEVENT"))


def test_the_feed_holds_open_tasks_and_appointments_of_its_user(sales1, sales2, settings):
    now = dt.datetime.now(dt.UTC)
    soon = (now + dt.timedelta(days=3)).replace(microsecond=0)
    meeting = appointment(sales1, start_at=soon.isoformat(), location="Hamburg")
    invited = appointment(sales2, title="Einladung", start_at=soon.isoformat(),
                          attendees=[{"type": "user", "id": sales1.pk}])  # fmt: skip
    task = services.activity_create(actor=sales1, kind="task", data={
        "title": "Angebot schicken", "due_at": soon.isoformat()})  # fmt: skip
    done = services.activity_create(actor=sales1, kind="task", data={
        "title": "Erledigt", "due_at": soon.isoformat()})  # fmt: skip
    services.task_complete(actor=sales1, task_id=done.pk)
    appointment(sales2, title="Fremd", start_at=soon.isoformat())
    url = Api(sales1).get("/me/calendar-feed").json()["url"]
    assert url.startswith(settings.FARLEY_BASE_URL + "/calendar/")
    response = Client().get(url.removeprefix(settings.FARLEY_BASE_URL))  # no sign-in
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    events = {str(e["summary"]): e for e in events_of(response.content)}
    assert set(events) == {"Jahresgespräch", "Einladung", "Angebot schicken"}
    assert events["Jahresgespräch"].decoded("dtstart") == soon
    assert str(events["Jahresgespräch"]["location"]) == "Hamburg"
    assert str(events["Angebot schicken"]["uid"]) == f"farley-activity-{task.pk}@farley"
    assert events["Einladung"].decoded("dtstart") == soon
    (attendee,) = [events["Einladung"]["attendee"]]
    assert str(attendee) == f"mailto:{sales1.email}"
    assert attendee.params["PARTSTAT"] == "NEEDS-ACTION"
    services.attendee_respond(actor=sales1, activity_id=invited.pk, response="tentative")
    again = events_of(Client().get(url.removeprefix(settings.FARLEY_BASE_URL)).content)
    (answered,) = [e for e in again if str(e["summary"]) == "Einladung"]
    assert answered["attendee"].params["PARTSTAT"] == "TENTATIVE"
    assert {meeting.pk, invited.pk}  # both made
    # The same address again; a renewed address replaces it.
    assert Api(sales1).get("/me/calendar-feed").json()["url"] == url
    new = Api(sales1).post("/me/calendar-feed/renew").json()["url"]
    assert new != url
    assert Client().get(url.removeprefix(settings.FARLEY_BASE_URL)).status_code == 404
    assert Client().get(new.removeprefix(settings.FARLEY_BASE_URL)).status_code == 200
    assert Api(sales1).delete("/me/calendar-feed").status_code == 204
    assert Client().get(new.removeprefix(settings.FARLEY_BASE_URL)).status_code == 404


@pytest.mark.parametrize("key", ["1-wrong", "abc-def", "1", "99999999999999999999-x", "-"])
def test_a_wrong_feed_address_is_not_found(sales1, key):
    ical.feed_url(sales1)
    assert Client().get(f"/calendar/{key}.ics").status_code == 404


def test_one_appointment_as_ics(sales1, sales2, client):
    meeting = appointment(sales1, all_day=True, start_at="2026-12-24T00:00")
    client.force_login(sales1)
    response = client.get(f"/activities/{meeting.pk}/ics/")
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    (event,) = events_of(response.content)
    assert event.decoded("dtstart") == dt.date(2026, 12, 24)
    assert event.decoded("dtend") == dt.date(2026, 12, 25)
    client.force_login(sales2)
    assert client.get(f"/activities/{meeting.pk}/ics/").status_code == 404


INVITATION = """BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//Example//Outlook//EN\r
BEGIN:VTIMEZONE\r
TZID:Eastern Standard Time\r
BEGIN:STANDARD\r
DTSTART:16011104T020000\r
RRULE:FREQ=YEARLY;BYDAY=1SU;BYMONTH=11\r
TZOFFSETFROM:-0400\r
TZOFFSETTO:-0500\r
END:STANDARD\r
BEGIN:DAYLIGHT\r
DTSTART:16010311T020000\r
RRULE:FREQ=YEARLY;BYDAY=2SU;BYMONTH=3\r
TZOFFSETFROM:-0500\r
TZOFFSETTO:-0400\r
END:DAYLIGHT\r
END:VTIMEZONE\r
BEGIN:VEVENT\r
UID:abc-123@example.com\r
SUMMARY:Produktvorführung bei Müller & Söhne\r
DTSTART;TZID=Eastern Standard Time:20261210T090000\r
DTEND;TZID=Eastern Standard Time:20261210T103000\r
LOCATION:Konferenzraum 李\r
ATTENDEE;CN=Greta:mailto:greta@kunde.example\r
ATTENDEE;CN=Sara:mailto:{colleague}\r
END:VEVENT\r
END:VCALENDAR\r
"""


def test_an_invitation_becomes_an_appointment_and_updates_it_when_imported_again(sales1, sales2):
    greta = make_contact(sales1, first_name="Greta", last_name="Kundin",
                         emails=[{"address": "greta@kunde.example"}])  # fmt: skip
    data = INVITATION.replace("{colleague}", sales2.email).encode()
    result = ical.import_invitations(actor=sales1, data=data)
    (meeting,) = result.created
    meeting.refresh_from_db()
    assert meeting.title == "Produktvorführung bei Müller & Söhne"
    assert meeting.location == "Konferenzraum 李"
    assert meeting.start_at == dt.datetime(2026, 12, 10, 14, 0, tzinfo=dt.UTC)
    assert meeting.end_at == dt.datetime(2026, 12, 10, 15, 30, tzinfo=dt.UTC)
    people = {(a.user_id, a.contact_id) for a in meeting.attendees.all()}
    assert people == {(sales2.pk, None), (None, greta.pk)}
    again = ical.import_invitations(actor=sales1, data=data.replace(b"T103000", b"T110000"))
    assert [a.pk for a in again.updated] == [meeting.pk]
    meeting.refresh_from_db()
    assert meeting.end_at == dt.datetime(2026, 12, 10, 16, 0, tzinfo=dt.UTC)
    assert Activity.objects.count() == 1


GOOD_EVENT = "BEGIN:VEVENT\r\nUID:x\r\nSUMMARY:Gut\r\nDTSTART:20261210T090000Z\r\nEND:VEVENT\r\n"


def _calendar(*parts: str) -> bytes:
    return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\n" + "".join(parts)
            + "END:VCALENDAR\r\n").encode()  # fmt: skip


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (b"", "file"),
        (b"Hallo Welt", "file"),
        (b"\x00\x01\x02" * 100, "file"),
        ("BEGIN:VCALENDAR\r\nSUMMARY:Müller\r\nEND:VCALENDAR\r\n".encode("latin-1"), "file"),
        (_calendar(), "file"),
        (b"BEGIN:VCALENDAR\r\n" * 5000, "file"),
        (_calendar("BEGIN:VEVENT\r\nBEGIN:VALARM\r\nBEGIN:VALARM\r\nBEGIN:VALARM\r\n"
                   "END:VALARM\r\nEND:VALARM\r\nEND:VALARM\r\nEND:VEVENT\r\n"), "file"),
        (_calendar(GOOD_EVENT * 101), "file"),
        (b"BEGIN:VCALENDAR\r\n" + b"X-PAD:" + b"a" * (1024 * 1024) + b"\r\nEND:VCALENDAR\r\n",
         "file"),
        (_calendar(GOOD_EVENT, "BEGIN:VEVENT\r\nSUMMARY:Ohne Beginn\r\nEND:VEVENT\r\n"),
         "events.1.dtstart"),
        (_calendar("BEGIN:VEVENT\r\nDTSTART:20261210T090000Z\r\nEND:VEVENT\r\n"),
         "events.0.summary"),
        (_calendar("BEGIN:VEVENT\r\nSUMMARY:Rückwärts\r\nDTSTART:20261210T090000Z\r\n"
                   "DTEND:20261210T080000Z\r\nEND:VEVENT\r\n"), "events.0.dtend"),
    ],
)  # fmt: skip
def test_bad_ics_files_are_refused_and_nothing_is_written(sales1, data, field):
    response = Api(sales1).client.post(
        "/api/v1/appointments/import",
        {"file": SimpleUploadedFile("invite.ics", data, content_type="text/calendar")},
    )
    error = assert_error(response, 422)
    assert field in error["fields"], error
    assert not Activity.objects.exists()


def test_the_import_page(sales1, client):
    client.force_login(sales1)
    assert client.get("/activities/import-ics/").status_code == 200
    bad = client.post("/activities/import-ics/", {
        "file": SimpleUploadedFile("x.ics", b"kaputt", content_type="text/calendar")})  # fmt: skip
    assert bad.status_code == 422
    assert "iCalendar" in bad.content.decode()
    good = client.post("/activities/import-ics/", {
        "file": SimpleUploadedFile("x.ics", _calendar(GOOD_EVENT))})  # fmt: skip
    assert good.status_code == 302
    assert Activity.objects.get().title == "Gut"


# --- contacts' answers to emailed invitations (METHOD:REPLY) -----------------------------------


def reply(invitation: bytes, email: str, partstat: str | None, uid: str | None = None) -> bytes:
    """What a contact's mail program sends back: the invitation with METHOD:REPLY and only
    their ATTENDEE line, with their answer."""
    calendar = icalendar.Calendar.from_ical(invitation)
    calendar["method"] = "REPLY"
    (event,) = calendar.walk("VEVENT")
    attendee = icalendar.vCalAddress(f"mailto:{email}")
    if partstat:
        attendee.params["PARTSTAT"] = partstat
    event.pop("attendee", None)
    event.add("attendee", attendee, encode=0)
    if uid is not None:
        event["uid"] = uid
    return calendar.to_ical()


@pytest.fixture
def invited(sales1):
    greta = make_contact(sales1, first_name="Greta", last_name="Muster",
                         emails=[{"address": "Greta@Example.de"}])  # fmt: skip
    meeting = appointment(sales1, attendees=[{"type": "contact", "id": greta.pk}])
    return meeting, ical.invitation_bytes(meeting)


def upload(api: Api, data: bytes):
    return api.client.post("/api/v1/appointments/import", {
        "file": SimpleUploadedFile("reply.ics", data, content_type="text/calendar")})  # fmt: skip


def answer_of(meeting: Activity) -> str:
    return meeting.attendees.get().response


def test_a_contacts_reply_records_their_answer(sales1, invited):
    from farley.core.models import ChangeRecord

    meeting, invitation = invited
    api = Api(sales1)
    response = upload(api, reply(invitation, "greta@example.de", "ACCEPTED"))
    assert response.status_code == 200, response.content
    assert response.json() == {"created": [], "updated": [], "answered": [meeting.pk]}
    assert answer_of(meeting) == "accepted"
    last = (
        ChangeRecord.objects.filter(entity="activity", object_id=meeting.pk).order_by("pk").last()
    )
    assert last.changes == {"responses": ["Greta Muster: No answer yet", "Greta Muster: Accepted"]}
    # She changes her mind.
    upload(api, reply(invitation, "greta@example.de", "DECLINED"))
    assert answer_of(meeting) == "declined"
    assert Activity.objects.count() == 1  # a reply makes no appointment


@pytest.mark.parametrize(
    ("email", "partstat", "uid", "field"),
    [
        ("greta@example.de", "ACCEPTED", "unknown@elsewhere", "events.0.uid"),
        ("greta@example.de", "ACCEPTED", "", "events.0.uid"),
        ("fremd@example.de", "ACCEPTED", None, "events.0.attendee"),
        ("greta@example.de", None, None, "events.0.attendee"),
        ("greta@example.de", "DELEGATED", None, "events.0.attendee"),
    ],
)
def test_a_reply_that_answers_nothing_here_is_refused(sales1, invited, email, partstat, uid, field):
    meeting, invitation = invited
    response = upload(Api(sales1), reply(invitation, email, partstat, uid))
    assert field in assert_error(response, 422)["fields"]
    assert answer_of(meeting) == "needs_action"


def test_only_who_may_change_the_appointment_records_answers(sales1, sales2, invited):
    meeting, invitation = invited
    response = upload(Api(sales2), reply(invitation, "greta@example.de", "ACCEPTED"))
    assert "events.0.uid" in assert_error(response, 422)["fields"]
    assert answer_of(meeting) == "needs_action"


def test_a_read_only_user_records_no_answer(sales1, invited, reader):
    meeting, invitation = invited
    response = upload(Api(reader), reply(invitation, "greta@example.de", "ACCEPTED"))
    assert_error(response, 403)
    assert answer_of(meeting) == "needs_action"


def test_a_reply_imported_on_the_page_shows_on_the_appointment(sales1, client, invited):
    meeting, invitation = invited
    client.force_login(sales1)
    response = client.post("/activities/import-ics/", {"file": SimpleUploadedFile(
        "reply.ics", reply(invitation, "greta@example.de", "TENTATIVE"))}, follow=True)  # fmt: skip
    page = response.content.decode()
    assert response.redirect_chain[-1][0] == f"/activities/{meeting.pk}/"
    assert "The answer to 1 invitation was recorded." in page
    assert "Tentative" in page
