"""Registers accounts and contacts with core (history, search, custom fields, trash,
permissions, sharing rules)."""

from functools import partial

from django.utils.translation import gettext_lazy as _

from farley.contacts.models import Account, Contact
from farley.contacts.selectors import criteria_q
from farley.core.entities import Entity, register


def _restore_account(**kwargs):
    from farley.contacts.services import account_restore

    return account_restore(**kwargs)


def _restore_contact(**kwargs):
    from farley.contacts.services import contact_restore

    return contact_restore(**kwargs)


def _shares_changed(entity: str, object_ids: list[int]) -> None:
    from farley.contacts import shared_addresses

    shared_addresses.refresh(entity, object_ids)


RULE_FILTERS = (
    ("country", _("Country")),
    ("postal_code", _("Postal code starts with")),
    ("city", _("City")),
    ("industry", _("Industry code starts with")),
    ("status", _("Status")),
    ("tag", _("Tag")),
)

ACCOUNT = register(
    Entity(
        key="account",
        model=Account,
        label=_("Account"),
        label_plural=_("Accounts"),
        url_name="contacts:account_detail",
        restore=_restore_account,
        filter_q=partial(criteria_q, "account"),
        rule_filters=RULE_FILTERS,
        shares_changed=partial(_shares_changed, "account"),
        ui_paths=("/accounts/{id}/", "/accounts/{id}/edit/", "/accounts/{id}/?partial=timeline"),
        api_path="/api/v1/accounts",
    )
)
CONTACT = register(
    Entity(
        key="contact",
        model=Contact,
        label=_("Contact"),
        label_plural=_("Contacts"),
        url_name="contacts:contact_detail",
        restore=_restore_contact,
        filter_q=partial(criteria_q, "contact"),
        rule_filters=RULE_FILTERS,
        shares_changed=partial(_shares_changed, "contact"),
        ui_paths=(
            "/contacts/{id}/",
            "/contacts/{id}/edit/",
            "/contacts/{id}/?partial=timeline",
            "/contacts/{id}/privacy/export/",
        ),
        api_path="/api/v1/contacts",
    )
)
