"""The public inquiry form (/inquiry/)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
