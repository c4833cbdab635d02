"""Per-user language and time zone: a signed-in user's choices win over the browser's and
the installation's."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from farley.core import timezones


class UserLanguageMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        language = getattr(user, "language", "") if user and user.is_authenticated else ""
        if language:
            request.LANGUAGE_CODE = language
        if user is not None and user.is_authenticated:
            timezones.activate(user)
        # The thread serves other users next: their language and zone must not stay on (an API
        # request activates its user's when its token is checked).
        try:
            with translation.override(language) if language else contextlib.nullcontext():
                response = self.get_response(request)
        finally:
            timezone.deactivate()
        if language:
            response.headers.setdefault("Content-Language", language)
        return response


API_PREFIX = "/api/"


class ApiErrorEnvelopeMiddleware:
    """Under /api/, a 404 for an unknown path or a 405 for a wrong method comes from Django or
    django-ninja as HTML or plain text; answer the documented error JSON instead."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code in (404, 405)
            and request.path.startswith(API_PREFIX)
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            from farley.api import error_response

            if response.status_code == 404:
                message = _("There is no API endpoint at this path.")
            else:
                message = _("The method %(method)s is not allowed here.") % {
                    "method": request.method
                }
            replacement = error_response(request, response.status_code, message)
            if "Allow" in response:
                replacement["Allow"] = response["Allow"]
            return replacement
        return response


class ServiceErrorMiddleware:
    """A page whose service refuses (Forbidden) or finds nothing (NotFound) answers Django's
    403 or 404 page instead of a server error; the API maps these errors itself."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> None:
        from django.core.exceptions import PermissionDenied
        from django.http import Http404

        from farley.core.errors import Forbidden, NotFound

        if isinstance(exception, Forbidden):
            raise PermissionDenied(exception.message) from exception
        if isinstance(exception, NotFound):
            raise Http404(exception.message) from exception


class SessionActivityMiddleware:
    """Keeps "last active" of the user's session list current (at most one write in five
    minutes per session)."""

    INTERVAL = 300

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        session = getattr(request, "session", None)
        if (
            user is not None
            and user.is_authenticated
            and session is not None
            and session.session_key
        ):
            import time

            from django.utils import timezone

            from farley.core.models import UserSession

            now = time.time()
            if now - session.get("_farley_seen", 0) > self.INTERVAL:
                session["_farley_seen"] = now
                updated = UserSession.objects.filter(session_key=session.session_key).update(
                    last_seen_at=timezone.now()
                )
                if not updated:
                    from farley.core.signin import remember_session

                    remember_session(request, user)
        return response


CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


class SecurityHeadersMiddleware:
    """A strict Content-Security-Policy (no inline scripts or styles, nothing from other
    sites: the pages need none) and the permissions policy; Django's SecurityMiddleware sets
    nosniff, the referrer policy and, behind TLS, HSTS."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()"
        )
        return response


class TwoFactorRequiredMiddleware:
    """A user whose role requires two-factor authentication but has not set it up yet can
    only set it up (in the profile) or sign out."""

    ALLOWED = ("/profile/", "/logout/", "/static/", "/login/", "/api/", "/i18n/")

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not request.path.startswith(self.ALLOWED):
            from farley.core import twofactor
            from farley.core.oidc import IDP_MFA_SESSION_KEY

            # A single sign-on whose multi-factor authentication Farley trusts
            # (FARLEY_OIDC_TRUST_IDP_MFA) meets the role's requirement for that session.
            if twofactor.is_required(user) and not request.session.get(IDP_MFA_SESSION_KEY):
                from django.shortcuts import redirect

                return redirect("/profile/#two-factor")
        return self.get_response(request)
