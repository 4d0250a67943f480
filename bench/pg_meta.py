"""Operations per second of the PostgreSQL metadata store, beside LMDB on the same machine.

``python -m bench.pg_meta postgresql://user:pw@127.0.0.1:5432/db [--seconds 2]``

Each figure is one thread doing one kind of transaction in a loop, the median of 3 runs:
``get`` (a read transaction with one get), ``get in txn`` (gets inside one open read
transaction), ``put`` (a write transaction with one put), ``txn20`` (a write transaction of
10 gets then 10 puts, the shape of a namespace operation), ``scan10k`` (a read transaction
scanning 10,000 keys of 40-byte values). The database gets its own tables (table prefix
``bench_``) and loses them afterwards.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable

from objstore.backends.postgres import PostgresMetadataStore
from objstore.meta.base import MetadataStore
from objstore.meta.lmdb_store import LmdbMetadataStore

_VALUE = b"v" * 40


def _rate(op: Callable[[], int], seconds: float) -> float:
    """Operations per second of ``op`` (which returns how many it did), median of 3."""
    rates = []
    for _ in range(3):
        done = 0
        start = time.perf_counter()
        while (elapsed := time.perf_counter() - start) < seconds / 3:
            done += op()
        rates.append(done / elapsed)
    return statistics.median(rates)


def measure(meta: MetadataStore, seconds: float) -> dict[str, float]:
    with meta.begin_write() as txn:
        txn.put_many((b"s%06d" % i, _VALUE) for i in range(10_000))
        txn.put_many((b"k%03d" % i, _VALUE) for i in range(100))
    counter = iter(range(1 << 62))

    def get() -> int:
        with meta.begin() as r:
            r.get(b"k007")
        return 1

    def get_in_txn() -> int:
        with meta.begin() as r:
            for i in range(100):
                r.get(b"k%03d" % i)
        return 100

    def put() -> int:
        with meta.begin_write() as txn:
            txn.put(b"p%d" % (next(counter) % 1000), _VALUE)
        return 1

    def txn20() -> int:
        base = next(counter) % 90
        with meta.begin_write() as txn:
            for i in range(10):
                txn.get(b"k%03d" % (base + i))
            for i in range(10):
                txn.put(b"k%03d" % (base + i), _VALUE)
        return 1

    def scan10k() -> int:
        with meta.begin() as r:
            n = sum(1 for _ in r.scan(b"s", b"t"))
        assert n == 10_000
        return 1

    ops = {"get": get, "get in txn": get_in_txn, "put": put, "txn20": txn20, "scan10k": scan10k}
    return {name: _rate(op, seconds) for name, op in ops.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--seconds", type=float, default=2.0)
    args = parser.parse_args()
    pg = PostgresMetadataStore.from_url(args.url + "?table_prefix=bench_")
    try:
        pg_rates = measure(pg, args.seconds)
    finally:
        pg.close()
        import psycopg  # only to drop the benchmark's tables

        with psycopg.connect(args.url, autocommit=True) as conn:
            for t in ("bench_kv", "bench_commits", "bench_schema"):
                conn.execute(f"DROP TABLE IF EXISTS {t}")
    with tempfile.TemporaryDirectory() as d:
        lmdb = LmdbMetadataStore(os.path.join(d, "meta"), map_size=1 << 30)
        try:
            lmdb_rates = measure(lmdb, args.seconds)
        finally:
            lmdb.close()
    print(f"{'operation':<12} {'PostgreSQL/s':>13} {'LMDB/s':>10}")
    for name, rate in pg_rates.items():
        print(f"{name:<12} {rate:>13,.0f} {lmdb_rates[name]:>10,.0f}")


if __name__ == "__main__":
    main()
