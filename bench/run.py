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
    ("contact_360", "contact 360 page", "p95 ≤ 150 ms", 150, "ms", True),
    ("rss", "server RSS", "≤ 300 MB", 300, "MB", True),
]


# =============================================================================================
# Seeding (runs in a child process: ``run.py --seed-worker --size N --db PATH``)
# =============================================================================================

DE_CITIES = [
    (
        "Berlin",
        "Berlin",
        "30",
        [
            "10115",
            "10117",
            "10178",
            "10243",
            "10405",
            "10435",
            "10551",
            "10623",
            "10785",
            "10969",
            "12043",
            "13353",
            "14057",
        ],
    ),
    ("Hamburg", "Hamburg", "40", ["20095", "20148", "20354", "20457", "22041", "22303", "22765"]),
    ("München", "Bayern", "89", ["80331", "80333", "80335", "80469", "80538", "80636", "81369"]),
    ("Köln", "Nordrhein-Westfalen", "221", ["50667", "50672", "50674", "50733", "50823"]),
    ("Frankfurt am Main", "Hessen", "69", ["60311", "60313", "60325", "60486", "60594"]),
    ("Stuttgart", "Baden-Württemberg", "711", ["70173", "70176", "70182", "70190", "70469"]),
    ("Düsseldorf", "Nordrhein-Westfalen", "211", ["40210", "40212", "40213", "40474"]),
    ("Leipzig", "Sachsen", "341", ["04103", "04109", "04177", "04275", "04315"]),
    ("Dresden", "Sachsen", "351", ["01067", "01069", "01097", "01099", "01307"]),
    ("Hannover", "Niedersachsen", "511", ["30159", "30161", "30169", "30173"]),
    ("Nürnberg", "Bayern", "911", ["90402", "90403", "90408", "90429"]),
    ("Bremen", "Bremen", "421", ["28195", "28199", "28203", "28209"]),
    ("Essen", "Nordrhein-Westfalen", "201", ["45127", "45128", "45131", "45138"]),
    ("Dortmund", "Nordrhein-Westfalen", "231", ["44135", "44137", "44139", "44147"]),
    ("Bonn", "Nordrhein-Westfalen", "228", ["53111", "53113", "53115", "53175"]),
    ("Münster", "Nordrhein-Westfalen", "251", ["48143", "48145", "48149", "48153"]),
    ("Karlsruhe", "Baden-Württemberg", "721", ["76131", "76133", "76135", "76137"]),
    ("Mannheim", "Baden-Württemberg", "621", ["68159", "68161", "68163", "68165"]),
    ("Augsburg", "Bayern", "821", ["86150", "86152", "86153", "86159"]),
    ("Freiburg im Breisgau", "Baden-Württemberg", "761", ["79098", "79100", "79102"]),
    ("Kiel", "Schleswig-Holstein", "431", ["24103", "24105", "24106", "24114"]),
    ("Rostock", "Mecklenburg-Vorpommern", "381", ["18055", "18057", "18059", "18069"]),
    ("Erfurt", "Thüringen", "361", ["99084", "99085", "99089", "99096"]),
    ("Mainz", "Rheinland-Pfalz", "6131", ["55116", "55118", "55122", "55131"]),
]
CITY_WEIGHTS = [10, 6, 7, 4, 4, 4, 3] + [1] * (len(DE_CITIES) - 7)
STREETS = [
    "Hauptstraße",
    "Bahnhofstraße",
    "Gartenstraße",
    "Schillerstraße",
    "Goethestraße",
    "Lindenstraße",
    "Industriestraße",
    "Friedrichstraße",
    "Berliner Straße",
    "Kirchstraße",
    "Mozartstraße",
    "Ringstraße",
    "Am Markt",
    "Poststraße",
    "Schulstraße",
    "Waldstraße",
    "Kaiserstraße",
    "Hafenstraße",
    "Königsallee",
    "Wilhelmstraße",
]
INDUSTRIES = [
    ("62.01", "Programmierungstätigkeiten", "Software"),
    ("70.22", "Unternehmensberatung", "Consulting"),
    ("46.90", "Großhandel ohne ausgeprägten Schwerpunkt", "Handel"),
    ("49.41", "Güterbeförderung im Straßenverkehr", "Spedition"),
    ("52.10", "Lagerei", "Logistik"),
    ("71.12", "Ingenieurbüros", "Ingenieure"),
    ("41.20", "Bau von Gebäuden", "Bau"),
    ("43.21", "Elektroinstallation", "Elektrotechnik"),
    ("28.22", "Herstellung von Hebezeugen und Fördermitteln", "Fördertechnik"),
    ("65.12", "Nichtlebensversicherungen", "Versicherung"),
]
LEGAL_FORMS = ["GmbH", "GmbH", "GmbH", "AG", "KG", "GmbH & Co. KG"]
STATUSES = [
    "customer",
    "customer",
    "customer",
    "prospect",
    "prospect",
    "former_customer",
    "partner",
]
JOBS = [
    ("Geschäftsführer", "Geschäftsleitung"),
    ("Einkaufsleiterin", "Einkauf"),
    ("Vertriebsleiter", "Vertrieb"),
    ("IT-Leiterin", "IT"),
    ("Buchhaltung", "Finanzen"),
    ("Projektingenieur", "Technik"),
    ("Key Account Manager", "Vertrieb"),
    ("Sachbearbeiterin Einkauf", "Einkauf"),
    ("Marketingleiterin", "Marketing"),
]
ROLES = ["Geschäftsführung", "Einkauf", "Vertrieb", "IT-Leitung", "Buchhaltung", "Entscheider"]
TIMELINE = [
    ("note", "", "Budget freigegeben", "Budget für das nächste Quartal ist freigegeben."),
    ("note", "", "Wettbewerber im Gespräch", "Holt auch ein Angebot beim Wettbewerb ein."),
    (
        "call",
        "out",
        "Telefonat zum Wartungsvertrag",
        "Fragen zum Leistungsumfang; Rückruf vereinbart.",
    ),
    ("call", "in", "Rückruf wegen Angebot", "Angebot besprochen, Entscheidung in 30 Tagen."),
    ("call", "in", "Reklamation", "Lieferung unvollständig; Ersatz zugesagt."),
    ("email", "out", "Angebot Rahmenvertrag", "Anbei unser Angebot über 12.500 EUR netto."),
    ("email", "in", "AW: Liefertermin", "Der Liefertermin verschiebt sich um eine Woche."),
    ("email", "out", "Unterlagen zur Schulung", "Wie besprochen die Unterlagen zur Schulung."),
    ("meeting", "", "Vor-Ort-Termin", "Anforderungen aufgenommen; nächster Schritt: Angebot."),
    ("meeting", "", "Jahresgespräch", "Rückblick auf das Jahr und Planung für das nächste."),
    ("letter", "out", "Vertragsunterlagen", "Vertrag in zweifacher Ausfertigung versandt."),
    ("sms", "out", "Terminerinnerung", "Erinnerung an den Termin morgen um 10 Uhr."),
]
BATCH = 50_000
TIMELINE_PER_CONTACT = 5
OWNERS = 12


