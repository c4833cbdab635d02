"""The demo data a new installation starts with: customers with history, a sales pipeline
with leads, open, won and lost deals, quotes, orders and targets, and everyone's tasks and
appointments."""

from __future__ import annotations

import pytest

from farley.contacts.models import Account, Contact
from farley.demo import generate
from farley.sales.models import Lead, Opportunity, Order, Quote, SalesTarget, StageChange

pytestmark = pytest.mark.django_db


def test_demo_data_fills_every_part_of_the_crm(admin):
    summary = generate(contacts=30, seed=7)
    assert Account.objects.count() == 10 and Contact.objects.count() == 30
    assert Lead.objects.filter(status="new").exists()
    kinds = set(Opportunity.objects.values_list("stage__kind", flat=True))
    assert kinds == {"open", "won", "lost"}
    lost = Opportunity.objects.filter(stage__kind="lost")
    assert all(deal.loss_reason_id for deal in lost)
    assert StageChange.objects.count() > Opportunity.objects.count()
    assert Quote.objects.exists() and Order.objects.filter(quote__isnull=False).exists()
    assert all(q.gross_total > 0 for q in Quote.objects.all())
    assert SalesTarget.objects.exists()
    assert "leads" in summary and "orders" in summary and "tasks" in summary
    # Everyone's "My day" has something in it, the administrator's too.
    from farley.activities.selectors import my_day
    from farley.core.models import User

    demo_admin = User.objects.filter(role__key="administrator").order_by("pk").first()
    day = my_day(demo_admin)
    assert day.overdue and day.today and day.appointments and day.follow_ups
    # A two-day trade fair next week, as dates.
    from farley.activities.models import Activity

    fair = Activity.objects.filter(owner=demo_admin, all_day=True).get()
    assert (fair.last_day - fair.first_day).days == 1
