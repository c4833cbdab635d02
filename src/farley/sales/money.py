"""Quote and order arithmetic with ``Decimal``: each line's net amount is rounded to the
cent, a discount on the whole document is spread over the tax rates in proportion to their
net amounts, and the tax is computed per rate on that base (as German invoices do), each
rounded half up. So the totals always equal the sum of the rounded lines and taxes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from farley.sales.models import TaxRate

CENT = Decimal("0.01")
HUNDRED = Decimal("100")


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Line:
    quantity: Decimal
    unit_price: Decimal
    tax_rate: str = TaxRate.STANDARD
    discount_percent: Decimal = Decimal("0")
    discount_amount: Decimal = Decimal("0")


@dataclass(frozen=True)
class TaxLine:
    rate: str
    base: Decimal  # net amount of the lines with this rate, after the document's discount
    tax: Decimal


@dataclass(frozen=True)
class Totals:
    line_amounts: list[Decimal]
    subtotal: Decimal  # sum of the line amounts
    discount: Decimal  # the document's discount
    net_total: Decimal
    taxes: list[TaxLine] = field(default_factory=list)
    tax_total: Decimal = Decimal("0")
    gross_total: Decimal = Decimal("0")


def line_amount(line: Line) -> Decimal:
    """Quantity × unit price, less the line's discount in percent, less its amount."""
    gross = line.quantity * line.unit_price
    return cents(gross * (HUNDRED - line.discount_percent) / HUNDRED - line.discount_amount)


def totals(
    lines: Iterable[Line],
    *,
    discount_percent: Decimal = Decimal("0"),
    discount_amount: Decimal = Decimal("0"),
) -> Totals:
    lines = list(lines)
    amounts = [line_amount(line) for line in lines]
    subtotal = sum(amounts, Decimal("0"))
    discount = min(cents(subtotal * discount_percent / HUNDRED) + cents(discount_amount), subtotal)
    bases: dict[str, Decimal] = {}
    for line, amount in zip(lines, amounts, strict=True):
        bases[line.tax_rate] = bases.get(line.tax_rate, Decimal("0")) + amount
    rates = sorted(bases, key=lambda r: (TaxRate.percent(r), r), reverse=True)
    shares = _spread(discount, {rate: bases[rate] for rate in rates}, subtotal)
    taxes = []
    for rate in rates:
        base = bases[rate] - shares[rate]
        taxes.append(TaxLine(rate, base, cents(base * TaxRate.percent(rate) / HUNDRED)))
    net_total = subtotal - discount
    tax_total = sum((t.tax for t in taxes), Decimal("0"))
    return Totals(amounts, subtotal, discount, net_total, taxes, tax_total, net_total + tax_total)


def _spread(discount: Decimal, bases: dict[str, Decimal], subtotal: Decimal) -> dict[str, Decimal]:
    """``discount`` in whole cents over ``bases`` in proportion to them (largest remainder):
    each gets its share rounded down to the cent, and the cents left over go one each to the
    bases with the largest remainders. The shares add up to the discount and none exceeds its
    base, so no base turns negative (handing the rounding difference to the last rate did,
    when that rate's lines came to nothing)."""
    if not subtotal or not discount:
        return {rate: Decimal("0") for rate in bases}
    exact = {rate: discount * base / subtotal for rate, base in bases.items()}
    shares = {rate: value.quantize(CENT, rounding=ROUND_DOWN) for rate, value in exact.items()}
    left = int((discount - sum(shares.values(), Decimal("0"))) / CENT)
    by_remainder = sorted(bases, key=lambda rate: exact[rate] - shares[rate], reverse=True)
    for rate in by_remainder[:left]:
        shares[rate] += CENT
    return shares
