"""Registers accounts and contacts with core (history, search, custom fields, trash)."""

from django.utils.translation import gettext_lazy as _

from farley.contacts.models import Account, Contact
from farley.core.entities import Entity, register

ACCOUNT = register(
    Entity(
        key="account",
        model=Account,
        label=_("Account"),
        label_plural=_("Accounts"),
        url_name="contacts:account_detail",
    )
)
CONTACT = register(
    Entity(
        key="contact",
        model=Contact,
        label=_("Contact"),
        label_plural=_("Contacts"),
        url_name="contacts:contact_detail",
    )
)
