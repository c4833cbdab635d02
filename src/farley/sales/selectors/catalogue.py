"""Reads of the catalogue (products, price lists) and the prices a quote line gets.

Everyone who may view opportunities reads the catalogue; it holds no customer data.
"""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Count, Q, QuerySet

from farley.core import permissions
from farley.core.errors import NotFound
from farley.core.models import User
from farley.sales.models import PriceList, PriceListItem, Product


def require_catalogue_read(user: User) -> None:
    permissions.require(user, "view", "opportunity")


def products(user: User, *, q: str = "", active: bool | None = None) -> QuerySet[Product]:
    """Products by name; ``q`` matches SKU, name or description."""
    require_catalogue_read(user)
    queryset = Product.objects.all()
    q = (q or "").strip()
    if q:
        queryset = queryset.filter(
            Q(sku__icontains=q) | Q(name__icontains=q) | Q(description__icontains=q)
        )
    if active is not None:
        queryset = queryset.filter(active=active)
    return queryset.order_by("name", "id")


def product_detail(user: User, product_id: int) -> Product:
    require_catalogue_read(user)
    product = Product.objects.filter(pk=product_id).first()
    if product is None:
        raise NotFound()
    return product


def product_choices(user: User, *, keep: list[int] | None = None) -> list[Product]:
    """Products to pick on a quote or order line: the active ones, and those already used."""
    if not permissions.can(user, "view", "opportunity"):
        return []
    return list(
        Product.objects.filter(Q(active=True) | Q(pk__in=keep or [])).order_by("name", "id")
    )


def price_lists(user: User, *, active: bool | None = None) -> QuerySet[PriceList]:
    require_catalogue_read(user)
    queryset = PriceList.objects.annotate(item_count=Count("items"))
    if active is not None:
        queryset = queryset.filter(active=active)
    return queryset.order_by("name", "id")


def price_list_detail(user: User, price_list_id: int) -> PriceList:
    require_catalogue_read(user)
    price_list = PriceList.objects.filter(pk=price_list_id).first()
    if price_list is None:
        raise NotFound()
    return price_list


def price_list_items(price_list: PriceList) -> list[PriceListItem]:
    return list(
        price_list.items.select_related("product").order_by("product__name", "product__sku")
    )


def price_list_choices(user: User, *, keep: int | None = None) -> list[PriceList]:
    if not permissions.can(user, "view", "opportunity"):
        return []
    return list(PriceList.objects.filter(Q(active=True) | Q(pk=keep)).order_by("name"))


def prices_in(price_list: PriceList | None, product_ids: list[int]) -> dict[int, Decimal]:
    """The price list's unit price of each of ``product_ids`` it names."""
    if price_list is None or not product_ids:
        return {}
    return dict(
        PriceListItem.objects.filter(price_list=price_list, product_id__in=product_ids).values_list(
            "product_id", "unit_price"
        )
    )


def price_list_for_group(tag_names: list[str], currency: str) -> PriceList | None:
    """The active price list in ``currency`` whose customer group is one of an account's
    tags (case-insensitive), first by name: the customer group of an account is a tag."""
    groups = [name.casefold() for name in tag_names if name]
    if not groups:
        return None
    candidates = PriceList.objects.filter(active=True, currency=currency).exclude(customer_group="")
    for price_list in candidates.order_by("name", "id"):
        if price_list.customer_group.casefold() in groups:
            return price_list
    return None
