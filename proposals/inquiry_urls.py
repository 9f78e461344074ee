"""The public inquiry form (/inquiry/)."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.inquiry_new, name="inquiry_new"),
    path("thanks/<str:token>/", views.inquiry_thanks, name="inquiry_thanks"),
    path("site/<int:pk>/", views.site_question, name="site_question"),
]
