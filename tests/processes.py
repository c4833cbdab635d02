"""Farley's own command line and server in child processes, on a database of their own:
for tests of what only a real process shows (restarts, background jobs, files on disk)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


def environment(var_dir: Path) -> dict[str, str]:
    """The environment of a Farley process with its SQLite database and files in ``var_dir``,
    jobs run by the server itself."""
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{var_dir / 'farley.sqlite3'}",
        "FARLEY_VAR_DIR": str(var_dir),
        "FARLEY_CELERY_BROKER": "",
        "DJANGO_SETTINGS_MODULE": "farley.settings",
    }
    env.pop("FARLEY_TEST_REDIS", None)
    return env


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def farley(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "farley.cli", *args], env=env, capture_output=True, text=True,
        timeout=120, check=True,
    )  # fmt: skip
    return done.stdout


def call(url: str, token: str, body: dict | None = None) -> dict:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST" if body is not None else "GET",
    )  # fmt: skip
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def serve(env: dict[str, str], port: int) -> subprocess.Popen:
    server = subprocess.Popen(
        [sys.executable, "-m", "farley.cli", "serve", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise AssertionError("the server did not start")


def database_with_user(env: dict[str, str], email: str, role: str) -> str:
    """Migrate the database of ``env``, create a user with ``role`` and return their API token."""
    farley(env, "migrate")
    farley(env, "createuser", "--email", email, "--password", "Correct-Horse-Battery-9",
           "--role", role)  # fmt: skip
    return farley(env, "createtoken", email).strip()
