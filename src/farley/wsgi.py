"""WSGI entry point."""

import gc
import importlib
import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "farley.settings")
application = get_wsgi_application()


def _tune_garbage_collector() -> None:
    """A request allocates a few hundred thousand short-lived objects; with Python's default
    thresholds the collector then walks every object the loaded application holds, several
    times per request (tens of milliseconds). Load the URL configuration first, move all
    objects that exist now out of the collector's way and let it run less often."""
    importlib.import_module(settings.ROOT_URLCONF)
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 20, 100)


_tune_garbage_collector()
