from django.http import HttpRequest

from farley.core import permissions
from farley.core.visibility import is_administrator


class _OpenTaskCount:
    """The number next to "My day" (overdue and due today): one count query, made only when
    the navigation shows it (not for htmx fragments), at most once per request."""

    def __init__(self, user) -> None:
        self.user = user
        self.value: int | None = None

    def __call__(self) -> int:
        if self.value is None:
            from farley.activities.selectors import open_task_count

            self.value = open_task_count(self.user)
        return self.value


class _UnreadNotifications:
    """The number on the bell, counted only when the navigation shows it."""

    def __init__(self, user) -> None:
        self.user = user
        self.value: int | None = None

    def __call__(self) -> int:
        if self.value is None:
            from farley.core.notifications import unread_count

            self.value = unread_count(self.user)
        return self.value


def navigation(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    signed_in = bool(user and user.is_authenticated)
    return {
        "is_admin": signed_in and is_administrator(user),
        "open_task_count": _OpenTaskCount(user)
        if signed_in and permissions.can(user, "view", "activity")
        else 0,
        "unread_notifications": _UnreadNotifications(user) if signed_in else 0,
    }
