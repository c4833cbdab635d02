"""Pages of the sales app, one module per area; each module has its ``urlpatterns``."""
