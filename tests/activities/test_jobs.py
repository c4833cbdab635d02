"""The reminder job on both ways of running background jobs: a real Celery worker with the
real Redis broker (production), and the embedded server, where a reminder set before a
restart still fires after it."""

from __future__ import annotations

import datetime as dt
import os
import time
from pathlib import Path

import pytest
from django.utils import timezone

from farley.activities import services
from farley.core.models import Notification
from farley.core.permissions import ensure_built_in_roles
from tests.factories import make_user
from tests.processes import call, database_with_user, environment, free_port, serve

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


def test_a_reminder_set_before_a_restart_fires_after_it(tmp_path: Path):
    env = environment(tmp_path)
    token = database_with_user(env, "rita@example.com", "sales")
    port = free_port()
    base = f"http://127.0.0.1:{port}/api/v1"
    server = serve(env, port)
    try:
        remind_at = timezone.now() + dt.timedelta(seconds=4)
        call(f"{base}/tasks", token, {"title": "Nach dem Neustart", "remind_at":
                                       remind_at.isoformat()})  # fmt: skip
    finally:
        server.terminate()
        server.wait(timeout=20)
    time.sleep(max(0.0, (remind_at - timezone.now()).total_seconds()) + 0.5)
    port = free_port()  # not the old one: it may still be in TIME_WAIT
    base = f"http://127.0.0.1:{port}/api/v1"
    server = serve(env, port)
    try:
        deadline = time.monotonic() + 30
        titles: list[str] = []
        while time.monotonic() < deadline and not titles:
            titles = [n["title"] for n in call(f"{base}/notifications", token)["items"]]
            time.sleep(0.3)
        assert titles == ["Reminder: Nach dem Neustart"]
    finally:
        server.terminate()
        server.wait(timeout=20)
