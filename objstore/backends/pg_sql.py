"""What the PostgreSQL metadata store says to the server, and how it is addressed (pure).

The SQL text of every statement, the schema migrations, the writer lock's key,
and the parsing of a ``postgresql://`` URL into a libpq URL plus objstore's own
options. No I/O and no driver here: :mod:`objstore.backends.postgres` runs it.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from objstore.errors import InvalidArgument

# Same limit as LMDB, so the namespace behaves identically on every backend.
MAX_KEY_SIZE = 511

# Table names: a prefix (several stores in one schema) and an optional schema.
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
# PostgreSQL truncates identifiers to 63 bytes; the longest suffix is "commits".
_MAX_PREFIX = 63 - len("commits")


def quote_ident(name: str) -> str:
    """``name`` as a quoted SQL identifier (names are checked by :func:`check_name` first)."""
    return '"' + name.replace('"', '""') + '"'


def check_name(what: str, name: str, max_len: int = 63) -> str:
    """``name`` if it is a plain identifier of at most ``max_len`` bytes, else InvalidArgument."""
    if not _NAME.match(name) or len(name) > max_len:
        raise InvalidArgument(
            f"{what} {name!r} must be letters, digits and '_' (not first a digit), "
            f"at most {max_len} characters",
            **{what.replace(" ", "_"): name},
        )
    return name


@dataclass(frozen=True, slots=True)
class Statements:
    """Every statement of one store (its tables named), as text for the driver.

    ``%b`` marks a parameter sent in binary (bytea): no hex round trip for keys
    and values. Scans page with ``LIMIT``: a walk that stops early (a listing of
    1000 keys, "is there any key under this prefix?") reads only what it needs.
    """

    kv: str
    version_table: str
    commits: str
    lock_key: int
    #: Whether the first migration creates the schema (one the URL named; never one the
    #: server resolved: CREATE SCHEMA needs a privilege on the database, even for one
    #: that exists).
    create_schema: bool
    get: str
    scan_from: str
    scan_range: str
    scan_reverse_from: str
    scan_reverse_range: str
    flush: str
    begin_read: str
    begin_write: str
    own_commit: str
    terminate: str

    @classmethod
    def build(
        cls, schema: str | None, prefix: str, writer_idle_ms: int = 0, *, resolved: bool = False
    ) -> Statements:
        """The statements of the store ``<schema>.<prefix>*``; a writer idle between two
        statements for ``writer_idle_ms`` (0: no limit) is ended by the server.
        ``resolved``: ``schema`` is the one the server resolved the unqualified names to
        (:data:`RESOLVE_SCHEMA`), any name, not one a user gave."""
        if prefix:
            check_name("table prefix", prefix, _MAX_PREFIX)
        if schema is not None and not resolved:
            check_name("schema", schema)
        qualify = "" if schema is None else quote_ident(schema) + "."
        kv = qualify + quote_ident(prefix + "kv")
        commits = qualify + quote_ident(prefix + "commits")
        key = writer_lock_key(schema, prefix)
        return cls(
            kv=kv,
            version_table=qualify + quote_ident(prefix + "schema"),
            commits=commits,
            lock_key=key,
            create_schema=schema is not None and not resolved,
            get=f"SELECT v FROM {kv} WHERE k = %b",
            scan_from=f"SELECT k, v FROM {kv} WHERE k >= %b ORDER BY k LIMIT %b",
            scan_range=f"SELECT k, v FROM {kv} WHERE k >= %b AND k < %b ORDER BY k LIMIT %b",
            scan_reverse_from=f"SELECT k, v FROM {kv} WHERE k >= %b ORDER BY k DESC LIMIT %b",
            scan_reverse_range=(
                f"SELECT k, v FROM {kv} WHERE k >= %b AND k < %b ORDER BY k DESC LIMIT %b"
            ),
            # One statement, one round trip: the buffered deletes, the buffered puts (keys
            # are distinct: they come from one dict) and this connection's commit token.
            flush=(
                f"WITH d AS (DELETE FROM {kv} WHERE k = ANY(%b::bytea[])), "
                f"u AS (INSERT INTO {kv} (k, v) SELECT * FROM unnest(%b::bytea[], %b::bytea[]) "
                "ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v), "
                f"c AS (INSERT INTO {commits} (slot, token) VALUES (%b, %b) "
                "ON CONFLICT (slot) DO UPDATE SET token = EXCLUDED.token, at = now()) "
                "SELECT 1"
            ),
            # Sent as one simple query (one round trip). REPEATABLE READ takes its
            # snapshot at the first statement, so SELECT 1 pins it now, at begin().
            begin_read="BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SELECT 1",
            # READ COMMITTED on purpose: every statement after the lock sees every commit
            # made before it was granted (REPEATABLE READ would keep the snapshot taken
            # while waiting for the lock, older than the previous writer's commit).
            # The idle limit frees the lock of a writer whose process froze or vanished
            # without closing its socket (the server would wait for it for ever).
            begin_write=(
                "BEGIN ISOLATION LEVEL READ COMMITTED; "
                f"SET LOCAL idle_in_transaction_session_timeout = {int(writer_idle_ms)}; "
                f"SELECT pg_advisory_xact_lock({key})"
            ),
            own_commit=f"SELECT token FROM {commits} WHERE slot = %b",
            # The old session of an in-doubt commit, if it still lives (a half-open socket).
            terminate=(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE pid = %s AND backend_start = %s::timestamptz"
            ),
        )

    def migrations(self) -> tuple[tuple[str, ...], ...]:
        """Schema version ``i + 1`` is reached by running ``migrations()[i]``, in order.

        Append new versions; never edit a released one.
        """
        return (
            (
                f"CREATE TABLE {self.kv} (k bytea PRIMARY KEY, v bytea NOT NULL)",
                # One row per connection that ever wrote: the token of its last writing
                # transaction, read back when a COMMIT's outcome is unknown.
                f"CREATE TABLE {self.commits} (slot bytea PRIMARY KEY, token bytea NOT NULL, "
                "at timestamptz NOT NULL DEFAULT now())",
            ),
        )


#: The schema this connection's unqualified table names resolve to: the first schema on
#: its search_path holding the version table (parameter: its unqualified name), else
#: where CREATE puts a table (``current_schema()``; NULL when search_path names no
#: existing schema). A store opened without ``schema=`` is pinned to it at open, so that
#: its writer lock is the one a node naming that schema takes (break-it review 9i, H1:
#: ``.../db`` and ``.../db?schema=public`` wrote the same tables under two locks).
RESOLVE_SCHEMA = (
    "SELECT coalesce((SELECT n.nspname FROM pg_class c JOIN pg_namespace n "
    "ON n.oid = c.relnamespace WHERE c.oid = to_regclass(%s)), current_schema())"
)


def writer_lock_key(schema: str | None, prefix: str) -> int:
    """The advisory lock every writer of this store takes (a signed 64-bit key).

    Derived from the tables' names, so stores sharing a database do not contend; the
    schema is always given in full by an open (:data:`RESOLVE_SCHEMA`).
    """
    name = f"objstore-writer:{schema or ''}.{prefix}".encode()
    return int.from_bytes(hashlib.blake2b(name, digest_size=8).digest(), "big", signed=True)


@dataclass(frozen=True, slots=True)
class UrlOptions:
    """A ``postgresql://`` URL split into what libpq reads and objstore's own options."""

    conninfo: str
    schema: str | None = None
    table_prefix: str = "objstore_"
    pool_min: int = 1
    pool_max: int = 16
    timeout: float = 10.0
    lock_timeout: float | None = 60.0


