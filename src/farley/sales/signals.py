"""Sales reacts to the customer timeline: a logged interaction (call, email, meeting, ...)
with an account, or with a contact in a role on a deal, is activity on its open deals, so
they are no longer stale. (Contacts cannot import sales, hence a signal.)"""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.utils import timezone

from farley.contacts.models import TimelineEntry
from farley.sales.models import Opportunity, OpportunityContact


@receiver(post_save, sender=TimelineEntry, dispatch_uid="sales.timeline_activity")
def timeline_is_deal_activity(sender: Any, instance: TimelineEntry, **kwargs: Any) -> None:
    when = instance.occurred_at
    if instance.deleted_at is not None or when is None or when > timezone.now():
        return  # planned entries are no activity yet
    deals = Q()
    if instance.account_id:
        deals |= Q(account_id=instance.account_id)
    if instance.contact_id:
        deals |= Q(
            pk__in=OpportunityContact.objects.filter(contact_id=instance.contact_id).values(
                "opportunity_id"
            )
        )
    if not deals:
        return
    Opportunity.objects.filter(deals, closed_at__isnull=True, deleted_at__isnull=True).filter(
        Q(last_activity_at__isnull=True) | Q(last_activity_at__lt=when)
    ).update(last_activity_at=when)
