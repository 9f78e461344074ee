"""Throwaway PostgreSQL clusters for the tests that need a database of their own (a server
stopped under load, a streaming replica): initdb on a free port in a temporary folder, the
test database copied in, stopped and removed afterwards. Also the one way the tests spell
a database URL for a subprocess."""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
HOST = "127.0.0.1"
# Test clusters need no durability: fast to fill, fast to stop. (Commits stay synchronous:
# a replica shows a commit only once its record is flushed and sent.)
FAST = "-c fsync=off -c full_page_writes=off -c jit=off"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def as_owner(command: list[str]) -> list[str]:
    """initdb and the servers refuse root: as root, run them as Debian's postgres user."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def database_url(*, port: int | str, name: str, user: str = "postgres", host: str = HOST) -> str:
    """The DATABASE_URL a subprocess of the tests connects with (trust authentication)."""
    return "postgis://{user}@{host}:{port}/{name}".format(
        user=user or "postgres", host=host or HOST, port=port, name=name
    )


def settings_url(settings_dict: Mapping[str, Any], name: str | None = None) -> str:
    """database_url() of a Django database's settings (another database name if given)."""
    return database_url(
        port=settings_dict["PORT"],
        name=name or settings_dict["NAME"],
        user=settings_dict["USER"],
        host=settings_dict["HOST"],
    )


@dataclass
class Cluster:
    data: Path
    port: int
    log: Path
    options: str = ""  # more server settings (-c name=value ...)

    @classmethod
    def create(cls, folder: Path, name: str, *, options: str = "") -> Cluster:
        """A new, empty cluster in folder/name (initdb), not started."""
        cluster = cls(folder / name, free_port(), folder / f"{name}.log", options)
        cluster.run(
            [str(PG_BIN / "initdb"), "-D", str(cluster.data), "-U", "postgres", "--auth=trust"]
            + ["-E", "UTF8", "--locale=C.UTF-8", "-N"]
        )
        return cluster

    def run(self, command: list[str]) -> None:
        subprocess.run(as_owner(command), check=True, capture_output=True)

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.data.parent} -c listen_addresses={HOST} {FAST} {self.options}"
        )
        self.run(
            [str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.log)]
            + ["-o", options, "-w", "-t", "30", "start"]
        )

    def stop(self, mode: str = "fast") -> None:
        subprocess.run(
            as_owner([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop"]),
            check=False,
            capture_output=True,
        )

    def url(self, name: str) -> str:
        return database_url(port=self.port, name=name)

    def psql(self, sql: str, database: str) -> str:
        done = subprocess.run(
            [str(PG_BIN / "psql"), "-h", HOST, "-p", str(self.port), "-U", "postgres"]
            + ["-d", database, "-v", "ON_ERROR_STOP=1", "-qAt", "-c", sql],
            check=True,
            capture_output=True,
            text=True,
        )
        return done.stdout.strip()

    def copy_database(self, source: Mapping[str, Any], name: str) -> None:
        """Creates database `name` here as a copy of a Django database (its settings dict)."""
        self.psql(f"CREATE DATABASE {name}", database="postgres")
        dump = subprocess.run(
            [str(PG_BIN / "pg_dump"), "-h", source["HOST"] or HOST, "-p", str(source["PORT"])]
            + ["-U", source["USER"] or "postgres", "--no-owner", source["NAME"]],
            check=True,
            capture_output=True,
        )
        subprocess.run(
            [str(PG_BIN / "psql"), "-h", HOST, "-p", str(self.port), "-U", "postgres", "-q"]
            + ["-v", "ON_ERROR_STOP=1", "-d", name],
            input=dump.stdout,
            check=True,
            capture_output=True,
        )

    def mark(self) -> int:
        """Where the server log ends now (see statements_since)."""
        return self.log.stat().st_size

    def statements_since(self, mark: int) -> str:
        with self.log.open("rb") as log:
            log.seek(mark)
            return log.read().decode(errors="replace")
