from farley.sales.views import catalogue, forecast, leads, opportunities, orders, quotes

app_name = "sales"

urlpatterns = [
    *leads.urlpatterns,
    *opportunities.urlpatterns,
    *catalogue.urlpatterns,
    *quotes.urlpatterns,
    *orders.urlpatterns,
    *forecast.urlpatterns,
]
