"""A JSON client for /api/v1 with a user's bearer token, and the check of the error JSON
every refusal answers with."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client

from farley.core.services import token_create


class Api:
    """A test client that talks JSON to /api/v1 with a bearer token of ``user``."""

    def __init__(self, user, **scopes: str):
        key = token_create(user=user, scopes=scopes or None)[1]
        self.client = Client(HTTP_AUTHORIZATION=f"Bearer {key}", SERVER_NAME="127.0.0.1")

    def get(self, path: str, data: Any = None, **extra: Any):
        return self.client.get("/api/v1" + path, data, **extra)

    def _send(self, method: str, path: str, data: Any, **extra: Any):
        body = json.dumps(data) if data is not None else ""
        return getattr(self.client, method)(
            "/api/v1" + path, body, content_type="application/json", **extra
        )

    def post(self, path: str, data: Any = None, **extra: Any):
        return self._send("post", path, data, **extra)

    def patch(self, path: str, data: Any = None, **extra: Any):
        return self._send("patch", path, data, **extra)

    def delete(self, path: str, **extra: Any):
        return self.client.delete("/api/v1" + path, **extra)


def assert_error(response, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert {"code", "message", "fields"} <= set(body["error"])
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert isinstance(body["error"]["fields"], dict)
    if code:
        assert body["error"]["code"] == code
    return body["error"]
