"""Runs the whole service in the foreground: the web server, the task worker and the
scheduler, supervised together.

    manage.py serve [--bind 127.0.0.1:8000] [--workers N] [--dev]

- web: gunicorn (sitefinder/gunicorn.conf.py) or, with --dev, Django's auto-reloading
  development server;
- worker: `manage.py run_worker` (db_worker with reconnects and a heartbeat);
- scheduler: `manage.py run_scheduler` (the periodic jobs of ops/jobs.py).

A program that exits is restarted after a pause (1 s, doubling to 30 s while it keeps
failing fast); one that fails at start ten times in a row stops everything, with its exit
code. Ctrl-C (SIGINT) or SIGTERM stops all three gracefully (gunicorn finishes its
requests, the worker its task) and kills what is left after 30 s. SIGHUP restarts them
gracefully: gunicorn reloads its workers one by one without dropping a request, the
worker and the scheduler are restarted. Prometheus counters of all processes go to one
folder (PROMETHEUS_MULTIPROC_DIR), emptied at start.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

logger = logging.getLogger("sitefinder.supervisor")

STOP_TIMEOUT_SECONDS = 30
MAX_BACKOFF_SECONDS = 30.0
# A program that ran this long before exiting was healthy: its restart pause starts over.
HEALTHY_AFTER_SECONDS = 30.0
MAX_FAST_FAILURES = 10


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM when the supervisor dies, even by SIGKILL (Linux)."""
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


@dataclass
class Program:
    name: str
    argv: list[str]
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    restart_at: float = 0.0
    backoff: float = 1.0
    fast_failures: int = 0
    history: list[int] = field(default_factory=list)

    def start(self, env: dict[str, str]) -> None:
        # Its own process group: a terminal's Ctrl-C reaches only the supervisor, which
        # then stops each program once (a second signal would make the task worker abort
        # the task it is running).
        self.process = subprocess.Popen(  # noqa: S603 (our own argv)
            self.argv, env=env, process_group=0, preexec_fn=_die_with_parent
        )
        self.started_at = time.monotonic()
        logger.info(
            "started %s (pid %d)",
            self.name,
            self.process.pid,
            extra={"event": "program_start", "program": self.name, "pid": self.process.pid},
        )

    def signal(self, sig: int) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(sig)


class Command(BaseCommand):
    help = "Runs the web server, the task worker and the scheduler, supervised together."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--bind", default=os.environ.get("SITEFINDER_BIND", "127.0.0.1:8000"))
        parser.add_argument(
            "--workers",
            type=int,
            default=None,
            help="gunicorn worker processes (default: WEB_CONCURRENCY or 2 × cores + 1)",
        )
        parser.add_argument("--dev", action="store_true", help="Django's reloading dev server")
        parser.add_argument(
            "--no-worker", action="store_true", help="no task worker and no scheduler here"
        )

    def handle(
        self, *args: Any, bind: str, workers: int | None, dev: bool, no_worker: bool, **options: Any
    ) -> None:
        python = sys.executable
        manage = str(Path(settings.BASE_DIR) / "manage.py")
        env = dict(os.environ)
        metrics_dir = Path(
            env.get("PROMETHEUS_MULTIPROC_DIR")
            or Path(settings.BASE_DIR) / "var" / f"prometheus-{bind.rsplit(':', 1)[-1]}"
        )
        shutil.rmtree(metrics_dir, ignore_errors=True)
        metrics_dir.mkdir(parents=True)
        env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
        if workers:
            env["WEB_CONCURRENCY"] = str(workers)
        if dev:
            web = [python, manage, "runserver", bind]
        else:
            web = [
                python,
                "-m",
                "gunicorn",
                "--config",
                "python:sitefinder.gunicorn_conf",
                "--bind",
                bind,
                "sitefinder.wsgi:application",
            ]
        programs = [Program("web", web)]
        if not no_worker:
            programs.append(Program("worker", [python, manage, "run_worker", "--no-reload"]))
            programs.append(Program("scheduler", [python, manage, "run_scheduler"]))
        code = Supervisor(programs, env).run()
        if code:
            raise CommandError(f"stopped: a program kept failing (exit {code})", returncode=code)


class Supervisor:
    def __init__(
        self,
        programs: list[Program],
        env: dict[str, str],
        *,
        first_backoff: float = 1.0,
        max_fast_failures: int = MAX_FAST_FAILURES,
    ) -> None:
        self.programs = programs
        self.env = env
        self.first_backoff = first_backoff
        self.max_fast_failures = max_fast_failures
        for program in programs:
            program.backoff = first_backoff
        self.stopping = False
        self.reload = False

    def _on_stop(self, signum: int, frame: Any) -> None:
        self.stopping = True

    def _on_hup(self, signum: int, frame: Any) -> None:
        self.reload = True

    def run(self) -> int:
        """Runs until SIGINT/SIGTERM (0) or until a program keeps failing (its exit code)."""
        signal.signal(signal.SIGINT, self._on_stop)
        signal.signal(signal.SIGTERM, self._on_stop)
        signal.signal(signal.SIGHUP, self._on_hup)
        for program in self.programs:
            program.start(self.env)
        failure = 0
        while not self.stopping:
            if self.reload:
                self.reload = False
                self._graceful_reload()
            failure = self._check()
            if failure:
                break
            time.sleep(0.2)
        self._stop_all()
        return failure

    def _graceful_reload(self) -> None:
        logger.info("reloading", extra={"event": "reload"})
        for program in self.programs:
            # gunicorn: HUP replaces its workers gracefully; runserver reloads by itself.
            program.signal(signal.SIGHUP if program.name == "web" else signal.SIGTERM)

    def _check(self) -> int:
        now = time.monotonic()
        for program in self.programs:
            process = program.process
            if process is None:
                if now >= program.restart_at:
                    program.start(self.env)
                continue
            code = process.poll()
            if code is None:
                continue
            ran = now - program.started_at
            if ran >= HEALTHY_AFTER_SECONDS:
                program.backoff, program.fast_failures = self.first_backoff, 0
            else:
                program.fast_failures += 1
            if program.fast_failures >= self.max_fast_failures:
                logger.error(
                    "%s failed %d times in a row; stopping",
                    program.name,
                    program.fast_failures,
                    extra={"event": "program_gave_up", "program": program.name, "exit": code},
                )
                return code or 1
            logger.warning(
                "%s exited with %s after %.0f s; restarting in %.0f s",
                program.name,
                code,
                ran,
                program.backoff,
                extra={"event": "program_exit", "program": program.name, "exit": code},
            )
            program.process = None
            program.restart_at = now + program.backoff
            program.backoff = min(program.backoff * 2, MAX_BACKOFF_SECONDS)
        return 0

    def _stop_all(self) -> None:
        logger.info("stopping", extra={"event": "stop"})
        for program in self.programs:
            program.signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        for program in self.programs:
            if program.process is None:
                continue
            try:
                program.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                logger.warning("%s did not stop in time; killing it", program.name)
                program.process.kill()
                program.process.wait()
