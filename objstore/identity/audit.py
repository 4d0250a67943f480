"""The audit log: every decision on a mutating call and every IAM/STS call, in LMDB.

Entries are keyed ``z <time ns> <4 random bytes>`` so they sort by time. IAM and STS
calls are written at once; storage writes are buffered and written in batches (at most
every second, every 256 events, before a read of the log, and at close), so a PUT does
not pay a second disk sync. A crash can therefore lose up to a second of storage entries,
never an IAM one.

The log is the store's recent history, not an archive: it keeps at most
:data:`MAX_BYTES` of entries (a counter kept with them, in the same transactions) and drops
the oldest beyond that; every event also goes to the ``audit`` sink given to
``objstore.open`` for a complete record. Refusals of unsigned (anonymous) callers go only to
that sink: anyone on the network could otherwise fill the disk with them, or push the
entries of real callers out (review rev11a, M3).
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from datetime import UTC, datetime

from objstore import keyspace
from objstore.actions import OPERATIONS
from objstore.authz import Identity
from objstore.engine import AuditEvent, AuditSink
from objstore.identity.results import AuditRecord
from objstore.meta.base import MetadataStore, WriteTxn
from objstore.meta.scan import scan_prefix, scan_prefix_reverse

_MUTATING_VERBS = (
    "Put", "Create", "Delete", "Copy", "Update", "Attach", "Detach", "Add", "Remove",
    "Enable", "Deactivate", "Set", "Tag", "Untag", "Change", "Upload", "Complete", "Abort",
    "Generate", "Resync",
)  # fmt: skip
_FLUSH_EVERY_S = 1.0
_FLUSH_AT = 256
MAX_BYTES = 256 * 1024 * 1024
MAX_PENDING = 100_000  # entries kept in memory while the log cannot be written
log = logging.getLogger("objstore.audit")
# Bytes of entries kept (keys and values), counted as they are written and dropped.
_SIZE = keyspace.COUNTER + b"audit.bytes"
_ANONYMOUS = Identity.anonymous().arn


def recorded(operation: str) -> tuple[bool, bool]:
    """(whether the call is logged, whether it is logged at once)."""
    op = OPERATIONS.get(operation)
    if op is None:
        return False, False
    if op.facade != "client":
        return True, True
    return operation.startswith(_MUTATING_VERBS), operation.endswith("BucketPolicy")


class AuditLog:
    """Appends engine events to the metadata store; reads them back newest first."""

    def __init__(
        self, meta: MetadataStore, forward: AuditSink | None = None, max_bytes: int = MAX_BYTES
    ) -> None:
        self.meta = meta
        self.forward = forward
        self.max_bytes = max_bytes
        self._pending: list[tuple[bytes, bytes]] = []
        self._oldest = 0.0
        self._lock = threading.Lock()
        self.closed = False

    def __call__(self, event: AuditEvent) -> None:
        if self.forward is not None:
            self.forward(event)
        logged, at_once = recorded(event.operation)
        if not logged or self.closed or (event.denied and event.principal == _ANONYMOUS):
            return
        key = keyspace.AUDIT + event.time_ns.to_bytes(8, "big") + os.urandom(4)
        value = json.dumps(
            {
                "p": event.principal,
                "o": event.operation,
                "a": list(event.actions),
                "r": list(event.resources),
                "d": "denied" if event.denied else "allowed",
                "x": event.outcome,
            },
            separators=(",", ":"),
        ).encode()
        with self._lock:
            if not self._pending:
                self._oldest = time.monotonic()
            self._pending.append((key, value))
            due = (
                at_once
                or len(self._pending) >= _FLUSH_AT
                or time.monotonic() - self._oldest >= _FLUSH_EVERY_S
            )
        if due:
            try:
                self.flush()
            except Exception:
                # The call it records has its outcome already: the entries wait for the
                # next flush (review rev11d, M1).
                log.warning("the audit log could not be written; its entries are kept")

    def flush(self) -> None:
        """Write the buffered entries. Raises the metadata store's error; the entries are
        then kept (up to :data:`MAX_PENDING`) and written with the next flush."""
        with self._lock:
            pending, self._pending = self._pending, []
            if pending:
                try:
                    self._write(pending)
                except BaseException:
                    # Not lost with one failed transaction (a dropped connection, a
                    # lock timeout): kept before what came since, oldest dropped first.
                    self._pending = (pending + self._pending)[-MAX_PENDING:]
                    raise

    def _write(self, pending: list[tuple[bytes, bytes]]) -> None:
        with self.meta.begin_write() as txn:
            txn.put_many(pending)
            raw = txn.get(_SIZE)
            size = int.from_bytes(raw, "big") if raw else 0
            size += sum(len(k) + len(v) for k, v in pending)
            if size > self.max_bytes:
                size = _drop_oldest(txn, size, self.max_bytes * 9 // 10)
            txn.put(_SIZE, size.to_bytes(8, "big"))

    def records(self, max_results: int = 1000) -> list[AuditRecord]:
        """The newest ``max_results`` entries, newest first."""
        self.flush()
        out: list[AuditRecord] = []
        with self.meta.begin() as txn:
            for key, raw in scan_prefix_reverse(txn, keyspace.AUDIT):
                entry = json.loads(raw)
                when = datetime.fromtimestamp(int.from_bytes(key[1:9], "big") / 1e9, UTC)
                actions = entry["a"] or [""]
                resources = entry["r"] or [""]
                out.append(
                    AuditRecord(
                        when,
                        entry["p"],
                        entry["o"],
                        ",".join(actions),
                        ",".join(resources),
                        entry["d"],
                        entry["x"],
                    )
                )
                if len(out) >= max_results:
                    break
        return out


def _drop_oldest(txn: WriteTxn, size: int, keep: int) -> int:
    """Delete the oldest entries until at most ``keep`` bytes are counted; the new count.

    Pruned to 90 % of the bound, so a full log is not pruned again at every write. Entries
    written before the count was kept are not in it: they go first (oldest), and the count
    does not go below zero."""
    doomed: list[bytes] = []
    for key, value in scan_prefix(txn, keyspace.AUDIT):
        if size <= keep:
            break
        doomed.append(key)
        size = max(0, size - len(key) - len(value))
    for key in doomed:  # after the walk: a cursor does not outlive deletions under it
        txn.delete(key)
    return size