class _Table:
    """Rows for one model: the varying columns come per row, every other column gets its
    model default once (so columns that others add later do not break the seeding)."""

    def __init__(self, model: Any, varying: list[str]):
        from django.db import connection

        self.table = model._meta.db_table
        by_name = {f.attname: f for f in model._meta.concrete_fields}
        missing = [name for name in varying if name not in by_name]
        if missing:
            raise RuntimeError(f"{self.table} has no columns {missing}")
        self.columns = [by_name[name].column for name in varying]
        self.const: list[Any] = []
        for f in model._meta.concrete_fields:
            if f.attname in varying or f.primary_key:
                continue
            if f.has_default():
                value = f.get_db_prep_save(f.get_default(), connection)
            elif f.null:
                value = None
            elif f.get_internal_type() in (
                "CharField",
                "TextField",
                "SlugField",
                "EmailField",
                "URLField",
            ):
                value = ""
            else:
                raise RuntimeError(f"{self.table}.{f.column} needs a value")
            self.columns.append(f.column)
            self.const.append(value)
        self.const_tuple = tuple(self.const)
        marks = ", ".join("?" * len(self.columns))
        self.insert = f'INSERT INTO "{self.table}" ({", ".join(self.columns)}) VALUES ({marks})'

    def rows(self, varying_rows: list[tuple]) -> list[tuple]:
        const = self.const_tuple
        return [row + const for row in varying_rows]

    def select_insert(self, exprs: list[str], tail: str) -> tuple[str, dict[str, Any]]:
        """``INSERT ... SELECT <exprs>, <constants> <tail>`` and the named constant parameters."""
        names = [f"const{i}" for i in range(len(self.const))]
        select = ", ".join([*exprs, *(f":{n}" for n in names)])
        sql = f'INSERT INTO "{self.table}" ({", ".join(self.columns)}) SELECT {select} {tail}'
        return sql, dict(zip(names, self.const, strict=True))


