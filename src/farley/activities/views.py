"""Pages: one activity (task, appointment, call or note) with its records, attendees and
history; delete and restore."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from farley.activities import selectors, services
from farley.activities.api import related_titles
from farley.core import permissions
from farley.core.errors import NotFound
from farley.core.history import history_for, with_change_lines

ENTITY = "activity"


def _related(request: HttpRequest, activity) -> list[dict]:
    from farley.activities.api import _record_url

    titles = related_titles(request.user, [activity])
    return [
        {"type": link.entity, "title": titles.get((link.entity, link.object_id)),
         "url": _record_url(link.entity, link.object_id)}
        for link in activity.links.all()
        if (link.entity, link.object_id) in titles
    ]  # fmt: skip


@login_required
def activity_detail(request: HttpRequest, activity_id: int) -> HttpResponse:
    visible = selectors.activities_visible_to(request.user, include_deleted=True)
    activity = (
        visible.select_related("owner", "team")
        .prefetch_related("links", "attendees__user", "attendees__contact")
        .filter(pk=activity_id)
        .first()
    )
    if activity is None:
        raise NotFound()
    may_edit = (
        permissions.can(request.user, "edit", ENTITY)
        and selectors.activities_visible_to(request.user, include_deleted=True, for_edit=True)
        .filter(pk=activity.pk)
        .exists()
    )
    return render(
        request,
        "activities/detail.html",
        {
            "nav": "my_day",
            "activity": activity,
            "related": _related(request, activity),
            "may_edit": may_edit,
            "may_delete": may_edit and permissions.can(request.user, "delete", ENTITY),
            "duration_minutes": None
            if activity.duration_seconds is None
            else round(activity.duration_seconds / 60),
            "history": with_change_lines(ENTITY, list(history_for(ENTITY, activity.pk)[:200])),
        },
    )


@login_required
@require_POST
def activity_delete(request: HttpRequest, activity_id: int) -> HttpResponse:
    services.activity_delete(actor=request.user, activity_id=activity_id)
    messages.success(request, _("The activity was moved to the trash."))
    return redirect("activities:detail", activity_id)


@login_required
@require_POST
def activity_restore(request: HttpRequest, activity_id: int) -> HttpResponse:
    services.activity_restore(actor=request.user, activity_id=activity_id)
    messages.success(request, _("The activity was restored."))
    return redirect("activities:detail", activity_id)
