"""Turn an HTML form post into the plain dict the services take (the API sends the same dict)."""

from __future__ import annotations

import re
from typing import Any

from django.http import QueryDict

ROW = re.compile(r"^(?P<group>[a-z_]+)-(?P<index>\d+)-(?P<field>[a-z_]+)$")


def rows(post: QueryDict, group: str, required: str) -> list[dict[str, str]]:
    """``emails-0-address`` style inputs as a list of dicts, skipping rows left empty."""
    found: dict[int, dict[str, str]] = {}
    for key in post:
        match = ROW.match(key)
        if match and match["group"] == group:
            found.setdefault(int(match["index"]), {})[match["field"]] = post.get(key, "")
    result = []
    for _index, row in sorted(found.items()):
        if any(value.strip() for name, value in row.items() if name in required.split(",")):
            result.append(row)
    return result


def custom_values(post: QueryDict, definitions) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for definition in definitions:
        name = f"cf_{definition.key}"
        if definition.field_type == "multi_choice":
            values[definition.key] = post.getlist(name)
        elif definition.field_type == "boolean":
            values[definition.key] = name in post
        else:
            values[definition.key] = post.get(name, "")
    return values


def simple(post: QueryDict, names: list[str]) -> dict[str, Any]:
    return {name: post.get(name, "") for name in names if name in post}
