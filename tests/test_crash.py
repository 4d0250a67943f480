"""A writer killed mid-upload loses nothing acknowledged and leaves nothing visible."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import objstore

_WRITER = r"""
import sys, blake3, objstore
store = objstore.open(sys.argv[1])
def body():
    for i in range(100_000):                       # far more than we let it write
        yield blake3.blake3(i.to_bytes(8, "big")).digest(length=4 << 20)
print("started", flush=True)
store.root.put_object("crash", "partial", body())
"""


def _chunk_files(root: Path) -> int:
    tmp = str(root / "chunks" / "tmp")
    return sum(len(files) for d, _, files in os.walk(root / "chunks") if d != tmp)


@pytest.mark.slow
def test_kill_during_upload_keeps_acknowledged_and_hides_partial(tmp_path: Path) -> None:
    """SIGKILL mid-PUT: earlier objects intact, partial object invisible, gc reclaims it."""
    path = tmp_path / "store"
    with objstore.open(path) as store:
        store.root.create_bucket("crash")
        kept = os.urandom(3 << 20)
        store.root.put_object("crash", "kept", kept)
        before = _chunk_files(path)
    proc = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(path)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "started"
    # Let it write well past one 256 MiB batch commit, then kill it without warning.
    deadline = time.monotonic() + 60
    while _chunk_files(path) < before + 90 and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert _chunk_files(path) > before
    with objstore.open(path) as store:
        keys = [o.key for o in store.root.list_objects("crash").contents]
        assert keys == ["kept"]
        assert store.root.get_object("crash", "kept").read() == kept
        result = store.gc()
        assert result.chunks_deleted > 0
        assert result.pending_uploads_released == 1  # its first 256 MiB batch was committed
        assert _chunk_files(path) == before
        assert store.root.get_object("crash", "kept").read() == kept
