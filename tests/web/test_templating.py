"""A rendered page's context is freed at once, not left in a reference cycle for the garbage
collector (whose pauses land on later requests)."""

from __future__ import annotations

import gc
import weakref

from django.template import engines
from django.test import RequestFactory


class Payload:
    """Something a view puts into a page's context."""


def test_what_a_page_was_rendered_from_is_freed_without_the_collector():
    template = engines["django"].from_string(
        "{% for x in items %}{{ x }}{% endfor %}{{ csrf_token }}"
    )
    request = RequestFactory().get("/")
    gc.collect()
    gc.disable()
    try:
        payload = Payload()
        alive = weakref.ref(payload)
        html = template.render({"items": [1, 2], "payload": payload}, request)
        del payload
        assert alive() is None
    finally:
        gc.enable()
    assert html.startswith("12")


def test_the_test_client_still_sees_the_context(client, admin):
    client.force_login(admin)
    response = client.get("/contacts/")
    assert response.status_code == 200
    assert response.context["entity"] == "contact"
