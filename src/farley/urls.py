from django.contrib import admin
from django.urls import include, path

from farley.api import api
from farley.web.oidc import SsoCallbackView, SsoStartView
from farley.web.urls import auth_urlpatterns

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    *auth_urlpatterns,
    path("login/sso/", SsoStartView.as_view(), name="oidc_authentication_init"),
    path("login/sso/callback/", SsoCallbackView.as_view(), name="oidc_authentication_callback"),
    path("", include("farley.web.urls")),
    path("", include("farley.contacts.urls")),
    path("", include("farley.documents.urls")),
    path("", include("farley.sales.urls")),
    path("", include("farley.activities.urls")),
]
