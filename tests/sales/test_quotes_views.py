"""Quote, order and catalogue pages: forms show errors at the field (422) and save nothing,
drafts only, the actions, the account's Quotes and Orders panels, query counts."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client

from farley.sales.models import Order, Product, Quote, QuoteStatus
from tests.factories import make_account
from tests.sales.quote_factories import (
    expire,
    line,
    make_customer,
    make_order,
    make_price_list,
    make_product,
    make_quote,
    sent_quote,
)

pytestmark = pytest.mark.django_db


def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _line_post(i: int, description: str, quantity: str, price: str, **more) -> dict:
    data = {f"lines-{i}-description": description, f"lines-{i}-quantity": quantity,
            f"lines-{i}-unit_price": price}  # fmt: skip
    data.update({f"lines-{i}-{k}": v for k, v in more.items()})
    return data


def test_create_a_quote_in_the_form(sales1):
    account, contact = make_customer(sales1)
    client = browser(sales1)
    page = client.get(f"/quotes/new/?account={account.pk}")
    assert page.status_code == 200
    assert f"{account.name} [{account.customer_number}]" in page.content.decode()
    assert "Erika Mustermann" in page.content.decode()  # the account's contacts to choose
    response = client.post("/quotes/new/", {
        "account": f"{account.name} [{account.customer_number}]", "contact_id": contact.pk,
        "title": "Neue Anlage", "discount_percent": "10", "currency": "EUR",
        **_line_post(0, "Planung", "2", "500,00"), **_line_post(1, "", "", ""),
        **_line_post(2, "Montage", "1,5", "80", tax_rate="7"),
    })  # fmt: skip
    quote = Quote.objects.get()
    assert response.status_code == 302 and response.url == f"/quotes/{quote.pk}/"
    assert [x.description for x in quote.lines.all()] == ["Planung", "Montage"]
    assert quote.net_total == 1008  # (1000 + 120) - 10 %
    detail = client.get(response.url).content.decode()
    assert quote.number in detail and "Neue Anlage" in detail and 'id="history"' in detail


def test_form_errors_are_shown_at_the_field_and_nothing_is_saved(sales1):
    account, _ = make_customer(sales1)
    response = browser(sales1).post("/quotes/new/", {
        "account": account.name, **_line_post(0, "Planung", "-2", "500"),
        **_line_post(1, "Rabatt", "1", "5", discount_percent="120"),
    })  # fmt: skip
    assert response.status_code == 422
    html = response.content.decode()
    assert 'name="lines-0-quantity" value="-2"' in html  # what was typed is kept
    assert html.count("is-invalid") >= 2
    assert "Enter a quantity greater than 0." in html
    assert "Enter a percentage from 0 to 100." in html
    assert Quote.objects.count() == 0


def test_an_unknown_account_is_an_error_at_the_account_field(sales1):
    response = browser(sales1).post("/quotes/new/", {"account": "Gibt es nicht"})
    assert response.status_code == 422
    assert "Select an account you can see." in response.content.decode()


def test_edit_a_draft_and_not_a_sent_quote(sales1):
    client = browser(sales1)
    quote = make_quote(sales1, lines=[line("Alt", "1", "10")])
    page = client.get(f"/quotes/{quote.pk}/edit/")
    assert page.status_code == 200 and 'value="Alt"' in page.content.decode()
    response = client.post(f"/quotes/{quote.pk}/edit/", {
        "account": f"{quote.account.name} [{quote.account.customer_number}]",
        "version": quote.version, **_line_post(0, "Neu", "3", "10"),
    })  # fmt: skip
    assert response.status_code == 302
    quote.refresh_from_db()
    assert quote.net_total == 30 and quote.version == 2
    stale = client.post(f"/quotes/{quote.pk}/edit/", {
        "account": f"{quote.account.name} [{quote.account.customer_number}]", "version": 1,
        **_line_post(0, "Verloren", "1", "1"),
    })  # fmt: skip
    assert stale.status_code == 409 and 'value="Verloren"' in stale.content.decode()
    sent = sent_quote(sales1)
    assert client.get(f"/quotes/{sent.pk}/edit/").status_code == 302


def test_revise_accept_and_find_the_order_on_the_account_page(sales1):
    client = browser(sales1)
    quote = sent_quote(sales1, lines=[line("Anlage", "1", "1000")])
    revised = client.post(f"/quotes/{quote.pk}/revise/", {"version": quote.version})
    new = Quote.objects.get(revision=2)
    assert revised.url == f"/quotes/{new.pk}/edit/"
    old_page = client.get(f"/quotes/{quote.pk}/").content.decode()
    assert "A newer version of this quote exists" in old_page and "Anlage" in old_page
    Quote.objects.filter(pk=new.pk).update(status=QuoteStatus.SENT)
    accepted = client.post(f"/quotes/{new.pk}/accept/")
    order = Order.objects.get()
    assert accepted.url == f"/orders/{order.pk}/"
    account_page = client.get(f"/accounts/{quote.account_id}/").content.decode()
    assert 'id="panel-orders"' in account_page and order.number in account_page
    assert 'id="panel-quotes"' in account_page and new.number in account_page


def test_accepting_an_expired_quote_shows_why(sales1):
    client = browser(sales1)
    quote = expire(sent_quote(sales1))
    response = client.post(f"/quotes/{quote.pk}/accept/", follow=True)
    assert "expired" in response.content.decode()
    assert Order.objects.count() == 0


def test_the_pdf_page_downloads_a_pdf(sales1):
    quote = make_quote(sales1)
    response = browser(sales1).get(f"/quotes/{quote.pk}/pdf/")
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    assert f'filename="{quote.number}.pdf"' in response["Content-Disposition"]


def test_the_quote_list_filters_and_does_not_grow_in_queries(sales1, django_assert_max_num_queries):
    account = make_account(sales1, name="Zimmerei Holzwurm")
    for i in range(8):
        make_quote(sales1, account=account, title=f"Dach {i}")
    expire(sent_quote(sales1, title="Alt"))
    client = browser(sales1)
    client.get("/quotes/")
    with django_assert_max_num_queries(14):
        html = client.get("/quotes/").content.decode()
    assert html.count("/quotes/") >= 9
    assert "Alt" in client.get("/quotes/?status=expired").content.decode()
    assert "Dach 1" not in client.get("/quotes/?status=expired").content.decode()


def test_order_pages_and_status_steps(sales1):
    client = browser(sales1)
    order = make_order(sales1, erp_reference="SAP-4711")
    assert "SAP-4711" in client.get("/orders/").content.decode()
    assert "SAP-4711" in client.get("/orders/?open=true").content.decode()
    page = client.get(f"/orders/{order.pk}/").content.decode()
    assert 'data-status="confirmed"' in page and 'data-status="paid"' not in page
    client.post(f"/orders/{order.pk}/status/", {"status": "confirmed", "version": order.version})
    order.refresh_from_db()
    assert order.status == "confirmed"
    refused = client.post(f"/orders/{order.pk}/status/", {"status": "paid"}, follow=True)
    assert "cannot become" in refused.content.decode()
    edit = client.post(f"/orders/{order.pk}/edit/", {
        "account": f"{order.account.name} [{order.account.customer_number}]",
        "version": order.version, "erp_reference": "SAP-4712", "delivery_date": "2030-01-01",
        "order_date": order.order_date.isoformat(),
    })  # fmt: skip
    assert edit.status_code == 302
    order.refresh_from_db()
    assert order.erp_reference == "SAP-4712" and order.lines.count() == 1


def test_a_new_order_in_the_form(sales1):
    account, _ = make_customer(sales1)
    client = browser(sales1)
    response = client.post("/orders/new/", {
        "account": f"{account.name} [{account.customer_number}]", "status": "open",
        "erp_reference": "ERP-1", **_line_post(0, "Teil", "4", "2.50"),
    })  # fmt: skip
    order = Order.objects.get()
    assert response.url == f"/orders/{order.pk}/" and order.net_total == 10


def test_catalogue_pages_read_for_sales_and_write_for_administrators(sales1, admin):
    make_product(admin, sku="B-1", name="Beratungstag")
    sales = browser(sales1)
    assert "Beratungstag" in sales.get("/products/?q=Beratung").content.decode()
    assert sales.get("/products/new/").status_code == 403
    assert sales.get("/price-lists/new/").status_code == 403
    client = browser(admin)
    bad = client.post("/products/new/", {"sku": "B-1", "name": "", "list_price": "-1"})
    assert bad.status_code == 422
    html = bad.content.decode()
    assert "Another product has this SKU." in html and "Enter an amount of at least 0." in html
    made = client.post("/products/new/", {"sku": "L-1", "name": "Lizenz", "list_price": "99,90",
                                           "unit": "license", "tax_rate": "19", "active": "on"})  # fmt: skip
    assert made.status_code == 302 and Product.objects.get(sku="L-1").list_price == Decimal("99.90")
    product = Product.objects.get(sku="L-1")
    assert "Lizenz" not in client.get("/products/?active=0").content.decode()
    response = client.post("/price-lists/new/", {
        "name": "Händler", "currency": "EUR", "customer_group": "händler", "active": "on",
        "items-0-product_id": product.pk, "items-0-unit_price": "80",
    })  # fmt: skip
    assert response.status_code == 302
    detail = client.get(response.url).content.decode()
    assert "Lizenz" in detail and "80" in detail
    assert "Händler" in sales.get("/price-lists/").content.decode()


def test_a_price_list_form_reports_bad_prices(admin):
    product = make_product(admin)
    price_list = make_price_list(admin, name="Liste")
    response = browser(admin).post(f"/price-lists/{price_list.pk}/edit/", {
        "name": "Liste", "currency": "EUR", "version": price_list.version,
        "items-0-product_id": product.pk, "items-0-unit_price": "-3",
    })  # fmt: skip
    assert response.status_code == 422
    assert "Enter an amount of at least 0." in response.content.decode()


def test_a_quote_shared_from_its_page_is_visible_to_the_other_team(sales1, sales2):
    quote = make_quote(sales1, title="Geteilt")
    other = browser(sales2)
    assert other.get(f"/quotes/{quote.pk}/").status_code == 404
    page = browser(sales1).get(f"/quotes/{quote.pk}/").content.decode()
    assert 'id="sharing"' in page
    team = sales2.teams.get()
    browser(sales1).post(f"/shares/quote/{quote.pk}/", {"with": f"team:{team.pk}"})
    shown = other.get(f"/quotes/{quote.pk}/")
    assert shown.status_code == 200 and "Geteilt" in shown.content.decode()
    assert other.get(f"/quotes/{quote.pk}/edit/").status_code == 403  # shared to read
    refused = other.post(f"/quotes/{quote.pk}/edit/", {"account": "x", "version": 1})
    assert refused.status_code == 403
    quote.refresh_from_db()
    assert quote.title == "Geteilt"


def test_a_quote_from_a_deal_in_the_form(sales1):
    from tests.factories import make_opportunity

    account, _ = make_customer(sales1)
    deal = make_opportunity(sales1, account=account, name="Halle 3", currency="EUR",
                            lines=[{"description": "Anlage", "quantity": "2", "unit_price": "500"}])  # fmt: skip
    client = browser(sales1)
    assert (
        f"/quotes/new/?opportunity={deal.pk}"
        in client.get(f"/opportunities/{deal.pk}/").content.decode()
    )
    form = client.get(f"/quotes/new/?opportunity={deal.pk}").content.decode()
    assert 'value="Anlage"' in form and 'value="Halle 3"' in form
    response = client.post("/quotes/new/", {
        "account": f"{account.name} [{account.customer_number}]", "opportunity_id": deal.pk,
        "title": "Halle 3", **_line_post(0, "Anlage", "2", "500"),
    })  # fmt: skip
    quote = Quote.objects.get()
    assert response.status_code == 302 and quote.opportunity == deal and quote.net_total == 1000


def test_deleted_quotes_and_orders_are_listed_in_the_trash_and_restored(sales1):
    client = browser(sales1)
    quote = make_quote(sales1, title="Weg damit")
    order = make_order(sales1, erp_reference="ERP-WEG")
    client.post(f"/quotes/{quote.pk}/delete/")
    client.post(f"/orders/{order.pk}/delete/")
    assert "Weg damit" not in client.get("/quotes/").content.decode()
    assert "Weg damit" in client.get("/quotes/?trash=1").content.decode()
    assert "ERP-WEG" not in client.get("/orders/").content.decode()
    assert "ERP-WEG" in client.get("/orders/?trash=1").content.decode()
    assert "This quote is in the trash." in client.get(f"/quotes/{quote.pk}/").content.decode()
    client.post(f"/quotes/{quote.pk}/restore/")
    client.post(f"/orders/{order.pk}/restore/")
    assert "Weg damit" in client.get("/quotes/").content.decode()
    assert "ERP-WEG" in client.get("/orders/").content.decode()
