"""The sales API: one router per area, gathered here."""

from ninja import Router

from farley.sales.api import catalogue, forecast, leads, opportunities, orders, quotes

router = Router()
for module in (leads, opportunities, catalogue, quotes, orders, forecast):
    router.add_router("", module.router)
