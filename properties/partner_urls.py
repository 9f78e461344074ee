"""The partner workspace (HTML pages); included at partner/ by sitefinder/urls.py."""

from django.urls import path

from . import partner_views as views

urlpatterns = [
    path("", views.partner_dashboard, name="partner_dashboard"),
    path("sites/bulk/", views.partner_sites_bulk, name="partner_sites_bulk"),
    path("sites/new/", views.partner_site_new, name="partner_site_new"),
    path("sites/<int:pk>/edit/", views.partner_site_edit, name="partner_site_edit"),
    path("sites/<int:pk>/history/", views.partner_site_history, name="partner_site_history"),
    path("sites/<int:pk>/action/", views.partner_site_action, name="partner_site_action"),
    path("upload/", views.partner_upload, name="partner_upload"),
    path("upload/report.csv", views.partner_upload_report, name="partner_upload_report"),
]
