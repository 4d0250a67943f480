"""STOPGAP until the services fixtures land: a private PostgreSQL cluster for these tests.

Same fixture names and shapes as the services helper's (``postgres_dsn``: URL of a fresh
database; ``postgres_restartable``: ``.dsn``, ``.restart(mode)``, ``.stop(mode)``, ``.start()``),
so this file is deleted, not rewritten, when theirs arrive. With ``CI=true`` a missing
PostgreSQL fails the tests instead of skipping them.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

_BIN = Path("/usr/lib/postgresql/15/bin")


def _unavailable(why: str) -> None:
    if os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}:
        pytest.fail(f"PostgreSQL unavailable: {why}", pytrace=False)
    pytest.skip(f"PostgreSQL unavailable: {why}")


@dataclass
class _Cluster:
    home: Path
    port: int
    password: str

    def _ctl(self, *args: str) -> None:
        cmd = [str(_BIN / "pg_ctl"), "-D", str(self.home / "data"), *args]
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True, timeout=60)

    def dsn(self, db: str) -> str:
        return f"postgresql://objstore:{self.password}@127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        self._ctl("-l", str(self.home / "log"), "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        self._ctl("-m", mode, "-w", "stop")

    def running(self) -> bool:
        return (self.home / "data" / "postmaster.pid").exists()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def _pg_cluster() -> Iterator[_Cluster]:
    if not (_BIN / "initdb").exists():
        _unavailable(f"no {_BIN / 'initdb'}")
    home = Path(tempfile.mkdtemp(prefix="objstore-pgmeta-"))
    os.chmod(home, 0o755)
    cluster = _Cluster(home, _free_port(), secrets.token_hex(8))
    (home / "pw").write_text(cluster.password)
    if os.geteuid() == 0:
        shutil.chown(home, "postgres")
        shutil.chown(home / "pw", "postgres")
    cmd = [
        str(_BIN / "initdb"),
        "-D",
        str(home / "data"),
        "-U",
        "objstore",
        f"--pwfile={home / 'pw'}",
        "-A",
        "scram-sha-256",
        "--no-sync",
    ]
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    try:
        subprocess.run(cmd, check=True, capture_output=True, timeout=120)
        with open(home / "data" / "postgresql.conf", "a") as f:
            f.write(
                f"listen_addresses = '127.0.0.1'\nport = {cluster.port}\n"
                "unix_socket_directories = ''\nfsync = off\nfull_page_writes = off\n"
                "synchronous_commit = on\n"
            )
        cluster.start()
    except (OSError, subprocess.SubprocessError) as exc:
        shutil.rmtree(home, ignore_errors=True)
        _unavailable(str(exc))
    try:
        yield cluster
    finally:
        try:
            if cluster.running():
                cluster.stop("immediate")
        finally:
            shutil.rmtree(home, ignore_errors=True)


def _fresh(cluster: _Cluster) -> Iterator[str]:
    name = "t_" + secrets.token_hex(6)
    with psycopg.connect(cluster.dsn("postgres"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
    try:
        yield cluster.dsn(name)
    finally:
        if not cluster.running():
            cluster.start()
        with psycopg.connect(cluster.dsn("postgres"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def postgres_dsn(_pg_cluster: _Cluster) -> Iterator[str]:
    """A ``postgresql://`` URL (with credentials) of a fresh, empty database."""
    yield from _fresh(_pg_cluster)


@dataclass
class Restartable:
    cluster: _Cluster
    dsn: str = ""

    def restart(self, mode: str = "fast") -> None:
        self.cluster.stop(mode)
        self.cluster.start()

    def stop(self, mode: str = "fast") -> None:
        self.cluster.stop(mode)

    def start(self) -> None:
        if not self.cluster.running():
            self.cluster.start()


@pytest.fixture
def postgres_restartable(_pg_cluster: _Cluster) -> Iterator[Restartable]:
    """The private cluster, running, with a fresh database in ``.dsn``; restart it at will."""
    control = Restartable(_pg_cluster)
    for dsn in _fresh(_pg_cluster):
        control.dsn = dsn
        yield control
