"""Keyset (cursor) pagination: the cost of a page does not grow with the table."""

from __future__ import annotations

import base64
import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import models
from django.db.models import BooleanField, F, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils.dateparse import parse_datetime

from farley.core.sqlparts import Condition, compile_with_slot


class BadCursor(ValueError):
    pass


@dataclass
class Page:
    items: list[Any]
    next_cursor: str | None
    limit: int


def _encode(values: list[Any]) -> str:
    def plain(v: Any) -> Any:
        if isinstance(v, dt.datetime | dt.date):
            return v.isoformat()
        if isinstance(v, Decimal):
            return str(v)
        return v

    raw = json.dumps([plain(v) for v in values], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str, model: type[models.Model], fields: list[str]) -> list[Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadCursor(cursor) from exc
    if not isinstance(values, list) or len(values) != len(fields) + 1:
        raise BadCursor(cursor)
    decoded = []
    for name, value in zip([*fields, "id"], values, strict=True):
        field = model._meta.get_field(name)
        if value is None:
            if not field.null:
                raise BadCursor(cursor)
            decoded.append(None)
        elif isinstance(field, models.DateTimeField):
            parsed = parse_datetime(str(value))
            if parsed is None:
                raise BadCursor(cursor)
            decoded.append(parsed)
        elif isinstance(field, models.IntegerField | models.AutoField | models.BigAutoField):
            if not isinstance(value, int) or isinstance(value, bool):
                raise BadCursor(cursor)
            decoded.append(value)
        else:
            if not isinstance(value, str):
                raise BadCursor(cursor)
            decoded.append(value)
    return decoded


def _after(fields: list[str], values: list[Any], descending: bool, nullable: bool) -> Q:
    op = "lt" if descending else "gt"
    *keys, last_id = values
    if nullable:
        name, value = fields[0], keys[0]
        if value is None:
            return Q(**{f"{name}__isnull": True, f"id__{op}": last_id})
        return (
            Q(**{f"{name}__{op}": value})
            | Q(**{name: value, f"id__{op}": last_id})
            | Q(**{f"{name}__isnull": True})
        )
    condition = Q()
    equal: dict[str, Any] = {}
    for name, value in zip([*fields, "id"], [*keys, last_id], strict=True):
        condition |= Q(**equal, **{f"{name}__{op}": value})
        equal[name] = value
    return condition


def _ordered(
    queryset: QuerySet, fields: list[str], descending: bool, cursor: str | None
) -> QuerySet:
    """``queryset`` ordered by ``fields`` then id, from after ``cursor``."""
    model = queryset.model
    nullable = len(fields) == 1 and model._meta.get_field(fields[0]).null
    if nullable:
        expr = (
            F(fields[0]).desc(nulls_last=True) if descending else F(fields[0]).asc(nulls_last=True)
        )
        ordering = [expr, "-id" if descending else "id"]
    else:
        ordering = [f"-{f}" if descending else f for f in [*fields, "id"]]
    queryset = queryset.order_by(*ordering)
    if cursor:
        queryset = queryset.filter(
            _after(fields, _decode(cursor, model, fields), descending, nullable)
        )
    return queryset


def keyset_page_union(
    queryset: QuerySet,
    base: QuerySet,
    conditions: list[Condition] | None,
    *,
    fields: list[str],
    descending: bool = False,
    limit: int = 50,
    cursor: str | None = None,
) -> Page:
    """:func:`keyset_page` of the union of ``base`` (a filtered queryset of ``queryset``'s
    model) under each of ``conditions`` (SQL on its table; None: ``base`` as it is).
    ``queryset`` gives the columns and ``select_related`` of the items.

    Each part is ordered and cut to its first ``limit + 1`` rows after the cursor on its own,
    so that each can stop early on an index of its own; the page is the first rows of the union
    of those (at most ``limit + 1`` per part), in one query."""
    if conditions is None:
        return keyset_page(base, fields=fields, descending=descending, limit=limit, cursor=cursor)
    if len(conditions) <= 1:
        part = (
            base.filter(RawSQL(conditions[0].sql, conditions[0].params, BooleanField()))  # noqa: S611
            if conditions
            else base.none()
        )
        return keyset_page(part, fields=fields, descending=descending, limit=limit, cursor=cursor)
    # The parts are the base compiled once and filled with each condition
    # (farley.core.sqlparts): compiling the base per part costs Django most of a millisecond
    # each when its filters hold subqueries. Each part brings its sort keys (from the index it
    # walks), so the page is cut from the candidates before any row of theirs is read. UNION,
    # not UNION ALL: a record seen in two ways (the team's and shared) must count once towards
    # the limit.
    slotted = compile_with_slot(
        _ordered(base, fields, descending, cursor).values("pk", *fields), limit=limit + 1
    )
    parts = [slotted.fill(condition) for condition in conditions]
    selects = [
        f"SELECT * FROM ({part.sql}) AS part{n}"  # noqa: S608 (compiled SQL; values bound)
        for n, part in enumerate(parts)
    ]
    page_ids = RawSQL(  # noqa: S611 (compiled querysets and field names; values bound)
        f"SELECT pk FROM ({' UNION '.join(selects)}) AS candidates "  # noqa: S608 (compiled SQL)
        f"ORDER BY {_order_by_sql(queryset.model, fields, descending)} LIMIT {limit + 1}",
        [param for part in parts for param in part.params],
    )
    return keyset_page(
        queryset.filter(pk__in=page_ids),
        fields=fields,
        descending=descending,
        limit=limit,
        cursor=cursor,
    )


def _order_by_sql(model: type[models.Model], fields: list[str], descending: bool) -> str:
    """The ORDER BY of :func:`_ordered` over the columns ``pk`` and ``fields`` of a union."""
    direction = "DESC" if descending else "ASC"
    if len(fields) == 1 and model._meta.get_field(fields[0]).null:
        column = fields[0]
        return f'"{column}" IS NULL, "{column}" {direction}, "pk" {direction}'
    return ", ".join(f'"{column}" {direction}' for column in [*fields, "pk"])


def keyset_page(
    queryset: QuerySet,
    *,
    fields: list[str],
    descending: bool = False,
    limit: int = 50,
    cursor: str | None = None,
) -> Page:
    """One page of ``queryset`` ordered by ``fields`` then id; ``cursor`` continues a listing."""
    queryset = _ordered(queryset, fields, descending, cursor)
    items = list(queryset[: limit + 1])
    next_cursor = None
    if len(items) > limit:
        items = items[:limit]
        last = items[-1]
        next_cursor = _encode([getattr(last, f) for f in fields] + [last.pk])
    return Page(items=items, next_cursor=next_cursor, limit=limit)
