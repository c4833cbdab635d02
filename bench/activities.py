"""Activities benchmark (issue "Time management"): with 1,000,000 activities on SQLite, time
"My day" and a user's month calendar through the real server, and the reminder job sending
10,000 due reminders (in-app notifications and emails to a real SMTP server on 127.0.0.1).
Prints a markdown table.

Run by ``make bench`` after the other benchmarks, or alone:
``.venv/bin/python bench/activities.py [--activities N]``. Only 127.0.0.1 is contacted."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import secrets
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import (
    BENCH_VAR,
    BIN,
    HOST,
    ROOT,
    _farley,
    _login,
    _measure,
    _port_free,
    _remove_db,
    _stop,
    _wait_for_server,
)

TARGETS = [
    ("my_day", '"My day" page', 100),
    ("month_page", "month calendar (the page's events)", 150),
    ("month", "month calendar (API)", 150),
]
REMINDER_TARGET_S = 30.0

REMINDER_RUN = """
import json, time
import django
django.setup()
from farley.activities import reminders
from farley.core.models import Notification
started = time.perf_counter()
result = reminders.run_due()
print(json.dumps({"seconds": time.perf_counter() - started, **result,
                  "notifications": Notification.objects.count()}))
"""


def _smtp_sink():
    """A real SMTP server on 127.0.0.1 that counts what it receives."""
    import socket

    from aiosmtpd.controller import Controller

    class Counter:
        received = 0

        async def handle_DATA(self, server, session, envelope) -> str:
            Counter.received += 1
            return "250 OK"

    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port = probe.getsockname()[1]
    controller = Controller(Counter(), hostname=HOST, port=port)
    controller.start()
    return controller, Counter


def _months(today: dt.date) -> list[str]:
    """Calendar windows of the months around today (a month view with its weeks)."""
    windows = []
    for offset in range(-2, 4):
        month = (today.month - 1 + offset) % 12 + 1
        year = today.year + (today.month - 1 + offset) // 12
        first = dt.date(year, month, 1)
        start = first - dt.timedelta(days=first.weekday())
        windows.append(urllib.parse.urlencode({
            "start": start.isoformat() + "T00:00", "end": (start + dt.timedelta(days=42)).isoformat()
            + "T00:00"}))  # fmt: skip
    return windows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8767)
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--activities", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    BENCH_VAR.mkdir(parents=True, exist_ok=True)
    db_path = BENCH_VAR / "activities.sqlite3"
    _remove_db(db_path)
    password = secrets.token_urlsafe(16)
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{db_path}", "FARLEY_VAR_DIR": str(BENCH_VAR),
           "DJANGO_SETTINGS_MODULE": "farley.settings", "PYTHONDONTWRITEBYTECODE": "1",
           "BENCH_ACTIVITIES": str(args.activities), "BENCH_PASSWORD": password,
           "FARLEY_CELERY_BROKER": ""}  # fmt: skip
    print(f"\n== activities: migrating and seeding {db_path.relative_to(ROOT)}", flush=True)
    _farley(env, "migrate")
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "activities_seed.py")], env=env, cwd=ROOT,
        capture_output=True, text=True, timeout=3600, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"seeding failed:\n{done.stderr[-4000:]}")
    seed = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"   seeded in {seed['seed_s']:.1f} s: {seed['counts']}", flush=True)
    email = seed["bench_user"]
    token = _farley(env, "createtoken", email, "--name", "bench").splitlines()[-1].strip()

    # The reminder job first, on its own (the server is not running yet, so nothing else
    # sends them), with emails to a real SMTP server.
    controller, counter = _smtp_sink()
    try:
        job = subprocess.run(
            [sys.executable, "-c", REMINDER_RUN], cwd=ROOT, capture_output=True, text=True,
            timeout=600, check=False,
            env={**env, "FARLEY_EMAIL_HOST": HOST, "FARLEY_EMAIL_PORT": str(controller.port)},
        )  # fmt: skip
        time.sleep(0.5)
        emails = counter.received
    finally:
        controller.stop()
    if job.returncode != 0:
        raise RuntimeError(f"the reminder job failed:\n{job.stderr[-4000:]}")
    reminders = json.loads(job.stdout.strip().splitlines()[-1])

    if not _port_free(args.port):
        raise RuntimeError(f"port {args.port} on {HOST} is in use; pass --port")
    base = f"http://{HOST}:{args.port}"
    log_path = BENCH_VAR / "server-activities.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [str(BIN / "farley"), "serve", "--host", HOST, "--port", str(args.port)],
            env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        if not _wait_for_server(proc, base):
            raise RuntimeError(f"the server did not start; see {log_path}")
        opener, problem = _login(base, email, password)
        if opener is None:
            raise RuntimeError(problem)
        from run import _opener

        api = {"Authorization": f"Bearer {token}"}
        months = [f"{base}/api/v1/calendar?{w}" for w in _months(dt.date.today())]
        measures = {
            "my_day": _measure("my_day", opener, [f"{base}/my-day/"], None, args.requests),
            "month_page": _measure(
                "month_page",
                opener,
                [f"{base}/calendar/events/?{w}" for w in _months(dt.date.today())],
                None,
                args.requests,
            ),
            "month": _measure("month", _opener(), months, api, args.requests),
        }
    finally:
        _stop(proc)
    print(
        "\n| measure | p50 / value | p95 | target | result | note |\n"
        "| --- | ---: | ---: | --- | --- | --- |"
    )
    failed = False
    for key, label, limit in TARGETS:
        m = measures[key]
        if m.p95 is None:
            print(f"| {label} | – | – | p95 ≤ {limit} ms | fail | {m.note} |")
            failed = True
            continue
        ok = m.p95 <= limit and not m.failed
        failed |= not ok
        print(f"| {label} | {m.p50:.1f} ms | {m.p95:.1f} ms | p95 ≤ {limit} ms | "
              f"{'pass' if ok else 'fail'} | {m.note} |")  # fmt: skip
    seconds = reminders["seconds"]
    ok = seconds <= REMINDER_TARGET_S and reminders["reminders"] >= seed["counts"]["due reminders"]
    failed |= not ok
    print(f"| reminder job, {reminders['reminders']:,} due reminders | {seconds:.1f} s | | "
          f"≤ {REMINDER_TARGET_S:.0f} s | {'pass' if ok else 'fail'} | "
          f"{reminders['notifications']:,} notifications, {emails:,} emails |")  # fmt: skip
    counts = ", ".join(f"{k}: {v:,}" for k, v in seed["counts"].items())
    print(f"\nData: {counts} (SQLite, {db_path.stat().st_size / 2**20:,.0f} MB)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
