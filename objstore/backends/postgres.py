"""The PostgreSQL :class:`~objstore.meta.base.MetadataStore` (the only module that imports psycopg).

Several objstore processes, on one machine or many, share one store by sharing
one database. Keys and values are ``bytea`` in one table (``<prefix>kv``, primary
key ``k``): PostgreSQL compares ``bytea`` bytewise (memcmp, then length), which
is exactly the order of Python ``bytes`` and of LMDB. The schema is created on
first open and migrated by version (``<prefix>schema``); a database written by
a newer objstore is refused.

Transactions, and why they are serialisable
-------------------------------------------
The namespace and gc assume LMDB's model: one writer at a time, store-wide,
and a writer sees every commit made before it started (docs/architecture.md,
"Garbage collection"). Here every write transaction starts with
``pg_advisory_xact_lock(K)`` on one key ``K`` per store, in READ COMMITTED:

- Writers are serial. Every writer of the store, in every process on every
  machine, holds ``K`` from its first statement to its COMMIT/ROLLBACK, so two
  write transactions never overlap, and the history of writes is a serial one
  ordered by lock acquisition. Nothing else writes the table.
- A writer sees every earlier commit. PostgreSQL releases transaction locks
  only after the commit is durable (``synchronous_commit = on``, set on every
  connection) and visible to new snapshots; READ COMMITTED takes a new snapshot
  per statement, and every statement after the lock's is later than the
  previous writer's commit. (REPEATABLE READ would be wrong: its snapshot is
  taken by the statement that waits for the lock, before that commit.)
- Readers (``begin()``) are REPEATABLE READ READ ONLY snapshots pinned when
  ``begin()`` returns. Since writers are serial and each commit is visible
  before the next writer starts, a snapshot sees a prefix of the serial
  history: exactly what an LMDB reader sees.

SERIALIZABLE isolation with retries is not an option: a serialisation failure
must be answered by re-running the transaction, and the protocol's ``with``
block cannot be re-run. Writers in one process also queue on a local lock, so
a process holds at most one connection waiting for ``K``. ``lock_timeout``
(default 60 s) bounds the wait (then ServiceUnavailable, nothing written), and
the server ends a write transaction idle for longer than that between two
statements (``idle_in_transaction_session_timeout``), so a frozen process or a
half-open socket cannot hold ``K`` for ever; that writer then fails, typed,
with nothing written.

A write transaction buffers its puts and deletes in memory (it reads its own
writes from the buffer) and sends them in one statement before COMMIT, or
before a scan reads the next page. Since nobody else writes while it holds
``K``, what it has read stays true until it commits: it caches what it read,
so ``get`` twice, or ``delete`` of a key it read or scanned, costs no round
trip. Scans page with ``LIMIT`` (32 rows first, growing), prepared statements
are used throughout, and a read (or an aborted write) ends without waiting: its
ROLLBACK is sent and the connection kept aside until the next transaction
takes it and reads the answer (about twice the read transactions per second).

Failures
--------
psycopg and pool errors never leave this module: a lost connection, a server
restarting or shutting down, a pool timeout, a lock timeout are
ServiceUnavailable; a full disk InsufficientStorage; a database that does not
exist NoSuchDatabase; anything else InternalError. The pool replaces dead
connections, so an open store works again once the server is back.

- ``begin()`` and ``begin_write()`` retry on another connection (until
  ``timeout``) when the server dropped the one they got: nothing was read yet.
  A connection lost later fails the transaction (a snapshot cannot be resumed);
  PostgreSQL rolls it back, so nothing of it is ever half-written.
- A COMMIT whose answer is lost is never re-sent blindly. Each writing
  transaction also writes a random token under its connection's slot in
  ``<prefix>commits``. To settle the outcome, the store connects again
  (retrying until ``resolve_timeout``), terminates the old session if it
  still lives, takes ``K`` (so the old transaction is over: committed or
  rolled back) and reads the slot: its token means committed (the block
  returns normally), anything else means rolled back (ServiceUnavailable,
  nothing written). If the server stays away, InternalError with
  ``details["commit_outcome"] == "unknown"``: the caller must not assume the
  write was lost. (Not ``pg_xact_status(xid)``: after a crash that loses the
  transaction's WAL, its xid is handed out again and may report another
  transaction's commit.)

The password (from the URL, ``PGPASSWORD`` or a password file, as libpq reads
them) never appears in ``repr``, errors or logs.
"""

