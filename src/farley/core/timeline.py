"""More sources for the timelines of the 360 pages: an app registers a function that gives
the timeline items of a record (e.g. activities: calls, notes, meetings), so the page that
shows the timeline need not know the app (apps only import the ones below them).

An item is ``{"type": "extra", "at": <aware datetime>, "template": <template name>,
"object": <anything the template shows>}``; the page merges them with its own items by time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from farley.core.models import User

Source = Callable[..., list[dict[str, Any]]]
_sources: list[Source] = []
# Templates of buttons an app adds to each timeline entry (e.g. "Follow-up"); they get
# ``entity``, ``record`` and ``e`` (the entry).
_entry_actions: list[str] = []


def register(source: Source) -> Source:
    """``source(user, entity, object_id, *, limit, kinds)`` → items, newest first; ``kinds``
    (None: all) are the interaction kinds the timeline is filtered by."""
    if source not in _sources:
        _sources.append(source)
    return source


def items_for(
    user: User, entity: str, object_id: int, *, limit: int, kinds: list[str] | None = None
) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for source in _sources:
        items += source(user, entity, object_id, limit=limit, kinds=kinds)
    return items


def add_entry_action(template: str) -> None:
    if template not in _entry_actions:
        _entry_actions.append(template)


def entry_actions() -> list[str]:
    return list(_entry_actions)
