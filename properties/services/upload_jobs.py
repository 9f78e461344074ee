"""The bulk upload in the background: a partner's file is stored on disk (streamed in
chunks, never whole in memory), and the dry run and the commit run as a task of Django's
task framework (`manage.py db_worker`; the tests run tasks at once). The task reports its
progress (rows read, checked, written) on a connection of its own, so the page polling it
sees the numbers while the upload's own transaction is still open.

One file per organisation at a time: the database refuses a second queued or running job
(a partial unique constraint), and `upload_job_start` turns that into `UploadBusy`.
"""

from __future__ import annotations

import datetime
import json
import logging
import time
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, IntegrityError, connections, transaction
from django.tasks import task
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import PartnerOrganisation
from properties.models import UploadJob

from .upload import (
    SUFFIXES,
    UploadError,
    UploadRejected,
    UploadReport,
    sites_upload_commit,
    sites_upload_plan,
)

if TYPE_CHECKING:
    from django.core.files.uploadedfile import UploadedFile

    from accounts.models import User

logger = logging.getLogger(__name__)

UPLOAD_DIR = "uploads"
CHUNK_BYTES = 1024 * 1024
# A job whose worker has said nothing for this long is taken as dead (the worker was
# killed): it no longer blocks the organisation's next upload.
STALE_AFTER_SECONDS = 30 * 60
# Stored files of finished uploads are kept this long (the rejected rows are cut from them).
KEEP_FILES_DAYS = 7
PROGRESS_EVERY_SECONDS = 0.5


class UploadBusy(Exception):
    """The organisation has a file in the worker already."""

    def __init__(self, job: UploadJob | None):
        self.job = job
        if job is None:
            message = _(
                "Another file of your organisation is being processed. Try again when it is done."
            )
        else:
            message = _(
                "%(filename)s of your organisation is being processed (since %(time)s). "
                "Wait until it is done, then upload the next file."
            ) % {
                "filename": job.filename,
                "time": timezone.localtime(job.created_at).strftime("%H:%M"),
            }
        super().__init__(message)


def upload_root() -> Path:
    return Path(settings.MEDIA_ROOT) / UPLOAD_DIR


def upload_job_path(job: UploadJob) -> Path | None:
    """The job's stored file, if it is still there (and only inside the upload folder)."""
    root = upload_root()
    if not job.stored_name:
        return None
    path = root / job.stored_name
    if path.parent != root or not path.is_file():
        return None
    return path


def _store(upload: UploadedFile) -> tuple[str, Path]:
    """Writes the uploaded file chunk by chunk under a name the server chose:
    MEDIA_ROOT/uploads/<uuid>.<ext>."""
    suffix = "." + (upload.name or "").rsplit(".", 1)[-1].lower()
    if suffix not in SUFFIXES:  # UploadForm.clean_file refused it already
        raise UploadError(_("Files of this type are not accepted."))
    root = upload_root()
    root.mkdir(parents=True, exist_ok=True)
    path = root / f"{uuid.uuid4().hex}{suffix}"
    with path.open("wb") as out:
        for chunk in upload.chunks(CHUNK_BYTES):
            out.write(chunk)
    return path.name, path


def _release_stale(organisation: PartnerOrganisation) -> None:
    """A job the worker has not touched for a long time is failed, so it blocks nothing."""
    cutoff = timezone.now() - datetime.timedelta(seconds=STALE_AFTER_SECONDS)
    UploadJob.objects.active().filter(organisation=organisation, updated_at__lt=cutoff).update(
        status=UploadJob.Status.FAILED,
        error=_("The worker stopped without finishing this file. Upload it again."),
        finished_at=timezone.now(),
        updated_at=timezone.now(),
    )


def _remove_old_files(organisation: PartnerOrganisation) -> None:
    cutoff = timezone.now() - datetime.timedelta(days=KEEP_FILES_DAYS)
    old = UploadJob.objects.filter(
        organisation=organisation, updated_at__lt=cutoff, status__in=("done", "failed")
    ).exclude(stored_name="")
    for job in old:
        path = upload_job_path(job)
        if path is not None:
            path.unlink(missing_ok=True)
    old.update(stored_name="")


def upload_job_start(
    *,
    organisation: PartnerOrganisation,
    upload: UploadedFile,
    acting_user: User,
    declared_srid: int | None = None,
    source_name: str = "",
) -> UploadJob:
    """Stores the file and has it checked (a dry run) in the background. Raises UploadBusy
    while another file of the organisation is queued or running."""
    _release_stale(organisation)
    _remove_old_files(organisation)
    running = UploadJob.objects.active().filter(organisation=organisation).first()
    if running is not None:
        raise UploadBusy(running)
    stored_name, path = _store(upload)
    try:
        with transaction.atomic():
            job = UploadJob.objects.create(
                organisation=organisation,
                user=acting_user,
                stored_name=stored_name,
                filename=Path(upload.name or "upload").name[:200],
                format=SUFFIXES.get(path.suffix, ""),
                declared_srid=declared_srid,
                source_name=source_name[:200],
                language=translation.get_language() or settings.LANGUAGE_CODE,
                operation=UploadJob.Operation.PLAN,
                revision=1,
            )
    except IntegrityError:  # another request queued one in the meantime
        path.unlink(missing_ok=True)
        raise UploadBusy(
            UploadJob.objects.active().filter(organisation=organisation).first()
        ) from None
    _enqueue(job)
    job.refresh_from_db()
    return job


