"""The metadata tables' schema: which version a database holds, and migrating it.

Pure SQL over a query runner (``run(statement, params) -> rows``), so that this module
imports no database driver: ``postgres.py`` hands it a connection's runner, inside the
transaction and under the lock it chose.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from objstore.backends.pg_sql import Statements
from objstore.errors import StoreDamaged

#: Runs one statement with its parameters; returns its rows (none for a command).
Query = Callable[..., list[tuple[Any, ...]]]


def _first(rows: list[tuple[Any, ...]]) -> tuple[Any, ...] | None:
    return rows[0] if rows else None


def schema_version(run: Query, sql: Statements, where: str, *, settled: bool) -> int | None:
    """The recorded schema version (None: no tables yet); StoreDamaged when newer,
    or (``settled``: under the writer lock) when the tables are there without it."""
    table = sql.version_table
    found = _first(run("SELECT to_regclass(%s)", (table,)))
    if (found is None or found[0] is None) and not settled:
        # Without the lock a creator may commit between this look and the next:
        # "no version table" decides nothing yet.
        return None
    if found is None or found[0] is None:
        # The version record and the tables are created in one transaction: tables
        # without it are a damaged store, never a new one (its first migration
        # would fail on them, or a later one run over data it does not fit).
        row = _first(run("SELECT to_regclass(%s), to_regclass(%s)", (sql.kv, sql.commits)))
        left = [str(name) for name in row or () if name is not None]
        if left:
            raise StoreDamaged(
                f"the schema version table {table} at {where} is gone but "
                f"{', '.join(left)} exist; refusing to open the store"
            )
        return None
    rows = run(f"SELECT version FROM {table}")
    if len(rows) != 1:
        raise StoreDamaged(
            f"{table} at {where} should hold one schema version, not "
            f"{len(rows)} rows; refusing to open the store"
        )
    version = int(rows[0][0])
    known = len(sql.migrations())
    if version > known:
        raise StoreDamaged(
            f"the metadata at {where} has schema version {version}, newer than "
            f"this objstore knows ({known}): upgrade objstore",
            schema_version=version,
        )
    if version > 0:
        found = _first(run("SELECT to_regclass(%s)", (sql.kv,)))
        if found is None or found[0] is None:
            raise StoreDamaged(
                f"the metadata table {sql.kv} at {where} is gone (its schema "
                "version is recorded); refusing to open the store"
            )
    return version


def migrate(run: Query, sql: Statements, version: int | None) -> None:
    """Bring the tables from ``version`` to the newest (in the caller's transaction)."""
    migrations = sql.migrations()
    if version is None:
        if sql.create_schema:
            run(f"CREATE SCHEMA IF NOT EXISTS {sql.kv.rpartition('.')[0]}")
        run(f"CREATE TABLE {sql.version_table} (version integer NOT NULL)")
        run(f"INSERT INTO {sql.version_table} VALUES (0)")
        version = 0
    for statements in migrations[version:]:
        for statement in statements:
            run(statement)
    run(f"UPDATE {sql.version_table} SET version = %s", (len(migrations),))
