"""Staff's status page of the scheduled jobs and processes, and the metrics endpoint."""

from __future__ import annotations

import hmac

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from prometheus_client import CONTENT_TYPE_LATEST

from accounts.permissions import is_staff_user, staff_required

from . import metrics
from .health import WORKER_STALE_SECONDS
from .models import Heartbeat, JobRun, ScheduledJob
from .scheduler import registered_jobs


@staff_required
def staff_jobs(request: HttpRequest) -> HttpResponse:
    """Each scheduled job's schedule, last run, next run and last error; the processes'
    heartbeats."""
    states = {s.name: s for s in ScheduledJob.objects.all()}
    rows = []
    for job in registered_jobs().values():
        runs = JobRun.objects.filter(job=job.name)
        state = states.get(job.name)
        rows.append(
            {
                "job": job,
                "last_run": runs.order_by("-due_at").first(),
                "last_error": runs.filter(status=JobRun.Status.FAILED).order_by("-due_at").first(),
                "next_run_at": state.next_run_at if state else None,
            }
        )
    return render(
        request,
        "ops/staff_jobs.html",
        {
            "rows": rows,
            "heartbeats": Heartbeat.objects.order_by("role", "-seen_at"),
            "stale_seconds": WORKER_STALE_SECONDS,
        },
    )


def _metrics_allowed(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    header = request.headers.get("Authorization", "")
    if token and header.startswith("Bearer "):
        return hmac.compare_digest(header.removeprefix("Bearer ").encode(), token.encode())
    return is_staff_user(request.user)


def prometheus_metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus metrics: for a bearer token (SITEFINDER_METRICS_TOKEN) or a staff
    session; 404 to everyone else, like every staff URL."""
    if not _metrics_allowed(request):
        raise Http404
    response = HttpResponse(metrics.exposition(), content_type=CONTENT_TYPE_LATEST)
    response["Cache-Control"] = "no-store"
    return response
