"""Pieces of SQL that Django would be slow to compile over and over.

A page of a restricted user's list is the union of one filtered, ordered query with each of
several visibility conditions (:func:`farley.core.visibility.visible_parts`). Compiling that
query once per condition costs Django most of a millisecond a time when the filters hold
subqueries; :func:`compile_with_slot` compiles it once with an open condition (a slot) that
:meth:`Slotted.fill` fills with each condition as SQL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.db.models import BooleanField, Expression, QuerySet

SLOT_SQL = "(farley_slot IS NULL)"  # only ever replaced, never run
# Django's compiled SQL holds "%s" per parameter and "%%" per literal percent sign.
PLACEHOLDER_RE = re.compile(r"%%|%s")


@dataclass(frozen=True)
class Condition:
    """A condition as SQL (``%s`` per value in ``params``)."""

    sql: str
    params: list = field(default_factory=list)


class Slot(Expression):
    """A condition left open in compiled SQL (see :func:`compile_with_slot`)."""

    conditional = True

    def __init__(self) -> None:
        super().__init__(output_field=BooleanField())

    def as_sql(self, compiler, connection) -> tuple[str, list]:
        return SLOT_SQL, []


@dataclass(frozen=True)
class Slotted:
    """A query compiled with one open condition."""

    before: str
    after: str
    params_before: list
    params_after: list

    def fill(self, condition: Condition) -> Condition:
        return Condition(
            f"{self.before}({condition.sql}){self.after}",
            [*self.params_before, *condition.params, *self.params_after],
        )


def compile_with_slot(queryset: QuerySet, *, limit: int | None = None) -> Slotted:
    """``queryset`` (cut to its first ``limit`` rows) with one more condition, to be filled in
    later, compiled once."""
    queryset = queryset.filter(Slot())
    if limit is not None:
        queryset = queryset[:limit]
    sql, params = queryset.query.sql_with_params()
    before, found, after = sql.partition(SLOT_SQL)
    if not found or SLOT_SQL in after:
        raise ValueError("the slot must appear exactly once in the compiled query")
    count = PLACEHOLDER_RE.findall(before).count("%s")
    return Slotted(before, after, list(params[:count]), list(params[count:]))
