"""Closing a store in bounded time, and the gc passes that race the close.

``Store.close()`` must return even when a backend hangs (a PostgreSQL call that never
returns): a lease renewal stuck on it used to hold up the end of a gc delete, and the
close waiting for that delete, for good (break-it review 9f, L2). The releasing steps
therefore run on a thread of their own, in their usual order and each waiting as long as
it must, and :meth:`Closing.close` waits for them at most :data:`CLOSE_WAIT_S`. When they
are not done by then the close returns anyway and they finish on their own, or never: the
handle's lease is then removed late, or not at all and expires after its ttl (a process
that exits meanwhile leaves it behind), which is safe, since a lease only ever holds gc
back.

gc passes and fscks a caller runs (``Store.gc()``, ``Store.fsck()`` on another thread) are
counted: the releasing steps first stop them (a gc pass at its next batch, fsck at its next
chunk) and wait for them to end, so none is inside the metadata or the chunk store when
those are closed. One the close stopped, or one that failed once the close had begun,
raises :class:`~objstore.errors.StoreClosed`, never the InternalError a closed LMDB
environment gives (break-it review of issue 9).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from objstore.blob.gc import GcResult
from objstore.errors import ObjstoreError, StoreClosed

#: At most this long (seconds) :meth:`Closing.close` waits for the store's release.
CLOSE_WAIT_S = 30.0

T = TypeVar("T")


class Closing:
    """One store handle's close: its gc passes and its releasing steps."""

    def __init__(self) -> None:
        #: Set once the close has begun: running passes stop at their next batch.
        self.stop = threading.Event()
        self._passes = 0
        self._quiet = threading.Condition()
        #: The thread running the releasing steps (None before :meth:`close`).
        self.thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def gc_pass(self, run: Callable[[threading.Event], GcResult]) -> GcResult:
        """Run one gc pass, ``run(stop)``, counted so that the close waits for it.

        Raises StoreClosed when the close has begun, before or during the pass."""
        result = self.counted(run, "gc pass")
        if self.stop.is_set() and not result.complete:
            raise StoreClosed("the store was closed during the gc pass")
        return result

    def counted(self, run: Callable[[threading.Event], T], what: str) -> T:
        """Run ``run(stop)`` (a gc pass, fsck), counted so that the close waits for it; it
        should end soon once ``stop`` is set. Raises StoreClosed when the close has begun
        before, or for any error once it has begun (it is what the close made it meet)."""
        with self._quiet:
            if self.stop.is_set():
                raise StoreClosed("the store is closed")
            self._passes += 1
        try:
            return run(self.stop)
        except StoreClosed:
            raise
        except ObjstoreError as exc:
            if self.stop.is_set():  # the close began: this is what it met, not damage
                raise StoreClosed(f"the store was closed during the {what}") from exc
            raise
        finally:
            with self._quiet:
                self._passes -= 1
                self._quiet.notify_all()

    def close(self, release: Callable[[], None]) -> None:
        """Stop the passes and run ``release`` once they have ended, waiting for it at most
        :data:`CLOSE_WAIT_S` seconds. Raises what ``release`` raised if it ended by then."""
        self.stop.set()
        self.thread = threading.Thread(
            target=self._release, args=(release,), name="objstore-close", daemon=True
        )
        self.thread.start()
        self.thread.join(CLOSE_WAIT_S)
        if not self.thread.is_alive() and self._error is not None:
            raise self._error

    def _release(self, release: Callable[[], None]) -> None:
        with self._quiet:
            while self._passes:
                self._quiet.wait()
        try:
            release()
        except BaseException as exc:  # handed to close() if it is still waiting
            self._error = exc
