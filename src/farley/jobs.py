"""The background jobs and their schedule, for both ways of running them.

Embedded (default, ``make run``): ``farley serve`` starts one thread that runs each job when
it is due, so no other service is needed. Everything a job needs to know is in the database
(a reminder's time, a retention policy's last run), so a restart neither loses nor repeats
work. With FARLEY_CELERY_BROKER set, Celery beat and workers run the same jobs
(:mod:`farley.celery`) and the server starts no thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import close_old_connections

log = logging.getLogger("farley.jobs")


@dataclass(frozen=True)
class Job:
    name: str
    every: float  # seconds
    run: Callable[[], object]


def _reminders() -> object:
    from farley.activities.reminders import run_due

    return run_due()


def _retention() -> object:
    from farley.contacts.retention import run_due

    return run_due()


def _search_purge() -> object:
    from farley.core.search_purge import run_due

    return run_due()


JOBS = (
    Job("reminders", 30.0, _reminders),
    Job("retention", 3600.0, _retention),
    Job("search-purge", 600.0, _search_purge),
)


def run_once(job: Job) -> None:
    try:
        result = job.run()
        log.info("job %s: %s", job.name, result)
    except Exception:
        log.exception("job %s failed", job.name)
    finally:
        close_old_connections()


def start_embedded(stop: threading.Event | None = None) -> threading.Event | None:
    """Start the job thread of the embedded server (None if Celery runs the jobs)."""
    if settings.FARLEY_JOBS != "embedded":
        return None
    stop = stop or threading.Event()

    def loop() -> None:
        next_run = {job.name: 0.0 for job in JOBS}
        while not stop.is_set():
            now = time.monotonic()
            for job in JOBS:
                if now >= next_run[job.name]:
                    run_once(job)
                    next_run[job.name] = time.monotonic() + job.every
            stop.wait(max(1.0, min(next_run.values()) - time.monotonic()))

    threading.Thread(target=loop, name="farley-jobs", daemon=True).start()
    return stop
