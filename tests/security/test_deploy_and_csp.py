"""`check --deploy` with the production settings is clean, and every response carries a
Content-Security-Policy without inline scripts (issue 11)."""

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection

from sitefinder.csp import content_security_policy, tile_host_source
from tests.pgcluster import settings_url

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def unmigrated_database_url(django_db_setup, django_db_blocker) -> Iterator[str]:
    """An empty database: neither the deploy check nor the schema may depend on the state of
    the database the environment names (a fresh checkout's is not migrated)."""
    name = "sitefinder_unmigrated_check"
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cursor.execute(f'CREATE DATABASE "{name}"')
    yield settings_url(connection.settings_dict, name)
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_check_deploy_with_production_settings_is_clean(unmigrated_database_url):
    # (the test run's DJANGO_ALLOW_ASYNC_UNSAFE is a warning of its own: not deployed)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("PYENV") and k != "DJANGO_ALLOW_ASYNC_UNSAFE"
    }
    env.update(
        DATABASE_URL=unmigrated_database_url,
        DJANGO_SETTINGS_MODULE="sitefinder.settings.production",
        SECRET_KEY="x" * 20 + "a-long-random-production-secret-key-for-the-check-only-0123456789",
        ALLOWED_HOSTS="sitefinder.example.org",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in output, output


def test_schema_generation_has_no_warnings(unmigrated_database_url):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYENV")}
    env["DATABASE_URL"] = unmigrated_database_url
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "spectacular",
            "--validate",
            "--fail-on-warn",
            "--file",
            os.devnull,
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr


def _directives(policy: str) -> dict[str, str]:
    return dict(d.strip().split(" ", 1) for d in policy.split(";"))


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/data/",
        "/inquiry/",
        "/accounts/login/",
        "/api/v1/docs/",
        "/api/v1/layers/",
        "/healthz",
        "/no-such-page/",
        "/tiles/boundaries/10/533/342.pbf",
        "/admin/login/",
    ],
)
def test_every_response_has_a_policy_without_inline_scripts(client, path):
    response = client.get(path)
    assert response.status_code < 500
    policy = _directives(response["Content-Security-Policy"])
    assert policy["script-src"].split()[0] == "'self'"
    assert "'unsafe-inline'" not in policy["script-src"]
    assert "'unsafe-eval'" not in policy["script-src"]
    assert policy["object-src"] == "'none'" and policy["frame-ancestors"] == "'none'"


@pytest.mark.django_db
def test_pages_have_no_inline_script_without_the_nonce(client):
    import re

    for path in ["/", "/data/", "/inquiry/", "/accounts/login/", "/api/v1/docs/", "/shortlist/"]:
        html = client.get(path).content.decode()
        for tag in re.findall(r"<script\b[^>]*>", html):
            assert "src=" in tag or "nonce=" in tag or "application/json" in tag, (path, tag)
        assert not re.search(r"\son[a-z]+=\"", html), path  # no inline event handlers


def test_the_base_map_host_is_allowed_for_images_and_fetches():
    policy = content_security_policy("https://{s}.tile.example.org/{z}/{x}/{y}.png")
    assert "https://*.tile.example.org" in policy["img-src"]
    assert "https://*.tile.example.org" in policy["connect-src"]
    assert "https://*.tile.example.org" not in policy["script-src"]
    assert tile_host_source("") is None
    assert tile_host_source("http://127.0.0.1:8081/{z}/{x}/{y}.png") == "http://127.0.0.1:8081"
    no_basemap = content_security_policy("")
    assert no_basemap["img-src"] == ["'self'", "data:", "blob:"]


def test_production_settings_force_https():
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYENV")}
    env.update(
        DJANGO_SETTINGS_MODULE="sitefinder.settings.production",
        SECRET_KEY="k" * 60,
        ALLOWED_HOSTS="a.example.org",
    )
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS >= 31536000)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert out.stdout.split() == ["True", "True"], out.stderr


@pytest.mark.django_db
@pytest.mark.parametrize("debug", [False, True])
def test_error_pages_have_a_policy_too(client, settings, debug):
    """404 and 500 pages, also Django's own debug pages (run.sh --dev), which switch the
    policy off by default."""
    from django.test import Client

    settings.DEBUG = debug
    not_found = client.get("/no-such-page/")
    assert not_found.status_code == 404
    assert _directives(not_found["Content-Security-Policy"])["object-src"] == "'none'"
    failing = Client(raise_request_exception=False)
    from unittest import mock

    with mock.patch("properties.views.map_config.reference_version", side_effect=RuntimeError):
        error = failing.get("/en/")
    assert error.status_code == 500
    policy = _directives(error["Content-Security-Policy"])
    assert policy["object-src"] == "'none'" and policy["frame-ancestors"] == "'none'"
    if not debug:
        assert "'unsafe-inline'" not in policy["script-src"]


@pytest.mark.django_db
def test_the_outage_page_has_a_policy(client):
    from unittest import mock

    from django.db import OperationalError

    with mock.patch(
        "properties.views.map_config.reference_version", side_effect=OperationalError("down")
    ):
        response = client.get("/en/")
    assert response.status_code == 503
    assert "'unsafe-inline'" not in _directives(response["Content-Security-Policy"])["script-src"]
