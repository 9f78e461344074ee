"""The built-in scheduler: periodic jobs without cron, exactly once per due time.

Every app machine may run `manage.py run_scheduler` (`manage.py serve` starts one); each
due time is still run once, because a scheduler only runs a job after moving the job's
`next_run_at` forward with a compare-and-swap UPDATE (`... WHERE next_run_at = <the due
time it read>`): of several schedulers reading the same due time, exactly one UPDATE
matches. The run itself is a task of the task framework (`run_scheduled_job`), so it runs
in the task worker, is logged and counted like every task, and the scheduler process stays
small. A due time missed while nothing was running (a deploy, an outage) is run once when
the scheduler comes back, not once per missed time.

Schedules are cron expressions (minute hour day month weekday, via `cronsim`) in the
project's TIME_ZONE (Europe/Berlin), so "daily at 03:00" stays 03:00 across daylight
saving time.

Adding a job is one line in `ops/jobs.py`, e.g. for a management command that should run
at 04:30 on the first day of every month::

    command_job("refresh_osm_layers", "30 4 1 * *", _("Refresh the OpenStreetMap layers"))

(`job(name, cron, description, run=callable)` for a plain function.) The next scheduler tick
(10 s) picks it up; it runs first at its next due time, never at once; the staff status page
(/staff/jobs/) lists it. A changed cron expression takes effect at the next tick.
"""

from __future__ import annotations

import logging
import os
import socket
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from cronsim import CronSim
from django.core.management import call_command
from django.db import transaction
from django.tasks import task
from django.utils import timezone
from django.utils.functional import Promise

from .models import JobRun, ScheduledJob

logger = logging.getLogger("sitefinder.scheduler")


@dataclass(frozen=True)
class Job:
    name: str
    cron: str
    description: str | Promise
    run: Callable[[], object]

    def next_due(self, after: datetime) -> datetime:
        """The first due time strictly after `after`, in UTC."""
        local = timezone.localtime(after).replace(second=0, microsecond=0)
        return next(iter(CronSim(self.cron, local))).astimezone(UTC)


JOBS: dict[str, Job] = {}


def job(name: str, cron: str, description: str | Promise, *, run: Callable[[], object]) -> Job:
    """Registers a periodic job; the cron expression is checked here, at import."""
    CronSim(cron, timezone.now())  # raises CronSimError for a bad expression
    if name in JOBS:
        raise ValueError(f"scheduled job {name!r} is registered twice")
    JOBS[name] = Job(name=name, cron=cron, description=description, run=run)
    return JOBS[name]


def command_job(name: str, cron: str, description: str | Promise, *args: str) -> Job:
    """Registers a management command (with fixed arguments) as a periodic job."""
    return job(name, cron, description, run=lambda: call_command(name, *args))


def registered_jobs() -> dict[str, Job]:
    from . import jobs  # noqa: F401  (registers the project's jobs)

    return JOBS


def process_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def scheduler_tick(*, now: datetime | None = None) -> list[JobRun]:
    """Enqueues every job that is due and that this scheduler claims; returns their runs."""
    now = now or timezone.now()
    claimed: list[JobRun] = []
    for scheduled in registered_jobs().values():
        state = ScheduledJob.objects.filter(name=scheduled.name).first()
        if state is None:
            # First sight: the job starts at its next due time, not at once.
            ScheduledJob.objects.bulk_create(
                [
                    ScheduledJob(
                        name=scheduled.name,
                        cron=scheduled.cron,
                        next_run_at=scheduled.next_due(now),
                    )
                ],
                ignore_conflicts=True,
            )
            continue
        if state.cron != scheduled.cron:
            ScheduledJob.objects.filter(name=scheduled.name, cron=state.cron).update(
                cron=scheduled.cron, next_run_at=scheduled.next_due(now)
            )
            continue
        if state.next_run_at > now:
            continue
        run = job_claim(scheduled, due_at=state.next_run_at, now=now)
        if run is None:
            continue  # another scheduler claimed this due time first
        logger.info("scheduled job %s due %s enqueued", scheduled.name, run.due_at.isoformat())
        claimed.append(run)
    return claimed


def job_claim(job: Job, *, due_at: datetime, now: datetime) -> JobRun | None:
    """Claims one due time of a job and enqueues its run; None if another scheduler did."""
    with transaction.atomic():
        won = ScheduledJob.objects.filter(name=job.name, next_run_at=due_at).update(
            next_run_at=job.next_due(now)
        )
        if not won:
            return None
        run, created = JobRun.objects.get_or_create(
            job=job.name, due_at=due_at, defaults={"claimed_by": process_id()}
        )
        if not created:
            return None
        # Inside the transaction: the claim, the run and the task row (the database task
        # backend) commit together or not at all.
        run_scheduled_job.enqueue(run.pk)
    return run


@task
def run_scheduled_job(run_id: int) -> None:
    """Runs one claimed due time of a job (in the task worker) and records the outcome."""
    run = JobRun.objects.get(pk=run_id)
    registered = registered_jobs().get(run.job)
    JobRun.objects.filter(pk=run_id).update(status=JobRun.Status.RUNNING, started_at=timezone.now())
    try:
        if registered is None:
            raise LookupError(f"no scheduled job named {run.job!r} is registered")
        registered.run()
    except Exception as exc:
        JobRun.objects.filter(pk=run_id).update(
            status=JobRun.Status.FAILED,
            finished_at=timezone.now(),
            error="".join(traceback.format_exception_only(exc)).strip()[:2000],
        )
        raise
    JobRun.objects.filter(pk=run_id).update(
        status=JobRun.Status.SUCCEEDED, finished_at=timezone.now()
    )
