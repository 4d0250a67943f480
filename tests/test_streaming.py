"""Streaming: a 2 GiB object goes in from a generator and comes back out while the
process's peak RSS stays under 200 MiB.

The upload and read run in a child process so that the measurement covers
only them (not pytest, hypothesis or earlier tests in this process). The child
reports ``VmHWM`` (the peak RSS of its own address space) rather than
``ru_maxrss``: Linux folds the parent's RSS at fork/exec time into a child's
``ru_maxrss``, so after a long test session it would measure pytest.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

MiB = 1 << 20
GiB = 1 << 30
RSS_LIMIT = 200 * MiB

CHILD = textwrap.dedent(
    """
    import json, os, resource, sys, time
    import blake3
    import objstore

    def hwm_kib():
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    path, size = sys.argv[1], int(sys.argv[2])
    piece = 1 << 20
    base = os.urandom(piece)
    sent = blake3.blake3()

    def body():
        # Every piece differs (a counter in front), so nothing deduplicates away.
        for i in range(size // piece):
            data = i.to_bytes(8, "big") + base[8:]
            sent.update(data)
            yield data

    with objstore.open(path) as store:
        store.root.create_bucket("big")
        t0 = time.perf_counter()
        r = store.root.put_object("big", "obj", body())
        t1 = time.perf_counter()
        got = blake3.blake3()
        n = 0
        with store.root.get_object("big", "obj") as b:
            for chunk in b:
                got.update(chunk)
                n += len(chunk)
        t2 = time.perf_counter()
    print(json.dumps({
        "size": r.size,
        "read": n,
        "checksum": r.checksum,
        "sent": sent.hexdigest(),
        "received": got.hexdigest(),
        "hwm_kib": hwm_kib(),
        "maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "put_s": t1 - t0,
        "get_s": t2 - t1,
    }))
    """
)


def run_child(path: Path, size: int) -> dict[str, object]:
    try:
        proc = subprocess.run(
            [sys.executable, "-c", CHILD, str(path), str(size)],
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
    finally:
        # 2 GiB of chunks must not linger in pytest's retained temp directories.
        shutil.rmtree(path, ignore_errors=True)
    assert proc.returncode == 0, proc.stderr
    result: dict[str, object] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def check(result: dict[str, object], size: int) -> None:
    assert result["size"] == size
    assert result["read"] == size
    assert result["checksum"] == result["sent"] == result["received"]
    rss = int(str(result["hwm_kib"])) * 1024
    assert rss < RSS_LIMIT, f"peak RSS {rss / MiB:.1f} MiB"


def test_streaming_small_child_run(tmp_path: Path) -> None:
    """The same child at 64 MiB: keeps the harness honest in quick runs."""
    check(run_child(tmp_path / "s", 64 * MiB), 64 * MiB)


@pytest.mark.slow
def test_streaming_2gib_under_200mib_rss(tmp_path: Path) -> None:
    result = run_child(tmp_path / "s", 2 * GiB)
    check(result, 2 * GiB)
    print(
        f"2 GiB: put {result['put_s']:.1f} s, get {result['get_s']:.1f} s, "
        f"peak RSS {int(str(result['hwm_kib'])) / 1024:.0f} MiB"
    )
