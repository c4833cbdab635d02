"""The 360-page panels of this app (see :mod:`farley.core.panels`)."""

from __future__ import annotations

from typing import Any

from farley.contacts import selectors
from farley.contacts.models import Account
from farley.core import permissions, sharing
from farley.core.models import User
from farley.core.panels import Panel, register
from farley.core.selectors import team_choices, user_choices


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


def _sharing(user: User, record: Any) -> dict[str, Any]:
    entity = "account" if isinstance(record, Account) else "contact"
    editable = (
        selectors.accounts_visible_to(user, for_edit=True)
        if entity == "account"
        else selectors.contacts_visible_to(user, for_edit=True)
    )
    may_share = (
        record.deleted_at is None
        and permissions.can(user, "edit", entity)
        and editable.filter(pk=record.pk).exists()
    )
    return {
        "entity": entity,
        "shares": list(sharing.shares_of(user, entity, record.pk)),
        "may_share": may_share,
        "users": user_choices(exclude=record.owner_id) if may_share else [],
        "teams": team_choices() if may_share else [],
    }


register(
    Panel(
        key="core.sharing",
        entities=("account", "contact"),
        template="web/panels/sharing.html",
        context=_sharing,
        column="side",
        order=90,
    )
)


def _data_protection(user: User, contact: Any) -> dict[str, Any] | None:
    may_export = permissions.can(user, "export", "contact") and permissions.can(
        user, "sensitive", "contact"
    )
    may_erase = permissions.can(user, "administer", "contact")
    if not (may_export or may_erase):
        return None
    return {"may_export": may_export, "may_erase": may_erase}


register(
    Panel(
        key="contacts.data_protection",
        entities=("contact",),
        template="contacts/panels/data_protection.html",
        context=_data_protection,
        column="side",
        order=95,
    )
)
