"""API: the catalogue — /products and /price-lists (read: who may view opportunities;
write: who may administer them)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db.models import prefetch_related_objects
from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import ConfigDict

from farley.core.apiutil import ERRORS, api_page, requested_version
from farley.core.validation import Cleaner
from farley.sales.models import PriceList, Product
from farley.sales.selectors import catalogue as selectors
from farley.sales.services import catalogue as services

router = Router(tags=["catalogue"])


class Strict(Schema):
    model_config = ConfigDict(extra="forbid")


def _plain(payload: Schema) -> dict[str, Any]:
    data = payload.model_dump(exclude_unset=True)
    for key, value in list(data.items()):
        if isinstance(value, Decimal):
            data[key] = str(value)
    for item in data.get("items") or []:
        if isinstance(item.get("unit_price"), Decimal):
            item["unit_price"] = str(item["unit_price"])
    return data


def _active(request: HttpRequest) -> bool | None:
    raw = request.GET.get("active", "")
    if raw == "":
        return None
    c = Cleaner()
    value = c.boolean("active", raw)
    c.raise_if_invalid()
    return value


# --- products -------------------------------------------------------------------------------


class ProductIn(Strict):
    sku: str
    name: str
    description: str = ""
    is_service: bool = False
    unit: str = "piece"
    list_price: Decimal | str
    currency: str = "EUR"
    tax_rate: str = "19"
    active: bool = True


class ProductPatch(Strict):
    sku: str | None = None
    name: str | None = None
    description: str | None = None
    is_service: bool | None = None
    unit: str | None = None
    list_price: Decimal | str | None = None
    currency: str | None = None
    tax_rate: str | None = None
    active: bool | None = None
    version: int | None = None


class ProductOut(Schema):
    id: int
    sku: str
    name: str
    description: str
    is_service: bool
    unit: str
    list_price: str
    currency: str
    tax_rate: str
    active: bool
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


class ProductList(Schema):
    items: list[ProductOut]
    next_cursor: str | None
    limit: int


def product_out(product: Product) -> dict[str, Any]:
    return {
        **{f: getattr(product, f) for f in services.PRODUCT_FIELDS},
        "list_price": str(product.list_price),
        "id": product.pk,
        "version": product.version,
        "created_at": product.created_at,
        "updated_at": product.updated_at,
    }


@router.get(
    "/products",
    response={200: ProductList, **ERRORS},
    description="Filters: `q` (SKU, name, description), `active` (true/false); `limit`, `cursor`.",
)
def list_products(request: HttpRequest, q: str = "", active: str = ""):
    page = api_page(request, selectors.products(request.user, q=q, active=_active(request)),
                    ["name"])  # fmt: skip
    return {"items": [product_out(p) for p in page.items], "next_cursor": page.next_cursor,
            "limit": page.limit}  # fmt: skip


@router.post("/products", response={201: ProductOut, **ERRORS})
def create_product(request: HttpRequest, payload: ProductIn):
    return Status(
        201, product_out(services.product_create(actor=request.user, data=_plain(payload)))
    )


@router.get("/products/{product_id}", response={200: ProductOut, **ERRORS})
def get_product(request: HttpRequest, product_id: int):
    return product_out(selectors.product_detail(request.user, product_id))


@router.patch("/products/{product_id}", response={200: ProductOut, **ERRORS})
def update_product(request: HttpRequest, product_id: int, payload: ProductPatch):
    data = _plain(payload)
    version = requested_version(request, data.pop("version", None))
    product = services.product_update(
        actor=request.user, product_id=product_id, data=data, version=version
    )
    return product_out(product)


@router.delete(
    "/products/{product_id}",
    response={204: None, **ERRORS},
    description="Deactivates the product (quotes and orders keep it).",
)
def delete_product(request: HttpRequest, product_id: int):
    services.product_deactivate(actor=request.user, product_id=product_id)
    return Status(204, None)


# --- price lists ----------------------------------------------------------------------------


class PriceListItemIn(Strict):
    product_id: int
    unit_price: Decimal | str


class PriceListIn(Strict):
    name: str
    currency: str = "EUR"
    customer_group: str = ""
    active: bool = True
    items: list[PriceListItemIn] = []


class PriceListPatch(Strict):
    name: str | None = None
    currency: str | None = None
    customer_group: str | None = None
    active: bool | None = None
    items: list[PriceListItemIn] | None = None
    version: int | None = None


class PriceListItemOut(Schema):
    product_id: int
    sku: str
    product_name: str
    unit_price: str


class PriceListOut(Schema):
    id: int
    name: str
    currency: str
    customer_group: str
    active: bool
    items: list[PriceListItemOut]
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


class PriceListList(Schema):
    items: list[PriceListOut]
    next_cursor: str | None
    limit: int


def price_list_out(price_list: PriceList) -> dict[str, Any]:
    return {
        "id": price_list.pk,
        "name": price_list.name,
        "currency": price_list.currency,
        "customer_group": price_list.customer_group,
        "active": price_list.active,
        "items": [
            {
                "product_id": i.product_id,
                "sku": i.product.sku,
                "product_name": i.product.name,
                "unit_price": str(i.unit_price),
            }
            for i in sorted(price_list.items.all(), key=lambda i: (i.product.name, i.product_id))
        ],
        "version": price_list.version,
        "created_at": price_list.created_at,
        "updated_at": price_list.updated_at,
    }


def _price_list(request: HttpRequest, price_list_id: int) -> dict[str, Any]:
    price_list = selectors.price_list_detail(request.user, price_list_id)
    prefetch_related_objects([price_list], "items__product")
    return price_list_out(price_list)


@router.get(
    "/price-lists",
    response={200: PriceListList, **ERRORS},
    description="Filter: `active` (true/false); `limit`, `cursor`.",
)
def list_price_lists(request: HttpRequest, active: str = ""):
    page = api_page(request, selectors.price_lists(request.user, active=_active(request)), ["name"])
    prefetch_related_objects(page.items, "items__product")
    return {"items": [price_list_out(p) for p in page.items], "next_cursor": page.next_cursor,
            "limit": page.limit}  # fmt: skip


@router.post("/price-lists", response={201: PriceListOut, **ERRORS})
def create_price_list(request: HttpRequest, payload: PriceListIn):
    price_list = services.price_list_create(actor=request.user, data=_plain(payload))
    return Status(201, _price_list(request, price_list.pk))


@router.get("/price-lists/{price_list_id}", response={200: PriceListOut, **ERRORS})
def get_price_list(request: HttpRequest, price_list_id: int):
    return _price_list(request, price_list_id)


@router.patch("/price-lists/{price_list_id}", response={200: PriceListOut, **ERRORS})
def update_price_list(request: HttpRequest, price_list_id: int, payload: PriceListPatch):
    data = _plain(payload)
    version = requested_version(request, data.pop("version", None))
    services.price_list_update(
        actor=request.user, price_list_id=price_list_id, data=data, version=version
    )
    return _price_list(request, price_list_id)


@router.delete(
    "/price-lists/{price_list_id}",
    response={204: None, **ERRORS},
    description="Deactivates the price list (quotes that use it keep it).",
)
def delete_price_list(request: HttpRequest, price_list_id: int):
    services.price_list_deactivate(actor=request.user, price_list_id=price_list_id)
    return Status(204, None)
