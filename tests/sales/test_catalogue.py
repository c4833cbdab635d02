"""The catalogue: products (unique SKU, price ≥ 0, tax rate from TaxRate) and price lists
(prices ≥ 0, one per product), administered by who may administer deals, read by who may
view them; API with 409 on stale versions; DELETE deactivates."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.test import Client

from farley.core.errors import Conflict, Forbidden, ValidationFailed
from farley.core.models import ChangeRecord
from farley.core.services import token_create
from farley.sales.models import PriceList, Product
from farley.sales.services import catalogue
from tests.sales.quote_factories import make_price_list, make_product

pytestmark = pytest.mark.django_db


def api(user) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {token_create(user=user, name='t')[1]}")


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"list_price": "-0.01"}, "list_price"),
        ({"list_price": "viel"}, "list_price"),
        ({"tax_rate": "16"}, "tax_rate"),
        ({"unit": "bucket"}, "unit"),
        ({"currency": "EURO"}, "currency"),
        ({"sku": ""}, "sku"),
        ({"name": ""}, "name"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_products_are_refused(admin, data, field):
    with pytest.raises(ValidationFailed) as exc:
        make_product(admin, **data)
    assert field in exc.value.fields
    assert Product.objects.count() == 0


def test_the_sku_is_unique_ignoring_case(admin):
    make_product(admin, sku="ABC-1")
    with pytest.raises(ValidationFailed) as exc:
        make_product(admin, sku="abc-1")
    assert "sku" in exc.value.fields


def test_only_administrators_of_deals_change_the_catalogue(sales1, manager, admin):
    for user in (sales1, manager):
        with pytest.raises(Forbidden):
            make_product(user)
        with pytest.raises(Forbidden):
            make_price_list(user)
    product = make_product(admin, sku="P-1", list_price="12.5", tax_rate="7", unit="hour")
    assert (product.list_price, product.tax_rate, product.unit) == (Decimal("12.50"), "7", "hour")
    assert ChangeRecord.objects.filter(entity="product", object_id=product.pk).count() == 1


def test_updates_check_the_version(admin):
    product = make_product(admin)
    catalogue.product_update(actor=admin, product_id=product.pk, data={"name": "Neu"}, version=1)
    with pytest.raises(Conflict):
        catalogue.product_update(actor=admin, product_id=product.pk, data={"name": "X"}, version=1)
    assert Product.objects.get(pk=product.pk).name == "Neu"


def test_price_lists_validate_their_items(admin):
    product = make_product(admin)
    for items, field in (
        ([{"product_id": product.pk, "unit_price": "-1"}], "items.0.unit_price"),
        ([{"product_id": 99999, "unit_price": "1"}], "items.0.product_id"),
        ([{"product_id": product.pk, "unit_price": "1"},
          {"product_id": product.pk, "unit_price": "2"}], "items.1.product_id"),
        ([{"unit_price": "1"}], "items.0.product_id"),
    ):  # fmt: skip
        with pytest.raises(ValidationFailed) as exc:
            make_price_list(admin, items=items)
        assert field in exc.value.fields
    assert PriceList.objects.count() == 0
    price_list = make_price_list(admin, name="Händler", customer_group="Händler", currency="CHF",
                                 items=[{"product_id": product.pk, "unit_price": "80"}])  # fmt: skip
    assert price_list.items.get().unit_price == Decimal("80.00")
    with pytest.raises(ValidationFailed) as exc:
        make_price_list(admin, name="händler")
    assert "name" in exc.value.fields


def test_the_products_api(admin, sales1):
    client = api(admin)
    created = client.post("/api/v1/products", json.dumps({
        "sku": "LIC-1", "name": "Lizenz", "list_price": "99.90", "tax_rate": "19",
        "unit": "license", "is_service": False,
    }), content_type="application/json")  # fmt: skip
    assert created.status_code == 201, created.content
    product = created.json()
    assert product["list_price"] == "99.90" and product["version"] == 1
    url = f"/api/v1/products/{product['id']}"
    assert client.patch(url, json.dumps({"list_price": "89", "version": 1}),
                        content_type="application/json").json()["list_price"] == "89.00"  # fmt: skip
    stale = client.patch(url, json.dumps({"name": "x", "version": 1}),
                         content_type="application/json")  # fmt: skip
    assert stale.status_code == 409
    negative = client.post("/api/v1/products", json.dumps({
        "sku": "X", "name": "X", "list_price": -5}), content_type="application/json")  # fmt: skip
    assert negative.status_code == 422 and "list_price" in negative.json()["error"]["fields"]
    unknown_tax = client.post("/api/v1/products", json.dumps({
        "sku": "Y", "name": "Y", "list_price": 5, "tax_rate": "16"}), content_type="application/json")  # fmt: skip
    assert unknown_tax.status_code == 422 and "tax_rate" in unknown_tax.json()["error"]["fields"]
    reading = api(sales1)
    assert reading.get("/api/v1/products?q=lizenz").json()["items"][0]["sku"] == "LIC-1"
    assert reading.post("/api/v1/products", json.dumps({"sku": "Z", "name": "Z", "list_price": 1}),
                        content_type="application/json").status_code == 403  # fmt: skip
    assert client.delete(url).status_code == 204
    assert reading.get("/api/v1/products?active=true").json()["items"] == []
    assert reading.get("/api/v1/products?active=false").json()["items"][0]["active"] is False


def test_the_price_lists_api(admin, sales1, django_assert_max_num_queries):
    products = [make_product(admin) for _ in range(3)]
    client = api(admin)
    created = client.post("/api/v1/price-lists", json.dumps({
        "name": "Großhandel", "currency": "EUR", "customer_group": "Großhandel",
        "items": [{"product_id": p.pk, "unit_price": "50"} for p in products],
    }), content_type="application/json")  # fmt: skip
    assert created.status_code == 201, created.content
    body = created.json()
    assert len(body["items"]) == 3 and body["items"][0]["unit_price"] == "50.00"
    url = f"/api/v1/price-lists/{body['id']}"
    changed = client.patch(url, json.dumps({
        "items": [{"product_id": products[0].pk, "unit_price": "45"}], "version": 1,
    }), content_type="application/json")  # fmt: skip
    assert [i["unit_price"] for i in changed.json()["items"]] == ["45.00"]
    assert client.patch(url, json.dumps({"name": "X", "version": 1}),
                        content_type="application/json").status_code == 409  # fmt: skip
    bad = client.patch(url, json.dumps({"items": [{"product_id": products[0].pk,
                                                   "unit_price": "-1"}]}),
                       content_type="application/json")  # fmt: skip
    assert bad.status_code == 422 and "items.0.unit_price" in bad.json()["error"]["fields"]
    make_price_list(admin, name="Zweite", items=[{"product_id": products[1].pk, "unit_price": 1}])
    reading = api(sales1)
    reading.get("/api/v1/price-lists")
    with django_assert_max_num_queries(8):
        assert len(reading.get("/api/v1/price-lists").json()["items"]) == 2
