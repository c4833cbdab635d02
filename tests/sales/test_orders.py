"""Orders: direct creation with numbers per year, status transitions, dates and ERP
reference, lines only while open, 409, search ("fast order info"), the API, visibility."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.test import Client

from farley.core.errors import Conflict, NotFound, ValidationFailed
from farley.core.search import search
from farley.core.services import token_create
from farley.sales.models import Order, OrderStatus
from farley.sales.selectors.orders import open_orders_of, order_list
from farley.sales.services import orders
from tests.factories import make_account
from tests.sales.quote_factories import line, make_customer, make_order

pytestmark = pytest.mark.django_db


def api(user) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {token_create(user=user, name='t')[1]}")


def test_a_direct_order_gets_its_number_totals_and_history(sales1):
    account, contact = make_customer(sales1)
    order = make_order(
        sales1, account=account, contact_id=contact.pk, order_date="2025-03-01",
        erp_reference="SAP-100", lines=[line("Teil", "4", "2.50"), line("Buch", "1", "10", tax_rate="7")],
    )  # fmt: skip
    assert order.number == "AU-2025-00001" and order.status == OrderStatus.OPEN
    assert (order.net_total, order.tax_total, order.gross_total) == (
        Decimal("20.00"), Decimal("2.60"), Decimal("22.60"),
    )  # fmt: skip
    assert make_order(sales1, account=account, order_date="2025-07-01").number == "AU-2025-00002"
    assert make_order(sales1, account=account, order_date="2026-01-02").number == "AU-2026-00001"


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        (["confirmed", "delivered", "invoiced", "paid"], True),
        (["cancelled", "open", "confirmed"], True),
        (["confirmed", "cancelled"], True),
        (["paid"], False),
        (["confirmed", "delivered", "cancelled"], False),
        (["confirmed", "delivered", "invoiced", "paid", "open"], False),
    ],
)
def test_status_moves_only_along_the_allowed_transitions(sales1, path, allowed):
    order = make_order(sales1)
    try:
        for status in path:
            order = orders.order_set_status(actor=sales1, order_id=order.pk, status=status)
    except ValidationFailed as exc:
        assert not allowed and "status" in exc.fields
    else:
        assert allowed and order.status == path[-1]


def test_lines_and_prices_change_only_while_open(sales1):
    order = make_order(sales1)
    orders.order_update(actor=sales1, order_id=order.pk, data={"lines": [line("Neu", "2", "5")]})
    order.refresh_from_db()
    assert order.net_total == Decimal("10.00")
    orders.order_set_status(actor=sales1, order_id=order.pk, status="confirmed")
    with pytest.raises(ValidationFailed) as exc:
        orders.order_update(actor=sales1, order_id=order.pk, data={"lines": [line("X", "1", "1")]})
    assert "lines" in exc.value.fields
    changed = orders.order_update(actor=sales1, order_id=order.pk,
                                  data={"erp_reference": "SAP-7", "delivery_date": "2030-05-01"})  # fmt: skip
    assert changed.erp_reference == "SAP-7" and changed.net_total == Decimal("10.00")


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"lines": [line(quantity="-3")]}, "lines.0.quantity"),
        ({"lines": [line(unit_price="-1")]}, "lines.0.unit_price"),
        ({"lines": [line(discount_percent="101")]}, "lines.0.discount_percent"),
        ({"lines": [line(tax_rate="99")]}, "lines.0.tax_rate"),
        ({"status": "shipped"}, "status"),
        ({"order_date": "2025-05-10", "delivery_date": "2025-05-01"}, "delivery_date"),
        ({"erp_reference": "x" * 61}, "erp_reference"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(sales1, data, field):
    account, _ = make_customer(sales1)
    with pytest.raises(ValidationFailed) as exc:
        orders.order_create(actor=sales1, data={"account_id": account.pk, **data})
    assert field in exc.value.fields
    assert Order.objects.count() == 0


def test_a_stale_version_is_a_conflict(sales1):
    order = make_order(sales1)
    orders.order_update(actor=sales1, order_id=order.pk, data={"notes": "a"}, version=1)
    with pytest.raises(Conflict):
        orders.order_update(actor=sales1, order_id=order.pk, data={"notes": "b"}, version=1)
    order.refresh_from_db()
    assert order.notes == "a"


def test_open_orders_of_an_account_and_search_by_number_erp_and_account(sales1, sales2):
    account = make_account(sales1, name="Schreinerei Eiche")
    first = make_order(sales1, account=account, erp_reference="SAP-4711")
    paid = make_order(sales1, account=account)
    for status in ("confirmed", "delivered", "invoiced", "paid"):
        orders.order_set_status(actor=sales1, order_id=paid.pk, status=status)
    assert open_orders_of(sales1, account) == [first]
    assert [o.pk for o in order_list(sales1, {"open": "true"})] == [first.pk]
    for query in (first.number, "SAP-4711", "Schreinerei"):
        assert ("order", first.pk) in [(h.entity, h.object_id) for h in search(sales1, query)]
    assert search(sales2, "SAP-4711") == []
    with pytest.raises(NotFound):
        orders.order_update(actor=sales2, order_id=first.pk, data={"notes": "x"})


def test_the_orders_api(sales1, sales2):
    account, _ = make_customer(sales1)
    client = api(sales1)
    created = client.post("/api/v1/orders", json.dumps({
        "account_id": account.pk, "erp_reference": "ERP-9",
        "lines": [{"description": "Teil", "quantity": 2, "unit_price": "7.50", "tax_rate": "19"}],
    }), content_type="application/json")  # fmt: skip
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["status"], body["next_statuses"], body["gross_total"]) == (
        "open", ["confirmed", "cancelled"], "17.85",
    )  # fmt: skip
    url = f"/api/v1/orders/{body['id']}"
    moved = client.patch(url, json.dumps({"status": "confirmed", "version": 1}),
                         content_type="application/json")  # fmt: skip
    assert moved.status_code == 200 and moved.json()["status"] == "confirmed"
    stale = client.patch(url, json.dumps({"status": "delivered", "version": 1}),
                         content_type="application/json")  # fmt: skip
    assert stale.status_code == 409
    jump = client.patch(url, json.dumps({"status": "paid"}), content_type="application/json")
    assert jump.status_code == 422 and "status" in jump.json()["error"]["fields"]
    bad = client.post("/api/v1/orders", json.dumps({"account_id": account.pk, "lines": [
        {"description": "x", "quantity": -1, "unit_price": 1}]}), content_type="application/json")  # fmt: skip
    assert bad.status_code == 422 and "lines.0.quantity" in bad.json()["error"]["fields"]
    assert [o["id"] for o in client.get("/api/v1/orders?open=true").json()["items"]] == [body["id"]]
    assert client.get(f"/api/v1/orders?q={body['number']}").json()["items"][0]["id"] == body["id"]
    assert api(sales2).get(url).status_code == 404
    assert client.delete(url).status_code == 204
    assert client.get(url).status_code == 404
    assert client.post(f"{url}/restore").status_code == 200
    history = client.get(f"{url}/history").json()
    assert [c["action"] for c in history] == ["restore", "delete", "update", "create"]


def test_the_orders_list_does_not_grow_in_queries(sales1, django_assert_max_num_queries):
    account, _ = make_customer(sales1)
    for _i in range(6):
        make_order(sales1, account=account, lines=[line(), line("B")])
    client = api(sales1)
    client.get("/api/v1/orders")
    with django_assert_max_num_queries(12):
        assert len(client.get("/api/v1/orders").json()["items"]) == 6
