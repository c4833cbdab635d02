from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "farley.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from farley.core import lookups

        lookups.install()
        post_migrate.connect(_search_keys_current, sender=self)


def _search_keys_current(sender, plan=None, using="default", **kwargs) -> None:
    """After ``migrate`` (not after a test's flush, which sends no plan): search keys built
    with other Unicode data are built anew (:func:`farley.core.search_keys.rebuild_if_stale`)."""
    if plan is None or using != "default":
        return
    from farley.core import search_keys

    search_keys.rebuild_if_stale()
