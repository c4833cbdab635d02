"""Registers the sales entities with core (history, search, custom fields, permissions,
sharing, trash and the security suite): leads, opportunities, quotes, orders."""

from functools import partial

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from farley.core.entities import Entity, register
from farley.core.errors import ValidationFailed
from farley.sales.models import Lead, Opportunity, Order, OrderStatus, Quote, QuoteStatus
from farley.sales.selectors.leads import RULE_FILTERS as LEAD_RULE_FILTERS
from farley.sales.selectors.leads import criteria_q as lead_criteria_q
from farley.sales.selectors.opportunities import criteria_q as opportunity_criteria_q
from farley.sales.services.leads import lead_restore
from farley.sales.services.opportunities import opportunity_restore
from farley.sales.services.orders import order_restore
from farley.sales.services.quotes import quote_restore

LEAD = register(
    Entity(
        key="lead",
        model=Lead,
        label=_("Lead"),
        label_plural=_("Leads"),
        url_name="sales:lead_detail",
        restore=lead_restore,
        search_fields=("first_name", "last_name", "company_name", "email", "phone"),
        filter_q=lead_criteria_q,
        rule_filters=LEAD_RULE_FILTERS,
        ui_paths=("/leads/{id}/", "/leads/{id}/edit/", "/leads/{id}/convert/"),
        api_path="/api/v1/leads",
    )
)

OPPORTUNITY = register(
    Entity(
        key="opportunity",
        model=Opportunity,
        label=_("Deal"),
        label_plural=_("Deals"),
        url_name="sales:opportunity_detail",
        restore=opportunity_restore,
        search_fields=("name", "account__name"),
        filter_q=opportunity_criteria_q,
        rule_filters=(("pipeline", _("Pipeline (id)")), ("status", _("Status (open, won, lost)"))),
        ui_paths=("/opportunities/{id}/", "/opportunities/{id}/edit/"),
        api_path="/api/v1/opportunities",
    )
)


DOCUMENT_RULE_FILTERS = (
    ("country", _("Country of the account")),
    ("postal_code", _("Postal code of the account starts with")),
    ("status", _("Status")),
)


def document_criteria_q(statuses: list[str], criteria: dict) -> Q:
    """Sharing-rule criteria of quotes and orders: the account's country and postal code,
    the document's status."""
    q = Q()
    if criteria.get("country"):
        q &= Q(account__country=str(criteria["country"]).upper())
    if criteria.get("postal_code"):
        q &= Q(account__postal_code__startswith=str(criteria["postal_code"]))
    if criteria.get("status"):
        if criteria["status"] not in statuses:
            raise ValidationFailed({"status": [str(_("Select a valid choice."))]})
        q &= Q(status=criteria["status"])
    return q


QUOTE = register(
    Entity(
        key="quote",
        model=Quote,
        label=_("Quote"),
        label_plural=_("Quotes"),
        url_name="sales:quote_detail",
        restore=quote_restore,
        search_fields=("number", "title", "account__name"),
        filter_q=partial(document_criteria_q, list(QuoteStatus.values)),
        rule_filters=DOCUMENT_RULE_FILTERS,
        ui_paths=("/quotes/{id}/", "/quotes/{id}/edit/", "/quotes/{id}/pdf/"),
        api_path="/api/v1/quotes",
    )
)
ORDER = register(
    Entity(
        key="order",
        model=Order,
        label=_("Order"),
        label_plural=_("Orders"),
        url_name="sales:order_detail",
        restore=order_restore,
        search_fields=("number", "erp_reference", "account__name"),
        filter_q=partial(document_criteria_q, list(OrderStatus.values)),
        rule_filters=DOCUMENT_RULE_FILTERS,
        ui_paths=("/orders/{id}/", "/orders/{id}/edit/"),
        api_path="/api/v1/orders",
    )
)
