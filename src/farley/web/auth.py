"""Sign-in pages: the login form with its lockout, and the session bookkeeping."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.signals import user_logged_in
from django.core.exceptions import ValidationError
from django.dispatch import receiver
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from farley.core import signin


class LoginForm(AuthenticationForm):
    """Django's login form, refusing for a while after repeated failures (also with the
    right password, or the lockout would be no obstacle to guessing)."""

    def clean(self) -> dict[str, Any]:
        email = (self.data.get("username") or "").strip()
        ip = signin.client_ip(self.request)
        if email and (minutes := signin.minutes_locked(email, ip)):
            raise ValidationError(
                ngettext(
                    "Too many failed sign-ins. Please wait %(minutes)d minute and try again.",
                    "Too many failed sign-ins. Please wait %(minutes)d minutes and try again.",
                    minutes,
                )
                % {"minutes": minutes},
                code="locked",
            )
        try:
            cleaned = super().clean()
        except ValidationError:
            if email:
                signin.record_attempt(email, ip, succeeded=False)
            raise
        signin.record_attempt(email, ip, succeeded=True)
        return cleaned

    def get_invalid_login_error(self) -> ValidationError:
        return ValidationError(
            _("The email address or the password is not right. Please try again."),
            code="invalid_login",
        )


@receiver(user_logged_in, dispatch_uid="farley-remember-session")
def _remember_session(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        signin.remember_session(request, user)
