"""Logging a call or an email with a customer counts as activity on its open deals, so a
busy deal is not flagged stale; planned entries and closed deals are left alone."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from farley.sales.models import Opportunity
from farley.sales.selectors.opportunities import stale_reasons
from tests.factories import log_interaction, make_account, make_contact, make_opportunity

pytestmark = pytest.mark.django_db


def test_a_call_with_the_account_makes_its_open_deal_fresh(sales1):
    account = make_account(sales1, name="Anrufer GmbH")
    deal = make_opportunity(sales1, account=account, name="Ruhiger Deal")
    long_ago = timezone.now() - dt.timedelta(days=90)
    Opportunity.objects.filter(pk=deal.pk).update(last_activity_at=long_ago, created_at=long_ago)
    deal.refresh_from_db()
    assert stale_reasons(deal, 30)
    log_interaction(sales1, account_id=account.pk, kind="call", subject="Nachgefasst")
    deal.refresh_from_db()
    assert deal.last_activity_at > long_ago
    assert not stale_reasons(deal, 30)


def test_planned_entries_do_not_count(sales1):
    account = make_account(sales1, name="Zukunft AG")
    deal = make_opportunity(sales1, account=account)
    before = Opportunity.objects.get(pk=deal.pk).last_activity_at
    log_interaction(
        sales1, account_id=account.pk, subject="Termin nächste Woche",
        occurred_at=(timezone.now() + dt.timedelta(days=7)).isoformat(),
    )  # fmt: skip
    assert Opportunity.objects.get(pk=deal.pk).last_activity_at == before


def test_an_email_with_a_contact_in_a_role_counts(sales1):
    contact = make_contact(sales1, last_name="Entscheiderin")
    other = make_account(sales1)
    deal = make_opportunity(
        sales1, account=other, contacts=[{"contact_id": contact.pk, "role": "decision_maker"}]
    )
    Opportunity.objects.filter(pk=deal.pk).update(last_activity_at=None)
    log_interaction(sales1, contact_id=contact.pk, kind="email", subject="Re: Angebot")
    assert Opportunity.objects.get(pk=deal.pk).last_activity_at is not None
