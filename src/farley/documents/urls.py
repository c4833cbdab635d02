from django.urls import path

from farley.documents import views

app_name = "documents"

urlpatterns = [
    path("files/<str:entity>/<int:object_id>/", views.upload, name="upload"),
    path("files/<int:attachment_id>/download/", views.download, name="download"),
    path("files/<int:attachment_id>/remove/", views.remove, name="remove"),
    path("files/<int:attachment_id>/restore/", views.restore, name="restore"),
]
