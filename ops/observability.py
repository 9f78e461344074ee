"""One structured (JSON) log line per request and per task, with a request id.

The request id is the client's (or the reverse proxy's) `X-Request-ID` when it is a sane
token, else a new one; it is sent back in the response's `X-Request-ID` and attached to
every log record written while the request runs (`request_id`), so a proxy's log, ours
and any error can be joined.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from django.http import HttpRequest, HttpResponse

from . import metrics

request_logger = logging.getLogger("sitefinder.request")
task_logger = logging.getLogger("sitefinder.task")

REQUEST_ID: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:@/+=-]{1,128}$")

# Attributes every LogRecord has; everything else was passed in `extra=` and is logged.
_STANDARD_ATTRS = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message",
    "asctime",
    "request_id",
}


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get()
        return True


class JsonFormatter(logging.Formatter):
    """A log record as one line of JSON: time, level, logger, message, request id and any
    `extra=` fields."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", "") or REQUEST_ID.get()
        if request_id:
            line["request_id"] = request_id
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                line[key] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False)


def request_id_from(request: HttpRequest) -> str:
    incoming = request.headers.get("X-Request-ID", "")
    return incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex


class RequestLogMiddleware:
    """Outermost middleware: request id, one log line and the latency metrics per request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request_id_from(request)
        token = REQUEST_ID.set(request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            duration = time.perf_counter() - started
            response["X-Request-ID"] = request_id
            match = request.resolver_match
            view = (match.view_name or match._func_path) if match else "unresolved"
            log_request(request, response, view, duration)
            return response
        finally:
            REQUEST_ID.reset(token)


def log_request(request: HttpRequest, response: HttpResponse, view: str, duration: float) -> None:
    """The request's log line and latency metrics (also for answers given before the
    middleware stack: sitefinder.fastpath)."""
    metrics.REQUEST_LATENCY.labels(view, request.method).observe(duration)
    metrics.REQUESTS.labels(view, request.method, str(response.status_code)).inc()
    request_logger.info(
        "%s %s %s",
        request.method,
        request.path,
        response.status_code,
        extra={
            "event": "request",
            "method": request.method,
            "path": request.path,
            "status": response.status_code,
            "duration_ms": round(duration * 1000, 2),
            "view": view,
        },
    )


def _task_started(sender: Any, task_result: Any, **kwargs: Any) -> None:
    REQUEST_ID.set(f"task-{task_result.id}")


def _task_finished(sender: Any, task_result: Any, **kwargs: Any) -> None:
    name = f"{task_result.task.module_path}"
    status = str(getattr(task_result.status, "name", task_result.status))
    duration = None
    if task_result.started_at and task_result.finished_at:
        duration = (task_result.finished_at - task_result.started_at).total_seconds()
        metrics.TASK_DURATION.labels(name).observe(duration)
    metrics.TASKS.labels(name, status).inc()
    fields: dict[str, Any] = {
        "event": "task",
        "task": name,
        "task_id": str(task_result.id),
        "status": status,
        "duration_ms": round(duration * 1000, 2) if duration is not None else None,
        "attempts": len(task_result.worker_ids or []),
    }
    if task_result.errors:
        fields["error"] = task_result.errors[-1].exception_class_path
    level = logging.WARNING if status == "FAILED" else logging.INFO
    task_logger.log(level, "task %s %s", name, status, extra=fields)
    REQUEST_ID.set("")


def connect_task_signals() -> None:
    from django.tasks.signals import task_finished, task_started

    task_started.connect(_task_started, dispatch_uid="ops.task_started")
    task_finished.connect(_task_finished, dispatch_uid="ops.task_finished")
