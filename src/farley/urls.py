from django.contrib import admin
from django.urls import include, path

from farley.activities import feeds
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
    path("", include("farley.activities.calendar_urls")),
    path("calendar/<str:key>.ics", feeds.calendar_feed, name="calendar_feed"),
    path("activities/<int:activity_id>/ics/", feeds.activity_ics, name="activity_ics"),
    path("activities/import-ics/", feeds.import_ics, name="activity_import_ics"),
    path("profile/calendar-feed/renew/", feeds.feed_renew, name="calendar_feed_renew"),
    path("profile/calendar-feed/revoke/", feeds.feed_revoke, name="calendar_feed_revoke"),
]
