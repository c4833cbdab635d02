"""Signing in safely: temporary lockout after repeated failures, the list of a user's
sessions, and signing out sessions.

Lockout: after ``MAX_FAILURES_PER_EMAIL`` failed attempts for one email address within
``WINDOW``, or ``MAX_FAILURES_PER_IP`` from one address, further attempts are refused, even
with the right password, until the window has passed. Every attempt is recorded.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.sessions.models import Session
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from farley.core.errors import NotFound
from farley.core.models import LoginAttempt, User, UserSession

WINDOW = dt.timedelta(minutes=15)
MAX_FAILURES_PER_EMAIL = 5
MAX_FAILURES_PER_IP = 30


def client_ip(request: HttpRequest | None) -> str | None:
    """The client's address as the server sees it (behind a proxy, configure it to set
    REMOTE_ADDR; forwarded headers are not trusted)."""
    return (request.META.get("REMOTE_ADDR") or None) if request is not None else None


def minutes_locked(email: str, ip: str | None) -> int:
    """0 if ``email`` from ``ip`` may try to sign in now, else how many minutes to wait."""
    since = timezone.now() - WINDOW
    failures = LoginAttempt.objects.filter(at__gte=since, succeeded=False)
    by_email = list(
        failures.filter(email=email.casefold()).order_by("-at")[:MAX_FAILURES_PER_EMAIL]
    )
    blocked_until = None
    if len(by_email) >= MAX_FAILURES_PER_EMAIL:
        blocked_until = by_email[-1].at + WINDOW
    if ip and failures.filter(ip=ip).count() >= MAX_FAILURES_PER_IP:
        last = failures.filter(ip=ip).order_by("-at").first()
        blocked_until = max(filter(None, [blocked_until, last.at + WINDOW]))
    if blocked_until is None:
        return 0
    return max(1, int((blocked_until - timezone.now()).total_seconds() // 60) + 1)


def record_attempt(email: str, ip: str | None, *, succeeded: bool) -> None:
    LoginAttempt.objects.create(email=email.casefold()[:254], ip=ip, succeeded=succeeded)
    if succeeded:
        # A successful sign-in starts the count of failures afresh.
        LoginAttempt.objects.filter(email=email.casefold(), succeeded=False).delete()


def remember_session(request: HttpRequest, user: User) -> None:
    """Note the session that just signed in (called on sign-in)."""
    if not request.session.session_key:
        request.session.save()
    UserSession.objects.update_or_create(
        session_key=request.session.session_key,
        defaults={
            "user": user,
            "ip": client_ip(request),
            "user_agent": request.META.get("HTTP_USER_AGENT", "")[:300],
            "last_seen_at": timezone.now(),
        },
    )


def sessions_of(user: User) -> QuerySet[UserSession]:
    """The user's sessions that still exist, newest activity first."""
    live = Session.objects.filter(expire_date__gt=timezone.now()).values("session_key")
    UserSession.objects.filter(user=user).exclude(session_key__in=live).delete()
    return UserSession.objects.filter(user=user)


def end_session(*, actor: User, session_id: int) -> None:
    session = UserSession.objects.filter(pk=session_id, user=actor).first()
    if session is None:
        raise NotFound()
    Session.objects.filter(session_key=session.session_key).delete()
    session.delete()


def end_other_sessions(*, actor: User, keep: str | None) -> int:
    """Sign ``actor`` out everywhere but in the session ``keep``; returns how many ended."""
    others = UserSession.objects.filter(user=actor).exclude(session_key=keep or "")
    keys = list(others.values_list("session_key", flat=True))
    Session.objects.filter(session_key__in=keys).delete()
    others.delete()
    return len(keys)


def end_all_sessions(user: User) -> None:
    """Used when a user is deactivated or their password is reset."""
    keys = list(UserSession.objects.filter(user=user).values_list("session_key", flat=True))
    Session.objects.filter(session_key__in=keys).delete()
    UserSession.objects.filter(user=user).delete()
