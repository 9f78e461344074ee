"""The built-in scheduler's process (see ops.scheduler): every `--interval` seconds it
enqueues the jobs that are due; any number may run, one per app machine."""

from __future__ import annotations

import logging
import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand
from django.db import DatabaseError, connections

from ops.health import heartbeat_beat
from ops.outage import short_error
from ops.scheduler import process_id, registered_jobs, scheduler_tick

logger = logging.getLogger("sitefinder.scheduler")


class Command(BaseCommand):
    help = "Runs the periodic jobs (ops/jobs.py) when they are due, without cron."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--interval", type=float, default=10.0, help="seconds between ticks")
        parser.add_argument("--once", action="store_true", help="one tick, then exit")

    def handle(self, *args: Any, interval: float, once: bool, **options: Any) -> None:
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        me = process_id()
        logger.info(
            "scheduler %s started with %d jobs",
            me,
            len(registered_jobs()),
            extra={"event": "scheduler_start"},
        )
        while not stop.is_set():
            try:
                heartbeat_beat(process_id=me, role="scheduler")
                scheduler_tick()
            except DatabaseError as exc:
                logger.warning(
                    "database unavailable, scheduler retries in %.0f s: %s",
                    interval,
                    short_error(exc),
                    extra={"event": "scheduler_db_error"},
                )
                connections.close_all()
            if once:
                return
            stop.wait(interval)
