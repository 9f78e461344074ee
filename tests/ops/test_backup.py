"""Backups (issue 11): scripts/backup.sh writes a dump and the media with checksums and a
retention count; scripts/restore.sh restores it into a fresh database, and the restored
sites, inquiries, users and media are the same (counts and checksums)."""

import hashlib
import os
import subprocess
import uuid
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.contrib.gis.geos import Point
from django.core.files.base import ContentFile

from properties.models import SiteMedia
from tests.factories import InquiryFactory, SiteFactory, UserFactory
from tests.pgcluster import settings_url

ROOT = Path(__file__).resolve().parents[2]
TABLES = {
    "sites": "properties_site",
    "inquiries": "proposals_inquiry",
    "users": "accounts_user",
    "media": "properties_sitemedia",
}


def _db_url(name: str) -> str:
    return settings_url(settings.DATABASES["default"], name)


def _admin() -> psycopg.Connection:
    db = settings.DATABASES["default"]
    return psycopg.connect(
        host=db["HOST"], port=db["PORT"], user=db["USER"], dbname="postgres", autocommit=True
    )


def _fingerprint(dbname: str) -> dict[str, object]:
    """Count and a checksum of every row (its full text, in id order) per table."""
    db = settings.DATABASES["default"]
    with psycopg.connect(host=db["HOST"], port=db["PORT"], user=db["USER"], dbname=dbname) as c:
        return {
            name: c.execute(
                f"SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t.id), ''))"
                f" FROM {table} t"
            ).fetchone()
            for name, table in TABLES.items()
        }


def _files(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _run(script: str, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(ROOT / "scripts" / script), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def ops_env(tmp_path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYENV")}
    env["DATABASE_URL"] = _db_url(settings.DATABASES["default"]["NAME"])
    env["MEDIA_ROOT"] = str(tmp_path / "media")
    env["SITEFINDER_PG_PORT"] = str(settings.DATABASES["default"]["PORT"])
    return env


@pytest.fixture
def fresh_database():
    name = f"restore_{uuid.uuid4().hex[:10]}"
    with _admin() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield name
    with _admin() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.django_db(transaction=True)
def test_a_backup_restores_into_a_fresh_database_with_the_same_data(
    reference_data, essen, ops_env, fresh_database, tmp_path, settings
):
    settings.MEDIA_ROOT = ops_env["MEDIA_ROOT"]
    site = SiteFactory(municipality=essen, at=Point(362_800, 5_703_800, srid=25832))
    SiteFactory(municipality=essen, at=Point(363_800, 5_703_800, srid=25832), title="Zweite")
    media = SiteMedia(site=site, kind="document", caption="Plan")
    media.file.save("plan.pdf", ContentFile(b"%PDF-1.4 backup test " + os.urandom(64)))
    InquiryFactory()
    UserFactory(username="backup-user")
    before = _fingerprint(settings.DATABASES["default"]["NAME"])
    assert before["sites"][0] >= 2 and before["media"][0] == 1
    media_before = _files(Path(ops_env["MEDIA_ROOT"]))
    assert media_before

    backups = tmp_path / "backups"
    result = _run("backup.sh", "--dir", str(backups), "--keep", "3", env=ops_env)
    assert result.returncode == 0, result.stderr
    folder = Path(result.stdout.strip().splitlines()[-1])
    assert folder.parent == backups and folder.name.startswith("sitefinder-")
    assert {p.name for p in folder.iterdir()} == {
        "database.dump",
        "media.tar.gz",
        "INFO",
        "SHA256SUMS",
    }

    restore_env = dict(
        ops_env, DATABASE_URL=_db_url(fresh_database), MEDIA_ROOT=str(tmp_path / "restored-media")
    )
    result = _run("restore.sh", str(folder), env=restore_env)
    assert result.returncode == 0, result.stderr
    assert _fingerprint(fresh_database) == before
    assert _files(tmp_path / "restored-media") == media_before

    # A second restore into the now full database is refused and changes nothing.
    again = _run("restore.sh", str(folder), env=dict(restore_env, MEDIA_ROOT=str(tmp_path / "m2")))
    assert again.returncode != 0 and "not empty" in again.stderr
    assert _fingerprint(fresh_database) == before


@pytest.mark.django_db(transaction=True)
def test_a_damaged_backup_is_refused_and_old_backups_are_rotated(ops_env, fresh_database, tmp_path):
    backups = tmp_path / "backups"
    folders = []
    for _ in range(3):
        result = _run("backup.sh", "--dir", str(backups), "--keep", "2", env=ops_env)
        assert result.returncode == 0, result.stderr
        folders.append(Path(result.stdout.strip().splitlines()[-1]))
    kept = sorted(p.name for p in backups.iterdir())
    assert kept == sorted(p.name for p in folders[1:])  # the oldest is gone, none partial

    damaged = folders[-1]
    with open(damaged / "database.dump", "r+b") as dump:
        dump.seek(200)
        dump.write(b"\x00garbage\x00")
    restore_env = dict(
        ops_env, DATABASE_URL=_db_url(fresh_database), MEDIA_ROOT=str(tmp_path / "restored")
    )
    result = _run("restore.sh", str(damaged), env=restore_env)
    assert result.returncode != 0 and "damaged" in result.stderr
    db = settings.DATABASES["default"]
    with psycopg.connect(
        host=db["HOST"], port=db["PORT"], user=db["USER"], dbname=fresh_database
    ) as c:
        tables = c.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
            " AND tablename <> 'spatial_ref_sys'"
        ).fetchone()
    assert tables == (0,)
    assert not (tmp_path / "restored").exists()
