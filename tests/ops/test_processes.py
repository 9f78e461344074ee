"""The supervisor, the worker's survival of database outages, the first staff account."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import OperationalError
from django_tasks_db.management.commands import db_worker

from accounts.models import User
from ops.management.commands import run_worker
from ops.management.commands.prepare import first_staff_account_ensure
from ops.management.commands.serve import Program, Supervisor


def test_a_crashed_program_is_restarted_and_a_stop_stops_all(tmp_path: Path, monkeypatch):
    starts = tmp_path / "starts"
    crasher = Program(
        "crasher",
        [sys.executable, "-c", f"open({str(starts)!r}, 'a').write('x'); raise SystemExit(3)"],
    )
    sleeper = Program("sleeper", [sys.executable, "-c", "import time; time.sleep(60)"])
    supervisor = Supervisor([crasher, sleeper], dict(os.environ), first_backoff=0.05)
    result: dict[str, int] = {}
    runner = threading.Thread(target=lambda: result.update(code=supervisor.run()))
    # signal.signal() only works in the main thread: run the loop in a thread with the
    # handlers left alone, and stop it the way the handler would.
    monkeypatch.setattr(signal, "signal", lambda *a, **k: None)
    try:
        runner.start()
        deadline = time.monotonic() + 20
        while (not starts.exists() or len(starts.read_text()) < 3) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(starts.read_text()) >= 3, "the crashed program was not restarted"
        sleeping = sleeper.process
        assert sleeping is not None and sleeping.poll() is None
        supervisor._on_stop(signal.SIGINT, None)
    finally:
        supervisor.stopping = True
        runner.join(timeout=20)
    assert not runner.is_alive()
    assert result["code"] == 0
    assert sleeping.poll() is not None  # stopped with the supervisor


def test_a_program_failing_at_start_stops_everything_with_its_code(monkeypatch):
    failing = Program("failing", [sys.executable, "-c", "raise SystemExit(7)"])
    sleeper = Program("sleeper", [sys.executable, "-c", "import time; time.sleep(60)"])
    supervisor = Supervisor(
        [failing, sleeper], dict(os.environ), first_backoff=0.01, max_fast_failures=3
    )
    monkeypatch.setattr(signal, "signal", lambda *a, **k: None)
    code = supervisor.run()
    assert code == 7
    assert sleeper.process is not None and sleeper.process.poll() is not None


@pytest.mark.django_db
def test_the_worker_survives_a_database_outage(monkeypatch, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    calls: list[str] = []

    def handle(self, **options):
        calls.append("run")
        if len(calls) < 3:
            raise OperationalError("server closed the connection unexpectedly")

    requeued: list[str] = []
    monkeypatch.setattr(db_worker.Command, "handle", handle)
    monkeypatch.setattr(run_worker.time, "sleep", lambda seconds: None)
    monkeypatch.setattr(run_worker, "beat_forever", lambda role, stop: None)
    monkeypatch.setattr(
        run_worker, "requeue_interrupted", lambda worker_id: requeued.append(worker_id) or 1
    )
    call_command("run_worker", "--worker-id", "w-1", "--batch")
    assert calls == ["run", "run", "run"]
    assert requeued == ["w-1", "w-1"]


@pytest.mark.django_db
def test_a_task_interrupted_by_an_outage_goes_back_to_the_queue(settings):
    from django_tasks_db.models import DBTaskResult, get_date_max

    interrupted = DBTaskResult.objects.create(
        status="RUNNING",
        task_path="ops.scheduler.run_scheduled_job",
        args_kwargs={"args": [1], "kwargs": {}},
        queue_name="default",
        backend_name="default",
        worker_ids=["w-1"],
        run_after=get_date_max(),
    )
    other = DBTaskResult.objects.create(
        status="RUNNING",
        task_path="ops.scheduler.run_scheduled_job",
        args_kwargs={"args": [2], "kwargs": {}},
        queue_name="default",
        backend_name="default",
        worker_ids=["w-2"],
        run_after=get_date_max(),
    )
    assert run_worker.requeue_interrupted("w-1") == 1
    interrupted.refresh_from_db()
    other.refresh_from_db()
    assert interrupted.status == "READY"
    assert other.status == "RUNNING"


@pytest.mark.django_db
def test_the_first_staff_account_is_created_once_and_never_changed():
    user, created = first_staff_account_ensure(
        email="Admin@Example.org", password="a long passphrase 4 staff"
    )
    assert created and user.is_superuser and user.is_agency_staff
    assert user.check_password("a long passphrase 4 staff")
    again, created = first_staff_account_ensure(
        email="admin@example.org", password="different 123 pass"
    )
    assert not created and again.pk == user.pk
    again.refresh_from_db()
    assert again.check_password("a long passphrase 4 staff")
    assert User.objects.filter(is_superuser=True).count() == 1


@pytest.mark.django_db
def test_a_weak_first_password_is_refused():
    with pytest.raises(CommandError, match="SITEFINDER_ADMIN_PASSWORD"):
        first_staff_account_ensure(email="admin@example.org", password="123")
    assert not User.objects.exists()
