"""Small helpers the API routers share: If-Match versions, history rows, list envelopes."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Schema
from pydantic import Field

from farley.core.errors import ValidationFailed
from farley.core.models import ChangeRecord
from farley.core.pagination import BadCursor, Page, keyset_page
from farley.core.validation import Cleaner

# A record id in a path or query parameter: what the database can hold (a larger number
# made the database driver fail), and so what the spec says.
Id = Annotated[int, Field(ge=1, le=2**63 - 1)]


class ErrorBody(Schema):
    code: str
    message: str
    fields: dict[str, list[str]] = {}


class ErrorOut(Schema):
    error: ErrorBody


ERRORS = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    409: ErrorOut,
    413: ErrorOut,
    422: ErrorOut,
}


class ChangeOut(Schema):
    id: int
    action: str
    at: dt.datetime
    actor_id: int | None
    actor: str | None
    changes: dict[str, Any]


def change_out(change: ChangeRecord) -> dict[str, Any]:
    return {
        "id": change.pk,
        "action": change.action,
        "at": change.at,
        "actor_id": change.actor_id,
        "actor": str(change.actor) if change.actor else None,
        "changes": change.changes,
    }


def requested_version(request: HttpRequest, body_version: Any) -> Any:
    """The version the client read: the body's ``version`` or the ``If-Match`` header."""
    if body_version is not None:
        return body_version
    header = request.headers.get("If-Match", "")
    match = re.fullmatch(r'\s*(?:W/)?"?(\d+)"?\s*', header)
    return int(match.group(1)) if match else (header or None)


def query_params(request: HttpRequest) -> dict[str, str]:
    """The query string as a dict; a parameter given twice is an error (only the last one
    would count)."""
    repeated = [key for key, values in request.GET.lists() if len(values) > 1]
    if repeated:
        raise ValidationFailed({key: [_("Give this parameter once.")] for key in repeated})
    return {key: request.GET.get(key, "") for key in request.GET}


def api_page(
    request: HttpRequest, queryset, fields: list[str], *, descending: bool = False
) -> Page:
    """One keyset page from ``?limit=&cursor=``; bad values are 422 field errors."""
    c = Cleaner()
    limit = c.integer("limit", request.GET.get("limit") or 50, minimum=1, maximum=200) or 50
    c.raise_if_invalid()
    try:
        return keyset_page(
            queryset,
            fields=fields,
            descending=descending,
            limit=limit,
            cursor=request.GET.get("cursor") or None,
        )
    except BadCursor:
        raise ValidationFailed({"cursor": ["This cursor is not valid."]}) from None


HISTORY_DOC = (
    "Newest first, `limit` (1-500, default 100) at a time; for older ones pass the `id` of "
    "the last change you got as `before`."
)


def history_page(entity: str, object_id: int, limit: int, before: int | None) -> list:
    """One page of a record's field history (newest first); ``before`` is the id of the
    last change of the previous page."""
    from farley.core.history import history_for

    c = Cleaner()
    limit = c.integer("limit", limit, minimum=1, maximum=500) or 100
    c.raise_if_invalid()
    changes = history_for(entity, object_id)
    if before is not None:
        changes = changes.filter(pk__lt=before)
    return list(changes.order_by("-pk")[:limit])
