"""gunicorn's settings for `manage.py serve` (scripts/run.sh, the Dockerfile).

Sync workers, as many as 2 × cores + 1 (WEB_CONCURRENCY overrides): a request here is CPU
in Python plus short PostGIS queries, so a few processes per core keep both busy while one
waits on the database. The tile cache is the shared Redis (settings.CACHES): a tile one
worker built is served by every worker and machine. Workers are replaced after a few
thousand requests (bounded memory) and on SIGHUP, finishing the requests they hold
(graceful_timeout).
"""

import multiprocessing
import os

bind = os.environ.get("SITEFINDER_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", 2 * multiprocessing.cpu_count() + 1))
worker_class = "sync"
# The project is imported once, in the master, before the workers fork: they start in a
# fraction of a second and share the imported code's memory. SIGHUP replaces the workers
# (new settings from the environment); new *code* needs a restart of `manage.py serve`.
preload_app = True
timeout = int(os.environ.get("SITEFINDER_WEB_TIMEOUT", "60"))
graceful_timeout = 30
max_requests = 5000
max_requests_jitter = 500
# Our request log (ops.observability) replaces gunicorn's access log.
accesslog = None
errorlog = "-"
loglevel = "info"
# gunicorn 27's control socket lives at one path per user; several servers on one machine
# (tests, other checkouts) would fight over it, and supervision is ours anyway.
control_socket_disable = True
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


def child_exit(server, worker):  # noqa: ANN001 (gunicorn's hook signature)
    """A dead worker's Prometheus files are merged into the totals, not double counted."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


def when_ready(server):  # noqa: ANN001
    """Answers a few requests in the master before any worker forks: the compiled
    templates, translations and per-process lookups (~2 s of CPU for the map page) are
    then inherited by every worker instead of each paying for them on its first visitors.
    The database connections it opened are closed before the fork (never shared)."""
    import io

    from django.conf import settings
    from django.db import connections

    host, _, port = bind.rpartition(":")
    # The map page under the default language's prefix ("/" only redirects there).
    home = f"/{settings.LANGUAGE_CODE}/"
    for path in ("/healthz", home, "/api/v1/sites/?page_size=1"):
        environ = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": path.split("?")[0],
            "QUERY_STRING": path.partition("?")[2],
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": port or "80",
            "HTTP_HOST": "127.0.0.1",
            "HTTP_X_REQUEST_ID": "warmup",
            # As if through the TLS proxy: with SECURE_SSL_REDIRECT a plain request would
            # only be redirected, and warm nothing.
            "HTTP_X_FORWARDED_PROTO": "https",
            "wsgi.input": io.BytesIO(),
            "wsgi.errors": io.StringIO(),
            "wsgi.url_scheme": "http",
            "wsgi.version": (1, 0),
            "wsgi.multithread": False,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
            "SERVER_PROTOCOL": "HTTP/1.1",
        }
        try:
            body = server.app.wsgi()(environ, lambda status, headers, exc_info=None: None)
            for _chunk in body:
                pass
            getattr(body, "close", lambda: None)()
        except Exception:  # noqa: BLE001,S112 (a warm-up failure must not stop the server)
            continue
    connections.close_all()


def _exit_now() -> None:
    import logging
    import sys

    from django.db import connections

    connections.close_all()
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def on_exit(server):  # noqa: ANN001
    """The master, too, ends without the interpreter's slow clean-up (see worker_exit)."""
    _exit_now()


def worker_exit(server, worker):  # noqa: ANN001
    """Ends a finished worker at once: the interpreter's own clean-up of the whole imported
    project took seconds of CPU per worker (every shared page copied once more), which
    delayed every stop and restart. Connections are closed and logs flushed first."""
    _exit_now()
