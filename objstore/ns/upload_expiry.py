"""Which of a bucket's multipart uploads may be stale, without reading them all.

``abort_incomplete_after`` aborts uploads initiated before a cutoff. Upload
records are keyed by object key, not by time, so finding the stale ones means
reading every upload of the bucket; done on every create and list, that made
them linear in open uploads (review rev11gen L4). A scan therefore leaves, per
bucket, its :data:`KEEP` oldest surviving uploads (raw key and initiation
time) and a *floor*: no other upload of the bucket was initiated before it (the
next oldest one's time, or the scan's start for the uploads created later).
While the cutoff has not passed the floor, every stale upload is a remembered
one and nothing is read; a scan then serves at least ``KEEP`` expirations or
the time until the floor goes stale.

Uploads carry their creator's clock: one created while a scan runs, or by a
process whose clock is behind, may be initiated just before the floor and is
then aborted late by as much. A create through this handle with an earlier time
(a clock set back) drops the bucket's memo.
"""

from __future__ import annotations

import heapq
import threading
from collections.abc import Iterable
from dataclasses import dataclass

KEEP = 256  # remembered uploads per bucket: each scan serves this many expirations
MAX_BUCKETS = 4096  # memos kept before all are dropped (each is re-made by one scan)


@dataclass(frozen=True, slots=True)
class _Known:
    floor: int  # no upload missing from ``oldest`` was initiated before this (ns)
    oldest: tuple[tuple[int, bytes], ...]  # (initiated ns, upload's raw key), oldest first


class ExpiryMemo:
    """Per bucket, what the last scan of its uploads tells about the stale ones."""

    def __init__(self) -> None:
        self._known: dict[str, _Known] = {}
        self._lock = threading.Lock()  # handles are shared by threads

    def stale(self, bucket: str, cutoff: int) -> list[bytes] | None:
        """The raw keys of the uploads initiated before ``cutoff`` (some may be gone
        since), or None when only a scan can tell. Raises nothing."""
        with self._lock:
            known = self._known.get(bucket)
        if known is None or cutoff > known.floor:
            return None
        return [ukey for t, ukey in known.oldest if t < cutoff]

    def expired(self, bucket: str, cutoff: int) -> None:
        """Forget the remembered uploads initiated before ``cutoff`` (just aborted)."""
        with self._lock:
            known = self._known.get(bucket)
            if known is not None:
                oldest = tuple(item for item in known.oldest if item[0] >= cutoff)
                self._known[bucket] = _Known(known.floor, oldest)

    def scanned(
        self,
        bucket: str,
        started: int,
        cutoff: int,
        uploads: Iterable[tuple[int, bytes]],
        stale: list[bytes],
    ) -> None:
        """Remember a scan begun at clock ``started`` over every ``(initiated, raw key)``
        of the bucket, adding to ``stale`` those before ``cutoff`` (to abort). Holds
        ``KEEP + 1`` of them at a time, however many the bucket has."""

        def live() -> Iterable[tuple[int, bytes]]:
            for t, k in uploads:
                if t < cutoff:
                    stale.append(k)
                else:
                    yield t, k

        live_oldest = heapq.nsmallest(KEEP + 1, live())
        floor = started if len(live_oldest) <= KEEP else min(started, live_oldest[KEEP][0])
        with self._lock:
            if len(self._known) >= MAX_BUCKETS:
                self._known.clear()
            self._known[bucket] = _Known(floor, tuple(live_oldest[:KEEP]))

    def created(self, bucket: str, initiated: int) -> None:
        """An upload was created through this handle: a memo it would break goes."""
        with self._lock:
            known = self._known.get(bucket)
            if known is not None and initiated < known.floor:
                del self._known[bucket]
