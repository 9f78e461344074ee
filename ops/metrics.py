"""Prometheus metrics. Counters and histograms are written by each process (web workers,
task worker); with PROMETHEUS_MULTIPROC_DIR set (`manage.py serve` sets it) every process
writes to files there and /metrics adds them up. Queue lengths, failures and job states
are read from the database when /metrics is scraped, so they are right whoever scrapes.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from django.db import DatabaseError
from django.db.models import Count, Max
from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

REQUEST_LATENCY = Histogram(
    "sitefinder_http_request_duration_seconds",
    "Time to answer a request, by view (URL name) and method.",
    ["view", "method"],
    buckets=LATENCY_BUCKETS,
)
REQUESTS = Counter(
    "sitefinder_http_requests",
    "Requests answered, by view, method and status code.",
    ["view", "method", "status"],
)
TILE_CACHE = Counter(
    "sitefinder_tile_cache_requests",
    "Tile lookups in the tile cache, by tile set and result (hit, miss, stale_hit: served "
    "from the last known data version while the database was unreachable).",
    ["tileset", "result"],
)
TASKS = Counter(
    "sitefinder_task_runs",
    "Tasks the worker finished, by task and final status (SUCCESSFUL, FAILED).",
    ["task", "status"],
)
TASK_DURATION = Histogram(
    "sitefinder_task_duration_seconds",
    "Time a task ran in the worker, by task.",
    ["task"],
    buckets=(0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0, 1800.0),
)


class DatabaseStateCollector(Collector):
    """Task queue length and failures and scheduled jobs' state, read at scrape time."""

    def collect(self) -> Iterator[Metric]:
        from django_tasks_db.models import DBTaskResult

        from .models import JobRun

        up = GaugeMetricFamily("sitefinder_database_up", "1 when the database answered.")
        try:
            by_status = dict(
                DBTaskResult.objects.values_list("status").annotate(n=Count("id")).order_by()
            )
            last_runs = list(
                JobRun.objects.values("job", "status").annotate(last=Max("finished_at")).order_by()
            )
        except DatabaseError:
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        queue = GaugeMetricFamily(
            "sitefinder_task_queue_length", "Tasks waiting for the worker (READY)."
        )
        queue.add_metric([], by_status.get("READY", 0))
        yield queue
        tasks = GaugeMetricFamily(
            "sitefinder_tasks", "Task results stored, by status.", labels=["status"]
        )
        for status in ("READY", "RUNNING", "SUCCESSFUL", "FAILED"):
            tasks.add_metric([status], by_status.get(status, 0))
        yield tasks
        jobs = GaugeMetricFamily(
            "sitefinder_scheduled_job_last_finished_timestamp_seconds",
            "When a scheduled job last finished, by job and outcome.",
            labels=["job", "status"],
        )
        for row in last_runs:
            if row["last"] is not None:
                jobs.add_metric([row["job"], row["status"]], row["last"].timestamp())
        yield jobs


def exposition() -> bytes:
    """The metrics of every process in Prometheus' text format."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    state = CollectorRegistry()
    state.register(DatabaseStateCollector())
    return generate_latest(registry) + generate_latest(state)
