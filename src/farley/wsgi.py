"""WSGI entry point."""

import ctypes
import ctypes.util
import gc
import importlib
import os
import sys

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


def _limit_malloc_arenas(arenas: int = 2) -> None:
    """Each server thread would get a malloc arena of its own (glibc: up to 8 per core), and
    an arena keeps what SQLite's page cache of a closed connection (up to 64 MB) gave back:
    after requests that read many pages (searches, lists of a user who sees little) the
    server's memory grew by some 100 MB that nothing used. Two arenas shared by the threads
    keep it near what the requests need. Before the server starts its threads; glibc only."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt(-8, arenas)  # M_ARENA_MAX
    except (OSError, AttributeError):  # not glibc
        pass


_tune_garbage_collector()
_limit_malloc_arenas()
