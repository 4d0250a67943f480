"""Cancellation of a running operation, decided once: abandoned or committed.

The asyncio API runs each operation in a worker thread, which cannot be
interrupted. When the awaiting task is cancelled, :mod:`objstore.aio` cancels
the operation's :class:`CancelToken`; the operation notices it at its next
checkpoint (each read of the body) or at its *commit point* (inside the write
transaction, right before the new version is written) and raises
RequestCancelled, so nothing of it is kept. An operation that passed its commit
point before the cancellation completes: its write stands. The token's lock
makes the two outcomes exclusive, and ``aio`` waits for the thread either way,
so by the time the caller sees ``CancelledError`` the operation is finished and
a later write can never be overwritten by an earlier call's late commit.

The token travels in a context variable, set only in the thread that runs the
operation; code that runs without one (the sync API) never sees a cancellation.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from objstore.errors import RequestCancelled

_RUNNING, _CANCELLED, _COMMITTING = range(3)


class CancelToken:
    """Shared by the caller (who may cancel) and the operation (who may commit)."""

    __slots__ = ("_lock", "_state")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state = _RUNNING

    def cancel(self) -> bool:
        """Ask the operation to stop; True when it will keep nothing, False when
        it already passed its commit point (its write stands)."""
        with self._lock:
            if self._state == _RUNNING:
                self._state = _CANCELLED
            return self._state == _CANCELLED

    @property
    def cancelled(self) -> bool:
        return self._state == _CANCELLED

    def commit(self) -> None:
        """Pass the commit point, or raise RequestCancelled if cancelled first."""
        with self._lock:
            if self._state == _CANCELLED:
                raise RequestCancelled("the call was cancelled before it committed")
            self._state = _COMMITTING


_current: ContextVar[CancelToken | None] = ContextVar("objstore_cancel", default=None)


@contextmanager
def scope(token: CancelToken) -> Iterator[None]:
    """Run the block (an operation) under ``token``."""
    reset = _current.set(token)
    try:
        yield
    finally:
        _current.reset(reset)


def checkpoint() -> None:
    """Raise RequestCancelled when the running operation was cancelled (cheap)."""
    token = _current.get()
    if token is not None and token.cancelled:
        raise RequestCancelled("the call was cancelled")


def commit_point() -> None:
    """Call inside the write transaction, right before the operation's effect is written."""
    token = _current.get()
    if token is not None:
        token.commit()
