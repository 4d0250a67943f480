"""Version records: ``decode(encode(r)) == r``, and the fast builders (``decode`` and
``stamped`` set the frozen dataclass's slots directly) give what ``__init__`` and
``dataclasses.replace`` give."""

from __future__ import annotations

from dataclasses import fields, replace

from hypothesis import given
from hypothesis import strategies as st

from objstore.ns.locking import NO_LOCK, Lock
from objstore.ns.records import VersionRecord

_text = st.text(max_size=12)
_dicts = st.dictionaries(_text, _text, max_size=3)
_locks = st.one_of(
    st.just(NO_LOCK),
    st.builds(
        Lock,
        mode=st.sampled_from(["GOVERNANCE", "COMPLIANCE"]),
        until_ms=st.integers(0, 2**42),
        legal_hold=st.one_of(st.none(), st.booleans()),
    ),
    st.builds(Lock, legal_hold=st.booleans()),
)

objects = st.builds(
    VersionRecord,
    key=st.text(min_size=1, max_size=20),
    version_id=st.text(alphabet="0123456789abcdef", max_size=32),
    seq=st.integers(0, 2**63 - 1),
    mtime_ns=st.integers(0, 2**62),
    is_marker=st.just(False),
    size=st.integers(0, 2**50),
    etag=_text,
    checksum=_text,
    content_type=st.one_of(st.none(), _text),
    metadata=_dicts,
    inline=st.one_of(st.none(), st.binary(max_size=64)),
    data_id=st.one_of(st.none(), st.binary(min_size=1, max_size=16)),
    parts=st.integers(0, 10_000),
    tags=_dicts,
    checksums=_dicts,
    checksum_type=st.one_of(st.none(), st.sampled_from(["COMPOSITE", "FULL_OBJECT"])),
    part_checksums=st.binary(max_size=40),
    headers=_dicts,
    part_sizes=st.lists(st.tuples(st.integers(0, 2**40), st.integers(1, 10_000)), max_size=3).map(
        tuple
    ),
    lock=_locks,
)
# A delete marker keeps only its key, id, sequence and time.
markers = objects.map(
    lambda r: VersionRecord(
        key=r.key, version_id=r.version_id, seq=r.seq, mtime_ns=r.mtime_ns, is_marker=True
    )
)


@given(st.one_of(objects, markers))
def test_decode_gives_back_what_was_encoded(rec: VersionRecord) -> None:
    got = VersionRecord.decode(rec.encode())
    assert got == rec
    for f in fields(VersionRecord):  # also every field's type (== alone misses 1 == True)
        assert type(getattr(got, f.name)) is type(getattr(rec, f.name)), f.name


@given(
    objects,
    st.text(alphabet="0123456789abcdef", max_size=32),
    st.integers(0, 2**63 - 1),
    st.integers(0, 2**62),
    _locks,
)
def test_stamped_is_replace(rec: VersionRecord, vid: str, seq: int, mtime: int, lock: Lock) -> None:
    before = replace(rec)
    got = rec.stamped(vid, seq, mtime, lock)
    assert got == replace(rec, version_id=vid, seq=seq, mtime_ns=mtime, lock=lock)
    assert rec == before  # the record it was made from is unchanged


def test_decoded_records_are_frozen_like_constructed_ones() -> None:
    rec = VersionRecord.decode(VersionRecord(key="k", version_id="v", seq=1, mtime_ns=2).encode())
    try:
        rec.seq = 3  # type: ignore[misc]
    except AttributeError:
        pass
    else:
        raise AssertionError("a decoded record must stay frozen")
    assert rec.seq == 1
