"""The partner workspace (HTML pages); included at partner/ by sitefinder/urls.py."""

from django.urls import path

from . import partner_upload_views as upload_views
from . import partner_views as views

urlpatterns = [
    path("", views.partner_dashboard, name="partner_dashboard"),
    path("sites/bulk/", views.partner_sites_bulk, name="partner_sites_bulk"),
    path("sites/new/", views.partner_site_new, name="partner_site_new"),
    path("sites/<int:pk>/edit/", views.partner_site_edit, name="partner_site_edit"),
    path("sites/<int:pk>/history/", views.partner_site_history, name="partner_site_history"),
    path("sites/<int:pk>/action/", views.partner_site_action, name="partner_site_action"),
    path("upload/", upload_views.partner_upload, name="partner_upload"),
    path("upload/<int:pk>/", upload_views.partner_upload_job, name="partner_upload_job"),
    path(
        "upload/<int:pk>/status.json",
        upload_views.partner_upload_job_status,
        name="partner_upload_job_status",
    ),
    path(
        "upload/<int:pk>/mappings/",
        upload_views.partner_upload_job_mappings,
        name="partner_upload_job_mappings",
    ),
    path(
        "upload/<int:pk>/commit/",
        upload_views.partner_upload_job_commit,
        name="partner_upload_job_commit",
    ),
    path(
        "upload/<int:pk>/discard/",
        upload_views.partner_upload_job_discard,
        name="partner_upload_job_discard",
    ),
    path(
        "upload/<int:pk>/rejected/",
        upload_views.partner_upload_job_rejected,
        name="partner_upload_job_rejected",
    ),
    path(
        "upload/<int:pk>/report.csv",
        upload_views.partner_upload_job_report,
        name="partner_upload_job_report",
    ),
    path("upload/mappings/", upload_views.partner_upload_mappings, name="partner_upload_mappings"),
    path(
        "upload/mappings/<int:pk>/delete/",
        upload_views.partner_upload_mapping_delete,
        name="partner_upload_mapping_delete",
    ),
]
