"""pytest fixtures over the real services (registered by ``tests/conftest.py``).

- ``postgres_service``: :class:`PostgresInfo` of the shared cluster (session).
- ``postgres_dsn``: a libpq URL of a fresh, empty database, dropped after the test.
- ``postgres_restartable``: a private cluster (its own ``initdb``, session-wide) that a fault
  test may restart or stop without disturbing other checkouts sharing the main cluster; each
  test gets a fresh database on it and finds it running.
- ``rgw_service``: :class:`RgwInfo` of the shared radosgw (session).
- ``rgw``: :class:`RgwBucket`, the endpoint, keys and a fresh bucket, emptied and deleted after.
- ``rgw_restartable``: :class:`RestartableRgw`, a private radosgw process on the shared Ceph
  (same users and buckets, its own port) that a fault test may stop, kill and start; with a
  fresh bucket; it is running when each test begins.

The services are reused when running and started when not (``make services`` does the same),
in the state directory of :func:`objstore.testing.services.state_dir`. When they cannot be had,
:func:`objstore.testing.services.decide.decide` says whether the test skips or fails.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import psycopg
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from objstore.testing.services import ceph, postgres
from objstore.testing.services._proc import ServiceError, choose_port, listening
from objstore.testing.services.control import start
from objstore.testing.services.decide import Outcome, ci_enabled, decide
from objstore.testing.services.state import PostgresInfo, RgwInfo, ServicesState

_UNAVAILABLE: list[str] = []

# Fixtures that start a private radosgw or PostgreSQL cluster (to stop, kill and restart it).
# Under pytest-xdist one worker runs all their tests: two private radosgw processes of the
# same Ceph client, started by two workers at once, refused the test user's key. (A test
# that looks the fixture up itself carries the marker.)
_PRIVATE_SERVICES = frozenset({"_private_rgw", "_private_postgres"})


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the xdist_group markers
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that use a private service are one ``xdist_group`` (``--dist loadgroup``)."""
    for item in items:
        if _PRIVATE_SERVICES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.xdist_group("private-services"))


def require(name: str, binaries_present: Callable[[], bool]) -> ServicesState:
    """The running services state with ``name`` up, else skip or fail the test (see decide)."""
    error: str | None
    try:
        state = start([name])
        error = None
    except ServiceError as exc:
        error = str(exc)
    present = binaries_present()
    outcome = decide(ci=ci_enabled(os.environ), binaries_present=present, error=error)
    if outcome is Outcome.USE:
        return state
    why = f"SERVICE UNAVAILABLE: {name}: {error}"
    if outcome is Outcome.SKIP:
        _UNAVAILABLE.append(why)
        pytest.skip(why + " (binaries absent: run `make services`; with CI=true this fails)")
    pytest.fail(why, pytrace=False)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Repeat, in red, why the distributed tests were skipped (a skip is easy to miss)."""
    for why in sorted(set(_UNAVAILABLE)):
        terminalreporter.write_line(f"{why} -> tests skipped", red=True, bold=True)


# ---- PostgreSQL ------------------------------------------------------------------------------


def _shared_postgres() -> PostgresInfo:
    state = require("postgres", lambda: postgres.find_bin_dir() is not None)
    assert state.postgres is not None
    return state.postgres


@pytest.fixture(scope="session")
def postgres_service() -> PostgresInfo:
    """The shared cluster, started if needed (skips or fails when it cannot be)."""
    return _shared_postgres()


def _fresh_database(info: PostgresInfo) -> Iterator[str]:
    name = "t_" + secrets.token_hex(8)
    with psycopg.connect(info.dsn_for("postgres"), autocommit=True) as conn:
        # template0: nothing a previous test put in template1 can leak in.
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
    try:
        yield info.dsn_for(name)
    finally:
        try:
            with psycopg.connect(info.dsn_for("postgres"), autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        except psycopg.OperationalError:
            pass  # a fault test left the server down: the database goes with the cluster


@pytest.fixture
def postgres_dsn(postgres_service: PostgresInfo) -> Iterator[str]:
    """A ``postgresql://`` URL (with credentials) of a fresh empty database, dropped afterwards."""
    info = postgres_service
    if not listening(info.port):  # stopped since the session began (services-stop, a crash)
        info = _shared_postgres()
    yield from _fresh_database(info)


@dataclass
class RestartablePostgres:
    """A private cluster for fault tests: ``dsn`` of a fresh database, and the controls."""

    cluster: postgres.PostgresCluster
    dsn: str = ""

    def info(self) -> PostgresInfo:
        return self.cluster.info()

    def restart(self, mode: str = "fast") -> None:
        """Stop (``pg_ctl -m`` mode: smart, fast, immediate) and start on the same port."""
        self.cluster.restart(mode)

    def stop(self, mode: str = "fast") -> None:
        self.cluster.stop(mode)

    def start(self) -> None:
        """Start again on the same port (a no-op when it runs)."""
        if not self.cluster.running():
            self.cluster.start(same_port=True)


