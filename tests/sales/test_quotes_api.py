"""The /quotes API: the issue's fixed names, every bad input as a 422 with its field, 409 on
a stale version, the PDF, revise, accept (answers `order_id`), reject, expiry honest in
`status`, visibility, query counts."""

from __future__ import annotations

import io
import json

import pytest
from django.test import Client
from pypdf import PdfReader

from farley.core.services import token_create
from farley.sales.models import Order, Quote, QuoteStatus
from tests.factories import make_account
from tests.sales.quote_factories import (
    expire,
    line,
    make_customer,
    make_price_list,
    make_quote,
    sent_quote,
)

pytestmark = pytest.mark.django_db


def api(user) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {token_create(user=user, name='t')[1]}")


def post(client: Client, path: str, body: dict | None = None):
    return client.post(path, json.dumps(body or {}), content_type="application/json")


def patch(client: Client, path: str, body: dict):
    return client.patch(path, json.dumps(body), content_type="application/json")


def test_create_and_read_a_quote_with_the_fixed_names(sales1):
    account, contact = make_customer(sales1)
    client = api(sales1)
    response = post(client, "/api/v1/quotes", {
        "account_id": account.pk, "contact_id": contact.pk, "currency": "EUR",
        "discount_percent": "5",
        "lines": [
            {"description": "Beratung", "quantity": 2, "unit_price": "100.00",
             "discount_percent": "10", "tax_rate": "19"},
            {"description": "Buch", "quantity": "1", "unit_price": 20, "discount_percent": 0,
             "tax_rate": "7"},
        ],
    })  # fmt: skip
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["number"].startswith("AN-") and body["status"] == "draft"
    assert (body["net_total"], body["tax_total"], body["gross_total"]) == (
        "190.00", "33.82", "223.82",  # 19 % of 171.00 + 7 % of 19.00
    )  # fmt: skip
    assert [x["net_amount"] for x in body["lines"]] == ["180.00", "20.00"]
    assert body["account_id"] == account.pk and body["currency"] == "EUR"
    got = client.get(f"/api/v1/quotes/{body['id']}").json()
    assert got == body


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"lines": [{"description": "x", "quantity": -1, "unit_price": 1}]}, "lines.0.quantity"),
        ({"lines": [{"description": "x", "quantity": 1, "unit_price": "-5"}]}, "lines.0.unit_price"),
        ({"lines": [{"description": "x", "quantity": 1, "unit_price": 5,
                     "discount_percent": 150}]}, "lines.0.discount_percent"),
        ({"lines": [{"description": "x", "quantity": 1, "unit_price": 5, "tax_rate": "16"}]},
         "lines.0.tax_rate"),
        ({"discount_percent": "100.5"}, "discount_percent"),
        ({"currency": "€"}, "currency"),
        ({"lines": [{"description": "x", "quantity": 1, "unit_price": 5, "colour": "red"}]},
         "lines.0.colour"),
    ],
)  # fmt: skip
def test_bad_input_is_a_422_with_the_field_and_nothing_is_written(sales1, change, field):
    account, _ = make_customer(sales1)
    response = post(api(sales1), "/api/v1/quotes", {"account_id": account.pk, **change})
    assert response.status_code == 422, response.content
    assert field in response.json()["error"]["fields"]
    assert Quote.objects.count() == 0


def test_a_price_list_in_another_currency_is_a_422(sales1, admin):
    usd = make_price_list(admin, name="USD", currency="USD")
    account, _ = make_customer(sales1)
    response = post(api(sales1), "/api/v1/quotes",
                    {"account_id": account.pk, "currency": "EUR", "price_list_id": usd.pk})  # fmt: skip
    assert response.status_code == 422
    assert "price_list_id" in response.json()["error"]["fields"]


def test_patch_with_a_stale_version_is_a_409_and_a_sent_quote_is_a_422(sales1):
    quote = make_quote(sales1)
    client = api(sales1)
    ok = patch(client, f"/api/v1/quotes/{quote.pk}", {"title": "Neu", "version": 1})
    assert ok.status_code == 200 and ok.json()["version"] == 2
    stale = patch(client, f"/api/v1/quotes/{quote.pk}", {"title": "Alt", "version": 1})
    assert stale.status_code == 409
    assert stale.json()["error"]["current_version"] == 2
    if_match = client.patch(f"/api/v1/quotes/{quote.pk}", json.dumps({"title": "Alt"}),
                            content_type="application/json", HTTP_IF_MATCH='"1"')  # fmt: skip
    assert if_match.status_code == 409
    sent = sent_quote(sales1)
    refused = patch(client, f"/api/v1/quotes/{sent.pk}", {"title": "Heimlich"})
    assert refused.status_code == 422
    assert "status" in refused.json()["error"]["fields"]
    assert Quote.objects.get(pk=quote.pk).title == "Neu"


