"""Prefetched rows of a page are freed as soon as the page has been written out, not when the
garbage collector gets round to them (its pauses hit some later request)."""

from __future__ import annotations

import gc
import weakref

import pytest
from django.db.models import prefetch_related_objects

from farley.contacts.models import Contact
from farley.core.prefetch import release
from tests.factories import make_contact

pytestmark = pytest.mark.django_db


def first_email_of_a_page(drop: bool) -> weakref.ref:
    contacts = list(Contact.objects.order_by("pk"))
    prefetch_related_objects(contacts, "emails")
    email = weakref.ref(contacts[0].emails.all()[0])
    if drop:
        release(contacts)
    del contacts
    return email


def test_a_released_page_is_freed_without_the_collector(sales1):
    for n in range(3):
        make_contact(sales1, last_name=f"Kunde {n}", emails=[{"address": f"k{n}@example.de"}])
    gc.collect()
    gc.disable()
    try:
        kept = first_email_of_a_page(drop=False)
        assert kept() is not None  # record and rows keep each other alive
        freed = first_email_of_a_page(drop=True)
        assert freed() is None
    finally:
        gc.enable()
    gc.collect()
    assert kept() is None


def test_the_api_list_answers_the_same_with_the_rows_released(sales1):
    from tests.apiclient import Api

    make_contact(sales1, last_name="Muster", emails=[{"address": "m@example.de"}],
                 phones=[{"number": "030 1234567"}], tags=["vip"])  # fmt: skip
    item = Api(sales1).get("/contacts").json()["items"][0]
    assert item["emails"][0]["address"] == "m@example.de"
    assert item["phones"][0]["number"] == "+49301234567"
    assert item["tags"] == ["vip"]
