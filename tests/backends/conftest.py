"""The backend pairs the several-nodes tests run against.

``local``: one LMDB environment and one chunk directory shared by processes of this
machine (what works without services). ``distributed``: PostgreSQL + Ceph RGW from
``make services`` (objstore/testing/services: a fresh database and bucket per test
module), with the ``objstore.backends.postgres`` / ``.s3`` backends. Services that are
missing skip the pair with the reason, except with ``CI=true``: then they fail (the
services fixtures' rule). Backend modules not there yet skip it.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator

import pytest

from objstore.testing.services.fixtures import _fresh_bucket, _fresh_database
from tests.backends.nodes import Backends

PAIRS = ["local", "distributed"]


def _distributed(request: pytest.FixtureRequest, mp: pytest.MonkeyPatch) -> Iterator[Backends]:
    for module in ("objstore.backends.postgres", "objstore.backends.s3"):
        try:
            importlib.import_module(module)
        except ImportError as exc:
            pytest.skip(f"distributed pair: {module} cannot be imported ({exc})")
    pg = request.getfixturevalue("postgres_service")
    rgw_info = request.getfixturevalue("rgw_service")
    for dsn in _fresh_database(pg):
        for rgw in _fresh_bucket(rgw_info, rgw_info.endpoint):
            # The chunk store's credentials come from the environment, as in production
            # (spawned nodes and `objstore serve` children inherit it).
            mp.setenv("AWS_ACCESS_KEY_ID", rgw.access_key)
            mp.setenv("AWS_SECRET_ACCESS_KEY", rgw.secret_key)
            mp.setenv("AWS_DEFAULT_REGION", rgw.region)
            chunks = f"s3://{rgw.bucket}/chunks?endpoint={rgw.endpoint}&region={rgw.region}"
            yield Backends("distributed", dsn, chunks, os.urandom(32))


def _pair(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Backends]:
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("OBJSTORE_SECRET_KEY", raising=False)
        mp.delenv("OBJSTORE_SECRET_KEY_FILE", raising=False)
        if request.param == "local":
            root = tmp_path_factory.mktemp("pair")
            yield Backends("local", f"lmdb://{root}/meta", f"file://{root}/chunks", os.urandom(32))
        else:
            yield from _distributed(request, mp)


@pytest.fixture(scope="module", params=PAIRS)
def backends(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Backends]:
    """A fresh, empty store's two URLs and key (one per test module and pair)."""
    yield from _pair(request, tmp_path_factory)


@pytest.fixture(params=PAIRS)
def fresh_backends(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Backends]:
    """The same, one per test."""
    yield from _pair(request, tmp_path_factory)
