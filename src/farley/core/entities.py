"""The registry of customer-data entities.

History, custom fields, search, trash and the API look entities up here, so a new entity
gets those capabilities by registering once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import models


@dataclass(frozen=True)
class Entity:
    key: str
    model: type[models.Model]
    label: Any
    label_plural: Any
    url_name: str
    restore: Callable[..., Any] | None = None
    search_fields: tuple[str, ...] = field(default_factory=tuple)
    # The list filters as a Q, e.g. for sharing rules: filter_q({"country": "AT"}).
    filter_q: Callable[[dict[str, Any]], Any] | None = None
    # The filters a sharing rule may use, as (name, label) pairs.
    rule_filters: tuple[tuple[str, Any], ...] = ()
    # Called with the ids of records whose shares changed (by hand or by a rule), for what the
    # entity keeps per share.
    shares_changed: Callable[[list[int]], None] | None = None
    # Where the entity can be reached, for the security test suite (which attacks every
    # registered entity on every path): pages with "{id}", and the API collection.
    ui_paths: tuple[str, ...] = ()
    api_path: str = ""


_registry: dict[str, Entity] = {}


def register(entity: Entity) -> Entity:
    _registry[entity.key] = entity
    return entity


def get(key: str) -> Entity:
    return _registry[key]


def all_entities() -> list[Entity]:
    return list(_registry.values())


def key_for(model_or_obj: Any) -> str:
    model = model_or_obj if isinstance(model_or_obj, type) else type(model_or_obj)
    for entity in _registry.values():
        if entity.model is model:
            return entity.key
    raise KeyError(model)


def registered_keys() -> list[str]:
    return list(_registry)
