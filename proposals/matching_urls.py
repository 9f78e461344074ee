"""Staff's view of an inquiry's matches (/staff/...)."""

from django.urls import URLPattern, path

from . import matching_views

urlpatterns: list[URLPattern] = [
    path(
        "inquiries/<int:pk>/matches/",
        matching_views.inquiry_matches_page,
        name="inquiry_matches",
    ),
]
