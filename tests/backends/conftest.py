"""The backend pairs the several-nodes tests run against.

``local``: one LMDB environment and one chunk directory shared by processes of this
machine (what works without services). ``distributed``: PostgreSQL + Ceph RGW from
``make services`` (fixtures ``postgres_dsn`` and ``rgw``, objstore/testing/services),
with the ``objstore.backends.postgres`` / ``.s3`` backends. Services that are missing
skip the pair with the reason, except with ``CI=true``: then they fail (the fixtures'
rule).
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.backends.nodes import Backends

PAIRS = ["local", "distributed"]


def _distributed(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Backends:
    for module in ("objstore.backends.postgres", "objstore.backends.s3"):
        try:
            importlib.import_module(module)
        except ImportError as exc:
            # Code not there yet is no missing service: a skip, even in CI.
            pytest.skip(f"distributed pair: {module} cannot be imported ({exc})")
    # These fixtures skip, or fail with CI=true, when the services are unavailable.
    dsn = request.getfixturevalue("postgres_dsn")
    rgw = request.getfixturevalue("rgw")
    # The chunk store's credentials come from the environment, as in production
    # (spawned nodes and `objstore serve` children inherit it).
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", rgw.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", rgw.secret_key)
    monkeypatch.setenv("AWS_DEFAULT_REGION", rgw.region)
    chunks = f"s3://{rgw.bucket}/chunks?endpoint={rgw.endpoint}&region={rgw.region}"
    return Backends("distributed", dsn, chunks, os.urandom(32))


@pytest.fixture(params=PAIRS)
def backends(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Backends]:
    """A fresh, empty store's two URLs and key."""
    monkeypatch.delenv("OBJSTORE_SECRET_KEY", raising=False)
    monkeypatch.delenv("OBJSTORE_SECRET_KEY_FILE", raising=False)
    if request.param == "local":
        yield Backends(
            "local", f"lmdb://{tmp_path}/meta", f"file://{tmp_path}/chunks", os.urandom(32)
        )
    else:
        yield _distributed(request, monkeypatch)
