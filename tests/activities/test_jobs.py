"""The reminder job on both ways of running background jobs: a real Celery worker with the
real Redis broker (production), and the embedded server, where a reminder set before a
restart still fires after it."""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.utils import timezone

from farley.activities import services
from farley.core.models import Notification
from farley.core.permissions import ensure_built_in_roles
from tests.factories import make_user

REDIS = os.environ.get("FARLEY_TEST_REDIS", "redis://127.0.0.1:6379/15")


@pytest.mark.django_db(transaction=True)
def test_a_celery_worker_on_redis_delivers_a_due_reminder():
    from celery.contrib.testing.worker import start_worker

    from farley.activities.tasks import send_reminders
    from farley.celery import app

    ensure_built_in_roles()
    user = make_user("sales", full_name="Rita Redis")
    services.activity_create(
        actor=user, kind="task",
        data={"title": "Rückruf über Celery",
              "remind_at": (timezone.now() - dt.timedelta(minutes=1)).isoformat()},
    )  # fmt: skip
    app.conf.update(broker_url=REDIS, result_backend=REDIS, task_always_eager=False)
    app.loader.import_module("celery.contrib.testing.tasks")
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        result = send_reminders.delay().get(timeout=30)
    assert result == {"reminders": 1, "escalations": 0}
    (note,) = Notification.objects.filter(user=user)
    assert note.title == "Reminder: Rückruf über Celery"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _farley(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "farley.cli", *args], env=env, capture_output=True, text=True,
        timeout=120, check=True,
    )  # fmt: skip
    return done.stdout


def _call(url: str, token: str, body: dict | None = None) -> dict:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST" if body is not None else "GET",
    )  # fmt: skip
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def _serve(env: dict[str, str], port: int) -> subprocess.Popen:
    server = subprocess.Popen(
        [sys.executable, "-m", "farley.cli", "serve", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise AssertionError("the server did not start")


def test_a_reminder_set_before_a_restart_fires_after_it(tmp_path: Path):
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'farley.sqlite3'}",
        "FARLEY_VAR_DIR": str(tmp_path),
        "FARLEY_CELERY_BROKER": "",
        "DJANGO_SETTINGS_MODULE": "farley.settings",
    }
    env.pop("FARLEY_TEST_REDIS", None)
    _farley(env, "migrate")
    _farley(env, "createuser", "--email", "rita@example.com", "--password",
            "Correct-Horse-Battery-9", "--role", "sales")  # fmt: skip
    token = _farley(env, "createtoken", "rita@example.com").strip()
    port = _free_port()
    base = f"http://127.0.0.1:{port}/api/v1"
    server = _serve(env, port)
    try:
        remind_at = timezone.now() + dt.timedelta(seconds=4)
        _call(f"{base}/tasks", token, {"title": "Nach dem Neustart", "remind_at":
                                       remind_at.isoformat()})  # fmt: skip
    finally:
        server.terminate()
        server.wait(timeout=20)
    time.sleep(max(0.0, (remind_at - timezone.now()).total_seconds()) + 0.5)
    port = _free_port()  # not the old one: it may still be in TIME_WAIT
    base = f"http://127.0.0.1:{port}/api/v1"
    server = _serve(env, port)
    try:
        deadline = time.monotonic() + 30
        titles: list[str] = []
        while time.monotonic() < deadline and not titles:
            titles = [n["title"] for n in _call(f"{base}/notifications", token)["items"]]
            time.sleep(0.3)
        assert titles == ["Reminder: Nach dem Neustart"]
    finally:
        server.terminate()
        server.wait(timeout=20)
