"""The notification page and the bell: each user sees their own reminders, opening one
marks it read and leads to its activity, the bell counts what is unread."""

from __future__ import annotations

import pytest

from farley.core.models import Notification

pytestmark = pytest.mark.django_db


def note(user, title: str, url: str = "/my-day/") -> Notification:
    return Notification.objects.create(user=user, kind="reminder", title=title, url=url)


def test_the_list_the_bell_and_opening_one(client, sales1, sales2):
    mine = note(sales1, "Reminder: Rückruf Müller", url="/activities/1/")
    note(sales1, "Reminder: Angebot")
    note(sales2, "Reminder: Fremd")
    client.force_login(sales1)
    page = client.get("/notifications/").content.decode()
    assert "Rückruf Müller" in page and "Angebot" in page and "Fremd" not in page
    assert 'id="bell-count">2' in client.get("/notifications/bell/").content.decode()
    opened = client.post(f"/notifications/{mine.pk}/open/")
    assert opened.status_code == 302 and opened["Location"] == "/activities/1/"
    mine.refresh_from_db()
    assert mine.read_at is not None
    assert 'id="bell-count">1' in client.get("/notifications/bell/").content.decode()
    assert "Rückruf Müller" not in client.get("/notifications/", {"unread": "1"}).content.decode()
    client.post("/notifications/read/")
    assert "bell-count" not in client.get("/notifications/bell/").content.decode()
    foreign = Notification.objects.get(user=sales2)
    assert client.post(f"/notifications/{foreign.pk}/open/").status_code == 404
    assert client.get(f"/notifications/{foreign.pk}/open/").status_code == 405


def test_a_foreign_address_in_a_notification_is_not_followed(client, sales1):
    odd = note(sales1, "Odd", url="https://evil.example/")
    client.force_login(sales1)
    assert client.post(f"/notifications/{odd.pk}/open/")["Location"] == "/notifications/"
