"""Staff's offer builder (/staff/...)."""

from django.urls import URLPattern, path

from . import offer_staff_views as views

urlpatterns: list[URLPattern] = [
    path("inquiries/<int:pk>/offers/new/", views.offer_create_view, name="offer_create"),
    path("offers/<int:pk>/", views.offer_edit, name="offer_edit"),
    path("offers/<int:pk>/sites/add/", views.offer_site_add_view, name="offer_site_add"),
    path("offers/<int:pk>/pdf/", views.offer_pdf, name="offer_pdf"),
    path("offers/<int:pk>/pdf/render/", views.offer_pdf_request_view, name="offer_pdf_request"),
    path("offers/<int:pk>/pdf/status/", views.offer_pdf_status, name="offer_pdf_status"),
    path("offers/<int:pk>/links/new/", views.offer_link_create_view, name="offer_link_create"),
    path(
        "offers/<int:pk>/links/<int:link_pk>/revoke/",
        views.offer_link_revoke_view,
        name="offer_link_revoke",
    ),
]
