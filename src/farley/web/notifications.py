"""Pages: the notification list (reminders, escalations) and the bell of the navigation,
which htmx refreshes every 30 seconds (the live badge)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from farley.core import notifications
from farley.core.errors import NotFound
from farley.core.models import Notification

PAGE = 100


@login_required
@require_GET
def notification_list(request: HttpRequest) -> HttpResponse:
    unread_only = request.GET.get("unread") == "1"
    items = list(notifications.of_user(request.user, unread_only=unread_only)[:PAGE])
    return render(request, "web/notifications.html", {
        "nav": "notifications", "items": items, "unread_only": unread_only,
        "unread": notifications.unread_count(request.user),
    })  # fmt: skip


@login_required
@require_GET
def bell(request: HttpRequest) -> HttpResponse:
    """The bell with its count, alone (polled by the navigation)."""
    return render(request, "web/_bell.html", {"unread": notifications.unread_count(request.user)})


@login_required
@require_POST
def notification_open(request: HttpRequest, notification_id: int) -> HttpResponse:
    """Mark one read and go to what it is about."""
    notification = Notification.objects.filter(user=request.user, pk=notification_id).first()
    if notification is None:
        raise NotFound()
    notifications.mark_read(user=request.user, notification_id=notification.pk)
    safe = url_has_allowed_host_and_scheme(notification.url, allowed_hosts=None)
    return redirect(notification.url if notification.url and safe else "web:notifications")


@login_required
@require_POST
def notifications_read(request: HttpRequest) -> HttpResponse:
    notifications.mark_read(user=request.user)
    return redirect("web:notifications")