from __future__ import annotations

import os
import select
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any

import psycopg
from psycopg import pq
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import ConnectionPool, PoolClosed, PoolTimeout

from objstore.backends import pg_errors, pg_schema
from objstore.backends.pg_sql import (
    MAX_KEY_SIZE,
    RESOLVE_SCHEMA,
    Statements,
    parse_url,
    redacted,
    scrub,
)
from objstore.backends.pg_txn import PgRead, PgWrite, Slot
from objstore.errors import (
    InternalError,
    InvalidArgument,
    ObjstoreError,
    ServiceUnavailable,
    StoreClosed,
    StoreDamaged,
)

Conn = psycopg.Connection[tuple[Any, ...]]

# The pool's reconnection backs off up to this long before giving up on an attempt
# (the next request starts a new one): how soon a store notices the server is back.
_RECONNECT_GIVE_UP = 2.0
_GETCONN_SLICE = 1.0
# At most this many connections wait, checked out, for the answer to their closing
# ROLLBACK (see PostgresMetadataStore._park).
_PARK_MAX = 8
# A connection parked longer goes back to the pool, whose idle and lifetime limits
# then apply to it, instead of serving the next transaction.
_PARK_FRESH = 30.0


def _query(conn: Conn) -> pg_schema.Query:
    """``conn`` as the plain query runner pg_schema works with (it imports no driver)."""

    def run(statement: str, params: tuple[object, ...] = ()) -> list[tuple[Any, ...]]:
        cur = conn.execute(statement, params or None)
        return cur.fetchall() if cur.description is not None else []

    return run


def _broken(conn: Conn) -> bool:
    return conn.broken or conn.closed


