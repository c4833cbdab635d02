"""The quote as PDF: a business letter after DIN 5008 (sender line, address window,
information block, subject, line table, tax summary, totals, terms, footer with the company
and bank data), rendered by WeasyPrint from the template ``sales/quotes/pdf.html`` and its
stylesheet ``sales/quotes/pdf.css``, in the quote's language.

Operators change the layout by putting their own copies of both files under
``$FARLEY_TEMPLATE_DIR/sales/quotes/`` (docs/sales.md). The template gets every number and
date already formatted for the quote's language (:func:`pdf_context`).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from babel.dates import format_date
from babel.numbers import format_currency, format_decimal
from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

from farley.contacts.models import PostalAddress
from farley.core.validation import country_name
from farley.sales import money
from farley.sales.models import ProductUnit, Quote, TaxRate
from farley.sales.services.line_items import as_money_lines

LOCALES = {"de": "de_DE", "en": "en_GB"}
DATE_FORMATS = {"de": "dd.MM.yyyy", "en": "d MMMM yyyy"}
REVERSE_CHARGE_NOTE = "Steuerschuldnerschaft des Leistungsempfängers"


class Formatter:
    """Numbers, money and dates as written in ``language``."""

    def __init__(self, language: str, currency: str):
        self.language = language if language in LOCALES else "en"
        self.locale = LOCALES[self.language]
        self.currency = currency

    def money(self, amount: Decimal) -> str:
        return format_currency(amount, self.currency, locale=self.locale)

    def number(self, value: Decimal) -> str:
        value = value.quantize(Decimal(1)) if value == value.to_integral() else value.normalize()
        return format_decimal(value, locale=self.locale, decimal_quantization=False)

    def percent(self, value: Decimal) -> str:
        return f"{self.number(value)}\u202f%"

    def date(self, value: dt.date | None) -> str:
        return format_date(value, DATE_FORMATS[self.language], locale=self.locale) if value else ""

    def tax_rate(self, code: str, *, short: bool = False) -> str:
        if code == TaxRate.REVERSE_CHARGE:
            return "§ 13b" if short else str(TaxRate(code).label)
        return self.percent(TaxRate.percent(code))


def _recipient_address(quote: Quote) -> PostalAddress | None:
    addresses = list(quote.account.addresses.all())
    billing = [a for a in addresses if a.kind == "billing"]
    return (billing or addresses or [None])[0]


def _address_lines(address: PostalAddress | None, language: str) -> list[str]:
    if address is None:
        return []
    street = " ".join(p for p in (address.street, address.house_number) if p)
    town = " ".join(p for p in (address.postal_code, address.city) if p)
    lines = [p for p in (street, address.extra, town) if p]
    if address.country and address.country != "DE":
        lines.append(country_name(address.country, language).upper())
    return lines


def company() -> dict[str, str]:
    keys = (
        "NAME", "ADDRESS", "EMAIL", "PHONE", "WEBSITE", "VAT_ID", "REGISTER",
        "MANAGING_DIRECTOR",
    )  # fmt: skip
    data = {k.lower(): str(getattr(settings, f"FARLEY_COMPANY_{k}", "") or "") for k in keys}
    for key in ("NAME", "IBAN", "BIC"):
        data[f"bank_{key.lower()}"] = str(getattr(settings, f"FARLEY_BANK_{key}", "") or "")
    return data


def pdf_context(quote: Quote, lines: list[Any]) -> dict[str, Any]:
    """What the template shows, formatted for the quote's language."""
    fmt = Formatter(quote.language, quote.currency)
    totals = money.totals(
        as_money_lines(lines),
        discount_percent=quote.discount_percent,
        discount_amount=quote.discount_amount,
    )
    units = dict(ProductUnit.choices)
    rows = []
    for line, amount in zip(lines, totals.line_amounts, strict=True):
        discounts = []
        if line.discount_percent:
            discounts.append(fmt.percent(line.discount_percent))
        if line.discount_amount:
            discounts.append(f"−{fmt.money(line.discount_amount)}")
        rows.append(
            {
                "position": line.position,
                "description": line.description,
                "sku": line.sku,
                "quantity": fmt.number(line.quantity),
                "unit": str(units.get(line.unit, line.unit)),
                "unit_price": fmt.money(line.unit_price),
                "discount": " ".join(discounts),
                "amount": fmt.money(amount),
                "tax_rate": fmt.tax_rate(line.tax_rate, short=True),
            }
        )
    taxes = [
        {
            "rate": fmt.tax_rate(t.rate),
            "base": fmt.money(t.base),
            "tax": fmt.money(t.tax),
            "reverse_charge": t.rate == TaxRate.REVERSE_CHARGE,
        }
        for t in totals.taxes
    ]
    contact = quote.contact
    document_discount = []
    if quote.discount_percent:
        document_discount.append(fmt.percent(quote.discount_percent))
    if quote.discount_amount:
        document_discount.append(fmt.money(quote.discount_amount))
    owner = quote.owner
    return {
        "quote": quote,
        "language": fmt.language,
        "company": company(),
        "recipient": {
            "name": quote.account.name,
            "contact": contact.full_name if contact else "",
            "lines": _address_lines(_recipient_address(quote), fmt.language),
        },
        "number": quote.number,
        "revision": quote.revision,
        "date": fmt.date(quote.quote_date),
        "valid_until": fmt.date(quote.valid_until),
        "customer_number": quote.account.customer_number,
        "customer_vat_id": quote.account.vat_id,
        "owner_name": owner.display_name if owner else "",
        "owner_email": owner.email if owner else "",
        "lines": rows,
        "subtotal": fmt.money(totals.subtotal),
        "document_discount": " + ".join(document_discount),
        "discount": fmt.money(totals.discount) if totals.discount else "",
        "net_total": fmt.money(totals.net_total),
        "taxes": taxes,
        "tax_total": fmt.money(totals.tax_total),
        "gross_total": fmt.money(totals.gross_total),
        "reverse_charge": any(t["reverse_charge"] for t in taxes),
        "reverse_charge_note": REVERSE_CHARGE_NOTE,
    }


def quote_html(quote: Quote, lines: list[Any]) -> str:
    with translation.override(quote.language if quote.language in LOCALES else "en"):
        return render_to_string("sales/quotes/pdf.html", pdf_context(quote, lines))


def quote_pdf(quote: Quote, lines: list[Any]) -> bytes:
    """The PDF of ``quote`` with its ``lines`` (WeasyPrint; fonts: DejaVu)."""
    from weasyprint import HTML

    return HTML(string=quote_html(quote, lines)).write_pdf()


def quote_pdf_name(quote: Quote) -> str:
    suffix = f"-v{quote.revision}" if quote.revision > 1 else ""
    return f"{quote.number}{suffix}.pdf"
