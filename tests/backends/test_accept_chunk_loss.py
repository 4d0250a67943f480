"""Accepting the loss of a chunk location rebinds the store; no message hands out a mark.

Break-it review of issue 9 (H1, HIGH): the refusals printed the RECORDED mark, location
id included, as what to write at the refused location to "accept the loss" (or to
"restore" a removed mark). Written at a second, empty location it made that location a
copy of the first: both opened, what one node wrote the other read as DataCorruption,
and ``fsck --repair`` on one quarantined the other's chunks. Also right after the
id-less upgrade. Now no message shows a location id, and accepting the loss is an
explicit action (``open(..., accept_chunk_loss=True)``, ``objstore fsck
--accept-chunk-loss``) that writes a fresh location id and records it: the old location
is refused from then on.

Runs on both pairs: LMDB + chunk files, and PostgreSQL + Ceph RGW.
"""

from __future__ import annotations

import pytest

import objstore
from objstore.blob.chunkstore import OwnerMark
from objstore.errors import StoreDamaged
from tests.backends.nodes import Backends
from tests.backends.test_chunk_owner import (
    DATA,
    OTHER,
    B,
    _fill,
    _open,
    _other_chunks,
    _write_mark,
)
from tests.backends.test_owner_upgrade import _bound, _mark, _old_store


def _accept(pair: Backends, chunks: str) -> objstore.Store:
    return objstore.open(
        metadata=pair.metadata, chunks=chunks, secret_key=pair.key, accept_chunk_loss=True
    )


def _refusal(pair: Backends, chunks: str, match: str, *marks: OwnerMark) -> str:
    """The refusal of ``chunks``; it names none of ``marks``' location ids."""
    with pytest.raises(StoreDamaged, match=match) as caught:
        _open(pair.metadata, chunks, pair.key)
    text = str(caught.value)
    for mark in marks:
        assert mark.location is not None and mark.location not in text, text
    assert "accept-chunk-loss" in text and "accept_chunk_loss=True" in text
    return text


def _bind_one(pair: Backends, old: bool) -> OwnerMark:
    """A populated store bound to ``pair.chunks`` (made id-less and upgraded if ``old``)."""
    if old:
        _old_store(pair, "id-less")
    else:
        with _open(pair.metadata, pair.chunks, pair.key) as s:
            _fill(s)
    with _open(pair.metadata, pair.chunks, pair.key) as s:  # upgrades an old one
        assert s.root.get_object(B, "k").read() == DATA
    return _bound(pair, pair.chunks)


@pytest.mark.parametrize("old", [False, True])
def test_no_refusal_gives_a_mark_and_accepting_the_loss_rebinds(
    fresh_backends: Backends, old: bool
) -> None:
    pair = fresh_backends
    mark = _bind_one(pair, old)
    second = _other_chunks(pair, "typo")
    _refusal(pair, second, "is empty and carries no mark", mark)
    # The chain of the review: a hand-written mark there, its refusal, the mark removed.
    _write_mark(second, mark.store_id)
    _refusal(pair, second, "not the location its metadata recorded", mark)
    # Accepting the loss: this location gets a fresh id, recorded in the same transaction.
    with _accept(pair, second) as b:
        b.root.put_object(B, "from-b", OTHER)
        assert not b.fsck(verify_data=False).healthy  # "k"'s chunks are not here
    new = _bound(pair, second)
    assert new.store_id == mark.store_id and new.location != mark.location
    # The old location is refused from then on, and its message shows no id either.
    _refusal(pair, pair.chunks, "not the location its metadata recorded", mark, new)
    with _open(pair.metadata, second, pair.key) as b:
        assert b.root.get_object(B, "from-b").read() == OTHER
        b.gc()
        assert b.root.get_object(B, "from-b").read() == OTHER
    assert _mark(pair.chunks) == mark  # nothing was written to the refused location


@pytest.mark.parametrize("old", [False, True])
def test_accepting_on_the_bound_location_changes_nothing(
    fresh_backends: Backends, old: bool
) -> None:
    """On the recorded location itself (and on a replica carrying its mark) the option
    is a plain open: nothing is rebound, so the other copies stay accepted."""
    pair = fresh_backends
    mark = _bind_one(pair, old)
    with _accept(pair, pair.chunks) as s:
        assert s.root.get_object(B, "k").read() == DATA
        assert s.fsck().healthy
    assert _bound(pair, pair.chunks) == mark
