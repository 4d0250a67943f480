"""Micro-benchmarks under pytest-benchmark: the per-request costs a regression would show.

Run them with ``make bench`` (after ``python -m bench``) or directly::

    .venv/bin/pytest bench/test_micro.py --benchmark-enable --benchmark-autosave \\
        --benchmark-compare

Each run is saved under ``.benchmarks/<machine>/`` (git-ignored) and compared with the
previous one on the same machine, so a slowdown shows as a column of ``(>1.00)`` ratios.
The saved runs stay local on purpose: these timings are absolute (no same-run baseline),
so a run from another machine says more about that machine than about the code; the
cross-machine figures, as ratios to baselines measured in the same run, are the job of
``python -m bench`` and docs/performance.md.

Under ``make test`` (``--benchmark-disable``) each benchmark runs its body once, which
keeps the file working (tests/test_micro_bench_smoke.py).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import objstore
from bench.bench_iam import NOW, POLICIES, REQUESTS, USER
from objstore.iam import Policy, Principal, evaluate

SMALL = 4096  # the small-object size of the targets (stored inline)
LISTED_KEYS = 5000
PAGE = 1000

BenchmarkFixture = Any  # pytest-benchmark's fixture type is not exported


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[objstore.Store]:
    """An on-disk store (durable commits, as users run it) with a listing bucket."""
    path: Path = tmp_path_factory.mktemp("micro") / "store"
    with objstore.open(path) as s:
        s.root.create_bucket("micro")
        s.root.create_bucket("listing")
        keys = [f"logs/2026/{i:07d}.json" for i in range(LISTED_KEYS)]
        for start in range(0, LISTED_KEYS, 500):  # batched: one durable commit each
            s.root.put_objects("listing", [(k, b"x" * 16) for k in keys[start : start + 500]])
        yield s


def test_put_small_object(benchmark: BenchmarkFixture, store: objstore.Store) -> None:
    """One durable PUT of 4 KiB to a new key."""
    data = bytes(range(256)) * (SMALL // 256)
    keys = (f"put/{i:08d}" for i in itertools.count())
    result = benchmark(lambda: store.root.put_object("micro", next(keys), data))
    assert result.size == SMALL


def test_get_small_object(benchmark: BenchmarkFixture, store: objstore.Store) -> None:
    """One GET of a 4 KiB object, read whole."""
    data = b"g" * SMALL
    store.root.put_object("micro", "get/one", data)

    def get() -> bytes:
        with store.root.get_object("micro", "get/one") as body:
            return body.read()

    assert benchmark(get) == data


def test_head_small_object(benchmark: BenchmarkFixture, store: objstore.Store) -> None:
    """One HEAD (metadata only)."""
    store.root.put_object("micro", "head/one", b"h" * SMALL)
    assert benchmark(store.root.head_object, "micro", "head/one").size == SMALL


def test_list_one_page(benchmark: BenchmarkFixture, store: objstore.Store) -> None:
    """One ListObjectsV2 page of 1,000 keys from the middle of 5,000."""
    page = benchmark(
        store.root.list_objects,
        "listing",
        prefix="logs/2026/",
        start_after="logs/2026/0002000.json",
        max_keys=PAGE,
    )
    assert len(page.contents) == PAGE and page.is_truncated


def test_list_one_page_delimited(benchmark: BenchmarkFixture, store: objstore.Store) -> None:
    """One delimited page: 5,000 keys fold into one common prefix."""
    page = benchmark(store.root.list_objects, "listing", delimiter="/")
    assert list(page.common_prefixes) == ["logs/"]


@pytest.mark.parametrize(
    "index,effect",
    [(0, "allowed"), (3, "implicitDeny"), (4, "explicitDeny")],
    ids=["allowed", "implicit-deny", "explicit-deny"],
)
def test_policy_decision(benchmark: BenchmarkFixture, index: int, effect: str) -> None:
    """One IAM decision: 5 identity policies of 5 statements (bench/bench_iam.py's set)."""
    identity = [Policy.from_json(text) for text in POLICIES]  # compiled once, as served
    principal = Principal.from_arn(USER, user_id="AIDAEXAMPLEUSERID", tags={"team": "eng"})
    action, resource, context = REQUESTS[index]

    def decide() -> Any:
        return evaluate(
            principal, action, resource, context=context, identity_policies=identity, now=NOW
        )

    assert benchmark(decide).effect == effect
