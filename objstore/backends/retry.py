"""Retries with jittered exponential backoff inside a bounded total time.

A backend call that fails for a passing reason (a 5xx, a throttling answer, a
timeout, a refused or reset connection) is tried again after
``uniform(0, min(cap, base * 2**attempt))`` seconds ("full jitter": many
clients that failed together do not come back together), until ``deadline``
seconds have passed since the first try; then the caller gets a typed
:class:`~objstore.errors.ServiceUnavailable` (or :class:`~objstore.errors.SlowDown`
when the backend throttled on the way), never the client library's own exception.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from objstore.errors import ServiceUnavailable, SlowDown

T = TypeVar("T")


class Retryable(Exception):
    """A failure worth trying again; ``throttled`` when the backend asked to slow down."""

    def __init__(self, message: str, *, throttled: bool = False) -> None:
        super().__init__(message)
        self.throttled = throttled


@dataclass(frozen=True, slots=True)
class Backoff:
    """How long and how often to retry: ``deadline`` bounds the whole call."""

    deadline: float = 30.0
    base: float = 0.05
    cap: float = 2.0

    def delay(self, attempt: int) -> float:
        return random.uniform(0.0, min(self.cap, self.base * (2.0**attempt)))

    def run(self, what: str, call: Callable[[], T]) -> T:
        """``call()``, retried while it raises :class:`Retryable` and time remains.

        Raises SlowDown (the backend throttled at least once) or
        ServiceUnavailable (it failed otherwise until the end); any other
        exception of ``call`` passes through at once.
        """
        end = time.monotonic() + self.deadline
        attempt = 0
        throttled = False
        while True:
            try:
                return call()
            except Retryable as exc:
                throttled = throttled or exc.throttled
                pause = self.delay(attempt)
                attempt += 1
                if time.monotonic() + pause >= end:
                    # Throttled at any point: the backend is up but overloaded, say so.
                    cls = SlowDown if throttled else ServiceUnavailable
                    raise cls(
                        f"{what}: the chunk backend still failed after {attempt} tries in "
                        f"{self.deadline:g} s: {exc}",
                        attempts=attempt,
                    ) from exc
                time.sleep(pause)
