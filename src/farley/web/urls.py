from django.contrib.auth import views as auth_views
from django.urls import path

from farley.web import notifications, views
from farley.web.auth import FarleyLoginView, login_code

app_name = "web"
urlpatterns = [
    path("", views.home, name="home"),
    path("search/", views.search, name="search"),
    path("profile/", views.profile, name="profile"),
    path("notifications/", notifications.notification_list, name="notifications"),
    path("notifications/bell/", notifications.bell, name="bell"),
    path("notifications/read/", notifications.notifications_read, name="notifications_read"),
    path(
        "notifications/<int:notification_id>/open/",
        notifications.notification_open,
        name="notification_open",
    ),
    path("settings/", views.settings_home, name="settings"),
    path("settings/teams/new/", views.team_create, name="team_create"),
    path("settings/users/new/", views.user_create, name="user_create"),
    path("settings/users/<int:user_id>/", views.user_edit, name="user_edit"),
    path("settings/teams/<int:team_id>/", views.team_edit, name="team_edit"),
    path("settings/roles/new/", views.role_form, name="role_create"),
    path("settings/logs/", views.logs, name="logs"),
    path("settings/register/", views.processing_register, name="processing_register"),
    path("settings/retention/", views.retention_policies, name="retention_policies"),
    path("settings/retention/<int:policy_id>/", views.retention_policies, name="retention_policy"),
    path(
        "settings/relationship-types/new/",
        views.relationship_type_form,
        name="relationship_type_create",
    ),
    path(
        "settings/relationship-types/<int:type_id>/",
        views.relationship_type_form,
        name="relationship_type_edit",
    ),
    path("settings/sharing-rules/new/", views.rule_form, name="rule_create"),
    path("settings/sharing-rules/<int:rule_id>/", views.rule_form, name="rule_edit"),
    path("shares/<str:entity>/<int:record_id>/", views.share_add, name="share_add"),
    path("shares/<int:share_id>/remove/", views.share_remove, name="share_remove"),
    path("settings/roles/<int:role_id>/", views.role_form, name="role_edit"),
    path("settings/custom-fields/new/", views.custom_field_form, name="custom_field_create"),
    path(
        "settings/custom-fields/<int:field_id>/", views.custom_field_form, name="custom_field_edit"
    ),
]

auth_urlpatterns = [
    path("login/", FarleyLoginView.as_view(), name="login"),
    path("login/code/", login_code, name="login_code"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "password-reset/",
        auth_views.PasswordResetView.as_view(
            template_name="web/password_reset_form.html",
            email_template_name="web/password_reset_email.txt",
            subject_template_name="web/password_reset_subject.txt",
            success_url="/password-reset/sent/",
        ),
        name="password_reset",
    ),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name="web/password_reset_sent.html"),
        name="password_reset_done",
    ),
    path(
        "password-reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            template_name="web/password_reset_confirm.html",
            success_url="/password-reset/complete/",
        ),
        name="password_reset_confirm",
    ),
    path(
        "password-reset/complete/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="web/password_reset_complete.html"
        ),
        name="password_reset_complete",
    ),
]
