"""abort_incomplete_after without reading every upload on each create (review rev11gen L4).

Counted, never timed: the upload records the expiry scans read (by wrapping the
scan ns.multipart calls). The aborts stay exact: an upload goes as soon as it is
older than the setting, as tests/test_multipart.py checks too.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import BUCKET, open_store

from objstore import keyspace
from objstore.meta.base import ReadTxn
from objstore.ns import multipart

S = 10**9
AFTER = 3600


def _count_upload_reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    reads = [0]
    real = multipart.scan_prefix

    def counting(
        txn: ReadTxn, prefix: bytes, start: bytes | None = None
    ) -> Iterator[tuple[bytes, bytes]]:
        for item in real(txn, prefix, start):
            if prefix.startswith(keyspace.UPLOAD):
                reads[0] += 1
            yield item

    monkeypatch.setattr(multipart, "scan_prefix", counting)
    return reads


@pytest.mark.parametrize("where", ["memory", "lmdb"])
def test_creates_do_not_read_every_open_upload(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    """Each create used to read all the bucket's uploads to find stale ones: n creates
    read n^2/2 records. Now a scan is remembered until its oldest uploads go stale."""
    now = [10**18]
    with open_store(
        None if where == "memory" else tmp_path / "s",
        clock=lambda: now[0],
        abort_incomplete_after=AFTER,
    ) as s:
        c = s.root
        c.create_bucket(BUCKET)
        reads = _count_upload_reads(monkeypatch)
        n = 300
        old = []
        for i in range(n):
            old.append(c.create_multipart_upload(BUCKET, f"old{i:03d}"))
            now[0] += S
        assert reads[0] <= n  # was n * (n - 1) / 2
        assert len(c.list_multipart_uploads(BUCKET).uploads) == n
        # Each old upload goes stale exactly AFTER seconds after it began.
        now[0] += (AFTER - n) * S  # the first old one is now exactly AFTER old
        c.create_multipart_upload(BUCKET, "new0")
        assert len(c.list_multipart_uploads(BUCKET).uploads) == n + 1
        now[0] += S // 2  # the first one is now older than AFTER
        c.create_multipart_upload(BUCKET, "new1")
        listed = c.list_multipart_uploads(BUCKET).uploads
        assert [u.upload_id for u in listed if u.key.startswith("old")] == old[1:]
        # All the old ones go stale, one a second; each create aborts those due.
        before = reads[0]
        for i in range(n):
            now[0] += S
            c.create_multipart_upload(BUCKET, f"new{i + 2:03d}")
            listed = c.list_multipart_uploads(BUCKET).uploads
            assert [u.upload_id for u in listed if u.key.startswith("old")] == old[i + 2 :]
        # A scan per 256 expirations (upload_expiry.KEEP), not per create.
        assert reads[0] - before <= 4 * (2 * n + 2)


def test_a_clock_set_back_drops_the_memo(tmp_path: Path) -> None:
    """An upload created with an earlier time than a scan's floor still goes on time."""
    now = [10**18]
    with open_store(tmp_path / "s", clock=lambda: now[0], abort_incomplete_after=AFTER) as s:
        c = s.root
        c.create_bucket(BUCKET)
        c.create_multipart_upload(BUCKET, "a")  # scans: nothing before 10**18 is left
        now[0] -= 100 * S
        early = c.create_multipart_upload(BUCKET, "early")
        now[0] += (AFTER + 1) * S  # "early" is AFTER + 1 s old, "a" AFTER - 99 s
        listed = c.list_multipart_uploads(BUCKET).uploads
        assert [u.key for u in listed] == ["a"] and early not in [u.upload_id for u in listed]
