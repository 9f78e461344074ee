"""HTML pages of the reference data; the geodata API has its own module (geodata/api/urls.py)."""

from django.urls import path

from . import views

urlpatterns = [
    path("data/", views.attributions, name="attributions"),
]
