"""Pages: the catalogue — products and services, price lists (everyone who may view
opportunities reads them; who may administer opportunities changes them)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _

from farley.core.errors import Conflict, ValidationFailed
from farley.sales.models import PriceList, Product, ProductUnit, TaxRate
from farley.sales.selectors import catalogue as selectors
from farley.sales.services import catalogue as services
from farley.web.formdata import rows, simple

PAGE_SIZE = 100


def _conflict_message() -> str:
    return _(
        "Someone else saved this while you were editing it. Your input is still here; saving "
        "again replaces their changes."
    )


def _common(request: HttpRequest) -> dict[str, Any]:
    return {"nav": "products", "may_administer": services.may_administer(request.user)}


@login_required
def product_list(request: HttpRequest) -> HttpResponse:
    active = {"1": True, "0": False}.get(request.GET.get("active", "1"))
    q = request.GET.get("q", "")[:100]
    products = list(selectors.products(request.user, q=q, active=active)[: PAGE_SIZE + 1])
    return render(
        request,
        "sales/catalogue/product_list.html",
        {
            **_common(request),
            "products": products[:PAGE_SIZE],
            "more": len(products) > PAGE_SIZE,
            "q": q,
            "active": request.GET.get("active", "1"),
        },
    )


def _product_form(request: HttpRequest, product: Product | None) -> HttpResponse:
    services.require_catalogue_admin(request.user)
    fields = [f for f in services.PRODUCT_FIELDS if f not in ("is_service", "active")]
    if product is None:
        values: dict[str, Any] = {"unit": "piece", "currency": "EUR", "tax_rate": "19",
                                  "active": True}  # fmt: skip
    else:
        values = services.product_snapshot(product)
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        data = simple(request.POST, fields)
        data["is_service"] = "is_service" in request.POST
        data["active"] = "active" in request.POST
        try:
            if product is None:
                product = services.product_create(actor=request.user, data=data)
            else:
                services.product_update(
                    actor=request.user, product_id=product.pk, data=data,
                    version=request.POST.get("version"),
                )  # fmt: skip
        except ValidationFailed as exc:
            errors, status = exc.fields, 422
        except Conflict:
            errors, status = {"": [_conflict_message()]}, 409
            product.refresh_from_db()
        else:
            messages.success(request, _("Saved."))
            return redirect("sales:product_list")
        values = data
    return render(
        request,
        "sales/catalogue/product_form.html",
        {
            **_common(request),
            "product": product,
            "values": values,
            "errors": errors,
            "units": ProductUnit.choices,
            "tax_rates": TaxRate.choices,
        },
        status=status,
    )


@login_required
def product_create(request: HttpRequest) -> HttpResponse:
    return _product_form(request, None)


@login_required
def product_edit(request: HttpRequest, product_id: int) -> HttpResponse:
    return _product_form(request, selectors.product_detail(request.user, product_id))


@login_required
def price_list_list(request: HttpRequest) -> HttpResponse:
    active = {"1": True, "0": False}.get(request.GET.get("active", ""))
    return render(
        request,
        "sales/catalogue/price_list_list.html",
        {
            **_common(request),
            "price_lists": selectors.price_lists(request.user, active=active),
            "active": request.GET.get("active", ""),
        },
    )


@login_required
def price_list_detail(request: HttpRequest, price_list_id: int) -> HttpResponse:
    price_list = selectors.price_list_detail(request.user, price_list_id)
    return render(
        request,
        "sales/catalogue/price_list_detail.html",
        {
            **_common(request),
            "price_list": price_list,
            "items": selectors.price_list_items(price_list),
        },
    )


def _price_list_form(request: HttpRequest, price_list: PriceList | None) -> HttpResponse:
    services.require_catalogue_admin(request.user)
    if price_list is None:
        values: dict[str, Any] = {"currency": "EUR", "active": True, "items": [{}]}
    else:
        values = {f: getattr(price_list, f) for f in ("name", "currency", "customer_group",
                                                      "active")}  # fmt: skip
        values["items"] = [
            {"product_id": i.product_id, "unit_price": i.unit_price}
            for i in selectors.price_list_items(price_list)
        ]
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        data = simple(request.POST, ["name", "currency", "customer_group"])
        data["active"] = "active" in request.POST
        data["items"] = rows(request.POST, "items", "product_id,unit_price")
        try:
            if price_list is None:
                price_list = services.price_list_create(actor=request.user, data=data)
            else:
                services.price_list_update(
                    actor=request.user, price_list_id=price_list.pk, data=data,
                    version=request.POST.get("version"),
                )  # fmt: skip
        except ValidationFailed as exc:
            errors, status = exc.fields, 422
        except Conflict:
            errors, status = {"": [_conflict_message()]}, 409
            price_list.refresh_from_db()
        else:
            messages.success(request, _("Saved."))
            return redirect("sales:price_list_detail", price_list.pk)
        values = data
    keep = [int(i["product_id"]) for i in values["items"] if str(i.get("product_id", "")).isdigit()]
    return render(
        request,
        "sales/catalogue/price_list_form.html",
        {
            **_common(request),
            "price_list": price_list,
            "values": values,
            "errors": errors,
            "products": selectors.product_choices(request.user, keep=keep),
        },
        status=status,
    )


@login_required
def price_list_create(request: HttpRequest) -> HttpResponse:
    return _price_list_form(request, None)


@login_required
def price_list_edit(request: HttpRequest, price_list_id: int) -> HttpResponse:
    return _price_list_form(request, selectors.price_list_detail(request.user, price_list_id))


urlpatterns = [
    path("products/", product_list, name="product_list"),
    path("products/new/", product_create, name="product_create"),
    path("products/<int:product_id>/edit/", product_edit, name="product_edit"),
    path("price-lists/", price_list_list, name="price_list_list"),
    path("price-lists/new/", price_list_create, name="price_list_create"),
    path("price-lists/<int:price_list_id>/", price_list_detail, name="price_list_detail"),
    path("price-lists/<int:price_list_id>/edit/", price_list_edit, name="price_list_edit"),
]
