from django.urls import path

from . import health, views

# Mounted at the root (sitefinder/urls.py); the status page under /staff/.
urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", views.prometheus_metrics, name="metrics"),
    path("staff/jobs/", views.staff_jobs, name="staff_jobs"),
]
