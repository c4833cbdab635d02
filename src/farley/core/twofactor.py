"""Two-factor authentication with time-based one-time codes (TOTP, RFC 6238), as authenticator
apps (FreeOTP, Aegis, Google/Microsoft Authenticator) make them, plus one-time recovery codes.

A role can require it (``Role.requires_2fa``): users of such a role are sent to set it up
before they can do anything else.
"""

from __future__ import annotations

import hashlib
import secrets

import pyotp
import segno
from django.db import transaction
from django.utils.translation import gettext as _

from farley.core import history
from farley.core.errors import ValidationFailed
from farley.core.models import ChangeAction, User

ISSUER = "Farley"
RECOVERY_CODES = 8


def is_enabled(user: User) -> bool:
    return bool(user.totp_secret)


def is_required(user: User) -> bool:
    return bool(user.is_authenticated and user.role.requires_2fa and not is_enabled(user))


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def qr_svg(uri: str) -> str:
    """The QR code of ``uri`` as inline SVG markup (no external service, no inline script)."""
    return segno.make(uri, error="m").svg_inline(scale=4, dark="#1f2937", light="#ffffff")


def _code_ok(secret: str, code: str) -> bool:
    code = (code or "").replace(" ", "")
    return len(code) == 6 and code.isdigit() and pyotp.TOTP(secret).verify(code, valid_window=1)


def _hash(code: str) -> str:
    return hashlib.sha256(code.replace("-", "").replace(" ", "").lower().encode()).hexdigest()


def enable(*, user: User, secret: str, code: str) -> list[str]:
    """Turn 2FA on once the user proved their app makes the right codes; returns the recovery
    codes (shown once)."""
    if not secret or not _code_ok(secret, code):
        raise ValidationFailed(
            {"code": [_("This code is not right. Enter the current code of your app.")]}
        )
    codes = [f"{secrets.token_hex(3)}-{secrets.token_hex(3)}" for _ in range(RECOVERY_CODES)]
    with transaction.atomic():
        user.totp_secret = secret
        user.totp_recovery_hashes = [_hash(c) for c in codes]
        user.save(update_fields=["totp_secret", "totp_recovery_hashes"])
        history.record_change(
            entity="user", object_id=user.pk, action=ChangeAction.UPDATE, actor=user,
            before={"two_factor": "off"}, after={"two_factor": "on"},
        )  # fmt: skip
    return codes


def disable(*, user: User, code: str) -> None:
    if not verify(user, code):
        raise ValidationFailed({"code": [_("This code is not right.")]})
    if user.role.requires_2fa:
        raise ValidationFailed({"code": [_("Your role requires two-factor authentication.")]})
    with transaction.atomic():
        user.totp_secret = ""
        user.totp_recovery_hashes = []
        user.save(update_fields=["totp_secret", "totp_recovery_hashes"])
        history.record_change(
            entity="user", object_id=user.pk, action=ChangeAction.UPDATE, actor=user,
            before={"two_factor": "on"}, after={"two_factor": "off"},
        )  # fmt: skip


def verify(user: User, code: str) -> bool:
    """A current code of the user's app, or an unused recovery code (which is used up)."""
    if not is_enabled(user):
        return False
    if _code_ok(user.totp_secret, code):
        return True
    hashed = _hash(code or "")
    if code and hashed in user.totp_recovery_hashes:
        user.totp_recovery_hashes = [h for h in user.totp_recovery_hashes if h != hashed]
        user.save(update_fields=["totp_recovery_hashes"])
        return True
    return False
