from django.urls import path

from . import health, views

# Mounted at the root (sitefinder/urls.py), without a language prefix: probes and scrapers.
urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", views.prometheus_metrics, name="metrics"),
]

# The status page, a page like any other: under the language prefix (/de/staff/jobs/).
page_urlpatterns = [
    path("staff/jobs/", views.staff_jobs, name="staff_jobs"),
]
