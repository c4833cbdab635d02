"""Quote services: numbers, lines and totals, every bad input of the issue, drafts only,
revisions, accept (with its order), reject, expiry computed on read."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from farley.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from farley.core.models import ChangeRecord, Sequence
from farley.core.search import search
from farley.sales.models import Order, OrderLine, Quote, QuoteLine, QuoteStatus
from farley.sales.selectors.quotes import current_status, quote_list
from farley.sales.services import quotes
from tests.factories import make_account, make_contact
from tests.sales.quote_factories import (
    expire,
    line,
    make_customer,
    make_price_list,
    make_product,
    make_quote,
    sent_quote,
)

pytestmark = pytest.mark.django_db
D = Decimal


def _fields(exc: pytest.ExceptionInfo) -> dict:
    return exc.value.fields


def _nothing_written(before_quotes: int, before_changes: int) -> None:
    assert Quote.objects.count() == before_quotes
    assert ChangeRecord.objects.filter(entity="quote").count() == before_changes


# --- create, numbers, totals ----------------------------------------------------------------


def test_a_quote_gets_the_next_number_of_its_year_and_totals_per_tax_rate(sales1):
    account, contact = make_customer(sales1)
    quote = make_quote(
        sales1, account=account, contact_id=contact.pk, discount_percent="10",
        lines=[
            line("Beratung", "2", "100.00", discount_percent="10"),
            line("Handbuch", "3", "19.99", tax_rate="7", discount_amount="5.00"),
            line("Lizenz", "1", "1000", tax_rate="rc"),
        ],
    )  # fmt: skip
    year = quote.quote_date.year
    assert quote.number == f"AN-{year}-00001"
    assert quote.revision == 1 and quote.status == QuoteStatus.DRAFT
    lines = list(quote.lines.order_by("position"))
    assert [x.net_amount for x in lines] == [D("180.00"), D("54.97"), D("1000.00")]
    # 10 % off 1234.97 = 123.50, spread over the rates; tax on 19 % and 7 % only.
    assert quote.net_total == D("1111.47")
    assert quote.tax_total == D("30.78") + D("3.46")  # 19 % of 162.00, 7 % of 49.47
    assert quote.gross_total == quote.net_total + quote.tax_total
    assert quote.language == "de"  # the contact's
    assert quote.valid_until == quote.quote_date + dt.timedelta(days=30)
    assert make_quote(sales1, account=account).number == f"AN-{year}-00002"


def test_numbers_are_counted_per_year_of_the_quote_date(sales1):
    account, _ = make_customer(sales1)
    first = make_quote(sales1, account=account, quote_date="2024-12-31", valid_until="2025-01-31")
    second = make_quote(sales1, account=account, quote_date="2025-01-02", valid_until="2025-02-01")
    third = make_quote(sales1, account=account, quote_date="2024-06-01", valid_until="2024-07-01")
    assert (first.number, second.number, third.number) == (
        "AN-2024-00001", "AN-2025-00001", "AN-2024-00002",
    )  # fmt: skip


def test_the_number_pattern_is_configurable(sales1, settings):
    settings.FARLEY_QUOTE_NUMBER = "Q{year}/{number:03d}"
    quote = make_quote(sales1, quote_date="2025-03-01", valid_until="2025-04-01")
    assert quote.number == "Q2025/001"


def test_a_failed_save_leaves_no_gap_in_the_numbers(sales1):
    account, _ = make_customer(sales1)
    make_quote(sales1, account=account, quote_date="2025-05-01", valid_until="2025-06-01")
    with pytest.raises(ValidationFailed):
        make_quote(sales1, account=account, quote_date="2025-05-02", lines=[line(quantity="-1")])
    with pytest.raises(RuntimeError), transaction.atomic():
        make_quote(sales1, account=account, quote_date="2025-05-03", valid_until="2025-06-01")
        raise RuntimeError("the surrounding transaction fails after the number was taken")
    assert Sequence.objects.get(name="quote:2025").value == 1
    again = make_quote(sales1, account=account, quote_date="2025-05-04", valid_until="2025-06-01")
    assert again.number == "AN-2025-00002"


def test_a_product_fills_the_line_from_the_price_list_or_its_list_price(sales1, admin):
    beratung = make_product(admin, sku="B-1", name="Beratungstag", unit="day",
                            list_price="1200", tax_rate="19")  # fmt: skip
    buch = make_product(admin, sku="H-1", name="Handbuch", list_price="49.90", tax_rate="7")
    price_list = make_price_list(
        admin, name="Händler", items=[{"product_id": beratung.pk, "unit_price": "1000"}]
    )
    quote = make_quote(
        sales1, price_list_id=price_list.pk,
        lines=[{"product_id": beratung.pk, "quantity": "2"}, {"product_id": buch.pk, "quantity": 1}],
    )  # fmt: skip
    first, second = quote.lines.order_by("position")
    assert (first.description, first.unit, first.unit_price, first.tax_rate, first.sku) == (
        "Beratungstag", "day", D("1000.00"), "19", "B-1",
    )  # fmt: skip
    assert (second.description, second.unit_price, second.tax_rate) == ("Handbuch", D("49.90"), "7")
    assert quote.net_total == D("2049.90")


def test_the_price_list_of_the_accounts_customer_group_tag_is_chosen(sales1, admin):
    make_price_list(admin, name="Standard USD", currency="USD", customer_group="Händler")
    dealers = make_price_list(admin, name="Händler EUR", customer_group="Händler")
    account = make_account(sales1, name="Händler AG", tags=["händler"])
    assert make_quote(sales1, account=account).price_list == dealers
    assert make_quote(sales1, account=make_account(sales1)).price_list is None


def test_a_quote_from_an_opportunity_takes_its_account_currency_and_lines(sales1):
    from farley.sales.models import OpportunityLine, Pipeline

    account = make_account(sales1)
    pipeline = Pipeline.objects.get(is_default=True)
    from farley.sales.models import Opportunity

    opportunity = Opportunity.objects.create(
        name="Anlage", account=account, pipeline=pipeline, stage=pipeline.stages.first(),
        currency="CHF", owner=sales1, team=sales1.teams.first(),
    )  # fmt: skip
    OpportunityLine.objects.create(
        opportunity=opportunity, description="Anlage", quantity=2, unit_price=D("500"),
        net_amount=D("1000"),
    )  # fmt: skip
    quote = quotes.quote_create(actor=sales1, data={"opportunity_id": opportunity.pk})
    assert (quote.account, quote.currency, quote.opportunity) == (account, "CHF", opportunity)
    assert [(x.description, x.quantity) for x in quote.lines.all()] == [("Anlage", D("2.000"))]
    assert quote.net_total == D("1000.00")
    other = make_account(sales1)
    with pytest.raises(ValidationFailed) as exc:
        quotes.quote_create(
            actor=sales1, data={"opportunity_id": opportunity.pk, "account_id": other.pk}
        )
    assert "opportunity_id" in _fields(exc)


# --- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bad_line", "field"),
    [
        ({"quantity": "-1"}, "lines.0.quantity"),
        ({"quantity": "0"}, "lines.0.quantity"),
        ({"unit_price": "-0.01"}, "lines.0.unit_price"),
        ({"discount_percent": "100.01"}, "lines.0.discount_percent"),
        ({"discount_percent": "-5"}, "lines.0.discount_percent"),
        ({"discount_amount": "-1"}, "lines.0.discount_amount"),
        ({"discount_amount": "100.01"}, "lines.0.discount_amount"),
        ({"tax_rate": "16"}, "lines.0.tax_rate"),
        ({"tax_rate": "<b>"}, "lines.0.tax_rate"),
        ({"quantity": "zwei"}, "lines.0.quantity"),
        ({"description": ""}, "lines.0.description"),
        ({"unit": "bucket"}, "lines.0.unit"),
        ({"product_id": 999999}, "lines.0.product_id"),
    ],
)
def test_bad_lines_are_field_errors_and_nothing_is_written(sales1, bad_line, field):
    account, _ = make_customer(sales1)
    before = (Quote.objects.count(), ChangeRecord.objects.filter(entity="quote").count())
    with pytest.raises(ValidationFailed) as exc:
        make_quote(sales1, account=account, lines=[{**line(), **bad_line}])
    assert field in _fields(exc), _fields(exc)
    _nothing_written(*before)
    assert not Sequence.objects.filter(name__startswith="quote:", value__gt=0).exists()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"discount_percent": "101"}, "discount_percent"),
        ({"discount_amount": "-1"}, "discount_amount"),
        ({"discount_amount": "100.01"}, "discount_amount"),
        ({"currency": "EURO"}, "currency"),
        ({"language": "fr"}, "language"),
        ({"valid_until": "2000-01-01"}, "valid_until"),
        ({"quote_date": "31.02.2025"}, "quote_date"),
        ({"account_id": None}, "account_id"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_quote_fields_are_field_errors(sales1, data, field):
    account, _ = make_customer(sales1)
    with pytest.raises(ValidationFailed) as exc:
        quotes.quote_create(
            actor=sales1, data={"account_id": account.pk, "lines": [line()], **data}
        )
    assert field in _fields(exc)
    assert Quote.objects.count() == 0


def test_a_price_list_in_another_currency_is_refused(sales1, admin):
    usd = make_price_list(admin, name="USD", currency="USD")
    with pytest.raises(ValidationFailed) as exc:
        make_quote(sales1, price_list_id=usd.pk, currency="EUR")
    assert "price_list_id" in _fields(exc)
    quote = make_quote(sales1, price_list_id=usd.pk, currency="USD")
    with pytest.raises(ValidationFailed) as exc:
        quotes.quote_update(actor=sales1, quote_id=quote.pk, data={"currency": "EUR"})
    assert "currency" in _fields(exc)


def test_a_list_price_in_another_currency_needs_a_price(sales1, admin):
    product = make_product(admin, list_price="10", currency="USD")
    with pytest.raises(ValidationFailed) as exc:
        make_quote(sales1, lines=[{"product_id": product.pk, "quantity": 1}])
    assert "lines.0.unit_price" in _fields(exc)


def test_accounts_and_contacts_of_other_teams_are_refused(sales1, sales2):
    foreign = make_account(sales2)
    with pytest.raises(ValidationFailed) as exc:
        make_quote(sales1, account=foreign)
    assert "account_id" in _fields(exc)
    account = make_account(sales1)
    stranger = make_contact(sales1)
    with pytest.raises(ValidationFailed) as exc:
        make_quote(sales1, account=account, contact_id=stranger.pk)
    assert "contact_id" in _fields(exc)


# --- drafts, versions, revisions ------------------------------------------------------------


def test_a_draft_is_updated_with_its_version_and_a_stale_version_is_a_conflict(sales1):
    quote = make_quote(sales1)
    changed = quotes.quote_update(
        actor=sales1, quote_id=quote.pk, version=quote.version,
        data={"title": "Neu", "lines": [line("A", "1", "10"), line("B", "2", "5")]},
    )  # fmt: skip
    assert (changed.version, changed.net_total, changed.lines.count()) == (2, D("20.00"), 2)
    with pytest.raises(Conflict) as exc:
        quotes.quote_update(actor=sales1, quote_id=quote.pk, version=1, data={"title": "Alt"})
    assert exc.value.current_version == 2
    quote.refresh_from_db()
    assert quote.title == "Neu"
    history = ChangeRecord.objects.filter(entity="quote", object_id=quote.pk, action="update")
    assert history.get().changes["title"] == ["", "Neu"]


def test_a_sent_quote_cannot_be_edited(sales1):
    quote = sent_quote(sales1)
    with pytest.raises(ValidationFailed) as exc:
        quotes.quote_update(actor=sales1, quote_id=quote.pk, data={"title": "Heimlich"})
    assert "status" in _fields(exc)
    quote.refresh_from_db()
    assert quote.title == ""


def test_revising_a_sent_quote_makes_version_two_and_keeps_the_old_one_readable(sales1):
    quote = sent_quote(sales1, title="Erstes Angebot", lines=[line("Alt", "1", "10")])
    new = quotes.quote_revise(actor=sales1, quote_id=quote.pk)
    quote.refresh_from_db()
    assert (new.number, new.revision, new.previous, new.status) == (
        quote.number, 2, quote, QuoteStatus.DRAFT,
    )  # fmt: skip
    assert quote.status == QuoteStatus.SUPERSEDED
    assert [x.description for x in new.lines.all()] == ["Alt"]
    quotes.quote_update(actor=sales1, quote_id=new.pk, data={"lines": [line("Neu", "1", "20")]})
    assert [x.description for x in quote.lines.all()] == ["Alt"]  # the old one is unchanged
    assert str(new) == f"{quote.number} v2"
    with pytest.raises(ValidationFailed):
        quotes.quote_revise(actor=sales1, quote_id=quote.pk)  # superseded
    with pytest.raises(ValidationFailed):
        quotes.quote_revise(actor=sales1, quote_id=new.pk)  # a draft


# --- accept, reject, expire -----------------------------------------------------------------


def test_accepting_a_sent_quote_creates_its_order_with_the_lines(sales1):
    quote = sent_quote(sales1, lines=[line("A", "2", "10"), line("B", "1", "5", tax_rate="7")])
    accepted, order = quotes.quote_accept(actor=sales1, quote_id=quote.pk)
    assert accepted.status == QuoteStatus.ACCEPTED and accepted.decided_at
    assert order.quote == quote and order.account == quote.account
    assert order.number == f"AU-{timezone.localdate().year}-00001"
    assert [(x.description, x.net_amount) for x in order.lines.all()] == [
        ("A", D("20.00")), ("B", D("5.00")),
    ]  # fmt: skip
    assert (order.net_total, order.gross_total) == (quote.net_total, quote.gross_total)
    assert search(sales1, order.number)[0].object_id == order.pk


def test_accepting_an_expired_quote_is_refused_and_nothing_is_written(sales1):
    quote = expire(sent_quote(sales1))
    assert current_status(quote) == QuoteStatus.EXPIRED
    with pytest.raises(ValidationFailed) as exc:
        quotes.quote_accept(actor=sales1, quote_id=quote.pk)
    assert "expired" in exc.value.message + str(_fields(exc))
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.SENT and quote.decided_at is None
    assert Order.objects.count() == OrderLine.objects.count() == 0
    assert not Sequence.objects.filter(name__startswith="order:", value__gt=0).exists()


def test_only_sent_quotes_are_accepted_or_rejected(sales1):
    draft = make_quote(sales1)
    for action in (quotes.quote_accept, quotes.quote_reject):
        with pytest.raises(ValidationFailed):
            action(actor=sales1, quote_id=draft.pk)
    sent = sent_quote(sales1)
    rejected = quotes.quote_reject(actor=sales1, quote_id=sent.pk)
    assert rejected.status == QuoteStatus.REJECTED
    with pytest.raises(ValidationFailed):
        quotes.quote_accept(actor=sales1, quote_id=sent.pk)


def test_expiry_is_computed_when_read_in_lists_and_filters(sales1):
    fresh = sent_quote(sales1)
    old = expire(sent_quote(sales1))
    expired = quote_list(sales1, {"status": "expired"})
    assert [q.pk for q in expired] == [old.pk]
    assert expired[0].current_status == QuoteStatus.EXPIRED
    assert [q.pk for q in quote_list(sales1, {"status": "sent"})] == [fresh.pk]


def test_other_teams_cannot_touch_a_quote_and_readers_cannot_change_it(sales1, sales2, reader):
    quote = sent_quote(sales1)
    for action in (quotes.quote_accept, quotes.quote_reject, quotes.quote_revise):
        with pytest.raises(NotFound):
            action(actor=sales2, quote_id=quote.pk)
        with pytest.raises(Forbidden):
            action(actor=reader, quote_id=quote.pk)


def test_delete_and_restore(sales1):
    quote = make_quote(sales1)
    quotes.quote_delete(actor=sales1, quote_id=quote.pk)
    assert search(sales1, quote.number) == []
    assert list(quote_list(sales1, {})) == []
    quotes.quote_restore(actor=sales1, quote_id=quote.pk)
    assert search(sales1, quote.number)[0].object_id == quote.pk


def test_search_finds_quotes_by_number_title_and_account(sales1):
    account = make_account(sales1, name="Zimmerei Holzwurm")
    quote = make_quote(sales1, account=account, title="Dachstuhl")
    for query in (quote.number, "Dachstuhl", "Holzwurm"):
        assert ("quote", quote.pk) in [(h.entity, h.object_id) for h in search(sales1, query)]


def test_quote_lines_are_replaced_not_added(sales1):
    quote = make_quote(sales1, lines=[line("A"), line("B")])
    quotes.quote_update(actor=sales1, quote_id=quote.pk, data={"lines": [line("C")]})
    assert list(QuoteLine.objects.filter(quote=quote).values_list("description", "position")) == [
        ("C", 1)
    ]
