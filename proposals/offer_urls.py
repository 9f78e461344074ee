"""Private offer links for investors (/offers/<token>/)."""

from django.urls import URLPattern, path

from . import offer_views as views

urlpatterns: list[URLPattern] = [
    path("<str:token>/", views.offer_link, name="offer_link"),
    path("<str:token>/pdf/", views.offer_link_pdf, name="offer_link_pdf"),
]
