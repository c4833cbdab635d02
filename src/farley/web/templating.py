"""Django's template engine, with each page's context freed as soon as the page is rendered.

A template ``Context`` and the dictionaries pushed onto it point at each other, so everything
a page was rendered from (its records, their related rows, the options of its selects) stays
in a reference cycle until Python's garbage collector finds it: some 8,000 objects per list
or 360 page, and the collector's pauses then land on later requests. Emptying the context's
stack once the page is rendered breaks the cycle.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.template import TemplateDoesNotExist
from django.template.backends.django import DjangoTemplates as DjangoBackend
from django.template.backends.django import Template as DjangoTemplate
from django.template.backends.django import reraise
from django.template.context import make_context
from django.utils.safestring import SafeString


class Template(DjangoTemplate):
    def render(
        self, context: dict[str, Any] | None = None, request: HttpRequest | None = None
    ) -> SafeString:
        context = make_context(context, request, autoescape=self.backend.engine.autoescape)
        try:
            return self.template.render(context)
        except TemplateDoesNotExist as exc:
            reraise(exc, self.backend)
        finally:
            context.dicts.clear()


class DjangoTemplates(DjangoBackend):
    def from_string(self, template_code: str) -> Template:
        return Template(self.engine.from_string(template_code), self)

    def get_template(self, template_name: str) -> Template:
        try:
            return Template(self.engine.get_template(template_name), self)
        except TemplateDoesNotExist as exc:
            reraise(exc, self)
