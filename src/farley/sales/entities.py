"""Registers the sales entities with core (history, search, custom fields, permissions,
sharing, trash and the security suite): leads, opportunities, quotes, orders."""

# --- opportunities (deals) ---
from django.utils.translation import gettext_lazy as _

from farley.core.entities import Entity, register
from farley.sales.models import Opportunity
from farley.sales.selectors.opportunities import criteria_q as _opportunity_criteria
from farley.sales.services.opportunities import opportunity_restore

OPPORTUNITY = register(
    Entity(
        key="opportunity",
        model=Opportunity,
        label=_("Deal"),
        label_plural=_("Deals"),
        url_name="sales:opportunity_detail",
        restore=opportunity_restore,
        search_fields=("name", "account__name"),
        filter_q=_opportunity_criteria,
        rule_filters=(("pipeline", _("Pipeline (id)")), ("status", _("Status (open, won, lost)"))),
        ui_paths=("/opportunities/{id}/", "/opportunities/{id}/edit/"),
        api_path="/api/v1/opportunities",
    )
)
