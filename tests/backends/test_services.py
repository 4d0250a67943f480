"""The fixtures over real PostgreSQL (and Ceph RGW): isolation, restarts, the CI rule."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import psycopg
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from objstore.testing.services import postgres, start, status
from objstore.testing.services.decide import Outcome, ci_enabled, decide
from objstore.testing.services.fixtures import (
    RestartablePostgres,
    RestartableRgw,
    RgwBucket,
    _fresh_bucket,
)
from objstore.testing.services.state import (
    CephInfo,
    PostgresInfo,
    RgwInfo,
    ServicesState,
    load,
    save,
)

# ---- the rules (pure) --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ci", "present", "error", "expected"),
    [
        (False, True, None, Outcome.USE),
        (True, True, None, Outcome.USE),
        (False, False, "initdb: not installed", Outcome.SKIP),
        (True, False, "initdb: not installed", Outcome.FAIL),
        (False, True, "pg_ctl exited 1", Outcome.FAIL),
        (True, True, "pg_ctl exited 1", Outcome.FAIL),
    ],
)
def test_decide(ci: bool, present: bool, error: str | None, expected: Outcome) -> None:
    """Absent binaries skip outside CI only; a service that fails to start always fails."""
    assert decide(ci=ci, binaries_present=present, error=error) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("true", True),
        ("TRUE", True),
        ("1", True),
        ("yes", True),
        ("", False),
        ("false", False),
        ("0", False),
    ],
)
def test_ci_enabled(value: str, expected: bool) -> None:
    """CI=true (as CI systems set it) turns skips into failures."""
    assert ci_enabled({"CI": value}) is expected


def test_ci_unset() -> None:
    """No CI variable: not in CI."""
    assert ci_enabled({}) is False


def test_state_round_trip(tmp_path: Path) -> None:
    """env.json holds what clients need, readable by its owner only; env prints exports."""
    state = ServicesState(
        state_dir=str(tmp_path),
        postgres=PostgresInfo(
            "127.0.0.1", 15432, "objstore", "pw'x", "objstore", "/d", "/b", "postgres"
        ),
        ceph=CephInfo("/c/ceph.conf", "f5", 13300),
        rgw=RgwInfo("http://127.0.0.1:17480", 17480, "AK", "SK", "us-east-1"),
    )
    path = save(state)
    assert path.stat().st_mode & 0o077 == 0
    assert load(tmp_path) == state
    exports = state.shell_exports()
    assert "export AWS_ACCESS_KEY_ID='AK'" in exports
    assert "PGPASSWORD='pw'\\''x'" in exports
    assert state.postgres is not None
    assert "pw" not in state.postgres.safe_dsn


def test_load_without_state(tmp_path: Path) -> None:
    """No env.json: None, not an error."""
    assert load(tmp_path) is None


@pytest.mark.skipif(os.geteuid() != 0, reason="the postgres user only matters as root")
def test_data_home_out_of_reach(tmp_path: Path) -> None:
    """A state dir the postgres user cannot traverse (pytest's basetemp is 0700, like /root)
    puts the cluster where it can, linked from the state dir."""
    state_dir = tmp_path / "checkout" / ".services"
    home = postgres.data_home(state_dir, "postgres")
    try:
        assert home.parent.parent == postgres.FALLBACK_ROOT
        assert (state_dir / "postgres").resolve() == home
        assert postgres.can_reach("postgres", home.parent)
        assert not postgres.can_reach("postgres", state_dir)
    finally:
        shutil.rmtree(home.parent, ignore_errors=True)


# ---- PostgreSQL ---------------------------------------------------------------------------------


def _user_tables(conn: psycopg.Connection[tuple[object, ...]]) -> list[object]:
    rows = conn.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', "
        "'information_schema')"
    ).fetchall()
    return [r[0] for r in rows]


@pytest.mark.parametrize("round_", [1, 2])
def test_postgres_dsn_is_fresh(postgres_dsn: str, round_: int) -> None:
    """Each test gets an empty database of its own (the other round's table is not there)."""
    with psycopg.connect(postgres_dsn) as conn:
        assert _user_tables(conn) == []
        conn.execute("CREATE TABLE t (k bytea PRIMARY KEY, v bytea)")
        conn.execute("INSERT INTO t VALUES (%s, %s)", (b"\x00\xff", bytes([round_])))
        conn.commit()
        assert conn.execute("SELECT v FROM t").fetchone() == (bytes([round_]),)


def test_postgres_dsn_is_dropped(postgres_service: PostgresInfo) -> None:
    """Databases of finished tests are dropped (no leak across a long session)."""
    with psycopg.connect(postgres_service.dsn_for("postgres")) as conn:
        names = [r[0] for r in conn.execute("SELECT datname FROM pg_database").fetchall()]
    # Other checkouts may share the cluster and hold a few of theirs; ours are gone.
    assert len([n for n in names if str(n).startswith("t_")]) < 20


def test_postgres_service_loopback_only(postgres_service: PostgresInfo) -> None:
    """The cluster listens on 127.0.0.1 and needs the password."""
    assert postgres_service.host == "127.0.0.1"
    wrong = postgres_service.dsn_for("postgres").replace(postgres_service.password, "wrong")
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(wrong, connect_timeout=5).close()


@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_postgres_restart_keeps_commits(
    postgres_restartable: RestartablePostgres, mode: str
) -> None:
    """A restart (even an immediate one, a crash) keeps committed rows and breaks open
    connections with an OperationalError; a new connection works on the same port."""
    pg = postgres_restartable
    port = pg.info().port
    conn = psycopg.connect(pg.dsn)
    conn.execute("CREATE TABLE t (k int PRIMARY KEY)")
    conn.execute("INSERT INTO t VALUES (1)")
    conn.commit()
    conn.execute("INSERT INTO t VALUES (2)")  # left uncommitted
    pg.restart(mode)
    with pytest.raises(psycopg.OperationalError):
        conn.execute("SELECT 1")
    conn.close()
    assert pg.info().port == port
    with psycopg.connect(pg.dsn) as conn2:
        assert conn2.execute("SELECT k FROM t ORDER BY k").fetchall() == [(1,)]


def test_postgres_stop_start(postgres_restartable: RestartablePostgres) -> None:
    """While stopped, connecting fails; after start it works again."""
    pg = postgres_restartable
    pg.stop()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(pg.dsn, connect_timeout=5).close()
    pg.start()
    with psycopg.connect(pg.dsn) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)


# ---- Ceph RGW -----------------------------------------------------------------------------------


@pytest.mark.parametrize("round_", [1, 2])
def test_rgw_bucket_is_fresh(rgw: RgwBucket, round_: int) -> None:
    """Each test gets an empty bucket of its own; PUT then GET returns the bytes."""
    s3 = rgw.client()
    assert s3.list_objects_v2(Bucket=rgw.bucket)["KeyCount"] == 0
    body = bytes([round_]) * 100_000
    s3.put_object(Bucket=rgw.bucket, Key="k", Body=body)
    assert s3.get_object(Bucket=rgw.bucket, Key="k")["Body"].read() == body


def test_rgw_if_none_match(rgw: RgwBucket) -> None:
    """RGW honours If-None-Match: * (the S3 chunk store's create-if-absent relies on it)."""
    s3 = rgw.client()
    s3.put_object(Bucket=rgw.bucket, Key="k", Body=b"1", IfNoneMatch="*")
    with pytest.raises(ClientError) as err:
        s3.put_object(Bucket=rgw.bucket, Key="k", Body=b"2", IfNoneMatch="*")
    assert err.value.response["Error"]["Code"] == "PreconditionFailed"
    assert s3.get_object(Bucket=rgw.bucket, Key="k")["Body"].read() == b"1"


def test_rgw_bucket_is_deleted(rgw_service: RgwInfo) -> None:
    """The fixture's teardown deletes the bucket, objects and all."""
    fresh = _fresh_bucket(rgw_service, rgw_service.endpoint)
    bucket = next(fresh)
    s3 = bucket.client()
    s3.put_object(Bucket=bucket.bucket, Key="a", Body=b"x")
    fresh.close()
    with pytest.raises(ClientError) as err:
        s3.head_bucket(Bucket=bucket.bucket)
    assert err.value.response["Error"]["Code"] in {"404", "NoSuchBucket"}


@pytest.mark.parametrize("how", ["stop", "kill"])
def test_rgw_restartable(rgw_restartable: RestartableRgw, rgw: RgwBucket, how: str) -> None:
    """While the private radosgw is down requests fail to connect; after start the data is
    there, and the shared radosgw (same cluster) saw it all along."""
    bucket = rgw_restartable.bucket
    s3 = bucket.client(retries={"max_attempts": 1}, connect_timeout=2)
    s3.put_object(Bucket=bucket.bucket, Key="k", Body=b"kept")
    getattr(rgw_restartable, how)()
    with pytest.raises(EndpointConnectionError):
        s3.get_object(Bucket=bucket.bucket, Key="k")
    shared = rgw.client()
    assert shared.get_object(Bucket=bucket.bucket, Key="k")["Body"].read() == b"kept"
    rgw_restartable.start()
    assert s3.get_object(Bucket=bucket.bucket, Key="k")["Body"].read() == b"kept"


def test_start_reuses_running(postgres_service: PostgresInfo, rgw_service: RgwInfo) -> None:
    """`make services` again finds the running services: same ports, same credentials."""
    again = start()
    assert again.postgres == postgres_service
    assert again.rgw == rgw_service
    assert status() == {"postgres": True, "ceph": True}
