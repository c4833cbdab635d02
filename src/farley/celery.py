"""The Celery application for production: ``celery -A farley worker --beat`` with
FARLEY_CELERY_BROKER set (Redis or RabbitMQ). The schedule is the one the embedded server
follows without Celery (:mod:`farley.jobs`)."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "farley.settings")

app = Celery("farley")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["farley.activities", "farley.contacts", "farley.core"])
app.conf.beat_schedule = {
    "reminders": {"task": "farley.activities.tasks.send_reminders", "schedule": 30.0},
    "retention": {"task": "farley.contacts.tasks.apply_retention", "schedule": 3600.0},
    "search-purge": {"task": "farley.core.tasks.purge_search_indexes", "schedule": 600.0},
}
