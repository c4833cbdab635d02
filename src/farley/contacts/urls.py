from django.urls import path, register_converter

from farley.contacts import views


class EntityConverter:
    regex = "account|contact"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(EntityConverter, "entity")

app_name = "contacts"
urlpatterns = [
    path("accounts/", views.account_list, name="account_list"),
    path("accounts/new/", views.account_create, name="account_create"),
    path("accounts/lookup/", views.account_lookup, name="account_lookup"),
    path("accounts/<int:account_id>/", views.account_detail, name="account_detail"),
    path("accounts/<int:account_id>/edit/", views.account_edit, name="account_edit"),
    path("contacts/", views.contact_list, name="contact_list"),
    path("contacts/new/", views.contact_create, name="contact_create"),
    path("contacts/<int:contact_id>/", views.contact_detail, name="contact_detail"),
    path("contacts/<int:contact_id>/edit/", views.contact_edit, name="contact_edit"),
    path("trash/", views.trash, name="trash"),
    path("contacts/<int:contact_id>/privacy/export/", views.privacy_export, name="privacy_export"),
    path("contacts/<int:contact_id>/privacy/erase/", views.privacy_erase, name="privacy_erase"),
    path(
        "timeline-entries/<int:entry_id>/restore/", views.timeline_restore, name="timeline_restore"
    ),
    path("relationship-targets/", views.relationship_targets, name="relationship_targets"),
    path("<entity:entity>s/<int:record_id>/delete/", views.record_delete, name="record_delete"),
    path("<entity:entity>s/<int:record_id>/restore/", views.record_restore, name="record_restore"),
    path(
        "trash/<slug:entity>/<int:record_id>/restore/", views.record_restore, name="trash_restore"
    ),
    path("<entity:entity>s/<int:record_id>/timeline/", views.timeline_add, name="timeline_add"),
    path(
        "<entity:entity>s/<int:record_id>/timeline/<int:entry_id>/edit/",
        views.timeline_edit,
        name="timeline_edit",
    ),
    path(
        "<entity:entity>s/<int:record_id>/timeline/<int:entry_id>/delete/",
        views.timeline_delete,
        name="timeline_delete",
    ),
    path(
        "<entity:entity>s/<int:record_id>/relationships/",
        views.relationship_add,
        name="relationship_add",
    ),
    path(
        "<entity:entity>s/<int:record_id>/relationships/<int:relationship_id>/delete/",
        views.relationship_remove,
        name="relationship_remove",
    ),
    path("<entity:entity>s/views/", views.saved_view_save, name="saved_view_save"),
    path(
        "<entity:entity>s/export.<str:fmt>",
        views.record_export,
        name="record_export",
    ),
    path("<entity:entity>s/import/", views.record_import, name="record_import"),
    path(
        "<entity:entity>s/views/<int:view_id>/delete/",
        views.saved_view_delete,
        name="saved_view_delete",
    ),
]
