"""What quotes and orders share: their line items (validated, priced from the catalogue,
totalled with :mod:`farley.sales.money`), the document discount, and the account, contact
and opportunity they are for."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db import models
from django.utils.translation import gettext as _

from farley.contacts import selectors as contact_selectors
from farley.contacts.models import Account, Contact, ContactAccountLink
from farley.core import entities, permissions
from farley.core.models import User
from farley.core.validation import Cleaner
from farley.core.visibility import visibility_q, visible_records
from farley.sales import money
from farley.sales.models import LineBase, Opportunity, PriceList, Product, ProductUnit, TaxRate
from farley.sales.selectors.catalogue import prices_in
from farley.sales.services.catalogue import clean_money, clean_tax_rate

LINE_FIELDS = (
    "product_id",
    "description",
    "quantity",
    "unit",
    "unit_price",
    "discount_percent",
    "discount_amount",
    "tax_rate",
)
# Copied from line to line (quote → revision, quote → order, opportunity → quote).
LINE_COPY = (
    "position",
    "product_id",
    "sku",
    "description",
    "quantity",
    "unit",
    "unit_price",
    "discount_percent",
    "discount_amount",
    "tax_rate",
    "net_amount",
)
MAX_LINES = 500
HUNDRED = Decimal("100")
ZERO = Decimal("0")


def clean_percent(c: Cleaner, field: str, value: Any) -> Decimal:
    """A discount in percent, 0 to 100, two places; empty is 0."""
    if value in (None, ""):
        return ZERO
    percent = c.decimal(field, value, max_digits=6, places=2)
    if percent is None:
        return ZERO
    if not ZERO <= percent <= HUNDRED:
        c.add(field, _("Enter a percentage from 0 to 100."))
        return ZERO
    return percent


def _clean_quantity(c: Cleaner, field: str, value: Any) -> Decimal | None:
    if value in (None, ""):
        c.add(field, _("This field is required."))
        return None
    quantity = c.decimal(field, value, max_digits=14, places=3)
    if quantity is not None and quantity <= 0:
        c.add(field, _("Enter a quantity greater than 0."))
        return None
    return quantity


def clean_lines(
    c: Cleaner, value: Any, *, currency: str, price_list: PriceList | None
) -> list[dict[str, Any]]:
    """Validate line items; a line with a product takes what it leaves empty from the
    product: description, unit, tax rate, and the unit price of the price list (or the
    product's list price, if it is in the document's currency). Each clean line carries its
    ``net_amount``."""
    if value in (None, ""):
        return []
    if not isinstance(value, list) or any(not isinstance(line, dict) for line in value):
        c.add("lines", _("Enter a list of objects."))
        return []
    if len(value) > MAX_LINES:
        c.add("lines", _("At most %(max)d entries are allowed.") % {"max": MAX_LINES})
        return []
    product_ids: dict[int, int] = {}
    for index, line in enumerate(value):
        raw = line.get("product_id")
        if raw not in (None, ""):
            pk = c.integer(f"lines.{index}.product_id", raw, minimum=1, maximum=2**63 - 1)
            if pk is not None:
                product_ids[index] = pk
    products = Product.objects.in_bulk(set(product_ids.values()))
    listed = prices_in(price_list, list(products))
    result = []
    for index, line in enumerate(value):
        prefix = f"lines.{index}."
        for key in line:
            if key not in LINE_FIELDS:
                c.add(prefix + key, _("Unknown field."))
        product = products.get(product_ids.get(index, 0))
        if index in product_ids and product is None:
            c.add(prefix + "product_id", _("Select a product of the catalogue."))
        description = c.text(prefix + "description", line.get("description"), max_length=500)
        if not description and product is not None:
            description = product.name[:500]
        if not description:
            c.add(prefix + "description", _("This field is required."))
        quantity = _clean_quantity(c, prefix + "quantity", line.get("quantity"))
        unit = c.choice(
            prefix + "unit",
            line.get("unit") or (product.unit if product else ProductUnit.PIECE),
            ProductUnit.choices,
        )
        unit_price = clean_money(c, prefix + "unit_price", line.get("unit_price"))
        if unit_price is None and line.get("unit_price") in (None, ""):
            if product is None:
                c.add(prefix + "unit_price", _("This field is required."))
            elif product.pk in listed:
                unit_price = listed[product.pk]
            elif product.currency == currency:
                unit_price = product.list_price
            else:
                c.add(
                    prefix + "unit_price",
                    _("The product's list price is in %(currency)s: enter a price.")
                    % {"currency": product.currency},
                )
        percent = clean_percent(c, prefix + "discount_percent", line.get("discount_percent"))
        amount = clean_money(
            c, prefix + "discount_amount", line.get("discount_amount"), default=ZERO
        )
        tax_rate = clean_tax_rate(
            c, prefix + "tax_rate", line.get("tax_rate"),
            default=product.tax_rate if product else TaxRate.STANDARD,
        )  # fmt: skip
        if quantity is None or unit_price is None or amount is None:
            continue
        before_amount = money.cents(quantity * unit_price * (HUNDRED - percent) / HUNDRED)
        if amount > before_amount:
            c.add(
                prefix + "discount_amount",
                _("The discount is more than the line's amount (%(amount)s).")
                % {"amount": before_amount},
            )
            continue
        net = money.line_amount(money.Line(quantity, unit_price, tax_rate, percent, amount))
        if net.adjusted() >= 14:
            c.add(prefix + "quantity", _("This number is too large."))
            continue
        result.append(
            {
                "position": index + 1,
                "product_id": product.pk if product else None,
                "sku": product.sku if product else "",
                "description": description,
                "quantity": quantity,
                "unit": unit or ProductUnit.PIECE,
                "unit_price": unit_price,
                "discount_percent": percent,
                "discount_amount": amount,
                "tax_rate": tax_rate,
                "net_amount": net,
            }
        )
    return result


def as_money_lines(lines: Iterable[Any]) -> list[money.Line]:
    """Clean line dicts or line rows as :class:`farley.sales.money.Line`."""

    def get(line: Any, key: str) -> Any:
        return line[key] if isinstance(line, dict) else getattr(line, key)

    return [
        money.Line(
            get(line, "quantity"),
            get(line, "unit_price"),
            get(line, "tax_rate"),
            get(line, "discount_percent"),
            get(line, "discount_amount"),
        )
        for line in lines
    ]


def document_totals(
    c: Cleaner, lines: Iterable[Any], *, discount_percent: Decimal, discount_amount: Decimal
) -> money.Totals:
    """The totals; a document discount larger than the lines is a field error."""
    totals = money.totals(
        as_money_lines(lines), discount_percent=discount_percent, discount_amount=discount_amount
    )
    if discount_amount and money.cents(discount_amount) > totals.subtotal - money.cents(
        totals.subtotal * discount_percent / HUNDRED
    ):
        c.add("discount_amount", _("The discount is more than the total of the lines."))
    if totals.gross_total.adjusted() >= 14:
        c.add("lines", _("This number is too large."))
    return totals


def line_snapshot(lines: Iterable[Any]) -> list[str]:
    """Line items as history text: "1. Beratung: 2 × 100.00 −10 % (19)"."""
    result = []
    for line in lines:
        get = line.get if isinstance(line, dict) else lambda k, line=line: getattr(line, k)
        text = (
            f"{get('position')}. {get('description')}: {get('quantity').normalize():f} × "
            f"{get('unit_price')}"
        )
        if get("discount_percent"):
            text += f" −{get('discount_percent').normalize():f} %"
        if get("discount_amount"):
            text += f" −{get('discount_amount')}"
        result.append(f"{text} ({get('tax_rate')})")
    return result


def document_snapshot(
    document: Any, fields: list[str], relations: tuple[str, ...], lines: list[Any] | None = None
) -> dict[str, Any]:
    """A quote's or order's history snapshot: its ``fields``, the related records by name,
    its custom values and its lines."""
    snap = {f: getattr(document, f) for f in fields}
    for name in relations:
        snap[name] = str(getattr(document, name)) if getattr(document, f"{name}_id") else None
    snap["custom"] = dict(document.custom)
    snap["lines"] = line_snapshot(lines if lines is not None else document.lines.all())
    return snap


def replace_lines(model: type[LineBase], parent_field: str, parent: Any, lines: list[dict]) -> None:
    model.objects.filter(**{parent_field: parent}).delete()
    model.objects.bulk_create(model(**{parent_field: parent}, **line) for line in lines)


def copy_lines(lines: Iterable[LineBase]) -> list[dict[str, Any]]:
    return [{key: getattr(line, key) for key in LINE_COPY} for line in lines]


# --- who a document is for ------------------------------------------------------------------


def _pk(c: Cleaner, field: str, value: Any) -> int | None:
    if value in (None, ""):
        return None
    return c.integer(field, value, minimum=1, maximum=2**63 - 1)


def resolve_account(c: Cleaner, actor: User, value: Any, *, required: bool) -> Account | None:
    if value in (0, "0"):  # the form's picker names no account
        c.add("account_id", _("Select an account you can see."))
        return None
    pk = _pk(c, "account_id", value)
    if pk is None:
        if required and value in (None, ""):
            c.add("account_id", _("This field is required."))
        return None
    account = contact_selectors.accounts_visible_to(actor).filter(pk=pk).first()
    if account is None:
        c.add("account_id", _("Select an account you can see."))
    return account


def resolve_contact(c: Cleaner, actor: User, value: Any, account: Account | None) -> Contact | None:
    pk = _pk(c, "contact_id", value)
    if pk is None:
        return None
    contact = contact_selectors.contacts_visible_to(actor).filter(pk=pk).first()
    if contact is None:
        c.add("contact_id", _("Select a contact you can see."))
    elif (
        account is not None
        and contact.primary_account_id != account.pk
        and not ContactAccountLink.objects.filter(contact=contact, account=account).exists()
    ):
        c.add("contact_id", _("Select a contact of this account."))
    return contact


def opportunities_visible_to(actor: User) -> models.QuerySet[Opportunity]:
    if "opportunity" in entities.registered_keys():
        return visible_records(Opportunity.objects.all(), actor)
    # Before deals are registered as an entity: the same owner/team rule, without shares.
    if not permissions.can(actor, "view", "opportunity"):
        return Opportunity.objects.none()
    return Opportunity.objects.filter(visibility_q(actor), deleted_at__isnull=True)


def resolve_opportunity(c: Cleaner, actor: User, value: Any) -> Opportunity | None:
    pk = _pk(c, "opportunity_id", value)
    if pk is None:
        return None
    opportunity = opportunities_visible_to(actor).filter(pk=pk).select_related("account").first()
    if opportunity is None:
        c.add("opportunity_id", _("Select an opportunity you can see."))
    return opportunity
