"""Pages: forecast."""

urlpatterns: list = []
