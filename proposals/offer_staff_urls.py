"""Staff's offer builder (/staff/...)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
