"""Browser journey: from the account page, build a quote with three lines and a discount,
download its PDF (read back with pypdf), send it by email (a real SMTP sink receives it),
accept it, and find the order from the account page and through global search."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import expect
from pypdf import PdfReader

from farley.sales.models import Order, Quote
from tests.sales.quote_factories import make_customer, make_product
from tests.smtp_sink import smtp_fixture  # noqa: F401  (the "smtp" fixture)


def test_build_send_and_accept_a_quote_then_find_its_order(page, admin_login, smtp, tmp_path):
    account, _contact = make_customer(admin_login, name="Müller Maschinenbau GmbH")
    make_product(admin_login, sku="WART-1", name="Wartungsvertrag", list_price="1200", unit="year")
    page.on("dialog", lambda dialog: dialog.accept())

    page.goto(f"{page.base_url}/accounts/{account.pk}/")
    page.click("#new-quote")
    expect(page.locator("#f-account")).to_have_value(re.compile("Müller Maschinenbau GmbH"))
    page.select_option("#f-contact_id", label="Erika Mustermann")
    page.fill("#f-title", "Modernisierung Halle 3")
    page.select_option("#f-lines-0-product_id", label="WART-1 · Wartungsvertrag")
    page.fill("#f-lines-0-quantity", "2")
    page.fill("#f-lines-1-description", "Montage vor Ort")
    page.fill("#f-lines-1-quantity", "16")
    page.select_option("#f-lines-1-unit", "hour")
    page.fill("#f-lines-1-unit_price", "95,00")
    page.fill("#f-lines-1-discount_percent", "10")
    page.fill("#f-lines-2-description", "Schulungsunterlagen")
    page.fill("#f-lines-2-quantity", "5")
    page.fill("#f-lines-2-unit_price", "39,90")
    page.select_option("#f-lines-2-tax_rate", "7")
    page.fill("#f-discount_percent", "5")
    page.click("#quote-form button[type=submit]")

    quote = Quote.objects.get()
    page.wait_for_url(f"{page.base_url}/quotes/{quote.pk}/")
    expect(page.locator("#line-items tbody tr")).to_have_count(3)
    # 2 × 1,200 + 16 × 95 − 10 % + 5 × 39.90 = 3,967.50; − 5 % = 3,769.12 net (5 % = 198.38)
    assert str(quote.net_total) == "3769.12"
    expect(page.locator("#net-total")).to_contain_text("3,769.12")
    expect(page.locator("#gross-total")).to_contain_text(f"{quote.gross_total:,.2f}")

    with page.expect_download() as download:
        page.click("#quote-pdf")
    path = tmp_path / "quote.pdf"
    download.value.save_as(path)
    text = "\n".join(p.extract_text() for p in PdfReader(Path(path)).pages)
    text = text.replace("\xa0", " ").replace("\u202f", " ")
    for expected in (quote.number, "Müller Maschinenbau GmbH", "Erika Mustermann",
                     "Wartungsvertrag", "Montage vor Ort", "Schulungsunterlagen",
                     "3.769,12 €", f"{quote.gross_total:,.2f} €".replace(",", "X")
                     .replace(".", ",").replace("X", ".")):  # fmt: skip
        assert expected in text, expected

    page.select_option("#f-to", "erika@mueller.example")
    page.click("#quote-send")
    expect(page.locator("#quote-status")).to_have_text("Sent")
    assert [m["To"] for m in smtp.messages] == ["erika@mueller.example"]
    attachment = next(smtp.messages[0].iter_attachments())
    assert attachment.get_filename() == f"{quote.number}.pdf"

    page.click("#quote-accept")
    order = Order.objects.get()
    page.wait_for_url(f"{page.base_url}/orders/{order.pk}/")
    expect(page.locator("#order-status")).to_have_text("Open")
    expect(page.locator("#line-items tbody tr")).to_have_count(3)

    page.goto(f"{page.base_url}/accounts/{account.pk}/")
    panel = page.locator("#panel-orders")
    expect(panel).to_contain_text(order.number)
    expect(panel).to_contain_text("Open")
    expect(page.locator("#timeline, #pane-timeline").first).to_contain_text(quote.number)
    panel.get_by_role("link", name=order.number).click()
    page.wait_for_url(f"{page.base_url}/orders/{order.pk}/")

    page.fill("#global-search", order.number)
    hit = page.locator("#search-results a", has_text=order.number)
    expect(hit).to_be_visible()
    hit.click()
    page.wait_for_url(f"{page.base_url}/orders/{order.pk}/")
    expect(page.locator("h1")).to_contain_text(order.number)
