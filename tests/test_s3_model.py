"""A hypothesis state machine: objstore against a plain dict model of S3.

The model keeps, per key, the stack of versions newest first (object
versions and delete markers, with their version ids) and the bucket's
versioning state, and applies the rules of the reference's versioning table.
Every read, listing page and version listing is checked against it.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import strategies as sst
from conftest import BUCKET, CHUNK, open_store
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

import objstore
from objstore.errors import InvalidRequest, MethodNotAllowed, NoSuchKey

KEYS = [
    "a",
    "a/b",
    "a/c/d",
    "b",
    "é",
    "\U0001f600",
    "\x00",
    sst.LONG_HEAD + "x",
    sst.LONG_HEAD + "y/z",
    sst.LONG_HEAD,
]
keys = st.sampled_from(KEYS)
bodies = st.one_of(
    sst.small_bodies,
    st.integers(1, 3).map(lambda n: hashlib.sha256(bytes([n])).digest() * (CHUNK * n // 32 + 3)),
)
UNUSED_VERSION_ID = "0" * 32  # well formed; sequence 0 is never issued


@dataclass(frozen=True)
class Version:
    vid: str
    marker: bool
    data: bytes = b""


class S3Model(RuleBasedStateMachine):
    on_disk = False  # True: LMDB and chunk files in a temporary directory

    def __init__(self) -> None:
        super().__init__()
        self.tmp: str | None = None
        if self.on_disk:
            self.tmp = tempfile.mkdtemp(prefix="objstore-model-")
        self.store = open_store(None if self.tmp is None else Path(self.tmp) / "s")
        self.root = self.store.root
        self.root.create_bucket(BUCKET)
        self.state: str | None = None
        self.hist: dict[str, list[Version]] = {}
        self.issued: set[str] = set()

    def teardown(self) -> None:
        self.store.close()
        if self.tmp is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)

    # ------------------------------------------------------------ helpers

    def _stack(self, key: str) -> list[Version]:
        return self.hist.setdefault(key, [])

    def _drop_null(self, key: str) -> None:
        self.hist[key] = [v for v in self._stack(key) if v.vid != "null"]

    def _new_vid(self, vid: str | None) -> str:
        assert vid is not None and vid != "null"
        assert vid not in self.issued, "version ids are never reused"
        self.issued.add(vid)
        return vid

    def _public(self, vid: str) -> str | None:
        # A bucket that never had versioning reports no version ids.
        return None if self.state is None else vid

    def _record_write(self, key: str, data: bytes, returned: str | None) -> None:
        if self.state == "Enabled":
            vid = self._new_vid(returned)
        else:
            assert returned == self._public("null")
            self._drop_null(key)
            vid = "null"
        self._stack(key).insert(0, Version(vid, False, data))

    def _apply_delete(self, key: str, r: objstore.DeleteResult) -> None:
        if self.state is None:
            assert (r.version_id, r.delete_marker) == (None, False)
            self._drop_null(key)
        elif self.state == "Enabled":
            assert r.delete_marker
            self._stack(key).insert(0, Version(self._new_vid(r.version_id), True))
        else:
            assert (r.version_id, r.delete_marker) == ("null", True)
            self._drop_null(key)
            self._stack(key).insert(0, Version("null", True))

    def _current(self, key: str) -> Version | None:
        stack = self.hist.get(key) or []
        return stack[0] if stack else None

    # -------------------------------------------------------------- writes

    @rule(key=keys, data=bodies)
    def put(self, key: str, data: bytes) -> None:
        r = self.root.put_object(BUCKET, key, data)
        assert r.size == len(data)
        assert r.etag == f'"{hashlib.md5(data).hexdigest()}"'
        self._record_write(key, data, r.version_id)

    @rule(src=keys, dst=keys)
    def copy(self, src: str, dst: str) -> None:
        cur = self._current(src)
        if src == dst:
            # Unchanged self-copy is refused whatever the state.
            try:
                self.root.copy_object(BUCKET, src, BUCKET, dst)
            except (InvalidRequest, NoSuchKey):
                return
            raise AssertionError("a self-copy without changes must fail")
        if cur is None or cur.marker:
            try:
                self.root.copy_object(BUCKET, src, BUCKET, dst)
            except NoSuchKey:
                return
            raise AssertionError("copying a deleted key must fail")
        r = self.root.copy_object(BUCKET, src, BUCKET, dst)
        assert r.size == len(cur.data)
        self._record_write(dst, cur.data, r.version_id)

    @rule(key=keys)
    def delete(self, key: str) -> None:
        self._apply_delete(key, self.root.delete_object(BUCKET, key))

    @rule(batch=st.lists(keys, min_size=1, max_size=4, unique=True))
    def delete_many(self, batch: list[str]) -> None:
        out = self.root.delete_objects(BUCKET, batch)
        assert [r.key for r in out] == batch
        for key, r in zip(batch, out, strict=True):
            assert isinstance(r, objstore.DeletedObject)
            vid = r.delete_marker_version_id if r.delete_marker else None
            self._apply_delete(key, objstore.DeleteResult(vid, r.delete_marker))

    @rule(key=keys, index=st.integers(0, 50))
    def delete_version(self, key: str, index: int) -> None:
        stack = self.hist.get(key) or []
        if not stack:
            r = self.root.delete_object(BUCKET, key, version_id=UNUSED_VERSION_ID)
            assert not r.delete_marker
            return
        v = stack[index % len(stack)]
        r = self.root.delete_object(BUCKET, key, version_id=v.vid)
        assert r.delete_marker == v.marker
        stack.remove(v)

    @rule(status=st.sampled_from(["Enabled", "Suspended"]))
    def set_versioning(self, status: str) -> None:
        self.root.put_bucket_versioning(BUCKET, status)
        self.state = status

    # --------------------------------------------------------------- reads

    @rule(key=keys)
    def get(self, key: str) -> None:
        cur = self._current(key)
        try:
            with self.root.get_object(BUCKET, key) as b:
                got, vid = b.read(), b.version_id
        except NoSuchKey as exc:
            assert cur is None or cur.marker
            assert exc.delete_marker == (cur is not None)
            return
        assert cur is not None and not cur.marker
        assert got == cur.data
        assert vid == self._public(cur.vid)
        info = self.root.head_object(BUCKET, key)
        assert (info.size, info.version_id) == (len(cur.data), vid)

    @precondition(lambda self: any(self.hist.values()))
    @rule(data=st.data())
    def get_version(self, data: st.DataObject) -> None:
        key = data.draw(st.sampled_from(sorted(k for k, v in self.hist.items() if v)))
        v = data.draw(st.sampled_from(self.hist[key]))
        try:
            with self.root.get_object(BUCKET, key, version_id=v.vid) as b:
                got = b.read()
        except MethodNotAllowed:
            assert v.marker
            return
        assert not v.marker and got == v.data

    @rule(
        prefix=sst.prefixes,
        delimiter=sst.delimiters,
        page=sst.page_sizes,
        start_after=st.one_of(st.none(), keys),
    )
    def list_objects(
        self, prefix: str, delimiter: str | None, page: int, start_after: str | None
    ) -> None:
        live = {k: s[0] for k, s in self.hist.items() if s and not s[0].marker}
        want = sst.list_model(set(live), prefix, delimiter, start_after)
        got: list[tuple[str, str]] = []
        token: str | None = None
        while True:
            p = self.root.list_objects(
                BUCKET,
                prefix=prefix,
                delimiter=delimiter,
                max_keys=page,
                continuation_token=token,
                start_after=start_after,
            )
            assert p.key_count == len(p.contents) + len(p.common_prefixes) <= page
            for o in p.contents:
                assert o.size == len(live[o.key].data)
            items = [("key", o.key) for o in p.contents]
            items += [("prefix", c) for c in p.common_prefixes]
            got += sorted(items, key=lambda it: sst.utf8_order(it[1]))
            if not p.is_truncated:
                break
            token = p.next_continuation_token
            assert token and items
        assert got == want

    @rule(page=sst.page_sizes, prefix=sst.prefixes)
    def list_versions(self, page: int, prefix: str) -> None:
        want = [
            (k, v.vid, v.marker, i == 0)
            for k in sorted(self.hist, key=sst.utf8_order)
            if k.startswith(prefix)
            for i, v in enumerate(self.hist[k])
        ]
        pos = 0
        km: str | None = None
        vm: str | None = None
        while True:
            p = self.root.list_object_versions(
                BUCKET, prefix=prefix, key_marker=km, version_id_marker=vm, max_keys=page
            )
            rows = {(v.key, v.version_id, False, v.is_latest) for v in p.versions}
            rows |= {(m.key, m.version_id, True, m.is_latest) for m in p.delete_markers}
            # Each page is the next slice of the model's order (versions and
            # markers come back as two lists, so compare a page as a set).
            assert rows == set(want[pos : pos + len(rows)])
            assert len(rows) == len(p.versions) + len(p.delete_markers) <= page
            pos += len(rows)
            if not p.is_truncated:
                break
            km, vm = p.next_key_marker, p.next_version_id_marker
        assert pos == len(want)

    @invariant()
    def versioning_state(self) -> None:
        assert self.root.get_bucket_versioning(BUCKET) == self.state


S3Model.TestCase.settings = settings(max_examples=50, stateful_step_count=30, deadline=None)
TestS3Model = S3Model.TestCase


class S3ModelOnLmdb(S3Model):
    on_disk = True


S3ModelOnLmdb.TestCase.settings = settings(max_examples=10, stateful_step_count=30, deadline=None)
TestS3ModelOnLmdb = S3ModelOnLmdb.TestCase
