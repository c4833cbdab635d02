"""Writes of the catalogue: products and services, price lists with their prices.

The catalogue is configuration: only users with *administer* on opportunities change it
(administrators by default); everyone who may view opportunities reads it. Nothing is ever
deleted (quotes and orders keep pointing at their products): "delete" deactivates.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from farley.core import history, permissions
from farley.core.errors import NotFound, ValidationFailed
from farley.core.models import ChangeAction, User
from farley.core.validation import Cleaner, check_version
from farley.sales.models import PriceList, PriceListItem, Product, ProductUnit, TaxRate

PRODUCT_FIELDS = [
    "sku",
    "name",
    "description",
    "is_service",
    "unit",
    "list_price",
    "currency",
    "tax_rate",
    "active",
]
PRICE_LIST_FIELDS = ["name", "currency", "customer_group", "active", "items"]
MAX_PRICE_LIST_ITEMS = 5000
ZERO = Decimal("0")


def require_catalogue_admin(actor: User) -> None:
    """Products and price lists are configuration of the sales process."""
    permissions.require(actor, "administer", "opportunity")


def may_administer(actor: User) -> bool:
    return permissions.can(actor, "administer", "opportunity")


def clean_currency(c: Cleaner, field: str, value: Any, *, default: str = "EUR") -> str:
    """A three-letter ISO 4217 code in capitals; empty means ``default``."""
    currency = c.text(field, value if value not in (None, "") else default, max_length=3).upper()
    if len(currency) != 3 or not currency.isascii() or not currency.isalpha():
        c.add(field, _("Enter a three-letter currency code, e.g. EUR."))
        return default
    return currency


def clean_tax_rate(c: Cleaner, field: str, value: Any, *, default: str | None = None) -> str:
    if value in (None, "") and default is not None:
        return default
    if not isinstance(value, str) or value not in TaxRate.values:
        c.add(
            field,
            _("Choose one of the tax rates %(rates)s.") % {"rates": ", ".join(TaxRate.values)},
        )
        return TaxRate.STANDARD
    return value


def clean_money(
    c: Cleaner, field: str, value: Any, *, required: bool = False, default: Decimal | None = None
) -> Decimal | None:
    """An amount of money ≥ 0 with two places."""
    if value in (None, ""):
        if required:
            c.add(field, _("This field is required."))
        return default
    amount = c.decimal(field, value, max_digits=16, places=2)
    if amount is not None and amount < 0:
        c.add(field, _("Enter an amount of at least 0."))
        return None
    return amount


def _reject_unknown(c: Cleaner, data: dict[str, Any], allowed: list[str]) -> None:
    for key in data:
        if key not in allowed:
            c.add(key, _("Unknown field."))


# --- products -------------------------------------------------------------------------------


def product_snapshot(product: Product) -> dict[str, Any]:
    return {f: getattr(product, f) for f in PRODUCT_FIELDS}


def _clean_product(data: Any, product: Product | None) -> tuple[dict[str, Any], Cleaner]:
    if not isinstance(data, dict):
        raise ValidationFailed({"": [_("Expected an object.")]})
    c = Cleaner()
    _reject_unknown(c, data, PRODUCT_FIELDS)
    creating = product is None
    values: dict[str, Any] = {}

    def has(key: str) -> bool:
        return creating or key in data

    if has("sku"):
        sku = c.text("sku", data.get("sku"), max_length=40, required=True)
        duplicate = Product.objects.filter(sku__iexact=sku)
        if product is not None:
            duplicate = duplicate.exclude(pk=product.pk)
        if sku and duplicate.exists():
            c.add("sku", _("Another product has this SKU."))
        values["sku"] = sku
    if has("name"):
        values["name"] = c.text("name", data.get("name"), max_length=200, required=True)
    if has("description"):
        values["description"] = c.text("description", data.get("description"), max_length=5000)
    if has("is_service"):
        values["is_service"] = c.boolean("is_service", data.get("is_service"))
    if has("unit"):
        values["unit"] = (
            c.choice("unit", data.get("unit") or ProductUnit.PIECE, ProductUnit.choices)
            or ProductUnit.PIECE
        )
    if has("list_price"):
        values["list_price"] = clean_money(c, "list_price", data.get("list_price"), required=True)
    if has("currency"):
        values["currency"] = clean_currency(c, "currency", data.get("currency"))
    if has("tax_rate"):
        values["tax_rate"] = clean_tax_rate(
            c, "tax_rate", data.get("tax_rate"), default=TaxRate.STANDARD
        )
    if has("active"):
        values["active"] = c.boolean("active", data.get("active", True))
    return values, c


def _save_unique(record: Any, field: str) -> None:
    """Save; the unique constraint (not the check before it) decides a race."""
    try:
        with transaction.atomic():
            record.save()
    except IntegrityError:
        raise ValidationFailed({field: [_("Another record has this value.")]}) from None


def product_create(*, actor: User, data: dict[str, Any]) -> Product:
    """Add a product or service to the catalogue."""
    require_catalogue_admin(actor)
    values, c = _clean_product(data, None)
    c.raise_if_invalid()
    with transaction.atomic():
        now = timezone.now()
        product = Product(**values, created_at=now, updated_at=now)
        _save_unique(product, "sku")
        history.record_change(
            entity="product", object_id=product.pk, action=ChangeAction.CREATE, actor=actor,
            after=product_snapshot(product),
        )  # fmt: skip
    return product


def product_update(
    *, actor: User, product_id: int, data: dict[str, Any], version: Any = None
) -> Product:
    """Change a product; ``version`` must be the one read (else 409). Prices already on
    quotes and orders stay as they were."""
    require_catalogue_admin(actor)
    with transaction.atomic():
        product = Product.objects.select_for_update().filter(pk=product_id).first()
        if product is None:
            raise NotFound()
        check_version(product, version if version is not None else data.get("version"))
        data = {k: v for k, v in data.items() if k != "version"}
        values, c = _clean_product(data, product)
        c.raise_if_invalid()
        before = product_snapshot(product)
        for key, value in values.items():
            setattr(product, key, value)
        after = product_snapshot(product)
        if history.diff(before, after):
            product.version += 1
            product.updated_at = timezone.now()
            _save_unique(product, "sku")
            history.record_change(
                entity="product", object_id=product.pk, action=ChangeAction.UPDATE,
                actor=actor, before=before, after=after,
            )  # fmt: skip
    return product


def product_deactivate(*, actor: User, product_id: int) -> Product:
    """Take a product out of the catalogue (quotes and orders keep it)."""
    return product_update(actor=actor, product_id=product_id, data={"active": False})


# --- price lists ----------------------------------------------------------------------------


def price_list_snapshot(price_list: PriceList) -> dict[str, Any]:
    snap = {f: getattr(price_list, f) for f in PRICE_LIST_FIELDS if f != "items"}
    snap["items"] = [
        f"{item.product.sku}: {item.unit_price}"
        for item in price_list.items.select_related("product").order_by("product__sku")
    ]
    return snap


def _clean_items(c: Cleaner, value: Any) -> list[dict[str, Any]]:
    if value in (None, ""):
        return []
    if not isinstance(value, list) or any(not isinstance(item, dict) for item in value):
        c.add("items", _("Enter a list of objects."))
        return []
    if len(value) > MAX_PRICE_LIST_ITEMS:
        c.add("items", _("At most %(max)d entries are allowed.") % {"max": MAX_PRICE_LIST_ITEMS})
        return []
    wanted: list[tuple[int, int, Any]] = []
    for index, item in enumerate(value):
        for key in item:
            if key not in ("product_id", "unit_price"):
                c.add(f"items.{index}.{key}", _("Unknown field."))
        pk = c.integer(
            f"items.{index}.product_id", item.get("product_id"), minimum=1, maximum=2**63 - 1
        )
        if item.get("product_id") in (None, ""):
            c.add(f"items.{index}.product_id", _("This field is required."))
        price = clean_money(c, f"items.{index}.unit_price", item.get("unit_price"), required=True)
        if pk is not None:
            wanted.append((index, pk, price))
    products = Product.objects.in_bulk([pk for _i, pk, _p in wanted])
    items, seen = [], set()
    for index, pk, price in wanted:
        if pk not in products:
            c.add(f"items.{index}.product_id", _("Select a product of the catalogue."))
        elif pk in seen:
            c.add(f"items.{index}.product_id", _("This product is in the list twice."))
        else:
            seen.add(pk)
            items.append({"product": products[pk], "unit_price": price})
    return items


def _clean_price_list(
    data: Any, price_list: PriceList | None
) -> tuple[dict[str, Any], list[dict[str, Any]] | None, Cleaner]:
    if not isinstance(data, dict):
        raise ValidationFailed({"": [_("Expected an object.")]})
    c = Cleaner()
    _reject_unknown(c, data, PRICE_LIST_FIELDS)
    creating = price_list is None
    values: dict[str, Any] = {}

    def has(key: str) -> bool:
        return creating or key in data

    if has("name"):
        name = c.text("name", data.get("name"), max_length=120, required=True)
        duplicate = PriceList.objects.filter(name__iexact=name)
        if price_list is not None:
            duplicate = duplicate.exclude(pk=price_list.pk)
        if name and duplicate.exists():
            c.add("name", _("Another price list has this name."))
        values["name"] = name
    if has("currency"):
        values["currency"] = clean_currency(c, "currency", data.get("currency"))
    if has("customer_group"):
        values["customer_group"] = c.text(
            "customer_group", data.get("customer_group"), max_length=60
        )
    if has("active"):
        values["active"] = c.boolean("active", data.get("active", True))
    items = _clean_items(c, data.get("items")) if has("items") else None
    return values, items, c


def _replace_items(price_list: PriceList, items: list[dict[str, Any]] | None) -> None:
    if items is None:
        return
    price_list.items.all().delete()
    PriceListItem.objects.bulk_create(PriceListItem(price_list=price_list, **i) for i in items)


def price_list_create(*, actor: User, data: dict[str, Any]) -> PriceList:
    """A price list: prices per product in one currency, for a customer group."""
    require_catalogue_admin(actor)
    values, items, c = _clean_price_list(data, None)
    c.raise_if_invalid()
    with transaction.atomic():
        now = timezone.now()
        price_list = PriceList(**values, created_at=now, updated_at=now)
        _save_unique(price_list, "name")
        _replace_items(price_list, items)
        history.record_change(
            entity="price_list", object_id=price_list.pk, action=ChangeAction.CREATE,
            actor=actor, after=price_list_snapshot(price_list),
        )  # fmt: skip
    return price_list


def price_list_update(
    *, actor: User, price_list_id: int, data: dict[str, Any], version: Any = None
) -> PriceList:
    """Change a price list; ``items``, when given, replace all its prices."""
    require_catalogue_admin(actor)
    with transaction.atomic():
        price_list = PriceList.objects.select_for_update().filter(pk=price_list_id).first()
        if price_list is None:
            raise NotFound()
        check_version(price_list, version if version is not None else data.get("version"))
        data = {k: v for k, v in data.items() if k != "version"}
        values, items, c = _clean_price_list(data, price_list)
        c.raise_if_invalid()
        before = price_list_snapshot(price_list)
        for key, value in values.items():
            setattr(price_list, key, value)
        _replace_items(price_list, items)
        after = price_list_snapshot(price_list)
        if history.diff(before, after):
            price_list.version += 1
            price_list.updated_at = timezone.now()
            _save_unique(price_list, "name")
            history.record_change(
                entity="price_list", object_id=price_list.pk, action=ChangeAction.UPDATE,
                actor=actor, before=before, after=after,
            )  # fmt: skip
    return price_list


def price_list_deactivate(*, actor: User, price_list_id: int) -> PriceList:
    """Stop offering a price list for new quotes (quotes that use it keep it)."""
    return price_list_update(actor=actor, price_list_id=price_list_id, data={"active": False})
