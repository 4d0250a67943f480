"""A PostgreSQL cluster for the tests: ``initdb`` + ``pg_ctl``, on 127.0.0.1 only.

Tuned for tests, not for durability against power loss: ``fsync = off`` and
``full_page_writes = off`` (an OS crash is not a fault the tests model), but
``synchronous_commit = on``, so that a committed transaction survives a killed or immediately
stopped server, which is what the fault tests check. Only TCP on 127.0.0.1 (no Unix socket: a
socket path under a deep checkout can exceed the 107-byte limit), password auth (SCRAM) for the
superuser ``objstore``.

PostgreSQL refuses to run as root, so as root the cluster runs as the ``postgres`` user (created
by the Debian package) and its directory is chowned to it.
"""

from __future__ import annotations

import grp
import hashlib
import os
import pwd
import re
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path

from objstore.testing.services._proc import (
    LOOPBACK,
    ServiceError,
    choose_port,
    current_user,
    is_root,
    run,
)
from objstore.testing.services.state import PostgresInfo

SUPERUSER = "objstore"
DATABASE = "objstore"
PREFERRED_PORT = 15432
# Where the data goes when the service user cannot reach the checkout (see data_home).
FALLBACK_ROOT = Path("/var/tmp/objstore-services")

_TEST_SETTINGS = """\
listen_addresses = '{host}'
port = {port}
unix_socket_directories = ''
fsync = off
full_page_writes = off
synchronous_commit = on
max_connections = 300
shared_buffers = 128MB
log_min_messages = warning
log_line_prefix = '%m [%p] '
"""


def find_bin_dir() -> Path | None:
    """Where ``initdb`` is: Debian's newest /usr/lib/postgresql/N/bin, else PATH."""
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: [int(x) for x in re.findall(r"\d+", p.parent.parent.name)] or [0],
    )
    if candidates:
        return candidates[-1].parent
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def service_user() -> str:
    """Who runs the server: ``postgres`` as root (initdb refuses root), else the caller."""
    return "postgres" if is_root() else current_user()


def can_reach(user: str, directory: Path) -> bool:
    """True when ``user`` can traverse every directory down to ``directory``."""
    if user == current_user():
        return os.access(directory, os.X_OK)
    return run(["test", "-x", str(directory)], user=user, check=False).returncode == 0


def data_home(state_dir: Path, user: str) -> Path:
    """Where the cluster lives: ``<state_dir>/postgres`` when ``user`` can reach it.

    A CI clone may sit under a directory the ``postgres`` user cannot traverse (``/root`` is
    mode 700). Opening such a directory up (chmod o+x on /root) would weaken the host for a test
    fixture, and granting postgres CAP_DAC_READ_SEARCH is not possible in a default container, so
    the cluster then lives in ``/var/tmp/objstore-services/<hash of the state dir>/postgres``
    and ``<state_dir>/postgres`` is a symlink to it: everything is still found (and removed)
    through the checkout.
    """
    state_dir.mkdir(parents=True, exist_ok=True)
    link = state_dir / "postgres"
    if link.is_symlink():
        return link.resolve()
    if can_reach(user, state_dir):
        return link
    digest = hashlib.sha256(str(state_dir).encode()).hexdigest()[:16]
    FALLBACK_ROOT.mkdir(mode=0o755, exist_ok=True)
    os.chmod(FALLBACK_ROOT, 0o755)
    home = FALLBACK_ROOT / digest / "postgres"
    home.parent.mkdir(mode=0o755, exist_ok=True)
    os.chmod(home.parent, 0o755)
    link.symlink_to(home)
    return home