def _requeue(job: UploadJob, **changes: Any) -> UploadJob:
    """Puts a finished job back into the queue with other instructions."""
    if job.is_active:
        raise UploadBusy(job)
    if upload_job_path(job) is None:
        raise UploadError(_("The file of this upload is no longer kept; upload it again."))
    _release_stale(job.organisation)
    fields = {
        "status": UploadJob.Status.QUEUED,
        "stage": "",
        "rows_read": 0,
        "rows_checked": 0,
        "rows_written": 0,
        "checked_total": None,
        "written_total": None,
        "error": "",
        "started_at": None,
        "finished_at": None,
        "language": translation.get_language() or settings.LANGUAGE_CODE,
        "updated_at": timezone.now(),
        **changes,
    }
    try:
        with transaction.atomic():
            updated = UploadJob.objects.filter(
                pk=job.pk, status__in=(UploadJob.Status.DONE, UploadJob.Status.FAILED)
            ).update(revision=job.revision + 1, **fields)
    except IntegrityError:
        raise UploadBusy(
            UploadJob.objects.active().filter(organisation=job.organisation).first()
        ) from None
    if not updated:
        raise UploadBusy(job)
    job.refresh_from_db()
    _enqueue(job)
    job.refresh_from_db()
    return job


def upload_job_recheck(*, job: UploadJob, acting_user: User) -> UploadJob:
    """Runs the dry run again (after the organisation's mappings changed)."""
    if job.committed:
        raise UploadError(_("This file has been committed already; upload it again to check it."))
    return _requeue(job, operation=UploadJob.Operation.PLAN, valid_only=False, withdraw_missing=[])


def upload_job_commit(
    *,
    job: UploadJob,
    acting_user: User,
    valid_only: bool = False,
    withdraw_missing: Iterable[int] | str = (),
) -> UploadJob:
    """Writes the checked file in the background: all rows, or (valid_only) the valid ones;
    the sites in `withdraw_missing` (ids of the report's missing sites, or "all") are
    withdrawn in the same transaction."""
    if job.committed:
        raise UploadError(_("This file has been committed already."))
    if job.status != UploadJob.Status.DONE or job.report is None:
        raise UploadError(_("Check the file first; only a checked file can be committed."))
    withdraw: list[int] | str = (
        "all" if withdraw_missing == "all" else sorted({int(pk) for pk in withdraw_missing})
    )
    return _requeue(
        job,
        operation=UploadJob.Operation.COMMIT,
        valid_only=valid_only,
        withdraw_missing=withdraw,
    )


def upload_job_discard(*, job: UploadJob, acting_user: User) -> None:
    """Forgets a finished upload and deletes its stored file."""
    if job.is_active:
        raise UploadBusy(job)
    path = upload_job_path(job)
    if path is not None:
        path.unlink(missing_ok=True)
    job.delete()


def _enqueue(job: UploadJob) -> None:
    # Enqueued outside any transaction of ours: the job row is committed, so a worker that
    # picks the task at once finds it (the tests' immediate backend runs it right here).
    upload_job_run.enqueue(job_id=job.pk, revision=job.revision)


# --- the worker ----------------------------------------------------------------------------


class ProgressWriter:
    """The progress callback of the upload core, written on a database connection of its
    own (autocommit), so it is visible while the upload's transaction is open, and at most
    every PROGRESS_EVERY_SECONDS (and at every change of stage and the end of each)."""

    # stage -> (column of the count done, column of its total)
    COLUMNS = {
        "read": ("rows_read", "rows_total"),
        "checked": ("rows_checked", "checked_total"),
        "written": ("rows_written", "written_total"),
    }

    def __init__(self, job_id: int):
        self.job_id = job_id
        self.connection: Any = None
        self.last_stage = ""
        self.last_time = 0.0
        self.broken = False

    def __call__(self, stage: str, done: int, total: int | None = None) -> None:
        columns = self.COLUMNS.get(stage)
        if columns is None or self.broken:
            return
        column, total_column = columns
        now = time.monotonic()
        finished = total is not None and done >= total  # a stage's last word is always kept
        if (
            stage == self.last_stage
            and not finished
            and now - self.last_time < PROGRESS_EVERY_SECONDS
        ):
            return
        self.last_stage, self.last_time = stage, now
        table = UploadJob._meta.db_table
        try:
            if self.connection is None:
                self.connection = connections.create_connection(DEFAULT_DB_ALIAS)
            with self.connection.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {table} SET stage = %s, {column} = %s, "  # noqa: S608 (fixed names)
                    f"{total_column} = COALESCE(%s, {total_column}), updated_at = now() "
                    "WHERE id = %s AND status = 'running'",
                    [stage, done, total, self.job_id],
                )
        except DatabaseError:  # progress is a courtesy: never fail the upload for it
            logger.exception("upload job %s: progress not written", self.job_id)
            self.broken = True

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def _error_text(error: Exception, job: UploadJob, path: Path | None) -> str:
    """The core's message naming the file as the partner knows it (never the server path)."""
    text = str(error)
    if path is not None:
        text = text.replace(str(path), job.filename).replace(path.name, job.filename)
    return text


