"""A cancelled asyncio call is finished when CancelledError arrives: abandoned or committed.

Regression (issue 6, section 0): cancelling ``put_object`` returned at once
while its worker thread went on, so its late commit overwrote a newer,
acknowledged write. Bodies and hooks here block on events the test controls,
so every interleaving is forced, not timed.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import objstore
import objstore.aio
from objstore import cancel, errors
from objstore.engine import AuditEvent

WAIT = 30.0


class _Gated:
    """A body: one piece, then it blocks until ``gate`` opens, then more pieces."""

    def __init__(self, first: bytes, rest: bytes) -> None:
        self.first, self.rest = first, rest
        self.started = threading.Event()
        self.gate = threading.Event()
        self.finished = threading.Event()

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield self.first
            self.started.set()
            assert self.gate.wait(WAIT)
            for i in range(0, len(self.rest), 1000):
                yield self.rest[i : i + 1000]
        finally:
            self.finished.set()


async def _wait(event: threading.Event) -> None:
    assert await asyncio.to_thread(event.wait, WAIT)


@pytest.mark.parametrize("versioning", [False, True])
@pytest.mark.parametrize("size", [100, 300 * 1024], ids=["inline", "chunked"])
def test_cancelled_upload_never_overwrites_a_later_write(
    tmp_path: Path, versioning: bool, size: int
) -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        workers = ThreadPoolExecutor(4)
        loop.set_default_executor(workers)
        async with objstore.aio.open(tmp_path, chunk_size=64 * 1024) as store:
            c = store.root
            await c.create_bucket("bkt")
            if versioning:
                await c.put_bucket_versioning("bkt", "Enabled")
            body = _Gated(b"o" * 10, b"old" * size)
            old = asyncio.create_task(c.put_object("bkt", "k", body))
            await _wait(body.started)
            old.cancel()
            # The old call must not finish while its body is blocked: cancelling it
            # only asks; it ends at its next checkpoint.
            await asyncio.sleep(0)
            assert not old.done()
            body.gate.set()
            with pytest.raises(asyncio.CancelledError):
                await old
            new = await c.put_object("bkt", "k", b"new")
            # Let every worker thread run to its end: a late commit would land now.
            workers.shutdown(wait=True)
            loop.set_default_executor(ThreadPoolExecutor(4))
            got = await c.get_object("bkt", "k")
            assert await got.read() == b"new"
            versions = await c.list_object_versions("bkt")
            assert [(v.etag, v.size) for v in versions.versions] == [(new.etag, 3)]

    asyncio.run(main())
    with objstore.open(tmp_path) as s:  # nothing pending is left to resurface
        assert s.root.get_object("bkt", "k").read() == b"new"


def test_cancellation_before_the_commit_point_keeps_nothing(tmp_path: Path) -> None:
    """The body is read whole, then the call is cancelled at the commit point."""
    reached = threading.Event()
    release = threading.Event()
    real = cancel.commit_point

    def slow_commit_point() -> None:
        reached.set()
        assert release.wait(WAIT)
        real()

    async def main() -> None:
        async with objstore.aio.open(tmp_path) as store:
            await store.root.create_bucket("bkt")
            task = asyncio.create_task(store.root.put_object("bkt", "k", b"x" * 5000))
            await _wait(reached)
            task.cancel()
            await asyncio.sleep(0)
            release.set()
            with pytest.raises(asyncio.CancelledError):
                await task
            with pytest.raises(errors.NoSuchKey):
                await store.root.head_object("bkt", "k")

    mp = pytest.MonkeyPatch()
    mp.setattr(cancel, "commit_point", slow_commit_point)
    try:
        asyncio.run(main())
    finally:
        mp.undo()


def test_cancellation_after_the_commit_keeps_the_committed_version(tmp_path: Path) -> None:
    """Documented: a call cancelled after its commit point completes, and its write stands."""
    committed = threading.Event()
    release = threading.Event()

    def audit(event: AuditEvent) -> None:
        # Runs after the operation returned (its commit is durable), before the call ends.
        if event.operation == "PutObject":
            committed.set()
            assert release.wait(WAIT)

    async def main() -> None:
        async with objstore.aio.open(tmp_path, audit=audit) as store:
            await store.root.create_bucket("bkt")
            task = asyncio.create_task(store.root.put_object("bkt", "k", b"committed"))
            await _wait(committed)
            task.cancel()
            await asyncio.sleep(0)
            release.set()
            with pytest.raises(asyncio.CancelledError, match="commit point"):
                await task
            got = await store.root.get_object("bkt", "k")
            assert await got.read() == b"committed"

    asyncio.run(main())


def test_sync_api_ignores_tokens_and_a_token_decides_once() -> None:
    token = cancel.CancelToken()
    token.commit()
    assert token.cancel() is False  # too late: the write stands
    token = cancel.CancelToken()
    assert token.cancel() is True
    with pytest.raises(errors.RequestCancelled):
        token.commit()
    cancel.checkpoint()  # no token in this thread: nothing happens
    cancel.commit_point()
    with cancel.scope(token), pytest.raises(errors.RequestCancelled):
        cancel.checkpoint()
