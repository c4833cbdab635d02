"""Helpers for the catalogue, quote and order tests: records made through the real services
(so numbers, totals, history and the search index are what users get)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils import timezone

from farley.core.models import User
from farley.sales.models import Order, PriceList, Product, Quote, QuoteStatus
from farley.sales.services import catalogue, orders, quotes
from tests.factories import make_account, make_contact, make_user


def make_product(actor: User | None = None, **data: Any) -> Product:
    actor = actor or make_user("administrator")
    data.setdefault("sku", f"SKU-{Product.objects.count() + 1:04d}")
    data.setdefault("name", f"Produkt {Product.objects.count() + 1}")
    data.setdefault("list_price", "100.00")
    return catalogue.product_create(actor=actor, data=data)


def make_price_list(actor: User | None = None, **data: Any) -> PriceList:
    actor = actor or make_user("administrator")
    data.setdefault("name", f"Preisliste {PriceList.objects.count() + 1}")
    return catalogue.price_list_create(actor=actor, data=data)


def line(description: str = "Beratung", quantity: Any = "1", unit_price: Any = "100.00", **more):
    return {"description": description, "quantity": quantity, "unit_price": unit_price, **more}


def make_customer(actor: User, **account: Any):
    """An account with a billing address and email, and a contact linked to it."""
    account.setdefault("name", "Müller Maschinenbau GmbH")
    account.setdefault(
        "addresses",
        [{"kind": "billing", "street": "Hauptstraße", "house_number": "5",
          "postal_code": "80331", "city": "München", "country": "DE"}],
    )  # fmt: skip
    account.setdefault("emails", [{"address": "einkauf@mueller.example", "kind": "work"}])
    made = make_account(actor, **account)
    contact = make_contact(
        actor, first_name="Erika", last_name="Mustermann", language="de",
        emails=[{"address": "erika@mueller.example", "kind": "work"}],
        account_links=[{"account_id": made.pk}],
    )  # fmt: skip
    return made, contact


def make_quote(actor: User, account=None, **data: Any) -> Quote:
    if account is None:
        account, contact = make_customer(actor)
        data.setdefault("contact_id", contact.pk)
    data.setdefault("lines", [line()])
    return quotes.quote_create(actor=actor, data={"account_id": account.pk, **data})


def sent_quote(actor: User, **data: Any) -> Quote:
    """A quote marked as sent (without an email), valid for 30 days."""
    quote = make_quote(actor, **data)
    Quote.objects.filter(pk=quote.pk).update(
        status=QuoteStatus.SENT, sent_at=timezone.now(), version=quote.version + 1
    )
    quote.refresh_from_db()
    return quote


def expire(quote: Quote) -> Quote:
    Quote.objects.filter(pk=quote.pk).update(
        quote_date=timezone.localdate() - dt.timedelta(days=40),
        valid_until=timezone.localdate() - dt.timedelta(days=1),
    )
    quote.refresh_from_db()
    return quote


def make_order(actor: User, account=None, **data: Any) -> Order:
    if account is None:
        account, _contact = make_customer(actor)
    data.setdefault("lines", [line()])
    return orders.order_create(actor=actor, data={"account_id": account.pk, **data})


D = Decimal
