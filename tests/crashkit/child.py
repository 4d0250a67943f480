"""The victim of the crash tests: runs random operations and logs what was acknowledged.

Usage: ``python child.py STORE MODEL LOG SEED STAGE N``. It loads the model (the
state the parent verified after the previous crash), then runs random operations
against the store. Before each operation it appends an *intent* line to LOG and
after it returns an *ack* line; both are plain ``os.write`` calls, which survive a
SIGKILL (the data is in the kernel once the call returns).

``STAGE``/``N``: the child kills itself with SIGKILL at the N-th crossing of one
pipeline stage (``chunk_write``, ``chunk_written``, ``chunk_sync``, ``meta_begin``,
``meta_committed``, ``chunk_delete``, ...), so kill points are spread over every
stage, not only "somewhere mid-upload". ``STAGE`` ``none`` runs until the parent
kills it at a random moment.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import blake3

import objstore
from objstore.blob.files import FileChunkStore
from objstore.blob.store import BlobSettings
from objstore.meta.lmdb_store import LmdbMetadataStore

PLAIN, VER, TOGGLE = "crash-plain", "crash-ver", "crash-toggle"
SIZES = (0, 100, 5000, 300_000, 9 << 20, 17 << 20)


def body(spec: list[Any]) -> bytes:
    """The bytes an op wrote: ``[seed, size]`` -> BLAKE3 XOF output (compiled, not a loop).

    A multipart object's spec is ``["mp", [part spec, ...]]``: its parts, joined.
    """
    if spec[0] == "mp":
        return b"".join(body(p) for p in spec[1])
    seed, size = spec
    return blake3.blake3(seed.encode()).digest(length=size) if size else b""


def _install_kill(stage: str, n: int) -> None:
    count = [0]

    def hit(name: str) -> None:
        if name == stage:
            count[0] += 1
            if count[0] == n:
                os.kill(os.getpid(), signal.SIGKILL)

    def around(cls: type, method: str, before: str, after: str) -> None:
        orig = getattr(cls, method)

        def wrapped(self: Any, *a: Any, **kw: Any) -> Any:
            hit(before)
            out = orig(self, *a, **kw)
            hit(after)
            return out

        setattr(cls, method, wrapped)

    around(FileChunkStore, "put", "chunk_write", "chunk_written")
    around(FileChunkStore, "sync", "chunk_sync", "chunk_synced")
    around(FileChunkStore, "delete_many", "chunk_delete", "chunk_deleted")
    orig_begin = LmdbMetadataStore.begin_write

    @contextmanager
    def begin_write(self: LmdbMetadataStore) -> Iterator[Any]:
        hit("meta_begin")
        with orig_begin(self) as txn:
            yield txn
            hit("meta_precommit")
        hit("meta_committed")

    LmdbMetadataStore.begin_write = begin_write  # type: ignore[method-assign,assignment]


class Log:
    def __init__(self, path: str) -> None:
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

    def line(self, obj: dict[str, Any]) -> None:
        os.write(self.fd, (json.dumps(obj) + "\n").encode())


def main() -> None:
    path, model_path, log_path, seed, stage, n = sys.argv[1:7]

    # Small batches so multi-batch uploads (pending records) happen at test sizes.
    def small_batches(**kw: Any) -> BlobSettings:
        kw.setdefault("batch_bytes", 8 << 20)
        return BlobSettings(**kw)

    import objstore.store as store_mod

    store_mod.BlobSettings = small_batches  # type: ignore[assignment,misc]
    if stage != "none":
        _install_kill(stage, int(n))
    rng = random.Random(seed)
    with open(model_path) as f:
        model: dict[str, Any] = json.load(f)
    plain: dict[str, list[Any]] = model["plain"]  # key -> spec
    ver: dict[str, list[Any]] = model["ver"]  # version id -> [key, spec]
    log = Log(log_path)
    store = objstore.open(path)
    s3 = store.root
    if model["fresh"]:
        for b in (PLAIN, VER, TOGGLE):
            s3.create_bucket(b)
        s3.put_bucket_versioning(VER, "Enabled")
        log.line({"setup": True})
    keys = [f"k{i}" for i in range(6)] + ["dir/ä", "dir/\x01x"]
    print("ready", flush=True)

    def spec() -> list[Any]:
        return [f"{seed}-{rng.random()}", rng.choice(SIZES)]

    ops: list[tuple[int, Callable[[int], None]]] = []

    def put(i: int) -> None:
        k, sp = rng.choice(keys), spec()
        log.line({"i": i, "op": "put", "key": k, "spec": sp})
        s3.put_object(PLAIN, k, body(sp))
        plain[k] = sp
        log.line({"a": i})

    def put_ver(i: int) -> None:
        k, sp = rng.choice(keys), spec()
        log.line({"i": i, "op": "put_ver", "key": k, "spec": sp})
        r = s3.put_object(VER, k, body(sp))
        ver[str(r.version_id)] = [k, sp]
        log.line({"a": i, "vid": r.version_id})

    def delete_ver(i: int) -> None:
        if not ver:
            return
        vid = rng.choice(sorted(ver))
        log.line({"i": i, "op": "delete_ver", "vid": vid, "key": ver[vid][0]})
        s3.delete_object(VER, ver[vid][0], version_id=vid)
        del ver[vid]
        log.line({"a": i})

    def copy(i: int) -> None:
        present = sorted(plain)
        if not present:
            return
        src = rng.choice(present)
        dst = rng.choice([k for k in keys if k != src])
        log.line({"i": i, "op": "copy", "src": src, "key": dst, "spec": plain[src]})
        s3.copy_object(PLAIN, src, PLAIN, dst)
        plain[dst] = plain[src]
        log.line({"a": i})

    def delete(i: int) -> None:
        k = rng.choice(keys)
        log.line({"i": i, "op": "delete", "key": k})
        s3.delete_object(PLAIN, k)
        plain.pop(k, None)
        log.line({"a": i})

    def delete_many(i: int) -> None:
        ks = sorted(set(rng.sample(keys, 3)))
        log.line({"i": i, "op": "delete_many", "keys": ks})
        s3.delete_objects(PLAIN, ks)
        for k in ks:
            plain.pop(k, None)
        log.line({"a": i})

    def toggle(i: int) -> None:
        status = rng.choice(["Enabled", "Suspended"])
        log.line({"i": i, "op": "versioning", "status": status})
        s3.put_bucket_versioning(TOGGLE, status)
        log.line({"a": i})

    def multipart(i: int) -> None:
        k = rng.choice(keys)
        parts = [[f"{seed}-{rng.random()}", 5 << 20], spec()]
        sp = ["mp", parts]
        log.line({"i": i, "op": "multipart", "key": k, "spec": sp})
        uid = s3.create_multipart_upload(PLAIN, k)
        done = [s3.upload_part(PLAIN, k, uid, n + 1, body(p)) for n, p in enumerate(parts)]
        s3.complete_multipart_upload(PLAIN, k, uid, done)
        plain[k] = sp
        log.line({"a": i})

    def multipart_abort(i: int) -> None:
        k = rng.choice(keys)
        log.line({"i": i, "op": "multipart_abort", "key": k})
        uid = s3.create_multipart_upload(PLAIN, k)
        s3.upload_part(PLAIN, k, uid, 1, body([f"{seed}-{rng.random()}", 5 << 20]))
        s3.abort_multipart_upload(PLAIN, k, uid)
        log.line({"a": i})

    def gc(i: int) -> None:
        log.line({"i": i, "op": "gc"})
        store.gc()
        log.line({"a": i})

    ops = [(6, put), (4, put_ver), (2, delete_ver), (2, copy), (2, delete), (1, delete_many)]
    ops += [(1, toggle), (1, gc), (2, multipart), (1, multipart_abort)]
    weights = [w for w, _ in ops]
    for i in range(int(model["next"]), int(model["next"]) + 30):
        rng.choices([f for _, f in ops], weights)[0](i)
    store.close()
    log.line({"done": True})


if __name__ == "__main__":
    main()
