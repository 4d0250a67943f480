"""Shared machinery of the benchmarks, re-exported from the modules that own each job.

Split by job: :mod:`bench._core` (sizes, configuration, result lines), :mod:`bench._stats`
(repetitions, CPU and load), :mod:`bench._data` (work space, data, memory warm-up),
:mod:`bench._baselines`, :mod:`bench._rss`, :mod:`bench._machine` (peers, machine facts),
:mod:`bench._context` (the run context and the store under test), :mod:`bench._load`
(competing load). Nothing here imports objstore at import time, so the helpers run (and are
smoke-tested) without the store.
"""

from __future__ import annotations

from bench._baselines import (
    _pieces,
    baseline_blake3_md5,
    baseline_lmdb_scan,
    baseline_md5,
    baseline_md5_parts,
    baseline_read,
    baseline_write_fsync,
    blake3_file,
    lmdb_fill,
)
from bench._context import (
    BUCKET,
    QUIET_WAIT_EACH,
    Context,
    fresh_store,
    open_store,
    put_file,
    store_supports,
)
from bench._core import (
    BENCH_DIR,
    IO_PIECE,
    WORK_ROOT,
    Config,
    Figure,
    GiB,
    KiB,
    MiB,
    Status,
    emit,
    notes,
    say,
    verdict,
)
from bench._data import (
    MemoryWarmer,
    Workspace,
    data_piece,
    generate,
    make_source_file,
    meminfo,
    tree_size,
)
from bench._machine import ensure_tool, machine_facts, tool_version
from bench._rss import ChildPeak, report_peak_rss, run_child_peak, vm_hwm
from bench._stats import _TICK, CpuMark, Samples, _busy, alternate, timed, wait_quiet

__all__ = [
    "KiB",
    "MiB",
    "BENCH_DIR",
    "BUCKET",
    "ChildPeak",
    "Config",
    "Context",
    "CpuMark",
    "Figure",
    "GiB",
    "IO_PIECE",
    "MemoryWarmer",
    "QUIET_WAIT_EACH",
    "Samples",
    "Status",
    "WORK_ROOT",
    "Workspace",
    "_TICK",
    "_busy",
    "_pieces",
    "alternate",
    "baseline_blake3_md5",
    "baseline_lmdb_scan",
    "baseline_md5",
    "baseline_md5_parts",
    "baseline_read",
    "baseline_write_fsync",
    "blake3_file",
    "data_piece",
    "emit",
    "ensure_tool",
    "fresh_store",
    "generate",
    "lmdb_fill",
    "machine_facts",
    "make_source_file",
    "meminfo",
    "notes",
    "open_store",
    "put_file",
    "report_peak_rss",
    "run_child_peak",
    "say",
    "store_supports",
    "timed",
    "tool_version",
    "tree_size",
    "verdict",
    "vm_hwm",
    "wait_quiet",
]
