"""The API's contract, checked against its real answers: schemathesis `--checks all` (every
check: response shapes, documented statuses and media types, valid-by-schema requests
accepted, invalid ones refused, 405 for methods the schema does not list, ...) against the
live test server, with demo sites in the database. Bounded (a few examples per operation,
a fixed seed) so it takes well under a minute; `make api-contract` runs the same checks
with more examples against the development database."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse

from geodata.models import Municipality
from tests.conftest import load_reference_data

pytestmark = pytest.mark.django_db(transaction=True)

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
MAX_EXAMPLES = 2
SEED = 20261206


@pytest.fixture
def demo_sites(transactional_db) -> None:
    if not Municipality.objects.exists():
        load_reference_data()
    call_command("generate_demo_sites", count=80, seed=7, verbosity=0)


def test_schemathesis_finds_no_failure(live_server, demo_sites, tmp_path):
    env = {**os.environ, "NO_COLOR": "1"}
    result = subprocess.run(  # noqa: S603 - our own virtualenv's schemathesis
        [
            str(SCHEMATHESIS),
            "run",
            live_server.url + reverse("api-schema"),
            "--checks",
            "all",
            "--max-examples",
            str(MAX_EXAMPLES),
            "--seed",
            str(SEED),
            "--no-color",
            "--report-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=tmp_path,
        env=env,
        check=False,
    )
    summary = result.stdout[-12_000:]
    assert result.returncode == 0, summary
    # Something was tested: every operation, with generated cases.
    generated = re.search(r"(\d+) generated", result.stdout)
    assert generated is not None and int(generated.group(1)) > 100, summary
    selected = re.search(r"Selected: (\d+)/", result.stdout)
    tested = re.search(r"Tested: (\d+)", result.stdout)
    assert selected and tested and selected.group(1) == tested.group(1), summary
