"""In-app notifications (reminders, escalations): what a user has not read yet, marking read.
Each user sees only their own."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone

from farley.core.errors import NotFound
from farley.core.models import Notification, User

LIMIT = 50


def of_user(user: User, *, unread_only: bool = False) -> QuerySet[Notification]:
    notifications = Notification.objects.filter(user=user)
    if unread_only:
        notifications = notifications.filter(read_at__isnull=True)
    return notifications.order_by("-created_at", "-pk")


def unread_count(user: User) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def mark_read(*, user: User, notification_id: int | None = None) -> int:
    """Mark one notification (or, without an id, all of them) read; how many changed."""
    unread = Notification.objects.filter(user=user, read_at__isnull=True)
    if notification_id is not None:
        if not Notification.objects.filter(user=user, pk=notification_id).exists():
            raise NotFound()
        unread = unread.filter(pk=notification_id)
    return unread.update(read_at=timezone.now())
