"""Staff's inquiry inbox, timeline, personal data and the dashboard (/staff/...)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