class PostgresMetadataStore:
    """Metadata in a PostgreSQL database (see the module docstring).

    ``conninfo``: a libpq URL or ``key=value`` string (the password may come from
    ``PGPASSWORD`` or a password file). ``schema``/``table_prefix`` name the tables
    (``<schema>.<prefix>kv`` ...), so several stores can share a database. The pool
    holds ``pool_min`` to ``pool_max`` connections; ``timeout`` bounds the wait for
    one, ``lock_timeout`` (None: no limit) the wait for the writer lock, and
    ``resolve_timeout`` the effort to learn a lost COMMIT's outcome. ``create=False``
    refuses to create the tables (a store that has data elsewhere must not start empty).

    Raises InvalidArgument for a bad conninfo or name, ServiceUnavailable when the
    server cannot be reached, NoSuchDatabase when the database it names does not
    exist (created by hand, never here), StoreDamaged when the schema is newer than this code
    knows, its version record is gone, or the tables are missing with ``create=False``,
    InternalError otherwise.
    """

    max_key_size = MAX_KEY_SIZE

    def __init__(
        self,
        conninfo: str = "",
        *,
        schema: str | None = None,
        table_prefix: str = "objstore_",
        pool_min: int = 1,
        pool_max: int = 16,
        timeout: float = 10.0,
        lock_timeout: float | None = 60.0,
        resolve_timeout: float = 30.0,
        create: bool = True,
    ) -> None:
        bad: str | None = None
        try:
            params = conninfo_to_dict(conninfo)
        except psycopg.Error as exc:
            bad = scrub(str(exc), conninfo)
        if bad is not None:  # raised outside the handler: no __context__ quoting the password
            raise InvalidArgument(f"not a PostgreSQL connection string: {bad}")
        if not 1 <= pool_min <= pool_max:
            raise InvalidArgument("the pool needs 1 <= pool_min <= pool_max")
        self._where = redacted({k: None if v is None else str(v) for k, v in params.items()})
        idle_ms = 0 if lock_timeout is None else max(1, round(lock_timeout * 1000))
        self._sql = Statements.build(schema, table_prefix, writer_idle_ms=idle_ms)
        self._timeout = timeout
        self._lock_timeout = lock_timeout
        self._resolve_timeout = resolve_timeout
        self._pid = os.getpid()
        self._closed = False
        # Writers of this process queue here, so only one of them holds a
        # connection waiting for the database-wide writer lock.
        self._writer = threading.Lock()
        self._slots: weakref.WeakKeyDictionary[Conn, Slot] = weakref.WeakKeyDictionary()
        self._parked: list[tuple[Conn, float]] = []
        self._park_lock = threading.Lock()
        connect: dict[str, Any] = {}
        if "connect_timeout" not in params:
            connect["connect_timeout"] = max(1, round(timeout))
        # What operators see in pg_stat_activity unless the URL or PGAPPNAME says otherwise.
        connect["fallback_application_name"] = "objstore"
        self._bootstrap(conninfo, connect, create, schema is None, table_prefix, idle_ms)
        self._pool: ConnectionPool[Conn] = ConnectionPool(
            conninfo,
            min_size=pool_min,
            max_size=pool_max,
            kwargs={"autocommit": True, "prepare_threshold": 0, **connect},
            configure=self._configure,
            timeout=timeout,
            reconnect_timeout=_RECONNECT_GIVE_UP,
            open=False,
            name="objstore-metadata",
        )
        self._pool.open(wait=False)

    @classmethod
    def from_url(
        cls, url: str, *, create: bool = True, resolve_timeout: float = 30.0
    ) -> PostgresMetadataStore:
        """Open the store a ``postgresql://`` URL names (options: :func:`.pg_sql.parse_url`)."""
        opts = parse_url(url)
        return cls(
            opts.conninfo,
            schema=opts.schema,
            table_prefix=opts.table_prefix,
            pool_min=opts.pool_min,
            pool_max=opts.pool_max,
            timeout=opts.timeout,
            lock_timeout=opts.lock_timeout,
            resolve_timeout=resolve_timeout,
            create=create,
        )

    def __repr__(self) -> str:
        return f"PostgresMetadataStore({self._where!r}, table={self._sql.kv!r})"

    # ------------------------------------------------------------------ setup

    def _configure(self, conn: Conn) -> None:
        lock_ms = "0" if self._lock_timeout is None else str(round(self._lock_timeout * 1000))
        # Durability is not left to the server's default: a commit returns once it
        # is on disk (and on synchronous standbys, where there are some).
        conn.execute(
            "SELECT set_config('synchronous_commit', 'on', false), "
            "set_config('lock_timeout', %s, false)",
            (lock_ms,),
            prepare=False,
        )

    def _bootstrap(
        self,
        conninfo: str,
        connect: dict[str, Any],
        create: bool,
        resolve: bool,
        prefix: str,
        idle_ms: int,
    ) -> None:
        """Pin unqualified table names to the schema they resolve to (``resolve``), check
        the schema version; create or migrate the tables when behind."""
        known = len(self._sql.migrations())
        try:
            with psycopg.connect(conninfo, autocommit=True, **connect) as conn:
                self._configure(conn)
                if resolve:
                    row = conn.execute(RESOLVE_SCHEMA, (self._sql.version_table,)).fetchone()
                    if row is None or row[0] is None:
                        raise InvalidArgument(
                            f"no schema to keep the tables in at {self._where}: the "
                            "search_path names no existing schema; name one (?schema=)"
                        )
                    self._sql = Statements.build(row[0], prefix, idle_ms, resolved=True)
                sql = self._sql
                # Most opens find the schema current and need no lock (writers go on).
                if (
                    pg_schema.schema_version(_query(conn), self._sql, self._where, settled=False)
                    != known
                ):
                    self._create_or_migrate(conn, create)
                # Slots of connections gone long ago (an outcome is settled within seconds).
                conn.execute(f"DELETE FROM {sql.commits} WHERE at < now() - interval '1 day'")
        except psycopg.Error as exc:
            raise self._typed(exc, "opening the store") from exc

    def _create_or_migrate(self, conn: Conn, create: bool) -> None:
        """Under the writer lock, look again and create or migrate the tables.

        The lock is taken at session level *before* the transaction begins: nodes opening
        a fresh database at once then each start their transaction after the creator
        committed, and a transaction start is where PostgreSQL refreshes the session's
        catalog cache. (Taking the lock inside the transaction, as writers do, left the
        losers a cached "no such table": their CREATE failed as a duplicate.)
        """
        sql = self._sql
        conn.execute(f"SELECT pg_advisory_lock({sql.lock_key})")
        try:
            conn.execute("BEGIN ISOLATION LEVEL READ COMMITTED")
            try:
                version = pg_schema.schema_version(
                    _query(conn), self._sql, self._where, settled=True
                )
                if version is None and not create:
                    raise StoreDamaged(
                        f"no objstore tables ({sql.kv}) at {self._where}, but this store "
                        "holds data; refusing to open it as a new, empty store"
                    )
                if version != len(sql.migrations()):
                    pg_schema.migrate(_query(conn), self._sql, version)
            except BaseException:
                with suppress(psycopg.Error):
                    conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        finally:
            with suppress(psycopg.Error):
                conn.execute(f"SELECT pg_advisory_unlock({sql.lock_key})")

    # ---------------------------------------------------------------- errors

    def _typed(self, exc: BaseException, doing: str) -> ObjstoreError:
        """The objstore error for a driver or pool failure while ``doing``."""
        return pg_errors.typed(exc, self._where, self._timeout, doing)

    # ---------------------------------------------------------- connections

    def _check(self) -> None:
        if self._closed:
            raise StoreClosed("the metadata store is closed")
        if os.getpid() != self._pid:
            # The pool's sockets and threads belong to the parent process.
            raise StoreClosed(
                f"the store was opened in process {self._pid}; after fork() open it "
                "again in the child"
            )

    def _getconn(self, deadline: float, doing: str) -> Conn:
        while True:
            # In slices: each new request lets the pool try to connect again at once
            # (it backs off, then gives up, while the server is away).
            wait = min(deadline - time.monotonic(), _GETCONN_SLICE)
            try:
                return self._pool.getconn(timeout=max(wait, 0.001))
            except PoolTimeout as exc:
                if time.monotonic() >= deadline:
                    raise self._typed(exc, doing) from exc
            except PoolClosed as exc:
                raise self._typed(exc, doing) from exc

    def _putconn(self, conn: Conn) -> None:
        # The pool drops a broken connection and opens another in the background.
        with suppress(Exception):
            self._pool.putconn(conn)

    def _end(self, conn: Conn, command: str) -> None:
        """End the transaction (errors ignored: a broken connection is dropped) and
        give the connection back."""
        try:
            if not _broken(conn):
                conn.execute(command, prepare=False)
        except psycopg.Error:
            pass
        finally:
            self._putconn(conn)

    def _park(self, conn: Conn) -> None:
        """End a transaction whose outcome nobody needs (a read, an abort) without a
        round trip: send ROLLBACK and keep the connection; whoever takes it next reads
        the answer first (by then usually there). The server ends the transaction, and
        releases its snapshot or lock, as soon as the ROLLBACK arrives."""
        if _broken(conn):
            self._putconn(conn)
            return
        pg = conn.pgconn
        try:
            pg.send_query(b"ROLLBACK")
            while pg.flush():
                select.select([], [pg.socket], [], self._timeout)
        except (psycopg.Error, OSError):
            conn.close()
            self._putconn(conn)
            return
        with self._park_lock:
            self._parked.append((conn, time.monotonic()))
            oldest = self._parked.pop(0)[0] if len(self._parked) > _PARK_MAX else None
        if oldest is not None and self._unpark(oldest):
            self._putconn(oldest)

    def _unpark(self, conn: Conn) -> bool:
        """Read the answer to a parked connection's ROLLBACK; False (and the connection
        dropped) when it is dead or does not answer within ``timeout``."""
        pg = conn.pgconn
        deadline = time.monotonic() + self._timeout
        try:
            pg.consume_input()
            while pg.is_busy():
                if time.monotonic() >= deadline:
                    raise psycopg.OperationalError("no answer to ROLLBACK")
                select.select([pg.socket], [], [], max(deadline - time.monotonic(), 0.0))
                pg.consume_input()
            while pg.get_result() is not None:
                pass
            if conn.info.transaction_status == pq.TransactionStatus.IDLE:
                return True
        except (psycopg.Error, OSError):
            pass
        conn.close()
        self._putconn(conn)
        return False

    def _take(self, deadline: float, doing: str) -> Conn:
        """A parked connection (its ROLLBACK answered), else one from the pool."""
        while True:
            with self._park_lock:
                conn, since = self._parked.pop() if self._parked else (None, 0.0)
            if conn is None:
                return self._getconn(deadline, doing)
            if not self._unpark(conn):
                continue
            if time.monotonic() - since < _PARK_FRESH:
                return conn
            self._putconn(conn)

    def _start(self, begin: str, doing: str) -> Conn:
        """A connection with a transaction begun by ``begin`` (retried on a dead connection)."""
        self._check()
        deadline = time.monotonic() + self._timeout
        delay = 0.02
        checked = False
        while True:
            conn = self._take(deadline, doing)
            try:
                conn.execute(begin, prepare=False)
                return conn
            except psycopg.Error as exc:
                broken = _broken(conn)
                self._end(conn, "ROLLBACK")
                if not broken or time.monotonic() >= deadline:
                    raise self._typed(exc, doing) from exc
            except BaseException:
                conn.close()  # interrupted mid-statement: the session's state is unknown
                self._putconn(conn)
                raise
            # The server dropped this connection (a restart, say) before anything was
            # read in it: another one serves as well.
            if not checked:
                checked = True
                self._pool.check()  # drops the other dead idle connections at once
            else:
                time.sleep(max(min(delay, deadline - time.monotonic()), 0.0))
                delay = min(delay * 2, 0.5)

    def _runner(self, conn: Conn) -> Callable[[str, tuple[object, ...], str], list[Any]]:
        """How a transaction runs a statement on ``conn`` (prepared, binary, errors typed)."""
        cur = conn.cursor(binary=True)

        def run(query: str, params: tuple[object, ...], doing: str) -> list[Any]:
            try:
                cur.execute(query, params, prepare=True)
                return cur.fetchall()
            except psycopg.Error as exc:
                raise self._typed(exc, doing) from exc

        return run

    def _slot(self, conn: Conn) -> Slot:
        slot = self._slots.get(conn)
        if slot is None:
            row = conn.execute(
                "SELECT backend_start::text FROM pg_stat_activity WHERE pid = pg_backend_pid()"
            ).fetchone()
            started = "" if row is None else str(row[0])
            slot = self._slots[conn] = Slot(os.urandom(16), conn.info.backend_pid, started)
        return slot

    # ---------------------------------------------------------- transactions

    @contextmanager
    def begin(self) -> Iterator[PgRead]:
        """A read snapshot. Raises ServiceUnavailable, StoreClosed."""
        conn = self._start(self._sql.begin_read, "opening a read snapshot")
        txn = PgRead(self._sql, self._runner(conn))
        try:
            yield txn
        finally:
            txn.live = False
            self._park(conn)

    @contextmanager
    def begin_write(self) -> Iterator[PgWrite]:
        """The write transaction (one at a time, database-wide).

        Raises ServiceUnavailable (nothing written) when the server is unavailable,
        the lock wait times out or the commit failed; InternalError with
        ``details["commit_outcome"] == "unknown"`` when the outcome of a commit
        could not be learnt; StoreClosed.
        """
        self._check()
        wait = -1.0 if self._lock_timeout is None else self._lock_timeout
        if not self._writer.acquire(timeout=wait):
            raise ServiceUnavailable(
                "another writer of this process held the metadata write lock for longer "
                "than lock_timeout; nothing was written"
            )
        try:
            conn = self._start(self._sql.begin_write, "starting a write transaction")
            try:
                txn = PgWrite(self._sql, self._runner(conn), self._slot(conn))
            except BaseException as exc:
                self._end(conn, "ROLLBACK")
                if isinstance(exc, psycopg.Error):
                    raise self._typed(exc, "starting a write transaction") from exc
                raise
            try:
                yield txn
                if txn.dirty:
                    txn.flush()
            except BaseException:
                txn.live = False
                self._park(conn)
                raise
            txn.live = False
            self._commit(conn, txn)
        finally:
            self._writer.release()

    def _commit(self, conn: Conn, txn: PgWrite) -> None:
        try:
            conn.execute("COMMIT", prepare=False)
        except psycopg.Error as exc:
            self._settle(conn, txn, exc)
        except BaseException:
            # Interrupted (Ctrl-C) with the COMMIT in flight: drop the connection.
            conn.close()
            self._putconn(conn)
            raise
        else:
            self._putconn(conn)

    def _settle(self, conn: Conn, txn: PgWrite, exc: psycopg.Error) -> None:
        """After a failed COMMIT: return if it committed after all, else raise."""
        broken = _broken(conn)
        self._end(conn, "ROLLBACK")
        if not broken:
            # The server answered: PostgreSQL rolled the transaction back.
            raise self._typed(exc, "committing") from exc
        if not txn.wrote:
            return  # nothing was written: the outcome does not matter
        if self._committed(txn):
            return
        raise ServiceUnavailable(
            f"the connection to {self._where} was lost during COMMIT and the "
            "transaction was rolled back; nothing was written"
        ) from exc

    def _committed(self, txn: PgWrite) -> bool:
        """Whether a transaction whose COMMIT got no answer committed (see the module doc)."""
        deadline = time.monotonic() + self._resolve_timeout
        delay = 0.05
        with suppress(Exception):
            self._pool.check()
        while True:
            try:
                conn = self._getconn(deadline, "learning a commit's outcome")
            except ObjstoreError:
                break
            try:
                if txn.slot.started:
                    conn.execute(self._sql.terminate, (txn.slot.pid, txn.slot.started))
                # Holding the writer lock, the old transaction is over, for good.
                conn.execute(self._sql.begin_write, prepare=False)
                row = conn.execute(self._sql.own_commit, (txn.slot.id,), binary=True).fetchone()
                return row is not None and bytes(row[0]) == txn.token
            except psycopg.Error:
                if time.monotonic() >= deadline:
                    break
                time.sleep(delay)
                delay = min(delay * 2, 1.0)
            finally:
                self._end(conn, "ROLLBACK")
        raise InternalError(
            f"the connection to {self._where} was lost during COMMIT and the server did "
            f"not answer within {self._resolve_timeout:g} s: the transaction may or may "
            "not have been committed",
            commit_outcome="unknown",
        )

    def close(self) -> None:
        """Close the pool; further use raises StoreClosed."""
        if self._closed:
            return
        self._closed = True
        if os.getpid() == self._pid:
            with self._park_lock:
                parked, self._parked = self._parked, []
            for conn, _ in parked:
                conn.close()
            self._pool.close()
