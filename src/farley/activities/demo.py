"""Activities demo data for ``farley demo-data``: for every demo user (the administrator
too, so "My day" is not empty after ``make run``) tasks overdue, due today and in the coming
weeks, follow-ups on contacts, a weekly repeating task, appointments today and this week with
colleagues and contacts invited, a two-day trade fair next week (all day), and logged calls
and notes of the past weeks. Everything goes through the services, so history, search and
timelines are what users get."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from django.utils import timezone

from farley.activities import services
from farley.contacts.models import Contact
from farley.core import timezones
from farley.core.models import User

TASKS = [
    ("Angebot nachfassen", "Follow up on the quote"),
    ("Rückruf wegen Liefertermin", "Call back about the delivery date"),
    ("Vertragsentwurf prüfen", "Review the draft contract"),
    ("Referenzen schicken", "Send references"),
    ("Termin für Produktdemo vereinbaren", "Arrange a product demo"),
    ("Preisliste aktualisieren", "Update the price list"),
]
APPOINTMENTS = [
    ("Jahresgespräch", "Annual review", "Besprechungsraum 2"),
    ("Produktvorführung", "Product demo", "Online"),
    ("Projekt-Kick-off", "Project kick-off", "Beim Kunden"),
]
CALLS = [
    ("Interesse an Schulung, Angebot folgt", "Interested in training, quote to follow"),
    ("Nicht erreicht, Mailbox", "Not reached, left a voicemail"),
    ("Fragt nach Rabatt für 50 Lizenzen", "Asks for a discount on 50 licences"),
]
NOTES = [
    ("Entscheidet erst nach der Messe", "Decides after the trade fair"),
    ("Bevorzugt Kontakt per E-Mail", "Prefers to be contacted by email"),
]


def _at(user: User, days: int, hour: int, minute: int = 0) -> dt.datetime:
    """``days`` from today at ``hour`` in the user's time zone."""
    zone = timezones.zone(user)
    day = timezone.now().astimezone(zone).date() + dt.timedelta(days=days)
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=zone)


def _about(contact: Contact) -> list[dict[str, Any]]:
    return [{"type": "contact", "id": contact.pk}]


def _text(english: bool, pair: tuple[str, ...]) -> str:
    return pair[1] if english else pair[0]


def generate(*, rng: random.Random, users: list[User], contacts: list[Contact]) -> dict[str, int]:
    counts = {"tasks": 0, "appointments": 0, "calls": 0, "notes": 0}
    if not contacts:
        return counts
    for user in users:
        english = user.language == "en"
        mine = [c for c in contacts if c.owner_id == user.pk] or contacts

        for days, hour in ((-3, 10), (-1, 15), (0, 9), (0, 14), (2, 11), (6, 10), (12, 9)):
            contact = rng.choice(mine)
            services.activity_create(actor=user, kind="task", data={
                "title": f"{_text(english, rng.choice(TASKS))}: {contact.full_name}",
                "due_at": _at(user, days, hour), "priority": rng.choice(
                    ["normal", "normal", "high", "low"]),
                "remind_at": _at(user, days, hour) - dt.timedelta(minutes=15) if days > 0
                else None,
                "assignee_id": user.pk, "related": _about(contact),
            })  # fmt: skip
            counts["tasks"] += 1
        for days in (1, 7):
            contact = rng.choice(mine)
            services.follow_up_create(
                actor=user, entity="contact", object_id=contact.pk,
                data={"due_at": _at(user, days, 9)},
            )  # fmt: skip
            counts["tasks"] += 1
        services.activity_create(actor=user, kind="task", data={
            "title": "Wochenbericht an die Vertriebsleitung" if not english
            else "Weekly report to the head of sales",
            "due_at": _at(user, 4, 16), "recurrence": "FREQ=WEEKLY;COUNT=26",
            "assignee_id": user.pk,
        })  # fmt: skip
        counts["tasks"] += 1
        colleagues = [u for u in users if u.pk != user.pk]
        for days, hour in ((0, 11), (1, 14), (3, 10)):
            contact = rng.choice(mine)
            title, title_en, place = rng.choice(APPOINTMENTS)
            attendees = [{"type": "contact", "id": contact.pk}]
            if colleagues:
                attendees.append({"type": "user", "id": rng.choice(colleagues).pk})
            services.activity_create(actor=user, kind="appointment", data={
                "title": f"{title_en if english else title}: {contact.full_name}",
                "start_at": _at(user, days, hour), "end_at": _at(user, days, hour + 1),
                "location": place, "assignee_id": user.pk, "related": _about(contact),
                "attendees": attendees, "remind_at": _at(user, days, hour) - dt.timedelta(
                    minutes=30) if days > 0 else None,
            })  # fmt: skip
            counts["appointments"] += 1
        # A trade fair next week: two whole days, the same dates for everyone.
        services.activity_create(actor=user, kind="appointment", data={
            "title": "Messe: Hannover Messe" if not english else "Trade fair: Hannover Messe",
            "start_at": _at(user, 8, 0), "end_at": _at(user, 9, 0), "all_day": True,
            "location": "Messegelände Hannover", "assignee_id": user.pk,
        })  # fmt: skip
        counts["appointments"] += 1
        for days in (-12, -5, -2):
            contact = rng.choice(mine)
            services.activity_create(actor=user, kind="call", data={
                "description": _text(english, rng.choice(CALLS)), "start_at": _at(user, days, 10),
                "direction": rng.choice(["in", "out"]), "duration_seconds": rng.randrange(60, 1200),
                "call_result": "reached", "assignee_id": user.pk, "related": _about(contact),
            })  # fmt: skip
            counts["calls"] += 1
        contact = rng.choice(mine)
        services.activity_create(actor=user, kind="note", data={
            "description": _text(english, rng.choice(NOTES)), "start_at": _at(user, -4, 17),
            "assignee_id": user.pk, "related": _about(contact),
        })  # fmt: skip
        counts["notes"] += 1
    return counts
