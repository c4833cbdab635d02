"""The panels of the sales app on the 360 pages (see :mod:`farley.core.panels`); each area
registers its own below."""

from __future__ import annotations

from typing import Any

from farley.core.models import User
from farley.core.panels import Panel, register

# --- leads ----------------------------------------------------------------------------------


def _lead_origin(user: User, record: Any) -> dict[str, Any] | None:
    """On an account or contact made from (or linked by) a lead conversion: the lead(s)."""
    from farley.core import permissions
    from farley.sales.selectors import leads as lead_selectors

    if not permissions.can(user, "view", "lead"):
        return None
    leads = lead_selectors.converted_from(user, record)
    return {"leads": leads} if leads else None


register(
    Panel(
        key="sales.lead_origin",
        entities=("account", "contact"),
        template="sales/leads/panels/origin.html",
        context=_lead_origin,
        column="side",
        order=40,
    )
)


def _lead_sharing(user: User, lead: Any) -> dict[str, Any]:
    from farley.core import permissions, sharing
    from farley.core.models import Team
    from farley.core.selectors import users_active
    from farley.sales.selectors import leads as lead_selectors

    may_share = (
        lead.deleted_at is None
        and permissions.can(user, "edit", "lead")
        and lead_selectors.leads_visible_to(user, for_edit=True).filter(pk=lead.pk).exists()
    )
    return {
        "entity": "lead",
        "shares": list(sharing.shares_of(user, "lead", lead.pk)),
        "may_share": may_share,
        "users": users_active().exclude(pk=lead.owner_id) if may_share else [],
        "teams": Team.objects.all() if may_share else [],
    }


register(
    Panel(
        key="sales.lead_sharing",
        entities=("lead",),
        template="web/panels/sharing.html",
        context=_lead_sharing,
        column="side",
        order=90,
    )
)


# --- opportunities (deals) ------------------------------------------------------------------


def _deals(user: User, record: Any) -> dict[str, Any] | None:
    """The deals of an account, or those a contact has a role in: open ones first."""
    from farley.contacts.models import Account
    from farley.core import permissions
    from farley.sales.selectors import opportunities as deal_selectors

    if not permissions.can(user, "view", "opportunity"):
        return None
    deals, totals = deal_selectors.deals_of(user, record)
    is_account = isinstance(record, Account)
    return {
        "deals": deals,
        "totals": totals,
        "may_create": permissions.can(user, "create", "opportunity") and record.deleted_at is None,
        "new_query": f"{'account' if is_account else 'contact'}={record.pk}",
        "list_query": f"{'account' if is_account else 'contact'}={record.pk}",
    }


register(
    Panel(
        key="sales.deals",
        entities=("account", "contact"),
        template="sales/panels/deals.html",
        context=_deals,
        column="main",
        order=20,
    )
)


# --- quotes and orders ("fast order info") ---------------------------------------------------


def _quotes_panel(user: User, record: Any) -> dict[str, Any] | None:
    from farley.core import permissions
    from farley.sales.models import QuoteStatus
    from farley.sales.selectors import quotes as quote_selectors
    from farley.sales.views.quotes import STATUS_BADGES

    if not permissions.can(user, "view", "quote"):
        return None
    return {
        "field": record._meta.model_name,
        "quotes": quote_selectors.quotes_of(user, record),
        "statuses": QuoteStatus.choices,
        "badges": STATUS_BADGES,
        "may_create": permissions.can(user, "create", "quote") and record.deleted_at is None,
    }


def _orders_panel(user: User, record: Any) -> dict[str, Any] | None:
    from farley.core import permissions
    from farley.sales.selectors import orders as order_selectors
    from farley.sales.views.orders import STATUS_BADGES

    if not permissions.can(user, "view", "order"):
        return None
    return {
        "field": record._meta.model_name,
        "orders": order_selectors.open_orders_of(user, record),
        "count": order_selectors.order_count_of(user, record),
        "badges": STATUS_BADGES,
        "may_create": permissions.can(user, "create", "order") and record.deleted_at is None,
    }


register(
    Panel(
        key="sales.orders",
        entities=("account", "contact"),
        template="sales/panels/orders.html",
        context=_orders_panel,
        column="main",
        order=25,
    )
)
register(
    Panel(
        key="sales.quotes",
        entities=("account", "contact"),
        template="sales/panels/quotes.html",
        context=_quotes_panel,
        column="main",
        order=26,
    )
)


def _document_sharing(user: User, record: Any) -> dict[str, Any]:
    """Who else a quote or an order is shared with, on its own page."""
    from farley.core import entities, permissions, sharing
    from farley.core.models import Team
    from farley.core.selectors import users_active
    from farley.core.visibility import visible_records

    entity = entities.key_for(record)
    may_share = (
        record.deleted_at is None
        and permissions.can(user, "edit", entity)
        and visible_records(type(record).objects.all(), user, for_edit=True)
        .filter(pk=record.pk)
        .exists()
    )
    return {
        "entity": entity,
        "shares": list(sharing.shares_of(user, entity, record.pk)),
        "may_share": may_share,
        "users": users_active().exclude(pk=record.owner_id) if may_share else [],
        "teams": Team.objects.all() if may_share else [],
    }


register(
    Panel(
        key="sales.document_sharing",
        entities=("quote", "order"),
        template="web/panels/sharing.html",
        context=_document_sharing,
        column="side",
        order=90,
    )
)