@dataclass
class PostgresCluster:
    """One cluster in ``home`` (``data/``, ``server.log``), run by ``user`` on ``port``."""

    home: Path
    bin_dir: Path
    user: str
    port: int = 0

    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    @property
    def log_file(self) -> Path:
        return self.home / "server.log"

    @property
    def _password_file(self) -> Path:
        return self.home / "superuser.password"

    def _bin(self, name: str) -> str:
        return str(self.bin_dir / name)

    def _chown(self, path: Path) -> None:
        if self.user != current_user():
            entry = pwd.getpwnam(self.user)
            os.chown(path, entry.pw_uid, grp.getgrgid(entry.pw_gid).gr_gid)

    def _write(self, path: Path, text: str) -> None:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(text)
        self._chown(path)

    def initialized(self) -> bool:
        return (self.data_dir / "PG_VERSION").is_file()

    def password(self) -> str:
        return self._password_file.read_text().strip()

    def init(self) -> None:
        """``initdb`` a new cluster (the superuser's password is generated and kept in home)."""
        self.home.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._chown(self.home)
        self._write(self._password_file, secrets.token_urlsafe(24) + "\n")
        run(
            [
                self._bin("initdb"),
                "-D",
                str(self.data_dir),
                "-U",
                SUPERUSER,
                f"--pwfile={self._password_file}",
                "--auth-host=scram-sha-256",
                "--auth-local=peer",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
                "--no-instructions",
            ],
            user=self.user,
        )
        with open(self.data_dir / "postgresql.conf", "a") as f:
            f.write("\ninclude_if_exists = 'objstore.conf'\n")

    def running(self) -> bool:
        """True when ``pg_ctl status`` finds the server of this data directory."""
        if not self.initialized():
            return False
        done = run(
            [self._bin("pg_ctl"), "-D", str(self.data_dir), "status"], user=self.user, check=False
        )
        return done.returncode == 0

    def start(self, *, same_port: bool = False) -> None:
        """Start the server on ``self.port`` if free (0: the preferred port), else any free
        one; ``same_port``: on ``self.port`` or not at all (a restart must not move)."""
        if not same_port:
            self.port = choose_port(self.port or PREFERRED_PORT)
        self._write(
            self.data_dir / "objstore.conf", _TEST_SETTINGS.format(host=LOOPBACK, port=self.port)
        )
        run(
            [
                self._bin("pg_ctl"),
                "-D",
                str(self.data_dir),
                "-l",
                str(self.log_file),
                "-w",
                "-t",
                "60",
                "start",
            ],
            user=self.user,
            timeout=90,
        )

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (``mode``: smart, fast or immediate, as ``pg_ctl -m``)."""
        if self.running():
            run(
                [
                    self._bin("pg_ctl"),
                    "-D",
                    str(self.data_dir),
                    "-m",
                    mode,
                    "-w",
                    "-t",
                    "60",
                    "stop",
                ],
                user=self.user,
                timeout=90,
            )

    def restart(self, mode: str = "fast") -> None:
        """Stop (``mode`` as in :meth:`stop`) and start again on the same port."""
        self.stop(mode)
        self.start(same_port=True)

    def psql(self, sql: str, database: str = "postgres") -> str:
        """Run ``sql`` through ``psql`` over TCP; returns the unaligned output."""
        done = run(
            [
                self._bin("psql"),
                "-h",
                LOOPBACK,
                "-p",
                str(self.port),
                "-U",
                SUPERUSER,
                "-d",
                database,
                "-v",
                "ON_ERROR_STOP=1",
                "-tAc",
                sql,
            ],
            env={"PGPASSWORD": self.password(), "PGCONNECT_TIMEOUT": "10"},
        )
        return done.stdout.strip()

    def ensure_database(self, name: str) -> None:
        """Create database ``name`` unless it exists."""
        if self.psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}'") != "1":
            self.psql(f'CREATE DATABASE "{name}"')

    def info(self) -> PostgresInfo:
        return PostgresInfo(
            host=LOOPBACK,
            port=self.port,
            user=SUPERUSER,
            password=self.password(),
            database=DATABASE,
            data_dir=str(self.data_dir),
            bin_dir=str(self.bin_dir),
            run_as=self.user,
        )


def cluster_for(state_dir: Path, previous: PostgresInfo | None = None) -> PostgresCluster:
    """The cluster of ``state_dir`` (on the port it had, when ``previous`` says so).

    Raises ServiceError when PostgreSQL is not installed.
    """
    bin_dir = find_bin_dir()
    if bin_dir is None:
        raise ServiceError("PostgreSQL is not installed (no initdb): run `make services`")
    user = service_user()
    try:
        pwd.getpwnam(user)
    except KeyError:
        raise ServiceError(f"no user {user!r} to run PostgreSQL as") from None
    home = data_home(state_dir, user)
    return PostgresCluster(home, bin_dir, user, previous.port if previous else 0)


def ensure(state_dir: Path, previous: PostgresInfo | None = None) -> PostgresInfo:
    """Initialize (once) and start (unless running) the cluster of ``state_dir``.

    Raises ServiceError when it cannot.
    """
    cluster = cluster_for(state_dir, previous)
    fresh = not cluster.initialized()
    if fresh:
        cluster.init()
    if not cluster.running():
        cluster.start()
    elif not cluster.port:
        cluster.port = _running_port(cluster)
    if fresh:
        cluster.ensure_database(DATABASE)
    return cluster.info()


def _running_port(cluster: PostgresCluster) -> int:
    """The port a running server listens on (line 4 of postmaster.pid)."""
    lines = (cluster.data_dir / "postmaster.pid").read_text().splitlines()
    return int(lines[3])


def stop(state_dir: Path, previous: PostgresInfo | None = None) -> bool:
    """Stop the cluster of ``state_dir`` if it runs; True if it was running."""
    if find_bin_dir() is None or not (state_dir / "postgres").exists():
        return False
    cluster = cluster_for(state_dir, previous)
    if not cluster.running():
        return False
    cluster.stop()
    return True
