"""Farley benchmark: seed N contacts fast, serve them, measure the pages and the API.

Run ``make bench`` (or ``.venv/bin/python bench/run.py --sizes 10000``). For each size it

1. creates a fresh SQLite database under ``var/bench/`` and migrates it (in a child process,
   so every size has its own ``DATABASE_URL``),
2. seeds it with bulk inserts on a raw ``sqlite3`` connection (not the services): contacts,
   accounts, emails, phones, addresses, contact-account links, five timeline entries per
   contact and the search index (``core_searchdocument`` + ``core_search_fts``),
3. starts the real server (``farley serve``), creates a user and an API token with the
   ``farley`` command, logs in for the HTML pages and times the requests,
4. prints a markdown table with p50/p95 per measure, the target and pass/fail.

Only 127.0.0.1 is ever contacted. See bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.cookiejar
import json
import math
import os
import random
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH_VAR = ROOT / "var" / "bench"
RESULTS = ROOT / "bench" / "results"
BIN = ROOT / ".venv" / "bin"
HOST = "127.0.0.1"

# Targets: (measure key, label, target text, limit, unit, lower is better)
TARGETS = [
    ("seed", "seed rate", "≥ 20,000 contacts/s", 20_000, "contacts/s", False),
    ("api_list", "API contact list", "p95 ≤ 50 ms", 50, "ms", True),
    ("list_page", "contact list page", "p95 ≤ 150 ms", 150, "ms", True),
    ("search", "global search (API)", "p95 ≤ 100 ms", 100, "ms", True),
    ("search_typo", "global search, typo (API)", "p95 ≤ 100 ms", 100, "ms", True),
    ("contact_360", "contact 360 page", "p95 ≤ 150 ms", 150, "ms", True),
    ("rss", "server RSS", "≤ 300 MB", 300, "MB", True),
]
# Record-level permissions: the same requests as a sales user of one of the 200 teams (sees
# own, team and shared records), timed interleaved with the administrator's.
COMPARED = [
    ("api_list", "API contact list"),
    ("list_page", "contact list page"),
    ("search", "global search (API)"),
    ("search_typo", "global search, typo (API)"),
    ("contact_360", "contact 360 page"),
]
MAX_OVERHEAD = 0.20  # the sales user's p50 and p95 may be at most 20 % over the administrator's


@dataclass
class Measure:
    """One row of the result table: latencies (ms) or a single value, and a note."""

    key: str
    p50: float | None = None
    p95: float | None = None
    value: float | None = None
    note: str = ""
    statuses: dict[int, int] = field(default_factory=dict)
    failed: int = 0


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Report a redirect (e.g. to the login page) as its status instead of following it."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _opener(jar: http.cookiejar.CookieJar | None = None) -> urllib.request.OpenerDirector:
    # ProxyHandler({}): an http_proxy in the environment is never used for 127.0.0.1.
    handlers: list[Any] = [urllib.request.ProxyHandler({}), _NoRedirect()]
    if jar is not None:
        handlers.append(urllib.request.HTTPCookieProcessor(jar))
    return urllib.request.build_opener(*handlers)


def _request(
    opener: urllib.request.OpenerDirector,
    url: str,
    headers: dict[str, str] | None = None,
    data: bytes | None = None,
    timeout: float = 60,
) -> tuple[int, bytes, float]:
    """(status, body, milliseconds) of one request to 127.0.0.1."""
    if urllib.parse.urlsplit(url).hostname != HOST:
        raise ValueError(f"refusing to contact {url}")
    req = urllib.request.Request(url, data=data, headers=headers or {})
    t = time.perf_counter()
    try:
        with opener.open(req, timeout=timeout) as resp:
            body = resp.read()
            status = resp.status
    except urllib.error.HTTPError as exc:
        body = exc.read()
        status = exc.code
    return status, body, (time.perf_counter() - t) * 1000


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def _describe(body: bytes) -> str:
    """A short note on a response: the number of items of a JSON list, else its size."""
    try:
        data = json.loads(body)
    except ValueError:
        return f"{len(body) / 1024:.0f} kB"
    if isinstance(data, dict) and isinstance(data.get("items"), list):
        return f"{len(data['items'])} items"
    return f"{len(body) / 1024:.0f} kB"


WARMUP = 5  # requests before the timed ones, per measure


def _measure(
    key: str,
    opener: urllib.request.OpenerDirector,
    urls: list[str],
    headers: dict[str, str] | None,
    n: int,
) -> Measure:
    """Time ``n`` GETs, cycling through ``urls``, after a few warm-up requests."""
    result = Measure(key)
    try:
        status, body, _ms = _request(opener, urls[0], headers)
    except OSError as exc:  # URLError, timeouts, refused connections
        result.note = f"n/a ({exc.__class__.__name__})"
        return result
    if status != 200:
        result.note = f"n/a ({status})"
        return result
    first = _describe(body)
    # The same number of warm-up requests for one URL as for many: the server's first
    # requests load code and caches, which is not what is measured.
    for i in range(1, WARMUP):
        _request(opener, urls[i % len(urls)], headers)
    times = []
    for i in range(n):
        status, _body, ms = _request(opener, urls[i % len(urls)], headers)
        result.statuses[status] = result.statuses.get(status, 0) + 1
        times.append(ms)
    bad = n - result.statuses.get(200, 0)
    result.note = first + (f"; {bad} of {n} not 200: {result.statuses}" if bad else "")
    result.p50 = _percentile(times, 0.50)
    result.p95 = _percentile(times, 0.95)
    result.failed = bad
    return result


@dataclass
class Client:
    """Who makes a request: an opener (with the session cookie) and headers (the token)."""

    opener: urllib.request.OpenerDirector | None
    headers: dict[str, str] | None = None
    problem: str = ""


def _measure_pair(
    key: str, admin: Client, restricted: Client, urls: list[str], n: int
) -> tuple[Measure, Measure]:
    """Time ``n`` GETs of ``urls`` as the administrator and as the restricted user, the two
    interleaved (request i of each back to back, in alternating order), so that the machine's
    other load hits both alike."""
    results = (Measure(key), Measure(f"sales:{key}"))
    clients = (admin, restricted)
    firsts = ["", ""]
    for k, (client, result) in enumerate(zip(clients, results, strict=True)):
        if client.opener is None:
            result.note = f"n/a ({client.problem})"
            continue
        try:
            status, body, _ms = _request(client.opener, urls[0], client.headers)
        except OSError as exc:  # URLError, timeouts, refused connections
            result.note = f"n/a ({exc.__class__.__name__})"
            continue
        if status != 200:
            result.note = f"n/a ({status})"
            continue
        firsts[k] = _describe(body)
        for url in urls[1:4]:
            _request(client.opener, url, client.headers)
    active = [k for k in (0, 1) if firsts[k]]
    times: list[list[float]] = [[], []]
    for i in range(n):
        url = urls[i % len(urls)]
        for k in active if i % 2 == 0 else active[::-1]:
            status, _body, ms = _request(clients[k].opener, url, clients[k].headers)
            results[k].statuses[status] = results[k].statuses.get(status, 0) + 1
            times[k].append(ms)
    for k in active:
        result = results[k]
        bad = n - result.statuses.get(200, 0)
        result.note = firsts[k] + (f"; {bad} of {n} not 200: {result.statuses}" if bad else "")
        result.p50 = _percentile(times[k], 0.50)
        result.p95 = _percentile(times[k], 0.95)
        result.failed = bad
    return results


def _login(
    base: str, email: str, password: str
) -> tuple[urllib.request.OpenerDirector | None, str]:
    """A cookie session logged in through the login form, or None and why not."""
    jar = http.cookiejar.CookieJar()
    opener = _opener(jar)
    try:
        status, body, _ms = _request(opener, base + "/login/")
    except OSError as exc:
        return None, f"login page: {exc.__class__.__name__}"
    if status != 200:
        return None, f"login page {status}"
    match = re.search(rb'name="csrfmiddlewaretoken"\s+value="([^"]+)"', body)
    token = (
        match.group(1).decode()
        if match
        else next((c.value for c in jar if c.name == "csrftoken"), "")
    )
    form = urllib.parse.urlencode(
        {"username": email, "password": password, "csrfmiddlewaretoken": token}
    )
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Referer": base + "/login/",
        "X-CSRFToken": token,
    }
    status, _body, _ms = _request(opener, base + "/login/", headers, form.encode())
    if not any(c.name == "sessionid" for c in jar):
        return None, f"login failed ({status})"
    return opener, ""


def _wait_for_server(proc: subprocess.Popen, base: str, timeout: float = 180) -> bool:
    deadline = time.monotonic() + timeout
    opener = _opener()
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            _request(opener, base + "/login/", timeout=5)
            return True
        except OSError:
            time.sleep(0.3)
    return False


def _memory_mb(pid: int) -> dict[str, float]:
    """VmRSS, VmHWM, RssAnon and RssFile (pages of mapped files: the database, through
    SQLite's mmap) of a process in MB."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return {}
    values = {}
    for line in status.splitlines():
        name, _sep, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
            values[name] = int(rest.split()[0]) / 1024
    return values


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex((HOST, port)) != 0


def _free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _farley(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [str(BIN / "farley"), *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"farley {args[0]} failed: {done.stderr.strip() or done.stdout.strip()}")
    return done.stdout.strip()


def _remove_db(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", ".fts"):
        Path(str(path) + suffix).unlink(missing_ok=True)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=20)


def _typo(word: str) -> str:
    """The word with two letters in its middle swapped ("Schmidt" -> "Schimdt")."""
    i = len(word) // 2
    return word[: i - 1] + word[i] + word[i - 1] + word[i + 1 :] if len(word) >= 4 else word


def run_size(size: int, args: argparse.Namespace) -> dict[str, Any]:
    """Seed one database of ``size`` contacts, serve it and time the requests."""
    BENCH_VAR.mkdir(parents=True, exist_ok=True)
    db_path = BENCH_VAR / f"bench-{size}.sqlite3"
    seed_path = db_path.with_suffix(".json")  # what the seed printed, for --reuse
    reuse = args.reuse and db_path.exists() and seed_path.exists()
    if not reuse:
        _remove_db(db_path)
        seed_path.unlink(missing_ok=True)
    env = dict(os.environ)
    env.update({
        "DATABASE_URL": f"sqlite:///{db_path}",
        "FARLEY_VAR_DIR": str(BENCH_VAR),
        "DJANGO_SETTINGS_MODULE": "farley.settings",
        "PYTHONDONTWRITEBYTECODE": "1",
    })  # fmt: skip
    env.pop("DEBUG", None)
    sales_password = secrets.token_urlsafe(16)

    if reuse:
        print(
            f"\n== {size:,} contacts: reusing {db_path.relative_to(ROOT)} (migrating)", flush=True
        )
        _farley(env, "migrate")
        seed = json.loads(seed_path.read_text())
        sales_password = seed["sales"]["password"]
    else:
        print(
            f"\n== {size:,} contacts: migrating and seeding {db_path.relative_to(ROOT)}", flush=True
        )
        done = subprocess.run(
            [sys.executable, str(ROOT / "bench" / "seed.py"), "--size", str(size), "--db", str(db_path)],
            env={**env, "BENCH_SALES_PASSWORD": sales_password}, cwd=ROOT, capture_output=True,
            text=True, timeout=3600, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"seeding failed:\n{done.stderr[-4000:]}")
        seed = json.loads(done.stdout.strip().splitlines()[-1])
        if args.keep:
            seed["sales"]["password"] = sales_password
            seed_path.touch(mode=0o600)
            seed_path.write_text(json.dumps(seed))
    rate = size / seed["seed_s"]
    phases = ", ".join(f"{k} {v:.1f}" for k, v in seed["phases"].items())
    print(
        f"   seeded in {seed['seed_s']:.1f} s = {rate:,.0f} contacts/s (migrate {seed['migrate_s']:.1f} s; "
        f"seconds per phase: {phases}); {seed['db_bytes'] / 2**20:,.0f} MB\n   rows: {seed['counts']}",
        flush=True,
    )
    sales = seed["sales"]
    print(
        f"   restricted user {sales['email']} (role sales, team {sales['team']}, 1 of "
        f"{seed['counts']['teams']}) sees {sales['visible']:,} of {size:,} contacts",
        flush=True,
    )
    measures = {
        "seed": Measure("seed", value=rate, note="seeded by an earlier run" if reuse else "")
    }

    email = f"bench-{secrets.token_hex(4)}@farley.local" if reuse else "bench@farley.local"
    password = secrets.token_urlsafe(16)
    _farley(env, "createuser", "--email", email, "--password", password, "--role", "administrator",
            "--name", "Bench Administrator")  # fmt: skip
    token = _farley(env, "createtoken", email, "--name", "bench").splitlines()[-1].strip()
    sales_token = _farley(env, "createtoken", sales["email"], "--name", "bench")
    sales_token = sales_token.splitlines()[-1].strip()

    port = args.port if _port_free(args.port) else _free_port()
    if port != args.port:
        print(f"   port {args.port} is in use; serving on {port}", flush=True)
    base = f"http://{HOST}:{port}"
    log_path = BENCH_VAR / f"server-{size}.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [str(BIN / "farley"), "serve", "--host", HOST, "--port", str(port)],
            env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        if not _wait_for_server(proc, base):
            raise RuntimeError(f"the server did not start; see {log_path}")
        print(
            f"   server pid {proc.pid} at {base}; {args.requests} requests per measure", flush=True
        )
        n = args.requests
        surnames = seed["surnames"] or ["Müller"]
        searches = [base + "/api/v1/search?q=" + urllib.parse.quote(s) for s in surnames]
        typos = [base + "/api/v1/search?q=" + urllib.parse.quote(_typo(s)) for s in surnames]
        # 360 pages of contacts the restricted user sees (own, team's or shared), the same
        # for both users.
        pages = [f"{base}/contacts/{i}/" for i in sales["ids"]]
        accept = {"Accept": "application/json"}
        api = Client(_opener(), {**accept, "Authorization": f"Bearer {token}"})
        sales_api = Client(_opener(), {**accept, "Authorization": f"Bearer {sales_token}"})
        session, problem = _login(base, email, password)
        sales_session, sales_problem = _login(base, sales["email"], sales_password)
        html = Client(session, problem=problem)
        sales_html = Client(sales_session, problem=sales_problem)
        rng = random.Random(size)
        requests = [
            ("api_list", api, sales_api, [base + "/api/v1/contacts?limit=50&postal_code=10"]),
            ("list_page", html, sales_html, [base + "/contacts/?postal_code=10"]),
            ("search", api, sales_api, searches),
            ("search_typo", api, sales_api, typos),
            ("contact_360", html, sales_html, pages),
        ]
        # The administrator alone first, as these rows were always measured (360 pages of
        # random contacts) ...
        for key, admin, _restricted, urls in requests:
            if key == "contact_360":
                urls = [f"{base}/contacts/{rng.randint(1, size)}/" for _ in range(n)]
            if admin.opener is None:
                measures[key] = Measure(key, note=f"n/a ({admin.problem})")
            else:
                measures[key] = _measure(key, admin.opener, urls, admin.headers, n)
        # ... then both users on the same requests, interleaved, for the overhead rows.
        for key, admin, restricted, urls in requests:
            measures[f"pair:{key}"], measures[f"sales:{key}"] = _measure_pair(
                key, admin, restricted, urls, n
            )
        memory = _memory_mb(proc.pid)
        note = ", ".join(
            f"{label} {memory[key]:.0f} MB"
            for key, label in (("VmHWM", "peak"), ("RssAnon", "heap"), ("RssFile", "mapped files"))
            if key in memory
        )
        measures["rss"] = Measure("rss", value=memory.get("VmRSS"), note=note)
    finally:
        _stop(proc)
    if not args.keep and not args.reuse:
        _remove_db(db_path)
    return {"size": size, "seed": seed, "measures": measures}


MAX_GROWTH = 2.0  # a latency's p95 at the largest size may be at most 2x its p95 at the smallest


def _verdict(key: str, m: Measure, smallest: Measure | None = None) -> tuple[str, str, str, str]:
    """(p50 or value, p95, growth against the smallest size, pass/FAIL/n/a) of one measure."""
    _key, _label, _target, limit, unit, lower = next(t for t in TARGETS if t[0] == key)
    if m.value is not None:
        ok = m.value <= limit if lower else m.value >= limit
        return f"{m.value:,.0f} {unit}", "", "", "pass" if ok else "FAIL"
    if m.p95 is None:
        return m.note or "n/a", "", "", "n/a"
    ok = m.p95 <= limit and not m.failed
    growth = ""
    if smallest is not None and smallest is not m and smallest.p95:
        ratio = m.p95 / smallest.p95
        growth = f"{ratio:.1f}x"
        ok = ok and ratio <= MAX_GROWTH
    return f"{m.p50:.1f} ms", f"{m.p95:.1f} ms", growth, "pass" if ok else "FAIL"


def _overhead(admin: Measure | None, sales: Measure | None) -> tuple[str, str, str, str]:
    """(p50, p95 each with its overhead over the administrator's, pass/FAIL/n/a, note) of the
    restricted user's measure."""
    if sales is None or sales.p95 is None or admin is None or admin.p95 is None:
        note = (sales.note if sales else "") or (admin.note if admin else "") or "n/a"
        return note, "", "n/a", ""
    p50 = sales.p50 / admin.p50 - 1
    p95 = sales.p95 / admin.p95 - 1
    ok = max(p50, p95) <= MAX_OVERHEAD and not sales.failed
    note = f"administrator {admin.p50:.1f} / {admin.p95:.1f} ms; {sales.note}"
    return (
        f"{sales.p50:.1f} ms ({p50:+.0%})",
        f"{sales.p95:.1f} ms ({p95:+.0%})",
        "pass" if ok else "FAIL",
        note,
    )


def table(results: list[dict[str, Any]]) -> str:
    """The markdown result table: one row per size and measure."""
    lines = [
        "| contacts | measure | p50 / value | p95 | growth | target | result | note |",
        "| ---: | --- | ---: | ---: | ---: | --- | --- | --- |",
    ]
    smallest = min(results, key=lambda r: r["size"])["measures"] if results else {}
    for result in results:
        for key, label, target, *_rest in TARGETS:
            m = result["measures"].get(key)
            if m is None:
                continue
            first, p95, growth, verdict = _verdict(key, m, smallest.get(key))
            note = "" if verdict == "n/a" else m.note
            if m.p95 is not None:
                target += f", ≤ {MAX_GROWTH:.0f}x smallest"
            lines.append(
                f"| {result['size']:,} | {label} | {first} | {p95} | {growth} | {target} | {verdict} | {note} |"
            )
        for key, label in COMPARED:
            if f"sales:{key}" not in result["measures"]:
                continue
            first, p95, verdict, note = _overhead(
                result["measures"].get(f"pair:{key}"), result["measures"][f"sales:{key}"]
            )
            target = f"p50 and p95 ≤ {MAX_OVERHEAD:.0%} over administrator"
            lines.append(
                f"| {result['size']:,} | {label}, sales user | {first} | {p95} |  | {target} | {verdict} | {note} |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; exit status 1 if a measure failed its target."""
    parser = argparse.ArgumentParser(description="Farley benchmark (see bench/README.md)")
    parser.add_argument(
        "--sizes", help='contacts per run, comma-separated (default "10000,1000000")'
    )
    parser.add_argument(
        "--quick", action="store_true", help="20 requests per measure; default size 10000"
    )
    parser.add_argument("--requests", type=int, help="requests per measure (default 100)")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--keep", action="store_true", help="keep the databases under var/bench/")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="measure again on a database kept by --keep (migrated, not seeded again); keeps it",
    )
    args = parser.parse_args(argv)

    sizes_text = args.sizes or ("10000" if args.quick else "10000,1000000")
    try:
        sizes = [int(s.strip().replace("_", "")) for s in sizes_text.split(",") if s.strip()]
    except ValueError:
        parser.error("--sizes takes numbers such as 10000,1000000")
    if not sizes or any(s < 10 or s > 20_000_000 for s in sizes):
        parser.error("each size must be between 10 and 20,000,000")
    args.requests = max(5, min(10_000, args.requests or (20 if args.quick else 100)))
    if not (BIN / "farley").exists():
        parser.error(f"{BIN / 'farley'} is missing; run make install")

    results = [run_size(size, args) for size in sizes]
    output = table(results)
    print("\n" + output)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    report = RESULTS / f"bench-{stamp}.md"
    report.write_text(
        f"# Farley benchmark {stamp}\n\nRequests per measure: {args.requests}.\n\n{output}\n"
    )
    print(f"\n(also written to {report.relative_to(ROOT)})")
    failed = "| FAIL |" in output
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
