"""The 360-page panels of this app (see :mod:`farley.core.panels`)."""

from __future__ import annotations

from typing import Any

from farley.contacts import selectors
from farley.contacts.models import Account
from farley.core.models import User
from farley.core.panels import Panel, register


def _account_people(user: User, account: Account) -> dict[str, Any]:
    return {
        "contacts": selectors.account_contacts(user, account),
        "children": selectors.child_accounts(user, account),
    }


register(
    Panel(
        key="contacts.account_people",
        entities=("account",),
        template="contacts/panels/account_people.html",
        context=_account_people,
        column="main",
        order=10,
    )
)
