from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SalesConfig(AppConfig):
    name = "farley.sales"
    label = "sales"
    verbose_name = _("Sales")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from farley.sales import (
            entities,  # noqa: F401  (registers leads, deals, quotes, orders)
            panels,  # noqa: F401  (the sales panels of the 360 pages)
            signals,  # noqa: F401  (timeline entries count as activity on deals)
        )
