"""Agency staff's pages (under /staff/): the review queue, data health, inviting partners."""

from django.urls import path

from accounts.views import staff_invite

from . import staff_views

urlpatterns = [
    path("review/", staff_views.review_queue, name="staff_review_queue"),
    path("data-health/", staff_views.data_health, name="staff_data_health"),
    path("invite/", staff_invite, name="staff_invite"),
]
