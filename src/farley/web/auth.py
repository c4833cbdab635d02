"""Sign-in pages: the login form with its lockout, and the session bookkeeping."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import login as auth_login
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.signals import user_logged_in
from django.contrib.auth.views import LoginView
from django.core.exceptions import ValidationError
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from farley.core import oidc, signin, twofactor


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


class FarleyLoginView(LoginView):
    """Sign-in; a user with two-factor authentication enters a code next."""

    template_name = "web/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        if oidc.is_enabled():  # "Sign in with <provider>"
            context["sso_provider"] = oidc.provider_name()
        return context

    def form_valid(self, form: Any) -> HttpResponse:
        user = form.get_user()
        if twofactor.is_enabled(user):
            self.request.session[PENDING_USER] = user.pk
            self.request.session[PENDING_BACKEND] = user.backend
            self.request.session[PENDING_NEXT] = self.get_success_url()
            return redirect("login_code")
        return super().form_valid(form)


PENDING_USER = "farley_2fa_user"
PENDING_BACKEND = "farley_2fa_backend"
PENDING_NEXT = "farley_2fa_next"


def login_code(request: HttpRequest) -> HttpResponse:
    """The second step of signing in: a code of the authenticator app or a recovery code."""
    from farley.core.models import User

    user = User.objects.filter(pk=request.session.get(PENDING_USER), is_active=True).first()
    if user is None:
        return redirect("login")
    error = ""
    if request.method == "POST":
        ip = signin.client_ip(request)
        if minutes := signin.minutes_locked(user.email, ip):
            error = ngettext(
                "Too many failed sign-ins. Please wait %(minutes)d minute and try again.",
                "Too many failed sign-ins. Please wait %(minutes)d minutes and try again.",
                minutes,
            ) % {"minutes": minutes}
        elif twofactor.verify(user, request.POST.get("code", "")):
            next_url = request.session.get(PENDING_NEXT) or "/"
            backend = request.session.get(PENDING_BACKEND)
            auth_login(request, user, backend=backend)
            signin.record_attempt(user.email, ip, succeeded=True)
            return redirect(next_url)
        else:
            signin.record_attempt(user.email, ip, succeeded=False)
            error = _(
                "This code is not right. Enter the current code of your app or a recovery code."
            )
    return render(request, "web/login_code.html", {"error": error}, status=422 if error else 200)