def test_revise_accept_and_reject(sales1):
    client = api(sales1)
    quote = sent_quote(sales1, lines=[line("Anlage", "1", "1000")])
    revised = post(client, f"/api/v1/quotes/{quote.pk}/revise")
    assert revised.status_code == 201
    new = revised.json()
    assert (new["number"], new["revision"], new["previous_id"], new["status"]) == (
        quote.number, 2, quote.pk, "draft",
    )  # fmt: skip
    old = client.get(f"/api/v1/quotes/{quote.pk}").json()
    assert old["status"] == "superseded" and old["lines"][0]["description"] == "Anlage"
    Quote.objects.filter(pk=new["id"]).update(status=QuoteStatus.SENT)
    accepted = post(client, f"/api/v1/quotes/{new['id']}/accept")
    assert accepted.status_code == 200, accepted.content
    order_id = accepted.json()["order_id"]
    assert accepted.json()["quote"]["status"] == "accepted"
    assert accepted.json()["quote"]["order_id"] == order_id
    order = client.get(f"/api/v1/orders/{order_id}").json()
    assert order["quote_id"] == new["id"] and order["lines"][0]["description"] == "Anlage"
    other = sent_quote(sales1)
    rejected = post(client, f"/api/v1/quotes/{other.pk}/reject", {"version": other.version})
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"


def test_accepting_an_expired_quote_is_a_422_and_its_status_says_expired(sales1):
    client = api(sales1)
    quote = expire(sent_quote(sales1))
    assert client.get(f"/api/v1/quotes/{quote.pk}").json()["status"] == "expired"
    listed = client.get("/api/v1/quotes?status=expired").json()["items"]
    assert [q["id"] for q in listed] == [quote.pk]
    response = post(client, f"/api/v1/quotes/{quote.pk}/accept")
    assert response.status_code == 422
    assert "expired" in json.dumps(response.json())
    assert Order.objects.count() == 0
    assert Quote.objects.get(pk=quote.pk).status == QuoteStatus.SENT


def test_a_stale_version_on_an_action_is_a_409(sales1):
    quote = sent_quote(sales1)
    response = post(api(sales1), f"/api/v1/quotes/{quote.pk}/accept", {"version": 1})
    assert response.status_code == 409
    assert Order.objects.count() == 0


def test_the_pdf_has_the_number_recipient_lines_and_totals(sales1):
    account, contact = make_customer(sales1)
    quote = make_quote(sales1, account=account, contact_id=contact.pk, language="en",
                       lines=[line("Wartungsvertrag", "12", "1234.50")])  # fmt: skip
    response = api(sales1).get(f"/api/v1/quotes/{quote.pk}/pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
    for expected in (quote.number, "Müller Maschinenbau GmbH", "Erika Mustermann",
                     "Wartungsvertrag", "€14,814.00", "€17,628.66"):  # fmt: skip
        assert expected in text, expected


def test_lists_filter_and_do_not_grow_in_queries(sales1, django_assert_max_num_queries):
    account = make_account(sales1, name="Zimmerei Holzwurm")
    for i in range(6):
        make_quote(sales1, account=account, title=f"Dach {i}",
                   lines=[line(), line("Extra", "2", "5")])  # fmt: skip
    client = api(sales1)
    client.get("/api/v1/quotes")  # warm up the token and the caches
    with django_assert_max_num_queries(12):
        body = client.get("/api/v1/quotes?limit=5").json()
    assert len(body["items"]) == 5 and body["next_cursor"]
    rest = client.get(f"/api/v1/quotes?limit=5&cursor={body['next_cursor']}").json()
    assert len(rest["items"]) == 1
    assert len(client.get("/api/v1/quotes?q=Holzwurm").json()["items"]) == 6
    assert client.get("/api/v1/quotes?colour=red").status_code == 422
    assert client.get("/api/v1/quotes?status=lost").status_code == 422


def test_other_teams_get_404_everywhere(sales1, sales2):
    quote = sent_quote(sales1)
    client = api(sales2)
    for method, path in (
        ("get", ""), ("get", "/pdf"), ("get", "/history"), ("post", "/accept"),
        ("post", "/reject"), ("post", "/revise"), ("delete", ""),
    ):  # fmt: skip
        url = f"/api/v1/quotes/{quote.pk}{path}"
        response = (
            client.get(url)
            if method == "get"
            else getattr(client, method)(url, "{}", content_type="application/json")
        )
        assert response.status_code == 404, (method, path)
    send = post(client, f"/api/v1/quotes/{quote.pk}/send", {"to": "a@example.com"})
    assert send.status_code == 404
    assert client.get("/api/v1/quotes").json()["items"] == []


def test_a_reader_cannot_create_quotes(reader, sales1):
    account, _ = make_customer(sales1)
    response = post(api(reader), "/api/v1/quotes", {"account_id": account.pk})
    assert response.status_code == 403


def test_delete_restore_and_history(sales1):
    client = api(sales1)
    quote = make_quote(sales1)
    assert client.delete(f"/api/v1/quotes/{quote.pk}").status_code == 204
    assert client.get(f"/api/v1/quotes/{quote.pk}").status_code == 404
    restored = post(client, f"/api/v1/quotes/{quote.pk}/restore")
    assert restored.status_code == 200 and restored.json()["deleted_at"] is None
    actions = [c["action"] for c in client.get(f"/api/v1/quotes/{quote.pk}/history").json()]
    assert actions == ["restore", "delete", "create"]
