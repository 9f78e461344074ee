"""Statement timeouts and a killed importer (issue 11): a web request's statement is
bounded, commands are not, and a process that dies mid-statement does not leave its
statement running (and its locks held) in PostgreSQL."""

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.db import connection

from tests.pgcluster import settings_url

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def _conninfo() -> str:
    db = settings.DATABASES["default"]
    return f"host={db['HOST']} port={db['PORT']} user={db['USER']} dbname={db['NAME']}"


def _command_env(app_name: str) -> dict[str, str]:
    db = settings.DATABASES["default"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYENV")}
    env.update(
        DATABASE_URL=settings_url(db),
        DJANGO_SETTINGS_MODULE="sitefinder.settings.test",
        PGAPPNAME=app_name,
    )
    return env


def test_web_requests_have_a_statement_timeout_of_a_few_seconds():
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        value = cursor.fetchone()[0]
    assert value == f"{settings.STATEMENT_TIMEOUT_MS // 1000}s"
    assert 1000 <= settings.STATEMENT_TIMEOUT_MS <= 30_000


def test_a_statement_over_the_timeout_is_cancelled():
    from django.db import OperationalError, transaction

    with pytest.raises(OperationalError, match="statement timeout"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL statement_timeout = 100")  # the same setting, shorter
            cursor.execute("SELECT pg_sleep(2)")


def test_commands_run_without_the_web_timeout():
    out = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "shell",
            "-c",
            "from django.db import connection; c = connection.cursor(); "
            "c.execute('SHOW statement_timeout'); print('timeout=' + c.fetchone()[0])",
        ],
        cwd=ROOT,
        env=_command_env("timeout-check"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "timeout=0" in out.stdout, out.stderr


IMPORTER = """
from django.db import connection, transaction
with transaction.atomic():
    cursor = connection.cursor()
    cursor.execute("LOCK TABLE geodata_layerfeature IN SHARE ROW EXCLUSIVE MODE")
    print("locked", flush=True)
    cursor.execute("SELECT pg_sleep(600)")
"""


@pytest.mark.django_db(transaction=True)
def test_a_killed_importer_leaves_no_statement_or_lock_behind():
    app_name = f"importer-{uuid.uuid4().hex[:8]}"
    process = subprocess.Popen(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", IMPORTER],
        cwd=ROOT,
        env=_command_env(app_name),
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "locked"
        with psycopg.connect(_conninfo(), autocommit=True) as watcher:

            def backends() -> int:
                row = watcher.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
                    [app_name],
                ).fetchone()
                return row[0] if row else 0

            deadline = time.monotonic() + 10
            while backends() == 0 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert backends() == 1  # the importer's statement is running
            os.kill(process.pid, signal.SIGKILL)  # no chance to clean up
            process.wait(timeout=10)
            killed_at = time.monotonic()
            while backends() and time.monotonic() - killed_at < 10:
                time.sleep(0.1)
            gone_after = time.monotonic() - killed_at
            assert backends() == 0, "the killed importer's statement still runs"
            assert gone_after < 5
            # Its lock is released: a writer gets the table at once.
            watcher.execute("SET lock_timeout = '1s'")
            with watcher.transaction():
                watcher.execute("LOCK TABLE geodata_layerfeature IN EXCLUSIVE MODE")
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.mark.django_db(transaction=True)
def test_a_killed_import_layer_command_is_ended_by_the_server(reference_data, tmp_path):
    """The real importer: `manage.py import_layer` is held mid-statement (its merge waits
    for a lock this test holds on the layer table), then killed with SIGKILL. Its backend
    must be gone within seconds, before the test lets go of the lock, and nothing of the
    import may be written."""
    import json

    from geodata.models import Dataset, LayerFeature

    path = tmp_path / "junctions.geojson"
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"id": "j1", "name": "Essen-Ost"},
                        "geometry": {"type": "Point", "coordinates": [7.06, 51.46]},
                    },
                ],
            }
        )
    )
    app_name = f"import-layer-{uuid.uuid4().hex[:8]}"
    with psycopg.connect(_conninfo(), autocommit=True) as watcher:
        watcher.execute("BEGIN")
        watcher.execute("LOCK TABLE geodata_layerfeature IN ACCESS EXCLUSIVE MODE")
        process = subprocess.Popen(
            [
                sys.executable,
                "manage.py",
                "import_layer",
                str(path),
                "--layer",
                "junctions",
                "--dataset",
                "killed-import",
                "--id-field",
                "id",
            ],
            cwd=ROOT,
            env=_command_env(app_name),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            with psycopg.connect(_conninfo(), autocommit=True) as monitor:

                def waiting() -> list[tuple]:
                    return monitor.execute(
                        "SELECT state, wait_event_type FROM pg_stat_activity"
                        " WHERE application_name = %s",
                        [app_name],
                    ).fetchall()

                deadline = time.monotonic() + 30
                while waiting() != [("active", "Lock")] and time.monotonic() < deadline:
                    time.sleep(0.05)
                assert waiting() == [("active", "Lock")], "the importer never reached the merge"
                os.kill(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
                killed_at = time.monotonic()
                while waiting() and time.monotonic() - killed_at < 10:
                    time.sleep(0.1)
                assert waiting() == [], "the killed importer's statement is still waiting"
                assert time.monotonic() - killed_at < 5
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
            watcher.execute("ROLLBACK")
    assert not Dataset.objects.filter(slug="killed-import").exists()
    assert not LayerFeature.objects.filter(external_id="j1").exists()


def test_the_development_server_has_the_web_timeout():
    """run.sh --dev serves through `manage.py runserver` (serve --dev starts it): its
    statements are bounded like gunicorn's, not unlimited like a command's. With a 1 ms
    timeout its very first statement (the migrations check before serving) is cancelled,
    and the same statement in a command is not."""
    env = _command_env("dev-timeout-check")
    env.update(SITEFINDER_STATEMENT_TIMEOUT_MS="1", SITEFINDER_DEBUG="0")
    server = _manage(env, "runserver", "--noreload", "--skip-checks", "127.0.0.1:1")
    assert "canceling statement due to statement timeout" in server.stderr, server.stderr[-2000:]
    command = _manage(env, "showmigrations", "ops")
    assert command.returncode == 0, command.stderr[-2000:]


def _manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
