"""Single sign-on with OpenID Connect (authorisation code flow with PKCE), built on
mozilla-django-oidc.

Off unless ``FARLEY_OIDC_ISSUER`` and ``FARLEY_OIDC_CLIENT_ID`` are set (see settings.py).
The provider's endpoints come from its discovery document
(``<issuer>/.well-known/openid-configuration``) unless they are configured one by one.

On top of the library this module

- checks what the library leaves out: the ID token's issuer, audience (and ``azp``) and
  expiry, and that the userinfo answer is about the same subject as the ID token;
- matches users by their email address, case-insensitively, only if the provider says it
  is verified (``email_verified``), and refuses deactivated users;
- creates unknown users only when ``FARLEY_OIDC_CREATE_USERS`` is on, with the role and team
  configured for them (never an administrator role), recorded in the history;
- tells the sign-in view whether the provider's multi-factor authentication may stand in
  for Farley's own code (``FARLEY_OIDC_TRUST_IDP_MFA``).

Why a sign-in was refused is left on the request (:data:`REFUSAL`) for the view's message.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import ImproperlyConfigured, SuspiciousOperation
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.utils import import_from_settings

from farley.core import history
from farley.core.models import ChangeAction, Role, Team, User
from farley.core.validation import Cleaner

logger = logging.getLogger("farley.sso")

BACKEND = "farley.core.oidc.OIDCBackend"
# Session key: this session was signed in by the provider with multi-factor authentication
# that Farley trusts (FARLEY_OIDC_TRUST_IDP_MFA); a role's 2FA requirement is met by it.
IDP_MFA_SESSION_KEY = "farley_sso_mfa"
# Request attributes the backend leaves for the callback view.
REFUSAL = "farley_sso_refusal"
EMAIL = "farley_sso_email"
MFA = "farley_sso_mfa"

# Endpoint settings of mozilla-django-oidc and their names in the discovery document.
ENDPOINTS = {
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "authorization_endpoint",
    "OIDC_OP_TOKEN_ENDPOINT": "token_endpoint",
    "OIDC_OP_USER_ENDPOINT": "userinfo_endpoint",
    "OIDC_OP_JWKS_ENDPOINT": "jwks_uri",
}
DISCOVERY_TTL = 3600  # seconds a discovery document is kept
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
# RFC 8176 authentication methods that are a second factor beside a password.
SECOND_FACTORS = {"otp", "hwk", "swk", "sms", "tel", "sc", "fpt", "face", "iris", "retina", "vbm"}


def is_enabled() -> bool:
    return bool(getattr(settings, "OIDC_ISSUER", "") and getattr(settings, "OIDC_RP_CLIENT_ID", ""))


def provider_name() -> str:
    return getattr(settings, "OIDC_PROVIDER_NAME", "") or _("single sign-on")


def _check_url(url: str, what: str) -> str:
    """Only https, except on this machine (a provider for tests or development)."""
    parts = urlsplit(url or "")
    if parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS):
        return url
    raise ImproperlyConfigured(f"OpenID Connect: the {what} must be an https URL: {url!r}")


_discovered: dict[str, tuple[float, dict[str, Any]]] = {}
_discovery_lock = threading.Lock()


def discovery(issuer: str | None = None) -> dict[str, Any]:
    """The provider's discovery document (cached for an hour), checked to be the issuer's."""
    issuer = _check_url(issuer or settings.OIDC_ISSUER, "issuer")
    with _discovery_lock:
        cached = _discovered.get(issuer)
        if cached and time.monotonic() - cached[0] < DISCOVERY_TTL:
            return cached[1]
    response = requests.get(
        issuer.rstrip("/") + "/.well-known/openid-configuration",
        timeout=getattr(settings, "OIDC_TIMEOUT", 10),
        verify=getattr(settings, "OIDC_VERIFY_SSL", True),
    )
    response.raise_for_status()
    document = response.json()
    if not isinstance(document, dict) or document.get("issuer", "").rstrip("/") != issuer.rstrip(
        "/"
    ):
        raise ImproperlyConfigured(
            f"OpenID Connect: the discovery document of {issuer!r} names another issuer"
        )
    with _discovery_lock:
        _discovered[issuer] = (time.monotonic(), document)
    return document


def expected_issuer() -> str:
    """The ``iss`` the ID tokens must carry: as the discovery document spells it."""
    configured = settings.OIDC_ISSUER
    if all(getattr(settings, name, "") for name in ENDPOINTS):
        return configured
    return discovery(configured)["issuer"]


def setting(attr: str, *default: Any) -> Any:
    """mozilla-django-oidc's ``get_settings``: endpoints fall back to the discovery document."""
    if attr in ENDPOINTS:
        value = getattr(settings, attr, "") or discovery().get(ENDPOINTS[attr], "")
        if not value and attr != "OIDC_OP_USER_ENDPOINT":
            raise ImproperlyConfigured(f"OpenID Connect: no {ENDPOINTS[attr]} configured")
        return _check_url(value, ENDPOINTS[attr]) if value else value
    if attr == "OIDC_RP_SCOPES":
        scopes = (getattr(settings, attr, "") or "openid email profile").split()
        return " ".join(scopes if "openid" in scopes else ["openid", *scopes])
    return import_from_settings(attr, *default)


