"""Adversarial review of the storage core: each test pins down one bug that was found
(or one edge an S3 user relies on). Tests marked ``xfail(strict=True)`` are open bugs in
``objstore/blob/`` and turn into failures once fixed, so the mark must then go."""

from __future__ import annotations

import asyncio
import base64
import io
import os
import resource
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import BATCHED_CHUNK, BUCKET, INLINE, open_batched, open_store, read_all

import objstore
from objstore import aio, keyspace
from objstore.authz import AuthorizationRequest
from objstore.engine import AuditEvent
from objstore.errors import (
    DataCorruption,
    InvalidArgument,
    ObjstoreError,
    StoreClosed,
)
from objstore.meta.base import MetadataStore
from objstore.meta.lmdb_store import LmdbMetadataStore
from objstore.meta.memory import MemoryMetadataStore
from objstore.meta.scan import scan_prefix

# More manifest entries than one reader batch (64), so a read spans several
# short metadata transactions.
MANY_CHUNKS = 100 * BATCHED_CHUNK


def _data(size: int) -> bytes:
    return os.urandom(size)


@pytest.fixture(params=["memory", "lmdb"])
def batched(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[objstore.Store]:
    s = open_batched(None if request.param == "memory" else tmp_path / "b")
    s.root.create_bucket(BUCKET)
    try:
        yield s
    finally:
        s.close()


def _keys_with(meta: MetadataStore, prefix: bytes) -> list[bytes]:
    with meta.begin() as txn:
        return [k for k, _ in scan_prefix(txn, prefix)]


def _delete_raw(meta: MetadataStore, key: bytes) -> None:
    with meta.begin_write() as txn:
        assert txn.delete(key)


# ------------------------------------------------------------ opening and closing


def test_two_stores_on_one_path_in_one_process_share_it(tmp_path: Path) -> None:
    """LMDB refuses a second environment on the same files in one process; a second
    ``objstore.open`` of the same store (even through a symlink) must still work."""
    path = tmp_path / "s"
    link = tmp_path / "link"
    a = open_store(path)
    os.symlink(path, link)
    try:
        a.root.create_bucket(BUCKET)
        a.root.put_object(BUCKET, "k", b"from a")
        b = open_store(link)
        try:
            assert read_all(b.root.get_object(BUCKET, "k")) == b"from a"
            b.root.put_object(BUCKET, "k2", b"from b")
            assert read_all(a.root.get_object(BUCKET, "k2")) == b"from b"
        finally:
            b.close()
        # Closing one store leaves the other one working.
        a.root.put_object(BUCKET, "k3", b"still a")
        assert [o.key for o in a.root.list_objects(BUCKET).contents] == ["k", "k2", "k3"]
    finally:
        a.close()
    with open_store(path) as c:
        assert read_all(c.root.get_object(BUCKET, "k3")) == b"still a"


def test_a_failed_open_leaves_the_store_openable(tmp_path: Path) -> None:
    path = tmp_path / "s"
    with pytest.raises(InvalidArgument) as failed:
        objstore.open(path, account_id="not-an-account")
    # The first attempt must not keep the files open, even while its traceback
    # (which references the half-built store) is still alive.
    with objstore.open(path) as s:
        s.root.create_bucket(BUCKET)
    assert failed.value.code == "InvalidArgument"


def test_opening_a_file_as_a_store_raises_an_objstore_error(tmp_path: Path) -> None:
    f = tmp_path / "plain-file"
    f.write_bytes(b"not a store")
    with pytest.raises(ObjstoreError):
        objstore.open(f)


@pytest.mark.parametrize("backend", ["memory", "lmdb"])
def test_a_closed_metadata_store_raises_store_closed(tmp_path: Path, backend: str) -> None:
    meta: MetadataStore = (
        MemoryMetadataStore() if backend == "memory" else LmdbMetadataStore(tmp_path / "m")
    )
    meta.close()
    meta.close()  # twice is harmless
    with pytest.raises(StoreClosed), meta.begin():
        pass
    with pytest.raises(StoreClosed), meta.begin_write():
        pass


def test_reading_a_body_after_close_raises_store_closed(batched: objstore.Store) -> None:
    data = _data(MANY_CHUNKS)
    batched.root.put_object(BUCKET, "k", data)
    body = batched.root.get_object(BUCKET, "k")
    assert body.read(10) == data[:10]
    batched.close()
    with pytest.raises(StoreClosed):
        body.read()


def test_closing_the_store_during_an_upload_raises_store_closed(
    batched: objstore.Store,
) -> None:
    def pieces() -> Iterator[bytes]:
        for i in range(40):
            if i == 10:
                batched.close()
            yield _data(BATCHED_CHUNK)

    with pytest.raises(StoreClosed):
        batched.root.put_object(BUCKET, "k", pieces())


# ------------------------------------------------------------ corruption vs. not found


def test_a_lost_data_record_is_corruption_not_a_missing_key(batched: objstore.Store) -> None:
    """The version still exists; its body record vanished: that is corruption."""
    batched.root.put_object(BUCKET, "k", _data(3 * BATCHED_CHUNK))
    [data_key] = _keys_with(batched._meta, keyspace.DATA)
    _delete_raw(batched._meta, data_key)
    with pytest.raises(DataCorruption):
        batched.root.get_object(BUCKET, "k")
    with pytest.raises(DataCorruption):
        batched.root.copy_object(BUCKET, "k", BUCKET, "copy")
    assert batched.root.list_objects(BUCKET).key_count == 1  # the failed copy wrote nothing


def test_a_hole_in_a_manifest_is_corruption_not_a_short_body(batched: objstore.Store) -> None:
    data = _data(10 * BATCHED_CHUNK + 5)
    batched.root.put_object(BUCKET, "k", data)
    manifest = _keys_with(batched._meta, keyspace.MANIFEST)
    _delete_raw(batched._meta, manifest[4])
    with pytest.raises(DataCorruption):
        read_all(batched.root.get_object(BUCKET, "k"))
    with pytest.raises(DataCorruption):
        read_all(batched.root.get_object(BUCKET, "k", range=(3 * BATCHED_CHUNK, 6 * BATCHED_CHUNK)))
    # Ranges that avoid the hole still read.
    got = read_all(batched.root.get_object(BUCKET, "k", range=(0, 4 * BATCHED_CHUNK - 1)))
    assert got == data[: 4 * BATCHED_CHUNK]


def test_a_body_never_ends_short_silently_when_deleted_while_read(
    batched: objstore.Store,
) -> None:
    """A read that started must give every byte or raise; never a silent short body."""
    data = _data(MANY_CHUNKS)
    batched.root.put_object(BUCKET, "k", data)
    body = batched.root.get_object(BUCKET, "k")
    head = body.read(10)
    batched.root.delete_object(BUCKET, "k")  # unversioned: the body's data goes
    try:
        rest = body.read()
    except ObjstoreError:
        return
    assert head + rest == data


def test_a_body_opened_before_a_delete_reads_whole(batched: objstore.Store) -> None:
    data = _data(MANY_CHUNKS)
    batched.root.put_object(BUCKET, "k", data)
    with batched.root.get_object(BUCKET, "k") as body:
        head = body.read(10)
        batched.root.delete_object(BUCKET, "k")
        assert head + body.read() == data


# ------------------------------------------------------------ raw exceptions at callers


def test_a_continuation_token_holding_a_lone_surrogate_is_invalid(
    batched: objstore.Store,
) -> None:
    # A forged token: JSON escapes can spell a lone surrogate, which no key holds.
    token = base64.urlsafe_b64encode(b'{"k":"a\\ud800","p":false}').decode()
    with pytest.raises(InvalidArgument):
        batched.root.list_objects(BUCKET, continuation_token=token)


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.put_objects(BUCKET, None),
        lambda c: c.put_objects(BUCKET, 5),
        lambda c: c.delete_objects(BUCKET, None),
        lambda c: c.delete_objects(BUCKET, 5),
        lambda c: c.put_object(BUCKET, "k", b"", metadata="ab"),
        lambda c: c.put_object(BUCKET, "k", b"", metadata=5),
        lambda c: c.copy_object(
            BUCKET, "k", BUCKET, "k2", metadata_directive="REPLACE", metadata="ab"
        ),
    ],
    ids=[
        "put_objects-None",
        "put_objects-int",
        "delete_objects-None",
        "delete_objects-int",
        "metadata-str",
        "metadata-int",
        "copy-metadata-str",
    ],
)
def test_wrongly_typed_arguments_raise_invalid_argument(
    batched: objstore.Store, call: object
) -> None:
    batched.root.put_object(BUCKET, "k", b"x")
    with pytest.raises(InvalidArgument):
        call(batched.root)  # type: ignore[operator]


