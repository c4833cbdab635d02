"""Pages: opportunities."""

urlpatterns: list = []
