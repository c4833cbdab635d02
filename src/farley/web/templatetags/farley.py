"""Template helpers: field errors, phone display, country names, query-string edits."""

from __future__ import annotations

from typing import Any

from django import template
from django.http import QueryDict

from farley.core import permissions
from farley.core.customfields import display_value
from farley.core.validation import country_name, language_name, phone_display

register = template.Library()


@register.filter
def errors_for(errors: dict[str, list[str]] | None, field: str) -> list[str]:
    return (errors or {}).get(field, [])


@register.filter
def rich(value: str) -> str:
    """Sanitised HTML (again on output: stored bodies were cleaned on input, this keeps
    pages safe even for rows written by other means)."""
    from django.utils.safestring import mark_safe

    from farley.core.richtext import sanitize

    return mark_safe(sanitize(value))  # noqa: S308  (sanitised just above)


@register.filter
def audit_kind(entity: str) -> str:
    from farley.core.audit import kind_label

    return kind_label(entity)


@register.filter
def phone(value: str) -> str:
    return phone_display(value) if value else ""


@register.filter
def country(code: str) -> str:
    return country_name(code)


@register.filter
def language(code: str) -> str:
    return language_name(code)


@register.filter
def get_item(mapping: dict | None, key: Any) -> Any:
    return (mapping or {}).get(key)


@register.simple_tag
def custom_display(definition, values: dict) -> str:
    return display_value(definition, (values or {}).get(definition.key))


@register.simple_tag(takes_context=True)
def query_with(context, **changes: Any) -> str:
    """The current query string with some parameters replaced (None removes one)."""
    params: QueryDict = context["request"].GET.copy()
    for key, value in changes.items():
        params.pop(key, None)
        if value not in (None, ""):
            params[key] = value
    return params.urlencode()


@register.simple_tag
def field_key(*parts: Any) -> str:
    """``{% field_key "emails" 0 "address" %}`` → ``emails.0.address`` (the services' error keys)."""
    return ".".join(str(p) for p in parts)


@register.simple_tag(takes_context=True)
def can(context, action: str, entity: str) -> bool:
    """``{% can "edit" entity as allowed %}``: may the signed-in user do this?"""
    request = context.get("request")
    user = getattr(request, "user", None)
    return bool(user and user.is_authenticated and permissions.can(user, action, entity))
