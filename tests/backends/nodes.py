"""Nodes for the several-nodes tests: processes with state of their own over one store.

A :class:`Node` is a process started with multiprocessing's ``spawn`` (nothing inherited:
no open store, no cache, no lock of the test process) that opens the store from two URLs
and runs the operations it is sent, one at a time. :class:`ServeNode` is ``objstore serve
--metadata ... --chunks ...`` on a port of its own, for boto3. Errors come back as the
objstore error of the same code, so tests assert on them as on local calls.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import os
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

import objstore
from objstore import errors
from objstore.store import Store

_ERRORS = {cls.code: cls for cls in errors.all_error_classes()}
START_TIMEOUT = 60.0


@dataclass(frozen=True)
class Backends:
    """One store: its two backend URLs and its sealing key (what every node needs)."""

    name: str
    metadata: str
    chunks: str
    key: bytes

    def env(self) -> dict[str, str]:
        import base64

        return {**os.environ, "OBJSTORE_SECRET_KEY": base64.b64encode(self.key).decode()}

    def open(self, **options: Any) -> Store:
        return objstore.open(
            metadata=self.metadata, chunks=self.chunks, secret_key=self.key, **options
        )


class NodeCrashed(AssertionError):
    """The node raised something that is not an objstore error (a bug)."""


# ---------------------------------------------------------------- in the node process


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return value


def op_put(store: Store, bucket: str, key: str, body: bytes, **kw: Any) -> tuple[str, str | None]:
    r = store.root.put_object(bucket, key, body, **kw)
    return r.etag, r.version_id


def op_get(store: Store, bucket: str, key: str, **kw: Any) -> bytes:
    return store.root.get_object(bucket, key, **kw).read()


def op_list(store: Store, bucket: str, prefix: str = "") -> list[str]:
    keys: list[str] = []
    token = None
    while True:
        page = store.root.list_objects(bucket, prefix=prefix, continuation_token=token)
        keys += [o.key for o in page.contents]
        if not page.is_truncated:
            return keys
        token = page.next_continuation_token


def op_race(
    store: Store, bucket: str, keys: list[str], body: bytes, start_at: float, **kw: Any
) -> list[str]:
    """PUT every key with the same preconditions, the first at wall-clock ``start_at``
    (the other racers start then too); "ok" or the error code for each."""
    time.sleep(max(0.0, start_at - time.time()))
    out = []
    for key in keys:
        try:
            store.root.put_object(bucket, key, body, **kw)
            out.append("ok")
        except (errors.PreconditionFailed, errors.ConditionalRequestConflict) as exc:
            out.append(exc.code)
    return out


def content(i: int, size: int) -> bytes:
    """Deterministic bodies: equal ``i`` gives equal bytes on every node (dedup)."""
    seed = hashlib.sha256(i.to_bytes(8, "big")).digest()
    return (seed * (size // 32 + 1))[:size]


def op_churn(
    store: Store, bucket: str, prefix: str, until: float, shared: int, size: int
) -> dict[str, Any]:
    """Until wall-clock ``until``: write, overwrite and delete objects whose bodies are
    drawn from ``shared`` distinct contents (other writers use the same ones: their
    chunks are shared). Returns the key -> sha256 of what the last acknowledged write
    left (deleted keys absent), and how many writes were refused as retryable."""
    acked: dict[str, str] = {}
    retried = rounds = 0
    while time.time() < until:
        key = f"{prefix}{rounds % 7}"
        # The same sequence of contents on every writer: the same chunks, at once.
        body = content(rounds * 3 % shared, size)
        rounds += 1
        if rounds % 5 == 0:
            store.root.delete_object(bucket, key)
            acked.pop(key, None)
            continue
        try:
            store.root.put_object(bucket, key, body)
        except errors.ServiceUnavailable:
            retried += 1  # retryable by contract (gc took a chunk under it): nothing stored
            continue
        acked[key] = hashlib.sha256(body).hexdigest()
    return {"acked": acked, "rounds": rounds, "retried": retried}


def op_gc_until(store: Store, deadline: float) -> dict[str, int]:
    totals = {"passes": 0, "chunks_deleted": 0, "bodies_dropped": 0}
    while time.time() < deadline:
        r = store.gc()
        totals["passes"] += 1
        totals["chunks_deleted"] += r.chunks_deleted
        totals["bodies_dropped"] += r.bodies_dropped
    return totals


def op_fsck(store: Store) -> dict[str, Any]:
    r = store.fsck()
    return {**dataclasses.asdict(r), "healthy": r.healthy}


def op_call(store: Store, path: str, *args: Any, **kwargs: Any) -> Any:
    """``store.<path>(*args, **kwargs)`` (``root.iam.create_user`` ...), made plain."""
    target: Any = store
    for part in path.split("."):
        target = getattr(target, part)
    return _plain(target(*args, **kwargs))


OPS: dict[str, Callable[..., Any]] = {
    name.removeprefix("op_"): fn for name, fn in globals().items() if name.startswith("op_")
}


def node_main(conn: Connection, backends: Backends, options: dict[str, Any]) -> None:
    try:
        store = backends.open(**options)
    except Exception as exc:
        conn.send(("crash", repr(exc), traceback.format_exc()))
        return
    conn.send(("ok", os.getpid()))
    try:
        while True:
            msg = conn.recv()
            if msg is None:
                return
            op, args, kwargs = msg
            try:
                conn.send(("ok", OPS[op](store, *args, **kwargs)))
            except errors.ObjstoreError as exc:
                conn.send(("err", exc.code, exc.message))
            except Exception as exc:
                conn.send(("crash", repr(exc), traceback.format_exc()))
    finally:
        store.close()


# ---------------------------------------------------------------- in the test process


class Node:
    """A process with a store handle of its own over ``backends``."""

    def __init__(self, backends: Backends, **options: Any) -> None:
        import multiprocessing

        ctx = multiprocessing.get_context("spawn")
        self._conn, child = ctx.Pipe()
        options.setdefault("gc_interval", None)
        self.proc = ctx.Process(target=node_main, args=(child, backends, options), daemon=True)
        self.proc.start()
        child.close()
        self.pid = 0

    def ready(self) -> Node:
        """Wait until the node has opened the store (start several, then wait: they
        start side by side)."""
        self.pid = self._result(START_TIMEOUT)
        return self

    def send(self, op: str, *args: Any, **kwargs: Any) -> None:
        """Start ``op`` (collect it with :meth:`result`): several nodes then work at once."""
        self._conn.send((op, args, kwargs))

    def result(self, timeout: float = 120.0) -> Any:
        return self._result(timeout)

    def _result(self, timeout: float) -> Any:
        deadline = time.monotonic() + timeout
        while not self._conn.poll(0.2):
            if not self.proc.is_alive():
                raise NodeCrashed(f"node {self.proc.pid} died (exit code {self.proc.exitcode})")
            if time.monotonic() > deadline:
                raise AssertionError(f"node {self.proc.pid} did not answer in {timeout} s")
        answer = self._conn.recv()
        if answer[0] == "ok":
            return answer[1]
        if answer[0] == "err":
            raise _ERRORS.get(answer[1], errors.ObjstoreError)(answer[2])
        raise NodeCrashed(f"node {self.proc.pid}: {answer[1]}\n{answer[2]}")

    def __call__(self, op: str, *args: Any, **kwargs: Any) -> Any:
        self.send(op, *args, **kwargs)
        return self.result()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._conn.send(None)
        self.proc.join(30)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join()
        self._conn.close()


class ServeNode:
    """``objstore serve --metadata M --chunks C --port 0`` (the key in its environment)."""

    def __init__(self, backends: Backends, *extra: str) -> None:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "objstore",
                "serve",
                "--metadata",
                backends.metadata,
                "--chunks",
                backends.chunks,
                "--port",
                "0",
                *extra,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**backends.env(), "PYTHONUNBUFFERED": "1"},
        )
        self.output: list[str] = []
        self.url = ""

    def ready(self) -> ServeNode:
        """Wait until it serves (start several, then wait: they start side by side)."""
        from tests.gateway.test_server import _wait_for

        assert self.proc.stdout is not None
        line = _wait_for(self.proc.stdout, "objstore: serving ", self.output)
        self.url = line.split("serving ", 1)[1].strip()
        # Keep reading: a full pipe would block the server's next log line.
        self._drain = threading.Thread(target=self.output.extend, args=(self.proc.stdout,))
        self._drain.daemon = True
        self._drain.start()
        return self

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.url:
            self._drain.join(10)