def _truthy(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def mfa_by_provider(claims: dict[str, Any]) -> bool:
    """Whether the provider's multi-factor authentication replaces Farley's code."""
    mode = (getattr(settings, "OIDC_TRUST_IDP_MFA", "") or "off").strip().lower()
    if mode == "always":
        return True
    if mode == "amr":
        amr = claims.get("amr") or []
        methods = {str(m).lower() for m in (amr if isinstance(amr, list) else [amr])}
        return "mfa" in methods or ("pwd" in methods and bool(methods & SECOND_FACTORS))
    return False


def _language(claims: dict[str, Any]) -> str:
    locale = str(claims.get("locale") or "").replace("_", "-").split("-")[0].lower()
    return locale if locale in {code for code, _name in settings.LANGUAGES} else ""


def _full_name(claims: dict[str, Any]) -> str:
    name = claims.get("name") or " ".join(
        str(claims[k]) for k in ("given_name", "family_name") if claims.get(k)
    )
    return str(name or "").strip()[:150]


def create_user_from_claims(*, email: str, claims: dict[str, Any]) -> User:
    """A new user for someone the provider vouches for (``FARLEY_OIDC_CREATE_USERS``): the
    configured role and team, no Farley password, recorded in the history."""
    role_key = getattr(settings, "OIDC_DEFAULT_ROLE", "") or "read_only"
    role = Role.objects.filter(key=role_key).first()
    if role is None or role.is_administrator:
        raise ImproperlyConfigured(
            f"OpenID Connect: FARLEY_OIDC_DEFAULT_ROLE {role_key!r} is not a role that new "
            "users may get (it must exist and must not administer Farley)"
        )
    team_name = (getattr(settings, "OIDC_DEFAULT_TEAM", "") or "").strip()[:120]
    with transaction.atomic():
        user = User.objects.create_user(
            email=email,
            password=None,  # unusable: this user signs in through the provider
            role=role,
            full_name=_full_name(claims),
            language=_language(claims),
            is_staff=False,
        )
        if team_name:
            team = Team.objects.filter(name__iexact=team_name).first()
            user.teams.add(team or Team.objects.create(name=team_name))
        history.record_change(
            entity="user",
            object_id=user.pk,
            action=ChangeAction.CREATE,
            actor=None,
            after={
                "email": email,
                "role": role.key,
                "teams": [team_name] if team_name else [],
                "created_by": "OpenID Connect",
            },
        )
    return user


class OIDCBackend(OIDCAuthenticationBackend):
    """mozilla-django-oidc's backend with Farley's matching rules and the missing checks."""

    get_settings = staticmethod(setting)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Django makes a backend for every request of a signed-in user (get_user): the
        # provider's endpoints are looked up only when someone actually signs in.
        self.UserModel = User

    def _configure(self) -> None:
        self.OIDC_OP_TOKEN_ENDPOINT = self.get_settings("OIDC_OP_TOKEN_ENDPOINT")
        self.OIDC_OP_USER_ENDPOINT = self.get_settings("OIDC_OP_USER_ENDPOINT")
        self.OIDC_OP_JWKS_ENDPOINT = self.get_settings("OIDC_OP_JWKS_ENDPOINT")
        self.OIDC_RP_CLIENT_ID = self.get_settings("OIDC_RP_CLIENT_ID")
        self.OIDC_RP_CLIENT_SECRET = self.get_settings("OIDC_RP_CLIENT_SECRET", "")
        self.OIDC_RP_SIGN_ALGO = self.get_settings("OIDC_RP_SIGN_ALGO", "RS256")
        self.OIDC_RP_IDP_SIGN_KEY = None
        if not self.OIDC_RP_SIGN_ALGO.startswith(("RS", "ES")):
            raise ImproperlyConfigured("OpenID Connect: ID tokens must be signed with RS* or ES*")
        self.expected_issuer = expected_issuer()

    def authenticate(self, request: HttpRequest | None, **kwargs: Any) -> User | None:
        # Only the callback view passes a nonce; a password sign-in never gets here, even with
        # ``?code=&state=`` in its address.
        if request is None or "nonce" not in kwargs or not is_enabled():
            return None
        if "username" in kwargs or "password" in kwargs:
            return None
        self._configure()
        return super().authenticate(request, **kwargs)

    def get_user(self, user_id: Any) -> User | None:
        # The library's get_user would keep a deactivated user signed in; Django's does not.
        return ModelBackend.get_user(self, user_id)

    def verify_token(self, token: str, **kwargs: Any) -> dict[str, Any]:
        """Signature, algorithm and nonce (the library), then issuer, audience and expiry."""
        payload = super().verify_token(token, **kwargs)
        if payload.get("iss") != self.expected_issuer:
            raise SuspiciousOperation("ID token from another issuer")
        audience = payload.get("aud")
        audiences = [audience] if isinstance(audience, str) else list(audience or [])
        if self.OIDC_RP_CLIENT_ID not in audiences:
            raise SuspiciousOperation("ID token for another client")
        if len(audiences) > 1 and payload.get("azp") != self.OIDC_RP_CLIENT_ID:
            raise SuspiciousOperation("ID token authorised for another party")
        if not isinstance(payload.get("exp"), int | float) or not payload.get("sub"):
            raise SuspiciousOperation("ID token without expiry or subject")
        return payload

    def get_userinfo(
        self, access_token: str, id_token: str, payload: dict[str, Any]
    ) -> dict[str, Any]:
        """The ID token's claims, completed by the userinfo endpoint (if the provider has one)
        when it speaks of the same subject."""
        claims = dict(payload)
        if self.OIDC_OP_USER_ENDPOINT:
            info = super().get_userinfo(access_token, id_token, payload)
            if not isinstance(info, dict) or info.get("sub") != payload.get("sub"):
                raise SuspiciousOperation("userinfo of another subject")
            claims.update(info)
        return claims

    def _refuse(self, reason: str, email: str = "") -> None:
        setattr(self.request, REFUSAL, reason)
        logger.warning("Single sign-on refused (%s) for %r", reason, email)

    def get_or_create_user(
        self, access_token: str, id_token: str, payload: dict[str, Any]
    ) -> User | None:
        claims = self.get_userinfo(access_token, id_token, payload)
        cleaner = Cleaner()
        email = cleaner.email("email", claims.get("email") or "")
        setattr(self.request, EMAIL, email)
        if not email or not cleaner.ok:
            self._refuse("no_email", str(claims.get("email") or ""))
            return None
        if getattr(settings, "OIDC_REQUIRE_VERIFIED_EMAIL", True) and not _truthy(
            claims.get("email_verified")
        ):
            self._refuse("unverified", email)
            return None
        users = list(User.objects.filter(email__iexact=email)[:2])
        if len(users) > 1:
            self._refuse("ambiguous", email)
            return None
        user = users[0] if users else None
        if user is None:
            if not getattr(settings, "OIDC_CREATE_USER", False):
                self._refuse("unknown", email)
                return None
            try:
                user = create_user_from_claims(email=email, claims=claims)
            except IntegrityError:  # created by a parallel sign-in a moment ago
                user = User.objects.filter(email__iexact=email).first()
            if user is None:
                self._refuse("unknown", email)
                return None
        if not user.is_active:
            self._refuse("inactive", email)
            return None
        if not user.full_name and _full_name(claims):
            user.full_name = _full_name(claims)
            user.save(update_fields=["full_name"])
        setattr(self.request, MFA, mfa_by_provider(claims))
        return user
