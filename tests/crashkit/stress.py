"""One process of the many-writers stress test: threads of mixed operations on shared keys.

Operations: PUT, multipart upload (parts sent out of order), GET, version
delete, delete marker, list.

Usage: ``python stress.py STORE LOG SEED THREADS SECONDS``. Every body starts
with a 24-byte header naming its own seed and size, so any reader can check
bytes it did not write. Acknowledged operations are logged as JSON lines.
"""

from __future__ import annotations

import json
import os
import random
import sys
import threading
import time
from typing import Any

import blake3

import objstore
from objstore.errors import NoSuchKey, ObjstoreError

BUCKET = "stress-ver"
KEYS = [f"shared/{i}" for i in range(12)] + ["z/ä", "z/\x7f"]
SIZES = (0, 1, 4096, 4097, 60_000, 5 << 20)


def make_body(seed: int, size: int) -> bytes:
    head = seed.to_bytes(16, "big") + size.to_bytes(8, "big")
    return head + blake3.blake3(head).digest(length=size)


def check_body(data: bytes) -> None:
    """Raise if ``data`` is not a whole body written by some writer."""
    head = data[:24]
    size = int.from_bytes(head[16:24], "big")
    if len(data) != 24 + size or data[24:] != blake3.blake3(head).digest(length=size):
        raise AssertionError("a reader saw bytes no writer wrote whole")


def main() -> None:
    path, log_path, seed, nthreads, seconds = sys.argv[1:6]
    store = objstore.open(path)
    s3 = store.root
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    lock = threading.Lock()
    failures: list[str] = []
    deadline = time.monotonic() + float(seconds)

    def log(obj: dict[str, Any]) -> None:
        with lock:
            os.write(fd, (json.dumps(obj) + "\n").encode())

    def worker(t: int) -> None:
        rng = random.Random(f"{seed}-{t}")
        mine: list[tuple[str, str]] = []  # (key, version id) this thread wrote
        n = 0
        while time.monotonic() < deadline:
            n += 1
            key = rng.choice(KEYS)
            r = rng.random()
            try:
                if r < 0.05:
                    bseed, size = rng.getrandbits(120), (5 << 20) + rng.choice(SIZES)
                    data = make_body(bseed, size)
                    uid = s3.create_multipart_upload(BUCKET, key)
                    cut = 5 << 20
                    # Parts in reverse order: S3 accepts any arrival order.
                    p2 = s3.upload_part(BUCKET, key, uid, 2, data[cut:])
                    p1 = s3.upload_part(BUCKET, key, uid, 1, data[:cut])
                    res = s3.complete_multipart_upload(BUCKET, key, uid, [p1, p2])
                    mine.append((key, str(res.version_id)))
                    log(
                        {
                            "op": "put",
                            "key": key,
                            "vid": res.version_id,
                            "seed": bseed,
                            "size": size,
                        }
                    )
                elif r < 0.4:
                    bseed = rng.getrandbits(120)
                    size = rng.choice(SIZES)
                    res = s3.put_object(BUCKET, key, make_body(bseed, size))
                    mine.append((key, str(res.version_id)))
                    log(
                        {
                            "op": "put",
                            "key": key,
                            "vid": res.version_id,
                            "seed": bseed,
                            "size": size,
                        }
                    )
                elif r < 0.65:
                    try:
                        with s3.get_object(BUCKET, key) as body:
                            check_body(body.read())
                    except NoSuchKey:
                        pass
                elif r < 0.75 and mine:
                    k, vid = mine.pop(rng.randrange(len(mine)))
                    s3.delete_object(BUCKET, k, version_id=vid)
                    log({"op": "delete_version", "key": k, "vid": vid})
                elif r < 0.82:
                    res = s3.delete_object(BUCKET, key)
                    log({"op": "marker", "key": key, "vid": res.version_id})
                else:
                    page = s3.list_objects(BUCKET, prefix=rng.choice(["", "shared/", "z/"]))
                    listed = [o.key for o in page.contents]
                    if listed != sorted(set(listed), key=lambda k: k.encode()):
                        raise AssertionError(f"listing out of order or repeated: {listed}")
            except ObjstoreError as exc:
                failures.append(f"{type(exc).__name__}: {exc}")
            except AssertionError as exc:
                failures.append(str(exc))

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(int(nthreads))]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    store.close()
    log({"done": True, "failures": failures})


if __name__ == "__main__":
    main()
