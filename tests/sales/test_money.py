"""Quote arithmetic: totals always equal the sum of the rounded lines and the taxes per rate,
whatever the quantities, prices and discounts."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from farley.sales.money import Line, cents, line_amount, totals

D = Decimal


def test_a_quote_with_three_lines_and_a_discount():
    lines = [
        Line(D("3"), D("199.99"), "19"),  # 599.97
        Line(D("2.5"), D("80.00"), "7", discount_percent=D("10")),  # 180.00
        Line(D("1"), D("1000.00"), "rc", discount_amount=D("50")),  # 950.00
    ]
    result = totals(lines, discount_percent=D("5"))
    assert result.line_amounts == [D("599.97"), D("180.00"), D("950.00")]
    assert result.subtotal == D("1729.97")
    assert result.discount == D("86.50")
    assert result.net_total == D("1643.47")
    by_rate = {t.rate: t for t in result.taxes}
    assert by_rate["19"].base + by_rate["7"].base + by_rate["rc"].base == result.net_total
    assert by_rate["19"].tax == cents(by_rate["19"].base * D("0.19"))
    assert by_rate["7"].tax == cents(by_rate["7"].base * D("0.07"))
    assert by_rate["rc"].tax == D("0.00")
    assert result.gross_total == result.net_total + result.tax_total


def test_rounding_is_half_up_per_line():
    assert line_amount(Line(D("1"), D("0.125"))) == D("0.13")
    assert line_amount(Line(D("3"), D("0.333"))) == D("1.00")


def test_a_discount_larger_than_the_subtotal_leaves_zero():
    result = totals([Line(D("1"), D("10.00"))], discount_amount=D("25"))
    assert (result.net_total, result.tax_total, result.gross_total) == (D("0"), D("0"), D("0"))


def test_the_cent_left_over_from_spreading_a_discount_never_makes_a_base_negative():
    """Three rates of one cent each and a line of nothing at 0 %: a cent of discount used to be
    handed, as the rounding difference, to the 0 % rate, whose base became -0.01."""
    lines = [Line(D("1"), D("0.01"), "19"), Line(D("1"), D("0.01"), "7"),
             Line(D("1"), D("0.01"), "rc"), Line(D("0"), D("5.00"), "0")]  # fmt: skip
    result = totals(lines, discount_amount=D("0.01"))
    assert {t.rate: t.base for t in result.taxes} == {
        "19": D("0.00"), "7": D("0.01"), "rc": D("0.01"), "0": D("0.00"),
    }  # fmt: skip
    assert result.net_total == D("0.02")


money = st.decimals(min_value=0, max_value=100_000, places=2)
quantities = st.decimals(min_value=0, max_value=10_000, places=3)
percents = st.decimals(min_value=0, max_value=100, places=2)
lines = st.builds(
    Line,
    quantity=quantities,
    unit_price=money,
    tax_rate=st.sampled_from(["19", "7", "0", "rc"]),
    discount_percent=percents,
)


@given(
    st.lists(lines, min_size=1, max_size=30),
    percents,
    st.decimals(min_value=0, max_value=1000, places=2),
)
def test_totals_are_the_sums_of_rounded_lines_and_taxes(items, discount_percent, discount_amount):
    result = totals(items, discount_percent=discount_percent, discount_amount=discount_amount)
    assert all(a == cents(a) for a in result.line_amounts)
    assert result.subtotal == sum(result.line_amounts, D("0"))
    assert result.net_total == result.subtotal - result.discount
    assert sum((t.base for t in result.taxes), D("0")) == result.net_total
    assert all(t.base >= 0 and t.tax >= 0 and t.tax == cents(t.tax) for t in result.taxes)
    assert result.tax_total == sum((t.tax for t in result.taxes), D("0"))
    assert result.gross_total == result.net_total + result.tax_total
    assert result.discount <= result.subtotal
