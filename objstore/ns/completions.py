"""Completed multipart uploads, remembered for a while (pure rules over a transaction).

Clients retry a CompleteMultipartUpload whose answer was lost, and S3 answers the retry
with the first completion's result. A completion therefore leaves a record (``O`` +
upload id: bucket, key, version made, data id, digest of the part list) for
:data:`COMPLETION_MEMORY_NS`; the namespace answers a repeat from it while the version
it made still exists unchanged.
"""

from __future__ import annotations

from objstore import keyspace
from objstore.meta.base import ReadTxn, WriteTxn
from objstore.ns import uploads
from objstore.ns.records import VersionRecord
from objstore.ns.uploads import CompletionRecord

#: How long a completed upload's result is remembered for a repeated completion.
COMPLETION_MEMORY_NS = 3600 * 10**9


def remember(
    txn: WriteTxn, uid: bytes, bucket: str, rec: VersionRecord, parts: bytes, now: int
) -> None:
    """Keep what a completion made, and forget the completions older than the memory.

    Upload ids begin with their initiation time and a completion follows its initiation,
    so the expired records are among the first ones: the scan stops at the first upload
    initiated within the memory period.
    """
    cutoff = now - COMPLETION_MEMORY_NS
    end = keyspace.COMPLETED + max(cutoff, 0).to_bytes(8, "big")
    for ckey, raw in list(txn.scan(keyspace.COMPLETED, end)):
        if CompletionRecord.decode(raw).done_ns < cutoff:
            txn.delete(ckey)
    done = CompletionRecord(bucket, rec.key, rec.version_id, rec.data_id or b"", parts, now)
    txn.put(keyspace.COMPLETED + uid, done.encode())


def find(
    txn: ReadTxn,
    bucket: str,
    key: str,
    upload_id: str,
    listed: list[tuple[int, str]],
    now: int,
) -> CompletionRecord | None:
    """The remembered completion of ``upload_id`` in ``bucket``/``key`` with the same
    parts, or None (never completed, other parts, or forgotten)."""
    uid = uploads.parse_upload_id(upload_id)
    raw = None if uid is None else txn.get(keyspace.COMPLETED + uid)
    if raw is None:
        return None
    done = CompletionRecord.decode(raw)
    if (
        done.bucket != bucket
        or done.key != key
        or done.parts != uploads.parts_digest(listed)
        or now - done.done_ns > COMPLETION_MEMORY_NS
    ):
        return None
    return done
