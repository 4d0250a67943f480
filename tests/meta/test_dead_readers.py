"""A process killed inside an LMDB read transaction does not pin the file for good.

Regression (review rev11gen, M3): the dead process's reader slot kept its snapshot, so
LMDB could reuse no page freed since, and ``data.mdb`` grew with every overwrite (92.5 MB
instead of 2.1 MB over 10,000 4 KB overwrites) in every process that stayed open: LMDB
clears such slots only when asked, and objstore asked only when opening. Writers now ask
at most every ``READER_CHECK_EVERY_S``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import objstore
from objstore.meta import lmdb_store

HOLDER = r"""
import sys, objstore
store = objstore.open(sys.argv[1], gc_interval=None)
with store._meta.begin() as txn:   # a read transaction, held until the process is killed
    txn.get(b"B")
    print("reading", flush=True)
    sys.stdin.read()
"""


def test_a_killed_readers_slot_is_cleared_by_the_next_writer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lmdb_store, "READER_CHECK_EVERY_S", 0.0, raising=False)
    with objstore.open(tmp_path / "s", gc_interval=None) as store:
        store.root.create_bucket("bkt")
        env = store._meta._env  # type: ignore[attr-defined]
        holder = subprocess.Popen(
            [sys.executable, "-c", HOLDER, str(tmp_path / "s")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert holder.stdout is not None and holder.stdout.readline() == "reading\n"
            assert f"{holder.pid} " in env.readers()
            holder.send_signal(signal.SIGKILL)
            holder.wait()
            store.root.put_object("bkt", "k", b"x")  # a writer asks LMDB to clear dead slots
            assert f"{holder.pid} " not in env.readers()
            # And overwrites now reuse pages instead of growing the file.
            data = tmp_path / "s" / "meta" / "data.mdb"
            before = os.path.getsize(data)
            for _ in range(30):
                store.root.put_objects("bkt", [(f"k{j}", os.urandom(4000)) for j in range(100)])
            assert os.path.getsize(data) - before < 4 * 2**20
        finally:
            if holder.poll() is None:
                holder.kill()
                holder.wait()
