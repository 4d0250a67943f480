"""objstore benchmarks (issue 2): ``python -m bench [NAME ...] [--quick]``, run by ``make bench``.

One module per benchmark (``bench_put``, ``bench_get``, ``bench_dedup``, ``bench_peers``,
``bench_list``, ``bench_rss``), each exposing ``NAME``, ``footprint(cfg)`` and ``run(ctx)``;
shared machinery in ``_util``. Figures and how to read them: docs/performance.md.
"""
