"""The engine of ``objstore bench``: a user-facing upload/download benchmark.

Like MinIO's ``warp``, embedded: it opens a store (a fresh temporary one unless told
otherwise), measures the raw disk (write + fsync) as a baseline, then runs a PUT, a GET
and a multipart phase with many threads, and reports throughput, latency percentiles,
CPU cost and the deduplication ratio.

Modules, one job each: ``config`` (settings and their parsing), ``data`` (fast
synthetic bodies: random, zeros or partly duplicate), ``stats`` (latency percentiles,
throughput over time, CPU clock), ``phases`` (the baseline and each phase), ``runner``
(store, bucket, order of phases, clean-up) and ``report`` (text, JSON, plot). The
command line wiring lives in ``objstore.cli.bench``.
"""

from objstore.benchtool.config import BenchConfig, DataSpec, parse_duration, parse_size
from objstore.benchtool.phases import PhaseResult
from objstore.benchtool.runner import BenchReport, run

__all__ = [
    "BenchConfig",
    "BenchReport",
    "DataSpec",
    "PhaseResult",
    "parse_duration",
    "parse_size",
    "run",
]
