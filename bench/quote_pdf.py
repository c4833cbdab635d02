"""Benchmark: the PDF of a 50-line quote (target p95 ≤ 1 s).

Makes a fresh SQLite database in a temporary folder, creates a customer and a quote with 50
lines (mixed tax rates and discounts, one reverse-charge line) through the services, renders
its PDF ``--runs`` times (after one warm-up, as a running server would) and prints the
timings as a table. Run it with ``.venv/bin/python bench/quote_pdf.py``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

TARGET_P95 = 1.0


def _setup(folder: Path) -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{folder / 'bench.sqlite3'}"
    os.environ.setdefault("FARLEY_VAR_DIR", str(folder))
    os.environ["DJANGO_SETTINGS_MODULE"] = "farley.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _quote():
    from farley.contacts.services import account_create, contact_create
    from farley.core.services import user_create
    from farley.sales.services.quotes import quote_create

    admin = user_create(actor=None, email="bench@example.com", password="Bench-Password-42x",
                        role="administrator", full_name="Bench", team_names=["Vertrieb"])  # fmt: skip
    account = account_create(actor=admin, data={
        "name": "Müller Maschinenbau GmbH", "addresses": [
            {"kind": "billing", "street": "Hauptstraße", "house_number": "5",
             "postal_code": "80331", "city": "München", "country": "DE"}],
    })  # fmt: skip
    contact = contact_create(actor=admin, data={
        "first_name": "Erika", "last_name": "Mustermann", "language": "de",
        "account_links": [{"account_id": account.pk}],
    })  # fmt: skip
    lines = [
        {"description": f"Leistung {i}: Montage, Inbetriebnahme und Dokumentation",
         "quantity": str(1 + i % 7), "unit_price": f"{99 + i * 13}.50",
         "discount_percent": "10" if i % 5 == 0 else "0",
         "tax_rate": "rc" if i == 7 else ("7" if i % 4 == 0 else "19")}
        for i in range(50)
    ]  # fmt: skip
    return quote_create(actor=admin, data={
        "account_id": account.pk, "contact_id": contact.pk, "title": "Benchmark",
        "introduction": "Sehr geehrte Frau Mustermann,\nvielen Dank für Ihre Anfrage.",
        "terms": "Zahlbar innerhalb von 14 Tagen.", "discount_percent": "3", "lines": lines,
    })  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        _setup(Path(folder))
        from farley.sales.quote_pdf import quote_pdf
        from farley.sales.selectors.quotes import quote_lines

        quote = _quote()
        lines = quote_lines(quote)
        size = len(quote_pdf(quote, lines))  # warm-up: fonts and styles loaded once
        timings = []
        for _ in range(args.runs):
            start = time.perf_counter()
            quote_pdf(quote, quote_lines(quote))
            timings.append(time.perf_counter() - start)
    timings.sort()
    p50 = statistics.median(timings)
    p95 = timings[max(0, round(0.95 * len(timings)) - 1)]
    verdict = "ok" if p95 <= TARGET_P95 else "SLOW"
    print("| measure | runs | p50 | p95 | target | verdict |")
    print("| --- | --- | --- | --- | --- | --- |")
    print(f"| quote PDF, 50 lines ({size // 1024} KB) | {args.runs} | {p50 * 1000:.0f} ms | "
          f"{p95 * 1000:.0f} ms | p95 ≤ {TARGET_P95 * 1000:.0f} ms | {verdict} |")  # fmt: skip
    return 0 if verdict == "ok" else 1


if __name__ == "__main__":
    sys.exit(main())
