"""State of the built-in scheduler and of the long-running processes.

`ScheduledJob.next_run_at` is the claim: a scheduler runs a job only after moving that
timestamp forward with a compare-and-swap UPDATE, so with any number of schedulers (one per
app machine) each due time is claimed exactly once; `JobRun` keeps one row per (job, due
time), unique, as the record and a second guarantee.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ScheduledJob(models.Model):
    name = models.CharField(_("name"), max_length=64, primary_key=True)
    # The cron expression the next run was computed from: a changed schedule recomputes it.
    cron = models.CharField(_("schedule"), max_length=64)
    next_run_at = models.DateTimeField(_("next run"))

    class Meta:
        verbose_name = _("scheduled job")
        verbose_name_plural = _("scheduled jobs")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class JobRun(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        SUCCEEDED = "succeeded", _("succeeded")
        FAILED = "failed", _("failed")

    job = models.CharField(_("job"), max_length=64)
    due_at = models.DateTimeField(_("due at"))
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.QUEUED
    )
    claimed_by = models.CharField(_("claimed by"), max_length=128, blank=True)
    enqueued_at = models.DateTimeField(_("enqueued at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("job run")
        verbose_name_plural = _("job runs")
        ordering = ["-due_at"]
        constraints = [
            models.UniqueConstraint(fields=["job", "due_at"], name="ops_jobrun_once_per_due_time")
        ]
        indexes = [models.Index(fields=["job", "-due_at"], name="ops_jobrun_job_due")]

    def __str__(self) -> str:
        return f"{self.job} @ {self.due_at:%Y-%m-%d %H:%M}"


class Heartbeat(models.Model):
    """The last sign of life of a long-running process (task worker, scheduler); /readyz
    reads it."""

    process_id = models.CharField(_("process"), max_length=128, primary_key=True)
    role = models.CharField(_("role"), max_length=16)
    seen_at = models.DateTimeField(_("last seen"))

    class Meta:
        verbose_name = _("heartbeat")
        verbose_name_plural = _("heartbeats")

    def __str__(self) -> str:
        return f"{self.role} {self.process_id}"
