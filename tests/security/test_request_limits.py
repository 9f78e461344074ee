"""Request body caps (issue 11): an anonymous client's 1 GB body is refused with 413 before
a byte of it is read; signed-in forms and the file forms have their own larger caps."""

import io

import pytest
from django.conf import settings
from django.urls import reverse

from sitefinder.l10n import translate_path
from tests.factories import PartnerOrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db

GB = 1024**3


class ExplodingStream(io.RawIOBase):
    """A request body that fails the test if anything reads it."""

    def read(self, *args, **kwargs):
        raise AssertionError("the body was read")

    readline = read


def post_claiming(client, path: str, length: int, **extra):
    return client.generic(
        "POST",
        path,
        CONTENT_LENGTH=str(length),
        CONTENT_TYPE="multipart/form-data; boundary=xyz",
        **{"wsgi.input": ExplodingStream()},
        **extra,
    )


@pytest.mark.parametrize("name", ["inquiry_new", "login", "signup", "api-site-list", "map"])
def test_an_anonymous_1_gb_body_is_refused_unread(client, name):
    response = post_claiming(client, reverse(name), GB)
    assert response.status_code == 413
    assert "Connection" not in response  # hop-by-hop: not for a WSGI application to set
    if name.startswith("api-"):
        assert "at most 1 MB" in response.json()["detail"]
    else:
        assert b"at most 1 MB" in response.content


def test_the_message_is_translated(client):
    response = post_claiming(client, translate_path(reverse("inquiry_new"), "de"), GB)
    assert response.status_code == 413
    assert "höchstens 1 MB" in response.content.decode()


def test_a_broken_content_length_is_a_400(client):
    response = client.generic("POST", reverse("login"), CONTENT_LENGTH="lots")
    assert response.status_code == 400


def test_a_small_anonymous_post_goes_through(client):
    response = client.post(reverse("login"), {"username": "x", "password": "y"})
    assert response.status_code == 200  # the form with its error, not a 413


def test_signed_in_forms_and_file_forms_have_their_own_caps(client):
    partner = UserFactory(role="partner", organisation=PartnerOrganisationFactory())
    client.force_login(partner)
    over_form_cap = settings.REQUEST_BODY_MAX_BYTES + 1
    assert post_claiming(client, reverse("saved_searches"), over_form_cap).status_code == 413
    # The bulk upload takes files far larger than a form; only beyond its cap is it refused.
    upload = reverse("partner_upload")
    assert (
        post_claiming(client, upload, settings.REQUEST_BODY_MAX_BYTES_UPLOAD + 1).status_code == 413
    )
    assert post_claiming(client, upload, GB).status_code == 413
    assert settings.REQUEST_BODY_MAX_BYTES_UPLOAD > settings.REQUEST_BODY_MAX_BYTES
    assert settings.REQUEST_BODY_MAX_BYTES > settings.REQUEST_BODY_MAX_BYTES_ANONYMOUS


def test_a_large_file_form_below_its_cap_is_read(client):
    partner = UserFactory(role="partner", organisation=PartnerOrganisationFactory())
    client.force_login(partner)
    with pytest.raises(AssertionError, match="the body was read"):
        post_claiming(client, reverse("partner_upload"), settings.REQUEST_BODY_MAX_BYTES * 2)


def test_the_development_server_refuses_a_1_gb_body_without_a_traceback(db):
    """runserver (scripts/run.sh --dev) is wsgiref: a hop-by-hop header set by the app made
    it fail an assertion and answer 500."""
    from django.core.handlers.wsgi import WSGIHandler
    from django.core.servers.basehttp import ServerHandler

    class Handler:  # the bits of WSGIRequestHandler that ServerHandler touches
        close_connection = False
        server = None

        def log_request(self, *args):
            pass

    stdout, stderr = io.BytesIO(), io.StringIO()
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": reverse("login"),
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "HTTP_HOST": "localhost",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "CONTENT_LENGTH": str(GB),
        "CONTENT_TYPE": "application/octet-stream",
        "wsgi.url_scheme": "http",
    }
    handler = ServerHandler(io.BytesIO(), stdout, stderr, environ)
    handler.request_handler = Handler()
    handler.run(WSGIHandler())
    assert stdout.getvalue().startswith(b"HTTP/1.1 413"), stdout.getvalue()[:200]


def test_the_production_server_refuses_1_gb_without_reading_it(tmp_path):
    """Over a real socket against gunicorn: the 413 comes while the client is still
    sending, and the server stops reading (the client cannot push more than the kernel's
    socket buffers), so nothing of the body is spooled."""
    import os
    import socket
    import subprocess
    import sys
    import time
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYENV")}
    env["DJANGO_SETTINGS_MODULE"] = "sitefinder.settings.test"
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-w",
            "1",
            "-b",
            f"127.0.0.1:{port}",
            "sitefinder.wsgi:application",
        ],
        cwd=root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                client = socket.create_connection(("127.0.0.1", port), timeout=1)
                break
            except OSError:
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.1)
        with client:
            client.sendall(
                b"POST /inquiry/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Content-Type: application/x-www-form-urlencoded\r\n"
                b"Content-Length: 1073741824\r\n\r\n"
            )
            client.settimeout(2)
            sent = 0
            try:
                while sent < 200 * 1024**2:
                    client.sendall(b"a" * 65536)
                    sent += 65536
            except OSError:
                pass  # the server stopped reading (timeout) or closed (reset)
            client.settimeout(10)
            try:
                answer = client.recv(4096)
            except OSError:
                answer = b""
        assert answer.startswith(b"HTTP/1.1 413"), answer[:100]
        assert sent < 64 * 1024**2, f"{sent} bytes were accepted"
    finally:
        server.terminate()
        server.wait(timeout=30)
