"""Panels of the customer 360 page.

A capability shows its part of a customer (deals, quotes, orders, tickets, campaigns,
scores, ...) on the account and contact pages by registering a panel here, from its app's
``ready()``; the pages show every registered panel whose ``context`` returns a dict, in
``order``. The context function gets the requesting user and the record and must read
through the selectors, so the panel shows only what the user may see.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from farley.core.models import User

Column = Literal["main", "side"]


@dataclass(frozen=True)
class Panel:
    key: str
    entities: tuple[str, ...]
    template: str
    context: Callable[[User, Any], dict[str, Any] | None]
    column: Column = "main"
    order: int = 100


@dataclass(frozen=True)
class ShownPanel:
    key: str
    template: str
    context: dict[str, Any]


_registry: dict[str, Panel] = {}


def register(panel: Panel) -> Panel:
    _registry[panel.key] = panel
    return panel


def panels_for(entity: str, user: User, record: Any, column: Column) -> list[ShownPanel]:
    """The panels to show on ``record``'s page in ``column``, in order; a panel whose context
    function returns None is left out (e.g. nothing to show and nothing to add)."""
    shown = []
    candidates = [p for p in _registry.values() if entity in p.entities and p.column == column]
    for panel in sorted(candidates, key=lambda p: (p.order, p.key)):
        context = panel.context(user, record)
        if context is not None:
            shown.append(ShownPanel(panel.key, panel.template, context))
    return shown
