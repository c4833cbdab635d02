from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ContactsConfig(AppConfig):
    name = "farley.contacts"
    label = "contacts"
    verbose_name = _("Accounts and contacts")

    def ready(self) -> None:
        from farley.contacts import entities, panels  # noqa: F401  (they register themselves)
