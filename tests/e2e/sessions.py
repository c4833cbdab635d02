"""Signing in through the login page, as a person does."""

from __future__ import annotations

PASSWORD = "Correct-Horse-Battery-9"


def sign_in(page, email: str, password: str = PASSWORD) -> None:
    """Drop the current session and sign in through the login page."""
    page.context.clear_cookies()
    page.goto(page.base_url + "/login/")
    page.fill("#id_username", email)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url(page.base_url + "/")
