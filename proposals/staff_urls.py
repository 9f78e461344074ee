"""Staff's side of site proposals (/staff/...): the inquiry inbox and an inquiry's page,
its matches, its personal data, the offer builder with the exposé PDF and the links, and
the dashboard. Every view answers 404 to anyone but agency staff."""

from django.urls import path

from . import dashboard_views, inbox_views, matching_views, offer_staff_views

urlpatterns = [
    # Inbox and one inquiry
    path("inquiries/", inbox_views.inbox, name="inbox"),
    path("inquiries/<int:pk>/", inbox_views.inquiry_detail, name="inquiry_detail"),
    path(
        "inquiries/<int:pk>/matches/",
        matching_views.inquiry_matches_page,
        name="inquiry_matches",
    ),
    path(
        "inquiries/<int:pk>/personal-data.json",
        inbox_views.inquiry_export_view,
        name="inquiry_export",
    ),
    path("inquiries/<int:pk>/erase/", inbox_views.inquiry_erase_view, name="inquiry_erase"),
    # Offers
    path(
        "inquiries/<int:pk>/offers/new/",
        offer_staff_views.offer_create_view,
        name="offer_create",
    ),
    path("offers/<int:pk>/", offer_staff_views.offer_edit, name="offer_edit"),
    path(
        "offers/<int:pk>/sites/add/",
        offer_staff_views.offer_site_add_view,
        name="offer_site_add",
    ),
    path("offers/<int:pk>/pdf/", offer_staff_views.offer_pdf, name="offer_pdf"),
    path(
        "offers/<int:pk>/pdf/render/",
        offer_staff_views.offer_pdf_request_view,
        name="offer_pdf_request",
    ),
    path(
        "offers/<int:pk>/pdf/status/",
        offer_staff_views.offer_pdf_status,
        name="offer_pdf_status",
    ),
    path(
        "offers/<int:pk>/links/new/",
        offer_staff_views.offer_link_create_view,
        name="offer_link_create",
    ),
    path(
        "offers/<int:pk>/links/<int:link_pk>/revoke/",
        offer_staff_views.offer_link_revoke_view,
        name="offer_link_revoke",
    ),
    # Statistics
    path("dashboard/", dashboard_views.staff_dashboard, name="staff_dashboard"),
]
