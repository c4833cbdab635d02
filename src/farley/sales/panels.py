"""The panels of the sales app on the 360 pages (see :mod:`farley.core.panels`); each area
registers its own below."""

from __future__ import annotations

from typing import Any

from farley.core.models import User
from farley.core.panels import Panel, register


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
