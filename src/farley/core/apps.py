from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "farley.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        from farley.core import lookups

        lookups.install()
