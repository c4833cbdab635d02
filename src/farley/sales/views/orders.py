"""Pages: orders."""

urlpatterns: list = []