@pytest.mark.parametrize("ctype", ["text/\ud800", "text/plain\x7f"])
def test_a_content_type_that_cannot_be_a_header_is_invalid(
    batched: objstore.Store, ctype: str
) -> None:
    """Refused up front as InvalidArgument, not as a raw UnicodeEncodeError after the
    body was already stored."""
    root = batched.root
    root.put_object(BUCKET, "src", b"x")
    with pytest.raises(InvalidArgument):
        root.put_object(BUCKET, "k", _data(3 * BATCHED_CHUNK), content_type=ctype)
    with pytest.raises(InvalidArgument):
        root.copy_object(
            BUCKET, "src", BUCKET, "k", metadata_directive="REPLACE", content_type=ctype
        )
    assert [o.key for o in root.list_objects(BUCKET).contents] == ["src"]


def test_async_delete_objects_of_a_single_string_deletes_nothing() -> None:
    """The sync client refuses ``keys="abc"``; the async twin must not turn it into
    the keys "a", "b" and "c" and delete those."""

    async def main() -> None:
        async with aio.open(None) as store:
            await store.root.create_bucket(BUCKET)
            for k in ("a", "b", "c", "abc"):
                await store.root.put_object(BUCKET, k, b"x")
            with pytest.raises(InvalidArgument):
                await store.root.delete_objects(BUCKET, "abc")
            with pytest.raises(InvalidArgument):
                await store.root.put_objects(BUCKET, None)  # type: ignore[arg-type]
            listed = await store.root.list_objects(BUCKET)
            assert [o.key for o in listed.contents] == ["a", "abc", "b", "c"]

    asyncio.run(main())


