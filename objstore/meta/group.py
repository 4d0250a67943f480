"""Group commit: concurrent writers share one durable transaction.

A durable commit costs one ``fsync`` whatever it holds, so when many threads
each commit a small write (a 4 KiB PUT is nothing but metadata), the disk
flush is the bottleneck. :class:`GroupCommitter` queues each writer's work as
a function of a write transaction; one waiting thread at a time becomes the
*leader*, runs everything queued in one transaction and commits it; every
other writer waits for its own result. Throughput then grows with the number
of writers instead of staying at one flush per write.

The leader is a caller's own thread, not a background one: LMDB binds a write
transaction to the thread that opened it, and no thread outlives its callers.

A leader that saw other writers in its last batch first *lingers*: it waits
(at most :data:`LINGER_S`) until as many jobs are queued as that batch held.
Without it, writers split into groups that alternate: the writers of one
commit are still returning to their callers when the next leader starts, so
each commit held about half of them (four threads doing durable 4 KiB PUTs
averaged 2.2 jobs per commit; docs/performance.md, "Small objects"). A
writer working alone never waits: its batches hold one job.

A function that raises fails alone: the shared transaction is rolled back and
the rest of the batch runs again without it. Functions must therefore be pure
functions of the transaction (they may run more than once; only the run that
commits counts). Works over any :class:`~objstore.meta.base.MetadataStore`.
"""

from __future__ import annotations

import contextvars
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from objstore.meta.base import MetadataStore, WriteTxn

T = TypeVar("T")

_UNSET = object()

# The longest a leader waits for the writers of its last batch to queue again: a
# fraction of one durable commit (0.3-1 ms here), so a writer that went away
# costs its former companions one such wait before the target adapts.
LINGER_S = 0.0005


class _Job(Generic[T]):
    __slots__ = ("context", "error", "finished", "fn", "result")

    def __init__(self, fn: Callable[[WriteTxn], T]) -> None:
        self.fn = fn
        # The caller's context variables (its cancellation token among them): the leader
        # runs ``fn`` in them, not in its own (break-it review 9n, N6: a cancelled
        # leader's token stopped another caller's write, and a cancelled follower's
        # write was kept).
        self.context = contextvars.copy_context()
        self.result: object = _UNSET
        self.error: BaseException | None = None
        self.finished = False


class _Failed(Exception):
    """Aborts the shared transaction after one job raised."""


class GroupCommitter:
    """Runs write functions, grouping concurrent ones into one commit."""

    def __init__(self, meta: MetadataStore, *, max_batch: int = 256) -> None:
        self._meta = meta
        self._max_batch = max_batch
        lock = threading.Lock()
        self._cond = threading.Condition(lock)
        # Wakes a lingering leader when a job arrives (the others sleep on _cond).
        self._arrived = threading.Condition(lock)
        self._queue: list[_Job[object]] = []
        self._leading = False
        self._lingering = False
        self._want = 1  # while lingering: the queue length the leader waits for
        self._expect = 1  # jobs in the last batch: how many writers are active

    def run(self, fn: Callable[[WriteTxn], T]) -> T:
        """Run ``fn`` in a write transaction; return its result once durable.

        Raises whatever ``fn`` raises (nothing of it is then committed), or the
        backend's error if the commit itself fails.
        """
        job: _Job[object] = _Job(fn)
        with self._cond:
            self._queue.append(job)
            if self._lingering and len(self._queue) >= self._want:
                # Only once the leader's batch is whole: a wake-up per arrival cost the
                # leader a context switch and a GIL hand-off each.
                self._arrived.notify()
        while True:
            with self._cond:
                while not job.finished and self._leading:
                    self._cond.wait()
                if job.finished:
                    break
                self._leading = True
                self._linger()
                batch = self._queue[: self._max_batch]
                del self._queue[: len(batch)]
                self._expect = max(1, len(batch))
            try:
                self._execute(batch)
            except BaseException:
                # The leader was interrupted (KeyboardInterrupt, say): the
                # others were not committed, so they go back for a new leader.
                with self._cond:
                    others = [j for j in batch if j is not job and not j.finished]
                    self._queue[:0] = others
                    self._leading = False
                    self._cond.notify_all()
                raise
            with self._cond:
                self._leading = False
                self._cond.notify_all()
        if job.error is not None:
            raise job.error
        return job.result  # type: ignore[return-value]

    def _linger(self) -> None:
        """As the new leader (holding the lock): wait briefly for the writers of the last
        batch to queue again, so that they share this commit instead of the next."""
        want = min(self._expect, self._max_batch)
        if len(self._queue) >= want:
            return
        deadline = time.monotonic() + LINGER_S
        self._want = want
        self._lingering = True
        try:
            while len(self._queue) < want:
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                self._arrived.wait(left)
        finally:
            self._lingering = False

    def _execute(self, batch: list[_Job[object]]) -> None:
        pending = batch
        while pending:
            failed: _Job[object] | None = None
            results: list[object] = []
            try:
                with self._meta.begin_write() as txn:
                    for j in pending:
                        try:
                            # A copy per run: a re-run sees nothing a rolled-back run set.
                            results.append(j.context.copy().run(j.fn, txn))
                        except Exception as exc:
                            failed, j.error = j, exc
                            raise _Failed from exc
            except _Failed:
                assert failed is not None
                failed.finished = True
                pending = [j for j in pending if j is not failed]
                continue
            except Exception as exc:  # the commit itself failed: nobody's write holds
                for j in pending:
                    j.error, j.finished = exc, True
                return
            for j, r in zip(pending, results, strict=True):
                j.result, j.finished = r, True
            return
