"""Pages: leads."""

urlpatterns: list = []