def test_the_audit_trail_records_a_call_that_failed_with_a_raw_exception() -> None:
    events: list[AuditEvent] = []

    class Broken:
        def authorize(self, request: AuthorizationRequest) -> bool:
            raise RuntimeError("authorizer bug")

    with (
        objstore.open(None, authorizer=Broken(), audit=events.append) as s,
        pytest.raises(RuntimeError),
    ):
        s.root.list_buckets()
    assert [e.outcome for e in events] == ["InternalError"]


# ------------------------------------------------------------ S3 semantics kept


def test_keys_are_byte_exact_not_unicode_normalised(batched: objstore.Store) -> None:
    nfc, nfd = "caf\u00e9", "cafe\u0301"
    batched.root.put_object(BUCKET, nfc, b"nfc")
    batched.root.put_object(BUCKET, nfd, b"nfd")
    assert read_all(batched.root.get_object(BUCKET, nfc)) == b"nfc"
    assert read_all(batched.root.get_object(BUCKET, nfd)) == b"nfd"
    assert [o.key for o in batched.root.list_objects(BUCKET).contents] == sorted(
        [nfc, nfd], key=lambda k: k.encode()
    )


def test_concurrent_writers_of_one_key_lose_no_version(batched: objstore.Store) -> None:
    root = batched.root
    root.put_bucket_versioning(BUCKET, "Enabled")
    sizes = [10, INLINE + 1, 3 * BATCHED_CHUNK + 1]
    results: list[str] = []
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(8):
                r = root.put_object(BUCKET, "k", _data(sizes[(n + i) % 3]))
                assert r.version_id is not None
                results.append(r.version_id)
                if i % 4 == 3:
                    d = root.delete_object(BUCKET, "k")
                    assert d.version_id is not None
                    results.append(d.version_id)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    page = root.list_object_versions(BUCKET)
    listed = [v.version_id for v in page.versions] + [m.version_id for m in page.delete_markers]
    assert sorted(listed) == sorted(results)
    latest = [v for v in page.versions if v.is_latest] + [
        m for m in page.delete_markers if m.is_latest
    ]
    assert len(latest) == 1
    current = root.list_objects(BUCKET).contents
    if page.delete_markers and latest[0] in page.delete_markers:
        assert current == ()
    else:
        assert [(o.key, o.etag) for o in current] == [("k", latest[0].etag)]  # type: ignore[union-attr]


# ------------------------------------------------------------ bodies that arrive oddly


@pytest.mark.parametrize("as_piece", [True, False], ids=["piece", "body"])
def test_a_non_contiguous_memoryview_is_stored_or_refused(
    batched: objstore.Store, as_piece: bool
) -> None:
    raw = _data(3 * BATCHED_CHUNK)
    view = memoryview(raw)[::2]
    try:
        batched.root.put_object(BUCKET, "k", iter([view]) if as_piece else view)
    except ObjstoreError:
        return  # refusing it is fine
    assert read_all(batched.root.get_object(BUCKET, "k")) == raw[::2]


def test_a_reader_returning_too_much_is_an_objstore_error(batched: objstore.Store) -> None:
    class Greedy:
        def __init__(self) -> None:
            self.parts = [_data(5 * BATCHED_CHUNK)]

        def read(self, n: int) -> bytes:
            return self.parts.pop() if self.parts else b""

    try:
        batched.root.put_object(BUCKET, "k", Greedy())
    except ObjstoreError:
        return


def test_a_non_blocking_stream_is_not_truncated(batched: objstore.Store) -> None:
    class NonBlocking(io.RawIOBase):
        def __init__(self) -> None:
            self.steps: list[bytes | None] = [b"abc", None, b"def"]

        def readable(self) -> bool:
            return True

        def readinto(self, b: bytearray | memoryview) -> int | None:  # type: ignore[override]
            if not self.steps:
                return 0
            step = self.steps.pop(0)
            if step is None:
                return None
            b[: len(step)] = step
            return len(step)

    try:
        batched.root.put_object(BUCKET, "k", NonBlocking())
    except ObjstoreError:
        return  # refusing the stream is fine too
    assert read_all(batched.root.get_object(BUCKET, "k")) == b"abcdef"


def test_put_objects_larger_than_the_fd_limit(tmp_path: Path) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    with open_store(tmp_path / "s") as s:
        s.root.create_bucket(BUCKET)
        items = [(f"k{i}", _data(INLINE + 1)) for i in range(300)]
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))
        try:
            results = s.root.put_objects(BUCKET, items)
        finally:
            resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
        assert len(results) == 300
