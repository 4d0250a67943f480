"""Hypothesis: multipart uploads against a small model of S3's rules.

The model keeps each upload's parts as plain bytes and each completed object
as bytes; every step (uploads in any order, replacements, aborts, completions
with good and bad part lists, part copies) is checked against it, and so are
the listings of uploads and parts.
"""

from __future__ import annotations

import hashlib
import itertools

from conftest import BUCKET, open_store
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

import objstore
from objstore.errors import (
    EntityTooSmall,
    InvalidPart,
    InvalidPartOrder,
    NoSuchUpload,
    ObjstoreError,
)

MIN = 1000
KEYS = ["a", "b", "c/d"]
datas = st.sampled_from([b"", b"s", b"x" * (MIN - 1), b"y" * MIN, bytes(range(256)) * 9])
numbers = st.integers(1, 5)


def etag_of(parts: list[bytes]) -> str:
    joined = b"".join(hashlib.md5(p).digest() for p in parts)
    return f'"{hashlib.md5(joined).hexdigest()}-{len(parts)}"'


def part_etag(data: bytes) -> str:
    return f'"{hashlib.md5(data).hexdigest()}"'


class MultipartModel(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.store = open_store(None, limits=objstore.Limits(min_part_size=MIN))
        self.c = self.store.root
        self.c.create_bucket(BUCKET)
        self.uploads: dict[str, tuple[str, dict[int, bytes]]] = {}
        self.finished: list[tuple[str, str]] = []  # (key, upload id) completed or aborted
        self.objects: dict[str, bytes] = {}

    def teardown(self) -> None:
        self.store.close()

    @rule(key=st.sampled_from(KEYS))
    def create(self, key: str) -> None:
        uid = self.c.create_multipart_upload(BUCKET, key)
        assert uid not in self.uploads
        self.uploads[uid] = (key, {})

    @precondition(lambda self: self.uploads)
    @rule(data=st.data(), number=numbers, body=datas)
    def upload_part(self, data: st.DataObject, number: int, body: bytes) -> None:
        uid = data.draw(st.sampled_from(sorted(self.uploads)))
        key, parts = self.uploads[uid]
        r = self.c.upload_part(BUCKET, key, uid, number, body)
        assert (r.part_number, r.etag, r.size) == (number, part_etag(body), len(body))
        parts[number] = body

    @precondition(lambda self: self.uploads and self.objects)
    @rule(data=st.data(), number=numbers)
    def copy_part(self, data: st.DataObject, number: int) -> None:
        uid = data.draw(st.sampled_from(sorted(self.uploads)))
        src = data.draw(st.sampled_from(sorted(self.objects)))
        key, parts = self.uploads[uid]
        whole = self.objects[src]
        rng = None
        if whole and data.draw(st.booleans()):
            first = data.draw(st.integers(0, len(whole) - 1))
            last = data.draw(st.integers(first, len(whole) - 1))
            rng = (first, last)
            whole = whole[first : last + 1]
        r = self.c.upload_part_copy(BUCKET, key, uid, number, BUCKET, src, src_range=rng)
        assert (r.etag, r.size) == (part_etag(whole), len(whole))
        parts[number] = whole

    @precondition(lambda self: self.uploads)
    @rule(data=st.data())
    def complete(self, data: st.DataObject) -> None:
        uid = data.draw(st.sampled_from(sorted(self.uploads)))
        key, parts = self.uploads[uid]
        chosen = data.draw(st.lists(numbers, min_size=1, max_size=4))
        wrong = data.draw(st.sampled_from([None, *chosen]))
        listed = [(n, '"bad"' if n == wrong else part_etag(parts.get(n, b"?"))) for n in chosen]
        expected: type[ObjstoreError] | None = None
        if any(b <= a for a, b in itertools.pairwise(chosen)):
            expected = InvalidPartOrder
        elif any(n not in parts or n == wrong for n in chosen):
            expected = InvalidPart
        elif any(len(parts[n]) < MIN for n in chosen[:-1]):
            expected = EntityTooSmall
        if expected is not None:
            try:
                self.c.complete_multipart_upload(BUCKET, key, uid, listed)
            except expected:
                return
            raise AssertionError(f"expected {expected.__name__}")
        out = self.c.complete_multipart_upload(BUCKET, key, uid, listed)
        joined = [parts[n] for n in chosen]
        assert out.etag == etag_of(joined)
        self.objects[key] = b"".join(joined)
        del self.uploads[uid]
        self.finished.append((key, uid))

    @precondition(lambda self: self.uploads)
    @rule(data=st.data())
    def abort(self, data: st.DataObject) -> None:
        uid = data.draw(st.sampled_from(sorted(self.uploads)))
        key, _ = self.uploads.pop(uid)
        self.c.abort_multipart_upload(BUCKET, key, uid)
        self.finished.append((key, uid))

    @precondition(lambda self: self.finished)
    @rule(data=st.data())
    def finished_uploads_are_gone(self, data: st.DataObject) -> None:
        key, uid = data.draw(st.sampled_from(self.finished))
        try:
            self.c.upload_part(BUCKET, key, uid, 1, b"late")
        except NoSuchUpload:
            return
        raise AssertionError("a finished upload took a part")

    @invariant()
    def listings_match(self) -> None:
        listed = self.c.list_multipart_uploads(BUCKET)
        want = sorted((k, uid) for uid, (k, _) in self.uploads.items())
        assert sorted((u.key, u.upload_id) for u in listed) == want
        assert [u.key for u in listed] == sorted(u.key for u in listed)
        for uid, (key, parts) in self.uploads.items():
            got = self.c.list_parts(BUCKET, key, uid)
            assert [(p.part_number, p.etag, p.size) for p in got] == [
                (n, part_etag(parts[n]), len(parts[n])) for n in sorted(parts)
            ]

    @invariant()
    def objects_match(self) -> None:
        for key, data in self.objects.items():
            with self.c.get_object(BUCKET, key) as body:
                assert body.read() == data
            if len(data) > 2:
                mid = len(data) // 2
                with self.c.get_object(BUCKET, key, range=(mid - 1, mid + 1)) as body:
                    assert body.read() == data[mid - 1 : mid + 2]


MultipartModel.TestCase.settings = settings(max_examples=40, stateful_step_count=25, deadline=None)
TestMultipartModel = MultipartModel.TestCase