@pytest.fixture(scope="session")
def _private_postgres() -> Iterator[postgres.PostgresCluster]:
    require("postgres", lambda: postgres.find_bin_dir() is not None)
    bin_dir = postgres.find_bin_dir()
    assert bin_dir is not None
    # mkdtemp in /tmp: the service user can traverse /tmp, not pytest's 0700 basetemp.
    home = Path(tempfile.mkdtemp(prefix="objstore-pg-"))
    os.chmod(home, 0o755)
    cluster = postgres.PostgresCluster(
        home / "pg", bin_dir, postgres.service_user(), port=choose_port()
    )
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        try:
            cluster.stop("immediate")
        finally:
            shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def postgres_restartable(
    _private_postgres: postgres.PostgresCluster,
) -> Iterator[RestartablePostgres]:
    """A private cluster, running, with a fresh database in ``.dsn``; restart it at will."""
    control = RestartablePostgres(_private_postgres)
    control.start()
    for dsn in _fresh_database(_private_postgres.info()):
        control.dsn = dsn
        yield control
        control.start()


# ---- Ceph RGW --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RgwBucket:
    """An S3 endpoint, the keys of its user, and a bucket of the test's own."""

    endpoint: str
    access_key: str
    secret_key: str
    region: str
    bucket: str

    def client(self, **config: Any) -> Any:
        """A boto3 S3 client for the endpoint (``config``: botocore Config options)."""
        config.setdefault("retries", {"max_attempts": 2, "mode": "standard"})
        config.setdefault("s3", {"addressing_style": "path"})
        # botocore >= 1.36 adds CRC checksums to every request by default; radosgw 16.2
        # predates them, so send and check them only where S3 requires them.
        config.setdefault("request_checksum_calculation", "when_required")
        config.setdefault("response_checksum_validation", "when_required")
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name=self.region,
            config=Config(**config),
        )


def _fresh_bucket(info: RgwInfo, endpoint: str) -> Iterator[RgwBucket]:
    bucket = RgwBucket(
        endpoint, info.access_key, info.secret_key, info.region, "t-" + secrets.token_hex(8)
    )
    s3 = bucket.client()
    s3.create_bucket(Bucket=bucket.bucket)
    try:
        yield bucket
    finally:
        _delete_bucket(s3, bucket.bucket)


def _delete_bucket(s3: Any, name: str) -> None:
    """Empty (every version and upload) and delete ``name``; a bucket already gone is fine."""
    try:
        pages = s3.get_paginator("list_object_versions").paginate(Bucket=name)
        for page in pages:
            doomed = [
                {"Key": v["Key"], "VersionId": v["VersionId"]}
                for v in page.get("Versions", []) + page.get("DeleteMarkers", [])
            ]
            if doomed:
                s3.delete_objects(Bucket=name, Delete={"Objects": doomed, "Quiet": True})
        uploads = s3.list_multipart_uploads(Bucket=name).get("Uploads", [])
        for up in uploads:
            s3.abort_multipart_upload(Bucket=name, Key=up["Key"], UploadId=up["UploadId"])
        s3.delete_bucket(Bucket=name)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "NoSuchBucket":
            raise


def _shared_rgw() -> RgwInfo:
    state = require("ceph", ceph.binaries_present)
    assert state.rgw is not None
    return state.rgw


@pytest.fixture(scope="session")
def rgw_service() -> RgwInfo:
    """The shared radosgw, Ceph started if needed (skips or fails when it cannot be)."""
    return _shared_rgw()


@pytest.fixture
def rgw(rgw_service: RgwInfo) -> Iterator[RgwBucket]:
    """The shared radosgw with a fresh bucket, emptied and deleted after the test."""
    info = rgw_service
    if not ceph.rgw_answers(info):  # radosgw 16 aborts on some requests: start it again
        info = _shared_rgw()
    yield from _fresh_bucket(info, info.endpoint)


@dataclass
class RestartableRgw:
    """A private radosgw (``gateway``) and a fresh bucket on it (``bucket``)."""

    gateway: ceph.RadosGateway
    bucket: RgwBucket

    def stop(self) -> None:
        """SIGTERM radosgw and wait for it to exit."""
        self.gateway.stop()

    def kill(self) -> None:
        """SIGKILL radosgw (a crash)."""
        self.gateway.kill()

    def start(self) -> None:
        """Start it again on the same port and wait until it answers."""
        self.gateway.start()


@pytest.fixture(scope="session")
def _private_rgw(rgw_service: RgwInfo) -> Iterator[ceph.RadosGateway]:
    state = require("ceph", ceph.binaries_present)
    assert state.ceph is not None
    home = Path(tempfile.mkdtemp(prefix="objstore-rgw-"))
    gateway = ceph.RadosGateway(Path(state.ceph.conf), home)
    try:
        gateway.start()
        yield gateway
    finally:
        try:
            gateway.stop()
        finally:
            shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def rgw_restartable(
    _private_rgw: ceph.RadosGateway, rgw_service: RgwInfo
) -> Iterator[RestartableRgw]:
    """A private radosgw, running, with a fresh bucket; stop, kill and start it at will."""
    _private_rgw.start()
    for bucket in _fresh_bucket(rgw_service, _private_rgw.endpoint):
        yield RestartableRgw(_private_rgw, bucket)
        _private_rgw.start()
