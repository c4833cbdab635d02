"""The quote PDF (WeasyPrint), read back with pypdf: letter parts, numbers in German and
English, the tax summary with the reverse-charge note, many lines over several pages, and an
operator's own template."""

from __future__ import annotations

import copy
import io

import pytest
from pypdf import PdfReader

from farley.sales.quote_pdf import pdf_context, quote_pdf
from farley.sales.selectors.quotes import quote_lines
from tests.factories import make_account
from tests.sales.quote_factories import line, make_customer, make_quote

pytestmark = pytest.mark.django_db


def pdf_text(quote) -> str:
    reader = PdfReader(io.BytesIO(quote_pdf(quote, quote_lines(quote))))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return text.replace("\xa0", " ").replace("\u202f", " ")


@pytest.fixture
def company(settings):
    settings.FARLEY_COMPANY_NAME = "Beispiel Software GmbH"
    settings.FARLEY_COMPANY_ADDRESS = "Hafenstraße 7, 20457 Hamburg"
    settings.FARLEY_COMPANY_VAT_ID = "DE123456789"
    settings.FARLEY_BANK_IBAN = "DE02120300000000202051"
    settings.FARLEY_BANK_BIC = "BYLADEM1001"


def test_a_german_quote_letter(sales1, company):
    account, contact = make_customer(sales1)
    quote = make_quote(
        sales1, account=account, contact_id=contact.pk, title="Wartung 2025",
        introduction="vielen Dank für Ihre Anfrage.", terms="Zahlbar innerhalb von 14 Tagen.",
        discount_percent="10",
        lines=[line("Wartungsvertrag", "12", "1234.50", discount_percent="5"),
               line("Fachbuch", "3", "19.90", tax_rate="7")],
    )  # fmt: skip
    text = pdf_text(quote)
    for expected in (
        quote.number, "Müller Maschinenbau GmbH", "Erika Mustermann", "Hauptstraße 5",
        "80331 München", "Beispiel Software GmbH", "DE02120300000000202051", "BYLADEM1001",
        "DE123456789", "Wartungsvertrag", "Fachbuch", "vielen Dank für Ihre Anfrage.",
        "Zahlbar innerhalb von 14 Tagen.",
        "1.234,50 €", "14.073,30 €",  # unit price; 12 × 1,234.50 − 5 %
        "59,70 €",  # 3 × 19.90
        "1.413,30 €",  # 10 % off the total of 14,133.00
        "12.719,70 €",  # net
        "15.129,99 €",  # gross: 19 % of 12,665.97 = 2,406.53, 7 % of 53.73 = 3.76
        quote.quote_date.strftime("%d.%m.%Y"), quote.valid_until.strftime("%d.%m.%Y"),
    ):  # fmt: skip
        assert expected in text, expected
    assert str(quote.gross_total) == "15129.99"


def test_an_english_quote_uses_english_numbers_and_dates(sales1):
    quote = make_quote(sales1, language="en", lines=[line("Licence", "1500", "1.5")])
    text = pdf_text(quote)
    assert "€2,250.00" in text and "€2,677.50" in text and "1,500" in text
    assert quote.valid_until.strftime("%B %Y") in text
    assert "Quote no." in text


def test_reverse_charge_is_noted_and_taxed_at_zero(sales1):
    account = make_account(sales1, name="Acme Ltd", vat_id="ATU13585627", addresses=[
        {"kind": "billing", "street": "Ring", "house_number": "1", "postal_code": "1010",
         "city": "Wien", "country": "AT"},
    ])  # fmt: skip
    quote = make_quote(
        sales1, account=account, lines=[line("Beratung", "10", "150", tax_rate="rc")]
    )
    assert quote.language == "de" and quote.tax_total == 0
    text = pdf_text(quote)
    assert "Steuerschuldnerschaft des Leistungsempfängers" in text
    assert "ATU13585627" in text and "1010 Wien" in text and "ÖSTERREICH" in text
    assert "1.500,00 €" in text


def test_fifty_lines_flow_over_pages_with_the_totals_at_the_end(sales1):
    quote = make_quote(sales1, lines=[line(f"Position Nummer {i}", "1", "10") for i in range(50)])
    reader = PdfReader(io.BytesIO(quote_pdf(quote, quote_lines(quote))))
    assert len(reader.pages) >= 2
    text = "\n".join(p.extract_text() for p in reader.pages).replace("\xa0", " ")
    assert all(f"Position Nummer {i}\n" in text or f"Position Nummer {i} " in text
               for i in range(50))  # fmt: skip
    last = reader.pages[-1].extract_text().replace("\xa0", " ")
    assert "595,00 €" in last  # 500.00 + 19 %


def test_the_context_has_everything_formatted(sales1):
    quote = make_quote(sales1, language="de", lines=[line("A", "2.5", "3.333")])
    context = pdf_context(quote, quote_lines(quote))
    assert context["lines"][0]["quantity"] == "2,5"
    assert context["lines"][0]["unit_price"].replace("\xa0", " ") == "3,33 €"
    assert [t["rate"] for t in context["taxes"]] == ["19\u202f%"]


def test_an_operator_template_directory_overrides_the_layout(sales1, settings, tmp_path):
    folder = tmp_path / "sales" / "quotes"
    folder.mkdir(parents=True)
    (folder / "pdf.html").write_text(
        "<html><body><h1>Eigenes Layout {{ number }}</h1><p>{{ gross_total }}</p></body></html>"
    )
    templates = copy.deepcopy(settings.TEMPLATES)
    templates[0]["DIRS"] = [str(tmp_path)]
    settings.TEMPLATES = templates
    quote = make_quote(sales1)
    text = pdf_text(quote)
    assert f"Eigenes Layout {quote.number}" in text and "119,00 €" in text
