"""The calendar pages (day, week, month, agenda) and the data they load."""

from django.urls import path  # noqa: F401  (the calendar's paths come here)

urlpatterns: list = []
