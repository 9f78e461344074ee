"""A partner's bulk upload as a background job: the stored file, what was asked (check or
commit), how far the worker got (rows read, checked, written) and the report it left.

Imported by properties.models (Django finds the model there); the work itself is in
properties/services/upload_jobs.py.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class UploadJobQuerySet(models.QuerySet):
    def active(self) -> UploadJobQuerySet:
        """Queued or running: the organisation's file the worker has not finished."""
        return self.filter(status__in=UploadJob.ACTIVE)

    def visible_to(self, user) -> UploadJobQuerySet:
        """Staff see every organisation's uploads, a partner only their organisation's."""
        if getattr(user, "is_agency_staff", False):
            return self
        organisation_id = getattr(user, "organisation_id", None)
        if organisation_id is None:
            return self.none()
        return self.filter(organisation_id=organisation_id)


class UploadJob(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("waiting for the worker")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    class Operation(models.TextChoices):
        PLAN = "plan", _("check (dry run)")
        COMMIT = "commit", _("commit")

    class Stage(models.TextChoices):
        READ = "read", _("reading the rows")
        CHECKED = "checked", _("checking the rows")
        WRITTEN = "written", _("writing the sites")

    ACTIVE = (Status.QUEUED, Status.RUNNING)

    organisation = models.ForeignKey(
        "accounts.PartnerOrganisation",
        verbose_name=_("organisation"),
        on_delete=models.CASCADE,
        related_name="upload_jobs",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    stored_name = models.CharField(
        _("stored file"), max_length=100, help_text=_("Under MEDIA_ROOT/uploads/.")
    )
    filename = models.CharField(_("file name"), max_length=200)
    format = models.CharField(_("format"), max_length=40, blank=True)
    declared_srid = models.PositiveIntegerField(_("declared coordinate system"), null=True)
    source_name = models.CharField(_("name of the list"), max_length=200, blank=True)
    language = models.CharField(_("language of the report"), max_length=10, default="en")

    operation = models.CharField(
        _("operation"), max_length=10, choices=Operation.choices, default=Operation.PLAN
    )
    valid_only = models.BooleanField(_("commit the valid rows only"), default=False)
    withdraw_missing = models.JSONField(
        _("sites to withdraw"),
        default=list,
        blank=True,
        help_text=_('Ids of sites not in this upload to withdraw, or "all".'),
    )

    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    stage = models.CharField(_("stage"), max_length=10, choices=Stage.choices, blank=True)
    rows_total = models.PositiveIntegerField(_("rows in the file"), null=True, blank=True)
    rows_read = models.PositiveIntegerField(_("rows read"), default=0)
    rows_checked = models.PositiveIntegerField(_("checks run"), default=0)
    rows_written = models.PositiveIntegerField(_("rows written"), default=0)
    # The core checks all rows at once, SQL step by SQL step, and writes them in one
    # statement: these count the steps and the rows to write.
    checked_total = models.PositiveIntegerField(_("checks to run"), null=True, blank=True)
    written_total = models.PositiveIntegerField(_("rows to write"), null=True, blank=True)
    revision = models.PositiveIntegerField(
        _("revision"),
        default=0,
        help_text=_("Counts the runs: a form of an older report is stale."),
    )
    counts = models.JSONField(_("counts"), default=dict, blank=True)
    report = models.JSONField(_("report"), null=True, blank=True)
    committed = models.BooleanField(_("committed"), default=False)
    error = models.TextField(_("error"), blank=True)

    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = UploadJobQuerySet.as_manager()

    class Meta:
        verbose_name = _("upload")
        verbose_name_plural = _("uploads")
        ordering = ["-created_at", "-id"]
        constraints = [
            # One file of an organisation at a time: a second one while the worker has one
            # is refused by the database, not only by a check that could race.
            models.UniqueConstraint(
                fields=["organisation"],
                condition=Q(status__in=["queued", "running"]),
                name="uploadjob_one_active_per_organisation",
            )
        ]

    def __str__(self) -> str:
        return f"{self.filename} ({self.get_status_display()})"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE
