from django.urls import path

from farley.activities import views

app_name = "activities"

urlpatterns = [
    path("my-day/", views.my_day, name="my_day"),
    path("tasks/", views.task_list, name="task_list"),
    path("tasks/bulk/", views.task_bulk, name="task_bulk"),
    path("activities/new/", views.activity_create, name="create"),
    path("activities/lookup/", views.lookup, name="lookup"),
    path("activities/follow-up/", views.follow_up, name="follow_up"),
    path("activities/<int:activity_id>/", views.activity_detail, name="detail"),
    path("activities/<int:activity_id>/edit/", views.activity_edit, name="edit"),
    path("activities/<int:activity_id>/respond/", views.activity_respond, name="respond"),
    path("activities/<int:activity_id>/invite/", views.activity_invite, name="invite"),
    path("activities/<int:task_id>/complete/", views.task_complete, name="complete"),
    path("activities/<int:activity_id>/delete/", views.activity_delete, name="delete"),
    path("activities/<int:activity_id>/restore/", views.activity_restore, name="restore"),
]
