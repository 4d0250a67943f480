"""Where the services keep their state, and the state file that tells clients how to reach them.

The state directory is ``$OBJSTORE_SERVICES`` when set (so that several checkouts share one
running PostgreSQL and one Ceph: one Ceph per checkout is too heavy for a small machine), else
``.services/`` at the root of the checkout this package was imported from (else of the working
directory, for an installed package). ``env.json`` in it holds the URLs, ports and credentials.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ENV_VAR = "OBJSTORE_SERVICES"
STATE_FILE = "env.json"


def state_dir() -> Path:
    """The state directory the CLI and the fixtures use (see the module docstring)."""
    explicit = os.environ.get(ENV_VAR)
    if explicit:
        return Path(explicit).expanduser().resolve()
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "pyproject.toml").is_file() and (parent / "objstore").is_dir():
            return parent / ".services"
    return Path.cwd().resolve() / ".services"


@dataclass(frozen=True, slots=True)
class PostgresInfo:
    """How to reach the PostgreSQL cluster (a superuser: tests create databases)."""

    host: str
    port: int
    user: str
    password: str
    database: str
    data_dir: str
    bin_dir: str
    run_as: str

    @property
    def dsn(self) -> str:
        """A libpq URL with the credentials (never log it: :attr:`safe_dsn` is for logs)."""
        return self.dsn_for(self.database)

    @property
    def safe_dsn(self) -> str:
        """The URL without the password."""
        return f"postgresql://{self.user}@{self.host}:{self.port}/{self.database}"

    def dsn_for(self, database: str) -> str:
        """A libpq URL for another database of the same cluster."""
        return f"postgresql://{self.user}:{self.password}@{self.host}:{self.port}/{database}"


@dataclass(frozen=True, slots=True)
class RgwInfo:
    """How to reach radosgw (an S3 endpoint) and the S3 user the tests use."""

    endpoint: str
    port: int
    access_key: str
    secret_key: str
    region: str


@dataclass(frozen=True, slots=True)
class CephInfo:
    """Where the Ceph cluster lives (for ``ceph`` / ``radosgw-admin`` with ``-c conf``)."""

    conf: str
    fsid: str
    mon_port: int


@dataclass(frozen=True, slots=True)
class ServicesState:
    """The content of ``env.json``: the services that ``start`` brought up (None: not started)."""

    state_dir: str
    postgres: PostgresInfo | None = None
    ceph: CephInfo | None = None
    rgw: RgwInfo | None = None

    def to_json(self) -> dict[str, Any]:
        """The JSON form written to ``env.json`` (the DSN spelled out for non-Python readers)."""
        out = asdict(self)
        if self.postgres is not None:
            out["postgres"]["dsn"] = self.postgres.dsn
        return out

    def shell_exports(self) -> str:
        """``export`` lines for a shell (``eval "$(python -m objstore.testing.services env)"``)."""
        lines = [f"export {ENV_VAR}={_sh(self.state_dir)}"]
        if self.postgres is not None:
            pg = self.postgres
            lines += [
                f"export OBJSTORE_PG_DSN={_sh(pg.dsn)}",
                f"export PGHOST={pg.host} PGPORT={pg.port} PGUSER={pg.user}",
                f"export PGPASSWORD={_sh(pg.password)} PGDATABASE={pg.database}",
            ]
        if self.rgw is not None:
            r = self.rgw
            lines += [
                f"export OBJSTORE_S3_ENDPOINT={_sh(r.endpoint)}",
                f"export AWS_ACCESS_KEY_ID={_sh(r.access_key)}",
                f"export AWS_SECRET_ACCESS_KEY={_sh(r.secret_key)}",
                f"export AWS_DEFAULT_REGION={_sh(r.region)}",
            ]
        return "\n".join(lines)


def _sh(value: str) -> str:
    return "'" + value.replace("'", "'\\''") + "'"


def load(directory: Path | None = None) -> ServicesState | None:
    """The state recorded in ``directory`` (default :func:`state_dir`), None if there is none."""
    d = directory or state_dir()
    try:
        raw = json.loads((d / STATE_FILE).read_text())
    except (OSError, ValueError):
        return None
    pg = raw.get("postgres")
    if pg is not None:
        pg = PostgresInfo(**{k: v for k, v in pg.items() if k != "dsn"})
    ceph = CephInfo(**raw["ceph"]) if raw.get("ceph") else None
    rgw = RgwInfo(**raw["rgw"]) if raw.get("rgw") else None
    return ServicesState(state_dir=raw["state_dir"], postgres=pg, ceph=ceph, rgw=rgw)


def save(state: ServicesState) -> Path:
    """Write ``env.json`` atomically, readable by its owner only (it holds credentials)."""
    d = Path(state.state_dir)
    d.mkdir(parents=True, exist_ok=True)
    tmp = d / (STATE_FILE + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(state.to_json(), f, indent=2, sort_keys=True)
        f.write("\n")
    os.replace(tmp, d / STATE_FILE)
    return d / STATE_FILE
