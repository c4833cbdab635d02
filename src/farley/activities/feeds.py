"""Pages for iCalendar: the private feed (no sign-in: its address is the secret), the .ics of
one appointment or task, and the import of invitations."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from farley.activities import ical, selectors
from farley.core.errors import NotFound, ValidationFailed

CALENDAR_TYPE = "text/calendar; charset=utf-8"


@require_GET
def calendar_feed(request: HttpRequest, key: str) -> HttpResponse:
    feed = ical.feed_by_key(key)
    response = HttpResponse(ical.feed_bytes(feed), content_type=CALENDAR_TYPE)
    response["Cache-Control"] = "private, max-age=300"
    response["Content-Disposition"] = 'inline; filename="farley.ics"'
    return response


@login_required
@require_GET
def activity_ics(request: HttpRequest, activity_id: int) -> HttpResponse:
    activity = selectors.activity_detail(request.user, activity_id)
    if (activity.due_at if activity.kind == "task" else activity.start_at) is None or (
        activity.kind not in ("task", "appointment")
    ):
        raise NotFound()
    response = HttpResponse(
        ical.calendar_bytes([activity], activity.title), content_type=CALENDAR_TYPE
    )
    response["Content-Disposition"] = f'attachment; filename="activity-{activity.pk}.ics"'
    return response


@login_required
def import_ics(request: HttpRequest) -> HttpResponse:
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        upload = request.FILES.get("file")
        data = upload.read(ical.MAX_BYTES + 1) if upload else b""
        try:
            result = ical.import_invitations(actor=request.user, data=data)
        except ValidationFailed as exc:
            errors = exc.fields
        else:
            if result.created or result.updated:
                messages.success(request, _("%(created)d appointments imported, %(updated)d updated.")
                                 % {"created": len(result.created), "updated": len(result.updated)})  # fmt: skip
            if result.answered:
                count = len(result.answered)
                messages.success(request, ngettext(
                    "The answer to %(count)d invitation was recorded.",
                    "The answers to %(count)d invitations were recorded.", count,
                ) % {"count": count})  # fmt: skip
            first = (result.created or result.updated or result.answered)[0]
            return redirect("activities:detail", first.pk)
    return render(
        request,
        "activities/import_ics.html",
        {"nav": "my_day", "errors": errors},
        status=422 if errors else 200,
    )


@login_required
@require_POST
def feed_renew(request: HttpRequest) -> HttpResponse:
    ical.renew_feed(request.user)
    messages.success(
        request, _("Your calendar feed has a new address; the old one no longer works.")
    )
    return redirect("web:profile")


@login_required
@require_POST
def feed_revoke(request: HttpRequest) -> HttpResponse:
    ical.revoke_feed(request.user)
    messages.success(request, _("Your calendar feed was switched off."))
    return redirect("web:profile")
