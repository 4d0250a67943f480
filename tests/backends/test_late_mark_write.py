"""A mark rewrite landing late never replaces a newer mark (review 9c, M1).

An open upgrading an id-less mark timed out on a slow RGW (its transaction rolled
back), but its PUT was held in the network and reached RGW after another node had
upgraded the location and recorded that mark: the unconditional PUT left the location
with a location id the metadata never recorded, and the store refused its own chunk
store at every open. The rewrite now carries ``If-Match`` on the ETag it read.
"""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import obstore
import pytest

from objstore.backends import s3_owner
from objstore.errors import ObjstoreError
from objstore.testing.proxy import FaultProxy
from tests.backends.nodes import Backends
from tests.backends.test_chunk_owner import DATA, B, _open
from tests.backends.test_owner_upgrade import _bound, _mark, _old_store

DELAY = 8.0  # how long the proxy holds each piece of the slow node's requests


def test_a_late_mark_rewrite_does_not_lock_the_store_out(
    fresh_backends: Backends, monkeypatch: pytest.MonkeyPatch
) -> None:
    pair = fresh_backends
    if pair.name != "distributed":
        pytest.skip("a write held in the network: S3 only")
    _old_store(pair, "id-less")
    endpoint = pair.chunks.split("endpoint=")[1].split("&")[0]
    u = urlsplit(endpoint)
    assert u.hostname is not None and u.port is not None
    with FaultProxy(u.hostname, u.port) as proxy:
        slow = pair.chunks.replace(endpoint, proxy.url) + "&read_timeout=1&retry_time=2"
        sent: list[float] = []

        def slow_put(*args: Any, **kwargs: Any) -> Any:
            proxy.delay = DELAY  # from the mark's PUT on, A's requests are held
            sent.append(time.monotonic())
            return obstore.put(*args, **kwargs)

        monkeypatch.setattr(s3_owner, "obstore", SimpleNamespace(get=obstore.get, put=slow_put))
        with pytest.raises(ObjstoreError):
            _open(pair.metadata, slow, pair.key)  # node A: its upgrade times out
        monkeypatch.undo()
        with _open(pair.metadata, pair.chunks, pair.key) as c:  # node C upgrades
            assert c.root.get_object(B, "k").read() == DATA
        upgraded = _bound(pair, pair.chunks)
        # A's held requests reach RGW only now (the test is void if C was slower).
        assert sent and time.monotonic() < sent[0] + DELAY
        time.sleep(max(0.0, sent[0] + 2 * DELAY + 1 - time.monotonic()))
    assert _mark(pair.chunks) == upgraded  # A's late PUT was refused (If-Match)
    with _open(pair.metadata, pair.chunks, pair.key) as d:  # a node restarts
        assert d.root.get_object(B, "k").read() == DATA
    assert _bound(pair, pair.chunks) == upgraded