_OPTION_NAMES = ("schema", "table_prefix", "pool_min", "pool_max", "timeout", "lock_timeout")


def parse_url(url: str) -> UrlOptions:
    """Split ``url``; objstore's options are query parameters libpq would refuse.

    ``postgresql://user[:password]@host[:port]/db?schema=s&table_prefix=p&pool_max=16
    &timeout=10&lock_timeout=60`` (``lock_timeout=0``: wait for ever). Every other query
    parameter (``sslmode``, ``connect_timeout`` ...) goes to libpq, and so do the usual
    environment variables (``PGPASSWORD``, ``PGPASSFILE`` ...). Raises InvalidArgument.
    """
    try:
        parts = urlsplit(url)
        pairs = parse_qsl(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query))
    except ValueError as exc:
        raise InvalidArgument(f"not a PostgreSQL URL: {exc}") from None
    if parts.scheme not in ("postgresql", "postgres"):
        raise InvalidArgument(
            f"a PostgreSQL URL starts with postgresql://, not {parts.scheme or '(none)'}://"
        )
    ours = {k: v for k, v in pairs if k in _OPTION_NAMES}
    rest = [(k, v) for k, v in pairs if k not in _OPTION_NAMES]
    conninfo = urlunsplit(parts._replace(query=urlencode(rest)))
    try:
        lock = float(ours.get("lock_timeout", "60"))
        return UrlOptions(
            conninfo=conninfo,
            schema=ours.get("schema") or None,
            table_prefix=ours.get("table_prefix", "objstore_"),
            pool_min=int(ours.get("pool_min", "1")),
            pool_max=int(ours.get("pool_max", "16")),
            timeout=float(ours.get("timeout", "10")),
            lock_timeout=lock if lock > 0 else None,
        )
    except ValueError as exc:
        raise InvalidArgument(f"a bad option in the PostgreSQL URL: {exc}") from None


def redacted(params: dict[str, str | None]) -> str:
    """A URL naming the server, database and user, never the password (for repr and errors)."""
    user = params.get("user") or ""
    host = params.get("host") or params.get("hostaddr") or "localhost"
    port = params.get("port") or "5432"
    db = params.get("dbname") or user
    at = f"{user}@" if user else ""
    return f"postgresql://{at}{host}:{port}/{unquote(db)}"


_KV_PASSWORD = re.compile(r"password\s*=\s*('(?:[^'\\]|\\.)*'|\S+)")


def scrub(message: str, conninfo: str) -> str:
    """``message`` with any password of ``conninfo`` replaced by ``***`` (libpq's parse
    errors quote pieces of the string they choke on)."""
    secrets = [m.group(1).strip("'") for m in _KV_PASSWORD.finditer(conninfo)]
    with contextlib.suppress(ValueError):
        secrets.append(urlsplit(conninfo).password or "")
    for secret in sorted(filter(None, secrets), key=len, reverse=True):
        message = message.replace(secret, "***").replace(unquote(secret), "***")
    return message
