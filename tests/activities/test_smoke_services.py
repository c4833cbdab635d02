"""A first pass through the activity services (the full suite is in test_services.py)."""

from __future__ import annotations

import pytest

from farley.activities import selectors, services
from farley.activities.models import ActivityStatus
from tests.factories import make_contact

pytestmark = pytest.mark.django_db


def test_a_task_about_a_contact_is_completed_with_a_next_task(sales1):
    contact = make_contact(sales1, first_name="Greta", last_name="Muster")
    task = services.activity_create(
        actor=sales1, kind="task",
        data={"title": "Angebot nachfassen", "due_at": "2026-12-07T10:00",
              "related": [{"type": "contact", "id": contact.pk}]},
    )  # fmt: skip
    assert task.owner == sales1
    done, following = services.task_complete(
        actor=sales1, task_id=task.pk,
        data={"outcome": "Erreicht", "next": {"title": "Wieder anrufen",
                                              "due_at": "2026-12-21T10:00"}},
    )  # fmt: skip
    assert done.status == ActivityStatus.DONE
    assert following.title == "Wieder anrufen"
    assert [(link.entity, link.object_id) for link in following.links.all()] == [
        ("contact", contact.pk)
    ]
    assert list(selectors.of_record(sales1, "contact", contact.pk)) == [following, done]
