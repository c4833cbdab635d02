"""Pages: quotes."""

urlpatterns: list = []