def _slug(text: str) -> str:
    table = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", " ": "-", "&": "", ".": ""})
    text = text.lower().translate(table)
    return re.sub(r"[^a-z0-9-]+", "", re.sub(r"-+", "-", text)).strip("-")


def _name_pools(rng: random.Random) -> tuple[list[tuple[str, str]], list[str]]:
    from faker.providers.person.de_DE import Provider as German
    from faker.providers.person.en_GB import Provider as British

    first = [(n, "mr") for n in German.first_names_male] + [
        (n, "ms") for n in German.first_names_female
    ]
    first += [(n, "mr") for n in British.first_names_male][:100] + [
        (n, "ms") for n in British.first_names_female
    ][:100]
    last = list(German.last_names) + list(British.last_names)[:120]
    rng.shuffle(first)
    return first, last


def seed_worker(size: int, db_path: Path) -> dict[str, Any]:
    """Migrate the database DATABASE_URL points to and fill it; returns timings and samples."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "farley.settings")
    import django

    django.setup()
    import sqlite3

    from django.core.management import call_command
    from django.db import connection

    from farley.contacts.models import (
        Account,
        Contact,
        ContactAccountLink,
        EmailAddress,
        PhoneNumber,
        PostalAddress,
        TimelineEntry,
    )
    from farley.core.models import Role, SearchDocument, Team, User
    from farley.core.search import FTS_TABLE, document_text

    t_migrate = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    migrate_s = time.perf_counter() - t_migrate

    # A few owners in three teams (ORM: a handful of rows), then raw sqlite3 for the bulk.
    sales = Role.objects.get(key="sales")
    teams = [
        Team.objects.get_or_create(name=name)[0]
        for name in ("Vertrieb Nord", "Vertrieb Süd", "Key Accounts")
    ]
    owners = []
    for i in range(OWNERS):
        user = User.objects.create_user(
            email=f"owner{i + 1}@bench.local", password=None, role=sales, full_name=f"Owner {i + 1}"
        )
        user.teams.add(teams[i % len(teams)])
        owners.append((user.pk, teams[i % len(teams)].pk))

    tables = {
        "account": _Table(
            Account,
            [
                "id",
                "name",
                "legal_form",
                "industry_code",
                "industry_label",
                "employees",
                "annual_revenue",
                "website",
                "customer_number",
                "status",
                "owner_id",
                "team_id",
                "primary_email",
                "primary_phone",
                "postal_code",
                "city",
                "country",
                "created_at",
                "updated_at",
            ],
        ),
        "contact": _Table(
            Contact,
            [
                "id",
                "salutation",
                "first_name",
                "last_name",
                "job_title",
                "department",
                "language",
                "primary_account_id",
                "primary_email",
                "primary_phone",
                "postal_code",
                "city",
                "country",
                "owner_id",
                "team_id",
                "created_at",
                "updated_at",
            ],
        ),
        "email": _Table(EmailAddress, ["account_id", "contact_id", "address", "kind", "position"]),
        "phone": _Table(PhoneNumber, ["account_id", "contact_id", "number", "kind", "position"]),
        "address": _Table(
            PostalAddress,
            [
                "account_id",
                "contact_id",
                "kind",
                "street",
                "house_number",
                "postal_code",
                "city",
                "region",
                "country",
                "position",
            ],
        ),
        "link": _Table(ContactAccountLink, ["contact_id", "account_id", "role", "position"]),
        "timeline": _Table(
            TimelineEntry,
            [
                "kind",
                "direction",
                "subject",
                "body",
                "occurred_at",
                "account_id",
                "contact_id",
                "author_id",
                "created_at",
                "updated_at",
            ],
        ),
        "search": _Table(
            SearchDocument,
            ["id", "entity", "object_id", "owner_id", "team_id", "title", "subtitle", "body"],
        ),
    }
    connection.close()

    phases: dict[str, float] = {}
    rng = random.Random(size)
    firsts, lasts = _name_pools(rng)
    started = time.perf_counter()
    n_accounts = max(1, size // 5)
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    now_s = now.isoformat(" ")

    # document_text() of each distinct part, computed once; bodies are the parts joined with
    # " | ", exactly what document_text(parts) returns (checked on a sample below).
    memo: dict[str, str] = {}

    def part(text: str) -> str:
        folded = memo.get(text)
        if folded is None:
            folded = memo[text] = document_text([text])
        return folded

    db = sqlite3.connect(db_path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")
    db.execute("PRAGMA cache_size=-1048576")
    db.execute("PRAGMA temp_store=MEMORY")
    db.execute("PRAGMA foreign_keys=OFF")

    def insert(table: _Table, rows: list[tuple]) -> None:
        t = time.perf_counter()
        db.executemany(table.insert, table.rows(rows))
        key = f"insert {table.table}"
        phases[key] = phases.get(key, 0.0) + time.perf_counter() - t

    def insert_fts(rows: list[tuple[int, str]]) -> None:
        t = time.perf_counter()
        db.executemany(f"INSERT INTO {FTS_TABLE}(rowid, body) VALUES (?, ?)", rows)
        phases["insert fts"] = phases.get("insert fts", 0.0) + time.perf_counter() - t

    # --- accounts ---------------------------------------------------------------------------
    t = time.perf_counter()
    cities = rng.choices(range(len(DE_CITIES)), weights=CITY_WEIGHTS, k=n_accounts)
    account_info: list[
        tuple[str, str, int, str, str, str]
    ] = []  # name, cn, city idx, plz, street, domain
    sample_docs: list[tuple[list[str], str]] = []
    db.execute("BEGIN")
    a_rows, a_emails, a_phones, a_addresses, a_search, a_fts = [], [], [], [], [], []
    for i in range(n_accounts):
        aid = i + 1
        city, region, area, codes = DE_CITIES[cities[i]]
        code, label, word = INDUSTRIES[i % len(INDUSTRIES)]
        legal = LEGAL_FORMS[i % len(LEGAL_FORMS)]
        base = f"{lasts[(i * 7) % len(lasts)]} {word}"
        name = f"{base} {legal}"
        cn = f"K{aid:06d}"
        plz = codes[i % len(codes)]
        street = STREETS[i % len(STREETS)]
        domain = f"{_slug(base)}-{aid}.example"
        email = f"info@{domain}"
        phone = f"+49{area}{rng.randrange(2_000_000, 9_999_999)}"
        owner_id, team_id = owners[i % OWNERS]
        employees = 5 + (i * 37) % 2000
        a_rows.append(
            (
                aid,
                name,
                legal,
                code,
                label,
                employees,
                f"{employees * 120_000}.00",
                f"https://www.{domain}",
                cn,
                STATUSES[i % len(STATUSES)],
                owner_id,
                team_id,
                email,
                phone,
                plz,
                city,
                "DE",
                now_s,
                now_s,
            )
        )
        a_emails.append((aid, None, email, "work", 0))
        a_phones.append((aid, None, phone, "work", 0))
        a_addresses.append(
            (aid, None, "business", street, str(1 + i % 150), plz, city, region, "DE", 0)
        )
        parts = [
            cn,
            city,
            plz,
            label,
            "",
            f"https://www.{domain}",
            email,
            phone,
            f"{city} {plz} {street}",
        ]
        subtitle = f"{cn} · {city}"
        body = " | ".join(part(p) for p in (name, subtitle, *parts) if p)
        if i < 200:
            sample_docs.append(([name, subtitle, *parts], body))
        a_search.append((aid, "account", aid, owner_id, team_id, name, subtitle, body))
        a_fts.append((aid, body))
        account_info.append((name, cn, cities[i], plz, street, domain))
    insert(tables["account"], a_rows)
    insert(tables["email"], a_emails)
    insert(tables["phone"], a_phones)
    insert(tables["address"], a_addresses)
    insert(tables["search"], a_search)
    insert_fts(a_fts)
    db.execute(
        "INSERT OR REPLACE INTO core_sequence(name, value) VALUES ('customer_number', ?)",
        [n_accounts],
    )
    db.execute("COMMIT")
    del a_rows, a_emails, a_phones, a_addresses, a_search, a_fts
    phases["accounts"] = time.perf_counter() - t

    # --- contacts ---------------------------------------------------------------------------
    t = time.perf_counter()
    slug_first = {f: _slug(f) for f, _s in firsts}
    slug_last = {n: _slug(n) for n in lasts}
    surnames: set[str] = set()
    search_offset = n_accounts
    gen_s = 0.0
    for start in range(0, size, BATCH):
        g = time.perf_counter()
        count = min(BATCH, size - start)
        first_pick = rng.choices(firsts, k=count)
        last_pick = rng.choices(lasts, k=count)
        account_pick = [rng.randrange(n_accounts) for _ in range(count)]
        job_pick = rng.choices(JOBS, k=count)
        randoms = [rng.random() for _ in range(count)]
        c_rows, emails, phones, addresses, links, search_rows, fts = [], [], [], [], [], [], []
        for j in range(count):
            cid = start + j + 1
            first, salutation = first_pick[j]
            last = last_pick[j]
            a = account_pick[j]
            a_name, a_cn, city_i, a_plz, a_street, domain = account_info[a]
            city, region, area, codes = DE_CITIES[city_i]
            job, department = job_pick[j]
            r = randoms[j]
            if r < 0.75:  # works at the account's address
                plz, street, kind = a_plz, a_street, "business"
            else:
                plz, street, kind = codes[cid % len(codes)], STREETS[cid % len(STREETS)], "private"
            email = f"{slug_first[first]}.{slug_last[last]}.{cid}@{domain}"
            phone = f"+49{area}{2_000_000 + (cid * 7919) % 7_999_999}"
            mobile = f"+49151{10_000_000 + (cid * 104729) % 89_999_999}"
            owner_id, team_id = owners[a % OWNERS]
            c_rows.append(
                (
                    cid,
                    salutation,
                    first,
                    last,
                    job,
                    department,
                    "de",
                    a + 1,
                    email,
                    phone,
                    plz,
                    city,
                    "DE",
                    owner_id,
                    team_id,
                    now_s,
                    now_s,
                )
            )
            emails.append((None, cid, email, "work", 0))
            phones.append((None, cid, phone, "work", 0))
            contact_phones = [phone]
            contact_emails = [email]
            if r < 0.3:
                private = f"{slug_first[first]}.{slug_last[last]}{cid}@privat.example"
                emails.append((None, cid, private, "private", 1))
                contact_emails.append(private)
            if r > 0.5:
                phones.append((None, cid, mobile, "mobile", 1))
                contact_phones.append(mobile)
            addresses.append(
                (None, cid, kind, street, str(1 + cid % 150), plz, city, region, "DE", 0)
            )
            links.append((cid, a + 1, ROLES[cid % len(ROLES)], 0))
            title = f"{first} {last}"
            subtitle = f"{job} · {a_name} · {city}"
            parts = [
                city,
                plz,
                job,
                department,
                a_name,
                a_cn,
                *contact_emails,
                *contact_phones,
                f"{city} {plz} {street}",
            ]
            body = " | ".join(part(p) for p in (title, subtitle, *parts) if p)
            if cid <= 200:
                sample_docs.append(([title, subtitle, *parts], body))
                surnames.add(last)
            sid = search_offset + cid
            search_rows.append((sid, "contact", cid, owner_id, team_id, title, subtitle, body))
            fts.append((sid, body))
        gen_s += time.perf_counter() - g
        db.execute("BEGIN")
        insert(tables["contact"], c_rows)
        insert(tables["email"], emails)
        insert(tables["phone"], phones)
        insert(tables["address"], addresses)
        insert(tables["link"], links)
        insert(tables["search"], search_rows)
        insert_fts(fts)
        db.execute("COMMIT")
        if len(memo) > 2_000_000:
            memo.clear()
    phases["contacts"] = time.perf_counter() - t
    phases["contacts_python"] = gen_s

    # --- timeline: five entries per contact, generated by SQLite itself -----------------------
    t = time.perf_counter()
    db.execute(
        "CREATE TEMP TABLE bench_kinds(k INTEGER PRIMARY KEY, kind, direction, subject, body)"
    )
    db.executemany(
        "INSERT INTO bench_kinds VALUES (?, ?, ?, ?, ?)",
        [(i, *row) for i, row in enumerate(TIMELINE)],
    )
    db.execute("CREATE TEMP TABLE bench_n(n INTEGER PRIMARY KEY)")
    db.executemany("INSERT INTO bench_n VALUES (?)", [(n,) for n in range(TIMELINE_PER_CONTACT)])
    timeline = tables["timeline"]
    sql, consts = timeline.select_insert(
        [
            "s.kind",
            "s.direction",
            "s.subject",
            "s.body",
            # spread over the last 365 days (525,600 minutes), deterministic per contact and n
            "datetime(:now, '-' || ((c.id * 7919 + n.n * 104729) % 525600) || ' minutes')",
            "c.primary_account_id",
            "c.id",
            "c.owner_id",
            ":now",
            ":now",
        ],
        f"FROM contacts_contact c CROSS JOIN bench_n n JOIN bench_kinds s ON s.k = (c.id * 31 + n.n * 17) % {len(TIMELINE)} "
        "WHERE c.id BETWEEN :lo AND :hi ORDER BY c.id, n.n",
    )
    params = {"now": now_s, **consts}
    step = BATCH * 2
    for lo in range(1, size + 1, step):
        db.execute("BEGIN")
        db.execute(sql, {**params, "lo": lo, "hi": lo + step - 1})
        db.execute("COMMIT")
    db.execute("BEGIN")
    db.execute(
        "UPDATE contacts_contact SET last_interaction_at = m.latest FROM "
        "(SELECT contact_id, max(occurred_at) AS latest FROM contacts_timelineentry GROUP BY contact_id) AS m "
        "WHERE m.contact_id = contacts_contact.id"
    )
    db.execute(
        "UPDATE contacts_account SET last_interaction_at = m.latest FROM "
        "(SELECT account_id, max(occurred_at) AS latest FROM contacts_timelineentry GROUP BY account_id) AS m "
        "WHERE m.account_id = contacts_account.id"
    )
    db.execute("COMMIT")
    phases["timeline"] = time.perf_counter() - t

    t = time.perf_counter()
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    phases["checkpoint"] = time.perf_counter() - t
    seed_s = time.perf_counter() - started

    # --- checks (not timed) -----------------------------------------------------------------
    for parts, body in sample_docs:
        if document_text(parts) != body:
            raise RuntimeError(f"search body differs from document_text(): {body!r}")
    counts = {
        name: db.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
        for name, table in [
            ("accounts", "contacts_account"),
            ("contacts", "contacts_contact"),
            ("timeline", "contacts_timelineentry"),
            ("emails", "contacts_emailaddress"),
            ("phones", "contacts_phonenumber"),
            ("addresses", "contacts_postaladdress"),
            ("links", "contacts_contactaccountlink"),
            ("search", "core_searchdocument"),
        ]
    }
    counts["fts"] = db.execute(f"SELECT count(*) FROM {FTS_TABLE}").fetchone()[0]
    if size <= 20_000:
        problems = db.execute("PRAGMA foreign_key_check").fetchall()
        if problems:
            raise RuntimeError(f"foreign key problems: {problems[:5]}")
    plz10 = db.execute(
        "SELECT count(*) FROM contacts_contact WHERE postal_code LIKE '10%'"
    ).fetchone()[0]
    db.close()
    return {
        "size": size,
        "migrate_s": migrate_s,
        "seed_s": seed_s,
        "phases": phases,
        "counts": counts,
        "surnames": sorted(surnames)[:20],
        "plz10_contacts": plz10,
        "db_bytes": db_path.stat().st_size,
    }


# =============================================================================================
# Measuring (parent process)
# =============================================================================================


@dataclass
class Measure:
    key: str
    p50: float | None = None
    p95: float | None = None
    value: float | None = None
    note: str = ""
    statuses: dict[int, int] = field(default_factory=dict)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Report a redirect (e.g. to the login page) as its status instead of following it."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _opener(jar: http.cookiejar.CookieJar | None = None) -> urllib.request.OpenerDirector:
    # ProxyHandler({}) so an http_proxy in the environment is never used for 127.0.0.1.
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


def _measure(
    key: str,
    opener: urllib.request.OpenerDirector,
    urls: list[str],
    headers: dict[str, str] | None,
    n: int,
) -> Measure:
    result = Measure(key)
    try:
        status, _body, _ms = _request(opener, urls[0], headers)
    except (urllib.error.URLError, OSError) as exc:
        result.note = f"n/a ({exc.__class__.__name__})"
        return result
    if status != 200:
        result.note = f"n/a ({status})"
        return result
    for url in urls[1:4]:  # warm-up
        _request(opener, url, headers)
    times = []
    for i in range(n):
        status, _body, ms = _request(opener, urls[i % len(urls)], headers)
        result.statuses[status] = result.statuses.get(status, 0) + 1
        times.append(ms)
    ok = result.statuses.get(200, 0)
    if ok < n:
        result.note = f"{n - ok} of {n} not 200: {result.statuses}"
    result.p50 = _percentile(times, 0.50)
    result.p95 = _percentile(times, 0.95)
    return result


def _login(
    base: str, email: str, password: str
) -> tuple[urllib.request.OpenerDirector | None, str]:
    jar = http.cookiejar.CookieJar()
    opener = _opener(jar)
    try:
        status, body, _ms = _request(opener, base + "/login/")
    except (urllib.error.URLError, OSError) as exc:
        return None, f"login page: {exc.__class__.__name__}"
    if status != 200:
        return None, f"login page answered {status}"
    match = re.search(rb'name="csrfmiddlewaretoken"\s+value="([^"]+)"', body)
    token = (
        match.group(1).decode()
        if match
        else next((c.value for c in jar if c.name == "csrftoken"), "")
    )
    form = urllib.parse.urlencode(
        {"username": email, "password": password, "csrfmiddlewaretoken": token}
    )
    status, _body, _ms = _request(
        opener,
        base + "/login/",
        {
            "Content-Type": "application/x-www-form-urlencoded",
            "Referer": base + "/login/",
            "X-CSRFToken": token,
        },
        form.encode(),
    )
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
            _request(opener, base + "/api/v1/openapi.json", timeout=5)
            return True
        except (urllib.error.URLError, OSError):
            time.sleep(0.3)
    return False


def _rss_mb(pid: int) -> tuple[float | None, float | None]:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None, None
    values = {}
    for line in status.splitlines():
        name, _sep, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            values[name] = int(rest.split()[0]) / 1024
    return values.get("VmRSS"), values.get("VmHWM")


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex((HOST, port)) != 0


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
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)


def run_size(size: int, args: argparse.Namespace) -> dict[str, Any]:
    """Seed one database of ``size`` contacts, serve it and time the requests."""
    BENCH_VAR.mkdir(parents=True, exist_ok=True)
    db_path = BENCH_VAR / f"bench-{size}.sqlite3"
    _remove_db(db_path)
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": f"sqlite:///{db_path}",
            "FARLEY_VAR_DIR": str(BENCH_VAR),
            "DJANGO_SETTINGS_MODULE": "farley.settings",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    env.pop("DEBUG", None)

    print(
        f"\n== {size:,} contacts: migrating and seeding {db_path.relative_to(ROOT)} ...", flush=True
    )
    done = subprocess.run(
        [sys.executable, __file__, "--seed-worker", "--size", str(size), "--db", str(db_path)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"seeding failed:\n{done.stderr[-4000:]}")
    seed = json.loads(done.stdout.strip().splitlines()[-1])
    rate = size / seed["seed_s"]
    print(
        f"   seeded in {seed['seed_s']:.1f} s = {rate:,.0f} contacts/s "
        f"(migrate {seed['migrate_s']:.1f} s; phases "
        + ", ".join(f"{k} {v:.1f} s" for k, v in seed["phases"].items())
        + f"); {seed['db_bytes'] / 2**20:,.0f} MB; rows {seed['counts']}",
        flush=True,
    )
    measures = {"seed": Measure("seed", value=rate)}

    email = "bench@farley.local"
    password = secrets.token_urlsafe(16)
    _farley(
        env,
        "createuser",
        "--email",
        email,
        "--password",
        password,
        "--role",
        "administrator",
        "--name",
        "Bench Administrator",
    )
    token = _farley(env, "createtoken", email, "--name", "bench").splitlines()[-1].strip()

    if not _port_free(args.port):
        raise RuntimeError(f"port {args.port} on {HOST} is in use; pass --port")
    base = f"http://{HOST}:{args.port}"
    log_path = BENCH_VAR / f"server-{size}.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [str(BIN / "farley"), "serve", "--host", HOST, "--port", str(args.port)],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        if not _wait_for_server(proc, base):
            raise RuntimeError(f"server did not start; see {log_path}")
        n = args.requests
        api = _opener()
        bearer = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        rng = random.Random(size)
        ids = [rng.randint(1, size) for _ in range(n)]
        surnames = seed["surnames"] or ["Müller"]
        measures["api_list"] = _measure(
            "api_list", api, [base + "/api/v1/contacts?limit=50&postal_code=10"], bearer, n
        )
        measures["search"] = _measure(
            "search",
            api,
            [base + "/api/v1/search?q=" + urllib.parse.quote(s) for s in surnames],
            bearer,
            n,
        )
        session, problem = _login(base, email, password)
        if session is None:
            measures["list_page"] = Measure("list_page", note=f"n/a ({problem})")
            measures["contact_360"] = Measure("contact_360", note=f"n/a ({problem})")
        else:
            measures["list_page"] = _measure(
                "list_page", session, [base + "/contacts/?postal_code=10"], None, n
            )
            measures["contact_360"] = _measure(
                "contact_360", session, [f"{base}/contacts/{i}/" for i in ids], None, n
            )
        rss, peak = _rss_mb(proc.pid)
        measures["rss"] = Measure("rss", value=rss, note=f"peak {peak:.0f} MB" if peak else "")
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=20)
    if not args.keep:
        _remove_db(db_path)
    return {"size": size, "seed": seed, "measures": measures}


def _verdict(key: str, m: Measure) -> tuple[str, str, str]:
    """(p50/value text, p95 text, result) for one measure."""
    _key, _label, _target, limit, unit, lower = next(t for t in TARGETS if t[0] == key)
    if m.value is not None:
        ok = m.value <= limit if lower else m.value >= limit
        text = f"{m.value:,.0f} {unit}"
        return text, "", "pass" if ok else "FAIL"
    if m.p95 is None:
        return m.note or "n/a", "", "n/a"
    ok = m.p95 <= limit and not m.note
    return f"{m.p50:.1f} ms", f"{m.p95:.1f} ms", "pass" if ok else "FAIL"


def table(results: list[dict[str, Any]]) -> str:
    """The markdown result table: one row per size and measure."""
    lines = [
        "| contacts | measure | p50 / value | p95 | target | result | note |",
        "| ---: | --- | ---: | ---: | --- | --- | --- |",
    ]
    for result in results:
        for key, label, target, *_rest in TARGETS:
            m = result["measures"].get(key)
            if m is None:
                continue
            first, p95, verdict = _verdict(key, m)
            note = m.note if m.value is not None or m.p95 is not None else ""
            lines.append(
                f"| {result['size']:,} | {label} | {first} | {p95} | {target} | {verdict} | {note} |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--sizes", default=None, help='contacts per run, comma-separated (default "10000,1000000")'
    )
    parser.add_argument(
        "--quick", action="store_true", help="20 requests per measure; default size 10000"
    )
    parser.add_argument(
        "--requests", type=int, default=None, help="requests per measure (default 100)"
    )
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--keep", action="store_true", help="keep the databases under var/bench/")
    parser.add_argument("--seed-worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.seed_worker:
        print(json.dumps(seed_worker(args.size, args.db)))
        return 0

    sizes_text = args.sizes or ("10000" if args.quick else "10000,1000000")
    sizes = [int(s.replace("_", "")) for s in sizes_text.split(",") if s.strip()]
    if any(s < 10 or s > 20_000_000 for s in sizes):
        parser.error("sizes must be between 10 and 20,000,000")
    args.requests = max(5, min(10_000, args.requests or (20 if args.quick else 100)))
    if not (BIN / "farley").exists():
        parser.error(f"{BIN / 'farley'} is missing; run make install")

    results = []
    for size in sizes:
        results.append(run_size(size, args))
    output = table(results)
    print("\n" + output)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    report = RESULTS / f"bench-{stamp}.md"
    report.write_text(
        f"# Farley benchmark {stamp}\n\nrequests per measure: {args.requests}\n\n{output}\n"
    )
    print(f"\n(also written to {report.relative_to(ROOT)})")
    failed = any(_verdict(k, m)[2] == "FAIL" for r in results for k, m in r["measures"].items())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
