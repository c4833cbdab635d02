"""Seed an activities benchmark database through the ORM's bulk inserts (run by
bench/activities.py in a child process with DATABASE_URL set): 200 teams of 4 sales users,
1,000,000 activities (60 % tasks, 25 % appointments, 10 % calls, 5 % notes) spread over the
year before and after today, one in three about a contact, and 10,000 reminders due now (not
sent yet). The bench user (the first sales user) gets as many activities as any other user.
Prints a JSON line."""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import sys
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "farley.settings")
django.setup()

from django.contrib.auth.hashers import make_password  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from farley.activities.models import Activity, ActivityLink  # noqa: E402
from farley.contacts.models import Contact  # noqa: E402
from farley.core.models import Role, Team, User  # noqa: E402

ACTIVITIES = int(os.environ.get("BENCH_ACTIVITIES", "1000000"))
DUE_REMINDERS = int(os.environ.get("BENCH_DUE_REMINDERS", "10000"))
TEAMS, PER_TEAM = 200, 4
CONTACTS = 20000
BATCH = 20000
KINDS = ["task"] * 12 + ["appointment"] * 5 + ["call"] * 2 + ["note"]


def main() -> None:
    started = time.perf_counter()
    rng = random.Random(7)
    now = timezone.now().replace(microsecond=0)
    sales = Role.objects.get(key="sales")
    password = make_password(os.environ["BENCH_PASSWORD"])
    with transaction.atomic():
        teams = Team.objects.bulk_create([Team(name=f"Team {n:03d}") for n in range(TEAMS)])
        users = User.objects.bulk_create([
            User(email=f"user{n:03d}@bench.local", full_name=f"Bench User {n:03d}", role=sales,
                 password=password, time_zone="Europe/Berlin")
            for n in range(TEAMS * PER_TEAM)
        ])  # fmt: skip
        User.teams.through.objects.bulk_create([
            User.teams.through(user_id=u.pk, team_id=teams[i // PER_TEAM].pk)
            for i, u in enumerate(users)
        ])  # fmt: skip
        owner = users[0]
        contacts = Contact.objects.bulk_create([
            Contact(first_name="Kunde", last_name=f"Nr {n}", owner=users[n % len(users)],
                    team=teams[(n % len(users)) // PER_TEAM])
            for n in range(CONTACTS)
        ])  # fmt: skip
    seed_users = time.perf_counter() - started
    span = 365 * 24 * 3600
    made = 0
    links = 0
    with connection.cursor():
        pass
    while made < ACTIVITIES:
        count = min(BATCH, ACTIVITIES - made)
        rows = []
        for i in range(count):
            n = made + i
            kind = KINDS[n % len(KINDS)]
            user_index = n % len(users)
            user = users[user_index]
            moment = now + dt.timedelta(seconds=rng.randrange(-span, span))
            moment = moment.replace(minute=(moment.minute // 15) * 15, second=0)
            past = moment < now
            row = Activity(
                kind=kind, title=f"{kind.title()} {n}", owner=user,
                team=teams[user_index // PER_TEAM], created_at=now, updated_at=now,
                status="done" if (past and kind == "task" and (n // 7) % 10) else "open",
            )  # fmt: skip
            if kind == "task":
                row.due_at = moment
                row.priority = ("low", "normal", "normal", "high")[n % 4]
                if n % 5 == 0:
                    row.remind_at, row.reminded_at = moment - dt.timedelta(hours=1), now
            else:
                row.start_at = moment
                if kind == "appointment":
                    row.end_at = moment + dt.timedelta(minutes=30 + 30 * (n % 3))
            rows.append(row)
        with transaction.atomic():
            created = Activity.objects.bulk_create(rows, batch_size=5000)
            related = [
                ActivityLink(activity=a, entity="contact",
                             object_id=contacts[(a.pk * 7919) % CONTACTS].pk)
                for a in created if a.pk % 3 == 0
            ]  # fmt: skip
            ActivityLink.objects.bulk_create(related, batch_size=5000)
        links += len(related)
        made += count
    # Reminders due now and not sent: open tasks of every user.
    due_ids = list(
        Activity.objects.filter(kind="task", status="open", due_at__gt=now)
        .order_by("pk")
        .values_list("pk", flat=True)[:DUE_REMINDERS]
    )
    Activity.objects.filter(pk__in=due_ids).update(
        remind_at=now - dt.timedelta(minutes=5), reminded_at=None
    )
    mine = Activity.objects.filter(owner=owner)
    print(json.dumps({
        "seed_s": time.perf_counter() - started,
        "users_s": seed_users,
        "bench_user": owner.email,
        "counts": {
            "activities": Activity.objects.count(), "links": links, "users": len(users),
            "teams": len(teams), "due reminders": len(due_ids),
            "bench user's activities": mine.count(),
            "bench user's open tasks": mine.filter(kind="task", status="open").count(),
        },
    }))  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
