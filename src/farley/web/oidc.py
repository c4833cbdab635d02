"""The two pages of single sign-on: off to the provider, and back from it.

Both are mozilla-django-oidc's views with Farley's rules for what follows a successful
answer of the provider: a user with Farley's two-factor authentication enters a code next
(unless the provider's multi-factor authentication is trusted), the sign-in is recorded
like a password sign-in, and a refusal is explained on the sign-in page.
"""

from __future__ import annotations

import logging
from typing import Any

import jwt
import requests
from django.contrib import auth, messages
from django.core.exceptions import ImproperlyConfigured, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.generic import View
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from farley.core import oidc, signin, twofactor
from farley.web.auth import PENDING_BACKEND, PENDING_NEXT, PENDING_USER

logger = logging.getLogger("farley.sso")

# What can go wrong between Farley and the provider: all of it ends on the sign-in page.
FAILURES = (
    SuspiciousOperation,
    ImproperlyConfigured,
    requests.RequestException,
    jwt.PyJWTError,
    KeyError,
    ValueError,
    TypeError,
)


def _unavailable(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.warning("Single sign-on failed: %s: %s", type(exc).__name__, exc)
    messages.error(
        request,
        _("Signing in with %(provider)s did not work. Please try again.")
        % {"provider": oidc.provider_name()},
    )
    return redirect("login")


class SsoStartView(OIDCAuthenticationRequestView):
    """``/login/sso/``: remembers state, nonce and PKCE verifier in the session and sends the
    browser to the provider's authorisation endpoint."""

    get_settings = staticmethod(oidc.setting)

    def __init__(self, **kwargs: Any) -> None:
        # The library looks the endpoint up here; Farley only when the page is asked for.
        View.__init__(self, **kwargs)

    def get(self, request: HttpRequest) -> HttpResponse:
        if not oidc.is_enabled():
            raise Http404
        try:
            self.OIDC_OP_AUTH_ENDPOINT = self.get_settings("OIDC_OP_AUTHORIZATION_ENDPOINT")
            self.OIDC_RP_CLIENT_ID = self.get_settings("OIDC_RP_CLIENT_ID")
            return super().get(request)
        except FAILURES as exc:
            return _unavailable(request, exc)


class SsoCallbackView(OIDCAuthenticationCallbackView):
    """``/login/sso/callback/``: checks state, exchanges the code, verifies the ID token
    (library and :class:`farley.core.oidc.OIDCBackend`) and signs the user in."""

    get_settings = staticmethod(oidc.setting)

    def get(self, request: HttpRequest) -> HttpResponse:
        if not oidc.is_enabled():
            raise Http404
        try:
            return super().get(request)
        except FAILURES as exc:
            return _unavailable(request, exc)

    def login_failure(self) -> HttpResponse:
        request = self.request
        reason = getattr(request, oidc.REFUSAL, "")
        values = {"provider": oidc.provider_name(), "email": getattr(request, oidc.EMAIL, "")}
        if reason in ("unknown", "inactive", "ambiguous"):
            message = _(
                "You are signed in at %(provider)s as %(email)s, but Farley has no active user "
                "with this email address. Ask an administrator of Farley."
            )
        elif reason == "unverified":
            message = _(
                "%(provider)s has not confirmed the email address %(email)s, so Farley cannot "
                "tell whose it is."
            )
        elif reason == "no_email":
            message = _("%(provider)s did not tell Farley a valid email address.")
        elif request.GET.get("error"):
            message = _("Signing in with %(provider)s was cancelled or refused.")
        else:
            message = _("Signing in with %(provider)s did not work. Please try again.")
        messages.error(request, message % values)
        return redirect("login")

    def login_success(self) -> HttpResponse:
        request, user = self.request, self.user
        next_url = request.session.pop("oidc_login_next", None) or self.success_url
        mfa_by_provider = bool(getattr(request, oidc.MFA, False))
        if twofactor.is_enabled(user) and not mfa_by_provider:
            # As after a password: Farley's code next (counted in the lockout there).
            request.session[PENDING_USER] = user.pk
            request.session[PENDING_BACKEND] = oidc.BACKEND
            request.session[PENDING_NEXT] = next_url
            return redirect("login_code")
        auth.login(request, user, backend=oidc.BACKEND)
        if mfa_by_provider:
            request.session[oidc.IDP_MFA_SESSION_KEY] = True
        signin.record_attempt(user.email, signin.client_ip(request), succeeded=True)
        return HttpResponseRedirect(next_url)
