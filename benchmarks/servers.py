"""Servers the benchmark talks to over real HTTP on loopback: our app (Django's runserver)
and, as a peer, TiPg serving the same table. Both are started as subprocesses and stopped
afterwards; nothing listens beyond 127.0.0.1."""

from __future__ import annotations

import contextlib
import http.client
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings

TIPG_VERSION = "1.6.1"
TIPG_VENV = Path(settings.BASE_DIR) / "var" / "bench" / "tipg-venv"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(port: int, path: str, *, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError, http.client.HTTPException):
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", path)
            if connection.getresponse().status < 500:
                return
        time.sleep(0.3)
    raise RuntimeError(f"nothing answered on 127.0.0.1:{port}{path} within {seconds} s")


class HttpClient:
    """One keep-alive connection, as a browser would hold."""

    def __init__(self, port: int):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def get(self, path: str) -> tuple[int, bytes]:
        self.connection.request("GET", path, headers={"Host": "localhost"})
        response = self.connection.getresponse()
        return response.status, response.read()


@contextlib.contextmanager
def django_server(*, tile_cache: bool = True) -> Iterator[int]:
    port = free_port()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "sitefinder.settings.local"}
    if not tile_cache:
        env["SITEFINDER_TILE_CACHE_SECONDS"] = "0"
    process = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "runserver",
            f"127.0.0.1:{port}",
            "--noreload",
            "--nothreading",
        ],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(port, "/healthz")
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


def tipg_available() -> str | None:
    """Installs TiPg into its own venv (not the project's) if needed; None if that fails."""
    python = TIPG_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(TIPG_VENV)], check=True)
    check = subprocess.run([str(python), "-c", "import tipg, uvicorn"], capture_output=True)
    if check.returncode != 0:
        install = subprocess.run(
            [str(python), "-m", "pip", "install", "-q", f"tipg=={TIPG_VERSION}", "uvicorn"],
            capture_output=True,
            text=True,
        )
        if install.returncode != 0:
            return f"TiPg {TIPG_VERSION} did not install: {install.stderr.strip()[-300:]}"
    return None


def _libpq_url() -> str:
    database = settings.DATABASES["default"]
    password = f":{database['PASSWORD']}" if database.get("PASSWORD") else ""
    return (
        f"postgresql://{database['USER']}{password}@{database['HOST']}:{database['PORT']}"
        f"/{database['NAME']}"
    )


@contextlib.contextmanager
def tipg_server() -> Iterator[int]:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": _libpq_url(),
        "TIPG_DB_SCHEMAS": '["public"]',
        "TIPG_DB_TABLES": '["public.properties_site"]',
        "TIPG_MAX_FEATURES_PER_TILE": "1000000",
    }
    process = subprocess.Popen(
        [
            str(TIPG_VENV / "bin" / "uvicorn"),
            "tipg.main:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(port, "/collections")
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)