def _finish(job: UploadJob, report: UploadReport | None, error: str, **fields: Any) -> None:
    """The job's outcome; the report goes in as one JSON text written by the database, and
    the report's rows are let go before it is built (a 50,000-row report would otherwise be
    held three times: rows, their dict, the JSON text)."""
    status = UploadJob.Status.FAILED if report is None else UploadJob.Status.DONE
    values: dict[str, Any] = {
        "status": status,
        "error": error,
        "finished_at": timezone.now(),
        "updated_at": timezone.now(),
        **fields,
    }
    text = None
    if report is not None:
        counts = dict(report.counts)
        values.update(
            counts=counts,
            committed=bool(report.committed),
            format=report.format or job.format,
            rows_total=len(report.rows),
            rows_read=len(report.rows),
        )
        if report.committed:
            written = counts.get("create", 0) + counts.get("update", 0)
            values.update(rows_written=written, written_total=written)
        data = report.to_json()
        report.rows = []
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        del data
    with transaction.atomic():
        if text is not None:
            with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
                cursor.execute(
                    f"UPDATE {UploadJob._meta.db_table} SET report = %s::jsonb WHERE id = %s",  # noqa: S608
                    [text, job.pk],
                )
        UploadJob.objects.filter(pk=job.pk).update(**values)


@task
def upload_job_run(*, job_id: int, revision: int) -> None:
    """Runs a queued job: the dry run or the commit, with progress, into the job's report."""
    claimed = UploadJob.objects.filter(
        pk=job_id, revision=revision, status=UploadJob.Status.QUEUED
    ).update(status=UploadJob.Status.RUNNING, started_at=timezone.now(), updated_at=timezone.now())
    if not claimed:
        return  # discarded, re-queued with other instructions, or taken by another worker
    job = UploadJob.objects.select_related("organisation", "user").get(pk=job_id)
    path = upload_job_path(job)
    progress = ProgressWriter(job.pk)
    with translation.override(job.language):
        try:
            if path is None:
                raise UploadError(_("The file of this upload is no longer kept; upload it again."))
            arguments: dict[str, Any] = {
                "path": path,
                "organisation": job.organisation,
                "acting_user": job.user,
                "declared_srid": job.declared_srid,
                "filename": job.filename,
                "source_name": job.source_name,
                "progress": progress,
            }
            if job.operation == UploadJob.Operation.COMMIT:
                withdraw = job.withdraw_missing
                report = sites_upload_commit(
                    **arguments,
                    valid_only=job.valid_only,
                    withdraw_missing="all" if withdraw == "all" else tuple(withdraw or ()),
                )
            else:
                report = sites_upload_plan(**arguments)
        except UploadRejected as rejected:
            _finish(
                job,
                rejected.report,
                _("Nothing was written: %(count)s rows are rejected.")
                % {"count": rejected.report.counts.get("reject", 0)},
            )
        except UploadError as error:
            _finish(job, None, _error_text(error, job, path))
        except Exception:  # a bug must not leave the job running forever
            logger.exception("upload job %s failed", job_id)
            _finish(
                job,
                None,
                _(
                    "The file could not be processed because of an error on our side. "
                    "Nothing was written. Please tell the agency."
                ),
            )
        else:
            _finish(job, report, "")
        finally:
            progress.close()


# --- reading a stored report ---------------------------------------------------------------


def upload_job_report(
    job: UploadJob, *, actions: Iterable[str] = (), offset: int = 0, limit: int | None = None
) -> UploadReport | None:
    """The job's report with only the rows asked for (by action, a page of them): the
    database cuts them out of the stored JSON, so a page of a 50,000-row report never loads
    the other rows into the web process. `job.counts` has the counts of all rows."""
    table = UploadJob._meta.db_table
    wanted = list(actions)
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(
            f"SELECT report - 'rows' FROM {table} WHERE id = %s AND report IS NOT NULL",  # noqa: S608
            [job.pk],
        )
        found = cursor.fetchone()
        if found is None:
            return None
        header = found[0]
        cursor.execute(
            "SELECT element FROM "  # noqa: S608 (fixed names)
            f"{table}, jsonb_array_elements(report -> 'rows') WITH ORDINALITY AS r(element, n) "
            "WHERE id = %s AND (cardinality(%s::text[]) = 0 OR element ->> 'action' = ANY(%s)) "
            "ORDER BY n OFFSET %s LIMIT %s",
            [job.pk, wanted, wanted, offset, limit],
        )
        rows = [_json(row[0]) for row in cursor.fetchall()]
    return UploadReport.from_json({**_json(header), "rows": rows})


def _json(value: Any) -> Any:
    # Django's connection hands jsonb over as text (its JSONField decodes it).
    return json.loads(value) if isinstance(value, str | bytes) else value
