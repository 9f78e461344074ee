"""Staff's view of an inquiry's matches (/staff/...)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
