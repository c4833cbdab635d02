"""The REST API under /api/v1: one NinjaAPI, bearer-token auth, errors mapped in one place.

Every error answers ``{"error": {"code", "message", "fields"}}`` (see docs/api.md).
"""

from __future__ import annotations

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser
from ninja.security import HttpBearer

from farley.core.errors import Conflict, ServiceError
from farley.core.services import log_token_use, token_authenticate
from farley.core.signin import client_ip


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str):
        user = token_authenticate(token)
        if user is not None:
            request.user = user
            log_token_use(
                user._farley_token_id, request.method or "", request.path, client_ip(request)
            )
        return user


class OnceParser(Parser):
    """A query or form parameter that is not a list may be given once: otherwise only the
    last value would count, silently."""

    def parse_querydict(self, data, list_fields, request):
        repeated = [key for key in data if key not in list_fields and len(data.getlist(key)) > 1]
        if repeated:
            raise ValidationError(
                [
                    {
                        "type": "repeated",
                        "loc": ("query", key),
                        "msg": _("Give this parameter once."),
                    }
                    for key in repeated
                ]
            )
        return super().parse_querydict(data, list_fields, request)


api = NinjaAPI(
    title="Farley API",
    version="1",
    description="REST API of Farley CRM. Authenticate with `Authorization: Bearer <token>`.",
    urls_namespace="api",
    auth=BearerToken(),
    parser=OnceParser(),
)

STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    422: "validation_error",
    429: "too_many_requests",
}


def error_response(
    request: HttpRequest,
    status: int,
    message: str,
    *,
    code: str | None = None,
    fields: dict | None = None,
    extra: dict | None = None,
) -> HttpResponse:
    body = {
        "error": {
            "code": code or STATUS_CODES.get(status, "error"),
            "message": message,
            "fields": fields or {},
        }
    }
    if extra:
        body["error"].update(extra)
    return api.create_response(request, body, status=status)


@api.exception_handler(ServiceError)
def _service_error(request: HttpRequest, exc: ServiceError) -> HttpResponse:
    extra = {"current_version": exc.current_version} if isinstance(exc, Conflict) else None
    return error_response(
        request, exc.status, exc.message, code=exc.code, fields=exc.fields, extra=extra
    )


SOURCES = {"body", "query", "path", "header", "cookie", "form", "file"}
WRAPPERS = {"payload", "filters"}


def _field_path(loc: tuple) -> str:
    """ninja's error location, e.g. ("body", "payload", "emails", 0, "address"), as the field
    path of the error JSON ("emails.0.address")."""
    parts = list(loc)
    if parts and parts[0] in SOURCES:
        parts = parts[1:]
    parts = [str(p) for p in parts if p not in WRAPPERS]
    return ".".join(parts) or "body"


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    fields: dict[str, list[str]] = {}
    for error in exc.errors:
        kind = error.get("type", "")
        if kind == "extra_forbidden":
            message = _("Unknown field.")
        elif kind == "missing":
            message = _("This field is required.")
        else:
            message = error.get("msg", _("Invalid value."))
        fields.setdefault(_field_path(tuple(error.get("loc", ()))), []).append(str(message))
    return error_response(request, 422, _("Some fields are not valid."), fields=fields)


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    message = str(exc)
    if exc.status_code == 400 and "parse" in message.lower():
        message = _("The request body is not valid JSON.")
    return error_response(request, exc.status_code, message)


@api.exception_handler(AuthenticationError)
def _unauthorized(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = error_response(
        request, 401, _("A valid API token is required (Authorization: Bearer <token>).")
    )
    response["WWW-Authenticate"] = "Bearer"
    return response


@api.exception_handler(RequestDataTooBig)
def _too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return error_response(request, 413, _("The request body is too large."))


def _register_routers() -> None:
    from farley.activities.api import router as activities_router
    from farley.contacts.api import router as contacts_router
    from farley.contacts.privacy_api import router as privacy_router
    from farley.core.api import router as core_router
    from farley.documents.api import router as documents_router
    from farley.sales.api import router as sales_router

    api.add_router("", core_router)
    api.add_router("", contacts_router)
    api.add_router("", privacy_router)
    api.add_router("", documents_router)
    api.add_router("", sales_router)
    api.add_router("", activities_router)


_register_routers()
