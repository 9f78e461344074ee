"""The site's page (/sites/<id>/): the site's facts from properties with "Ask about this
site" from proposals, composed here (proposals builds on properties)."""

from django.urls import path

from . import views

urlpatterns = [
    path("sites/<int:pk>/", views.site_detail, name="site_detail"),
]
