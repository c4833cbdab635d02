"""Registers activities with core (history, search, custom fields, permissions, sharing,
trash and the security suite) and with the 360 pages' timelines."""

from django.utils.translation import gettext_lazy as _

from farley.activities import timeline  # noqa: F401  (activities in the records' timelines)
from farley.activities.models import Activity
from farley.activities.services import activity_restore
from farley.core.entities import Entity, register

ACTIVITY = register(
    Entity(
        key="activity",
        model=Activity,
        label=_("Activity"),
        label_plural=_("Activities"),
        url_name="activities:detail",
        restore=activity_restore,
        search_fields=("title",),
        ui_paths=(
            "/activities/{id}/",
            "/activities/{id}/edit/",
            "/activities/{id}/complete/",
            "/activities/{id}/ics/",
        ),
        api_path="/api/v1/tasks",
    )
)
