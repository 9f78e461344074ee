"""The task worker, as `db_worker`, but surviving database outages and with a heartbeat.

django-tasks-db's worker exits on the first OperationalError outside a task; this one logs
it, closes the broken connections, waits (1 s, doubling up to 10 s) and goes on. A task
that was running when the connection broke (its outcome could not be written) goes back to
the queue: the project's tasks are safe to run again (they record what they did). A thread
writes a heartbeat row every few seconds, which /readyz and the staff status page read.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from django.db import DatabaseError, InterfaceError, OperationalError, connection, connections
from django_tasks_db.management.commands import db_worker
from django_tasks_db.models import DBTaskResult

from ops.health import HEARTBEAT_SECONDS, heartbeat_beat
from ops.outage import short_error
from ops.scheduler import process_id

logger = logging.getLogger("sitefinder.worker")

MAX_BACKOFF_SECONDS = 10.0


def beat_forever(role: str, stop: threading.Event) -> None:
    """Writes this process's heartbeat until `stop` is set; a database outage only skips
    beats."""
    me = process_id()
    while not stop.is_set():
        try:
            heartbeat_beat(process_id=me, role=role)
        except DatabaseError:
            pass
        finally:
            connection.close()  # this thread's own connection; reopened next beat
        stop.wait(HEARTBEAT_SECONDS)


def requeue_interrupted(worker_id: str) -> int:
    """Tasks this worker claimed but could not finish because the database went away."""
    return DBTaskResult.objects.filter(status="RUNNING", worker_ids__contains=[worker_id]).update(
        status="READY"
    )


class Command(db_worker.Command):
    help = "Runs the task worker (db_worker) with reconnects after database outages."

    def handle(self, **options: Any) -> None:
        options["reload"] = False  # `manage.py serve --dev` restarts us instead
        worker_id = options["worker_id"]
        stop = threading.Event()
        threading.Thread(target=beat_forever, args=("worker", stop), daemon=True).start()
        backoff = 1.0
        try:
            while True:
                try:
                    super().handle(**options)
                    return  # batch or max-tasks done, or stopped by a signal
                except (OperationalError, InterfaceError) as exc:
                    logger.warning(
                        "database unavailable, worker retries in %.0f s: %s",
                        backoff,
                        short_error(exc),
                        extra={"event": "worker_db_error"},
                    )
                    connections.close_all()
                    time.sleep(backoff)
                    backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
                    try:
                        requeued = requeue_interrupted(worker_id)
                        backoff = 1.0
                        if requeued:
                            logger.warning("requeued %d interrupted task(s)", requeued)
                    except DatabaseError:
                        connections.close_all()
        finally:
            stop.set()
