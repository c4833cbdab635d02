"""The calendar pages (day, week, month, agenda) and the data they load."""

from django.urls import path

from farley.activities import calendar_views

urlpatterns = [
    path("calendar/", calendar_views.calendar, name="calendar"),
    path("calendar/events/", calendar_views.calendar_events, name="calendar_events"),
    path(
        "calendar/events/<int:activity_id>/move/",
        calendar_views.calendar_move,
        name="calendar_move",
    ),
]
