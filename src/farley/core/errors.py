"""Errors the services raise; the UI and the API turn them into field errors and status codes."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


class ServiceError(Exception):
    code = "error"
    status = 400

    def __init__(self, message: str = "", fields: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.message = str(message)
        self.fields = fields or {}


class ValidationFailed(ServiceError):
    """Input broke a rule; ``fields`` maps a field path (``emails.0.address``) to messages."""

    code = "validation_error"
    status = 422

    def __init__(self, fields: dict[str, list[str]], message: str = ""):
        super().__init__(message or str(_("Some fields are not valid.")), fields)


class NotFound(ServiceError):
    code = "not_found"
    status = 404

    def __init__(self, message: str = ""):
        super().__init__(message or str(_("Not found.")))


class Forbidden(ServiceError):
    code = "forbidden"
    status = 403

    def __init__(self, message: str = ""):
        super().__init__(message or str(_("You are not allowed to do this.")))


class Conflict(ServiceError):
    """The record changed since the caller read it (stale version)."""

    code = "conflict"
    status = 409

    def __init__(self, message: str = "", current_version: int | None = None):
        super().__init__(
            message or str(_("This record was changed by someone else. Reload it and try again."))
        )
        self.current_version = current_version
