"""What a psycopg or psycopg-pool failure means to objstore: the typed error of
:class:`~objstore.backends.postgres.PostgresMetadataStore` (closed, unavailable and worth
a retry, full, refused for good, or an internal error), read from SQLSTATE and libpq's text.
"""

from __future__ import annotations

import logging
import re

import psycopg
from psycopg_pool import PoolClosed, PoolTimeout

from objstore.errors import (
    InsufficientStorage,
    InternalError,
    NoSuchDatabase,
    ObjstoreError,
    ServiceUnavailable,
    StoreClosed,
)

# SQLSTATE classes after which retrying later helps: connection exception,
# transaction rollback, insufficient resources, operator intervention.
_UNAVAILABLE_CLASSES = ("08", "40", "53", "57")
# A writer ended by the server for sitting idle with the lock (postgres.py module docstring).
_IDLE_IN_TRANSACTION = "25P03"
_DISK_FULL = "53100"
# libpq's words for a server that will not let this user in, however often asked.
_REFUSED = ("authentication failed", "does not exist", "no pg_hba.conf entry", "permission denied")
_LOCK_NOT_AVAILABLE = "55P03"

# psycopg-pool logs every dropped connection and failed reconnect at WARNING. In a process
# that configured no logging, Python's last-resort handler printed dozens of such lines to
# stderr during one PostgreSQL restart (review 9m, L2), although each failure also reaches
# the caller as a typed error. A NullHandler, as libraries give their own loggers, keeps
# them off a bare stderr; an application's handlers still receive them.
logging.getLogger("psycopg.pool").addHandler(logging.NullHandler())
# The server's FATAL at connection start (no SQLSTATE reaches libpq's caller for it).
_NO_DATABASE = re.compile(r'database "(.*)" does not exist')


def typed(exc: BaseException, where: str, timeout: float, doing: str) -> ObjstoreError:
    """The objstore error for a driver or pool failure at ``where`` while ``doing``
    (``timeout``: how long the pool waited for a connection)."""
    if isinstance(exc, PoolClosed):
        return StoreClosed("the metadata store is closed")
    if isinstance(exc, PoolTimeout):
        return ServiceUnavailable(
            f"no connection to the metadata database {where} within {timeout:g} s while {doing}"
        )
    state = getattr(exc, "sqlstate", None) or ""
    # First line only: libpq adds hints and the statement's position.
    what = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if state == _DISK_FULL:
        return InsufficientStorage(f"the metadata database {where} is full: {what}")
    if state == _LOCK_NOT_AVAILABLE:
        return ServiceUnavailable(
            f"another writer held the metadata write lock at {where} for longer "
            f"than lock_timeout while {doing}; nothing was written"
        )
    missing = _NO_DATABASE.search(what) if isinstance(exc, psycopg.OperationalError) else None
    if missing is not None:
        name = missing.group(1)
        quoted = '"' + name.replace('"', '""') + '"'
        return NoSuchDatabase(
            f"the metadata database {quoted} does not exist on the server of {where}; "
            "objstore creates its tables but never the database (a mistyped name must not "
            f"start a new, empty store): create it first (CREATE DATABASE {quoted}, or "
            "createdb, as a role allowed to) and open again",
            database=name,
        )
    if isinstance(exc, psycopg.OperationalError) and any(m in what for m in _REFUSED):
        # Retrying does not help: the configuration is wrong (libpq gives no SQLSTATE).
        return InternalError(f"the metadata database {where} refused the connection: {what}")
    if (
        state[:2] in _UNAVAILABLE_CLASSES
        or state == _IDLE_IN_TRANSACTION
        or (isinstance(exc, psycopg.OperationalError) and not state)
    ):
        return ServiceUnavailable(
            f"the metadata database {where} is unavailable while {doing}: {what}"
        )
    return InternalError(f"metadata database error at {where} while {doing}: {what}")
