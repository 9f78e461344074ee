"""Staff's inquiry inbox, timeline, personal data and the dashboard (/staff/...)."""

from django.urls import path

from . import inbox_views

urlpatterns = [
    path("inquiries/", inbox_views.inbox, name="inbox"),
    path("inquiries/<int:pk>/", inbox_views.inquiry_detail, name="inquiry_detail"),
    path(
        "inquiries/<int:pk>/personal-data.json",
        inbox_views.inquiry_export_view,
        name="inquiry_export",
    ),
    path("inquiries/<int:pk>/erase/", inbox_views.inquiry_erase_view, name="inquiry_erase"),
    path("dashboard/", inbox_views.staff_dashboard, name="staff_dashboard"),
]
