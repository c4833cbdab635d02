from django.contrib import admin
from django.urls import include, path

from farley.api import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("", include("farley.web.urls")),
    path("", include("farley.contacts.urls")),
]
