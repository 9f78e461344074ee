"""Private offer links for investors (/offers/<token>/)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
