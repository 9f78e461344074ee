"""HTML pages of the sites; the sites API has its own module (properties/api/urls.py)."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.map_view, name="map"),
    path("sites/<int:pk>/expose.pdf", views.site_expose, name="site_expose"),
    path("data/", views.attributions, name="attributions"),
]
