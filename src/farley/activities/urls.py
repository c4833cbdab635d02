from django.urls import path

from farley.activities import views

app_name = "activities"

urlpatterns = [
    path("activities/<int:activity_id>/", views.activity_detail, name="detail"),
    path("activities/<int:activity_id>/delete/", views.activity_delete, name="delete"),
    path("activities/<int:activity_id>/restore/", views.activity_restore, name="restore"),
]
