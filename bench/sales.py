"""Sales benchmark (issue "Sales automation"): with 100,000 opportunities and 300,000 quote
lines on SQLite, time the kanban board of a pipeline with 5,000 open deals, the forecast
page and the PDF of a 50-line quote through the real server. Prints a markdown table.

Run by ``make bench`` after bench/run.py, or alone: ``.venv/bin/python bench/sales.py``.
Only 127.0.0.1 is contacted."""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import (
    BENCH_VAR,
    BIN,
    HOST,
    ROOT,
    _farley,
    _login,
    _measure,
    _port_free,
    _remove_db,
    _stop,
    _wait_for_server,
)

TARGETS = [
    ("board", "kanban board, 5,000 open deals", 200),
    ("forecast", "forecast page", 300),
    ("forecast_api", "forecast (API)", 300),
    ("pdf", "quote PDF, 50 lines", 1000),
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--requests", type=int, default=60)
    args = parser.parse_args(argv)
    BENCH_VAR.mkdir(parents=True, exist_ok=True)
    db_path = BENCH_VAR / "sales.sqlite3"
    _remove_db(db_path)
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{db_path}", "FARLEY_VAR_DIR": str(BENCH_VAR),
           "DJANGO_SETTINGS_MODULE": "farley.settings", "PYTHONDONTWRITEBYTECODE": "1"}  # fmt: skip
    print(f"\n== sales: migrating and seeding {db_path.relative_to(ROOT)}", flush=True)
    _farley(env, "migrate")
    email, password = "bench@farley.local", secrets.token_urlsafe(16)
    _farley(env, "createuser", "--email", email, "--password", password, "--role", "administrator",
            "--name", "Bench Administrator")  # fmt: skip
    token = _farley(env, "createtoken", email, "--name", "bench").splitlines()[-1].strip()
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "sales_seed.py")], env={**env, "BENCH_ADMIN_EMAIL": email},
        cwd=ROOT, capture_output=True, text=True, timeout=3600, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"seeding failed:\n{done.stderr[-4000:]}")
    seed = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"   seeded in {seed['seed_s']:.1f} s: {seed['counts']}", flush=True)
    if not _port_free(args.port):
        raise RuntimeError(f"port {args.port} on {HOST} is in use; pass --port")
    base = f"http://{HOST}:{args.port}"
    log_path = BENCH_VAR / "server-sales.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [str(BIN / "farley"), "serve", "--host", HOST, "--port", str(args.port)],
            env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        if not _wait_for_server(proc, base):
            raise RuntimeError(f"the server did not start; see {log_path}")
        opener, problem = _login(base, email, password)
        if opener is None:
            raise RuntimeError(problem)
        api = {"Authorization": f"Bearer {token}"}
        from run import _opener

        n = args.requests
        measures = {
            "board": _measure("board", opener, [f"{base}/opportunities/board/{seed['board_pipeline']}/"], None, n),
            "forecast": _measure("forecast", opener, [f"{base}/forecast/"], None, n),
            "forecast_api": _measure("forecast_api", _opener(), [f"{base}/api/v1/forecast"], api, n),
            "pdf": _measure("pdf", opener, [f"{base}/quotes/{seed['pdf_quote']}/pdf/"], None, max(10, n // 3)),
        }  # fmt: skip
    finally:
        _stop(proc)
    print(
        "\n| measure | p50 | p95 | target | result | note |\n| --- | ---: | ---: | --- | --- | --- |"
    )
    failed = False
    for key, label, limit in TARGETS:
        m = measures[key]
        if m.p95 is None:
            print(f"| {label} | – | – | p95 ≤ {limit} ms | fail | {m.note} |")
            failed = True
            continue
        ok = m.p95 <= limit and not m.failed
        failed |= not ok
        print(f"| {label} | {m.p50:.1f} ms | {m.p95:.1f} ms | p95 ≤ {limit} ms | "
              f"{'pass' if ok else 'fail'} | {m.note} |")  # fmt: skip
    counts = ", ".join(f"{k}: {v:,}" for k, v in seed["counts"].items())
    print(f"\nData: {counts} (SQLite, {db_path.stat().st_size / 2**20:,.0f} MB)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
