"""The lock that keeps garbage collection away from in-flight writers and readers.

Writers and readers take it shared for as long as they rely on chunks whose
references they have not committed (or that a concurrent delete could drop);
``gc`` takes it exclusive. The file lock works across processes (one open
file description per holder, so threads of one process are independent
holders too); the thread lock serves in-memory stores.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol

from objstore.errors import InternalError


class GcLock(Protocol):
    def shared(self) -> AbstractContextManager[None]: ...

    def exclusive(self, *, timeout: float | None = None) -> AbstractContextManager[None]: ...


class FileGcLock:
    """``flock`` on a lock file."""

    def __init__(self, path: str) -> None:
        self.path = path
        with open(path, "a"):
            pass

    @contextmanager
    def shared(self) -> Iterator[None]:
        fd = os.open(self.path, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH)
            yield
        finally:
            os.close(fd)  # closing the description releases the lock

    @contextmanager
    def exclusive(self, *, timeout: float | None = None) -> Iterator[None]:
        fd = os.open(self.path, os.O_RDONLY)
        try:
            deadline = None if timeout is None else time.monotonic() + timeout
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if deadline is not None and time.monotonic() >= deadline:
                        raise InternalError(
                            "store is busy: readers or writers still active"
                        ) from None
                    time.sleep(0.01)
            yield
        finally:
            os.close(fd)


class ThreadGcLock:
    """A readers-writer lock for one process."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writer = False

    @contextmanager
    def shared(self) -> Iterator[None]:
        with self._cond:
            while self._writer:
                self._cond.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                self._cond.notify_all()

    @contextmanager
    def exclusive(self, *, timeout: float | None = None) -> Iterator[None]:
        with self._cond:
            ok = self._cond.wait_for(lambda: not self._writer and self._readers == 0, timeout)
            if not ok:
                raise InternalError("store is busy: readers or writers still active")
            self._writer = True
        try:
            yield
        finally:
            with self._cond:
                self._writer = False
                self._cond.notify_all()
