"""A run's report as text (for the terminal), as JSON (for machines) and as a plot.

The JSON document (``to_json``) has these fields; sizes in bytes, times in seconds:

- ``version`` (1), ``started`` (ISO 8601), ``store`` (its directory, or the endpoint's
  URL for ``--endpoint``), ``config`` (size, objects, part_size, concurrency, data,
  duration, phases);
- ``baseline``: ``bytes``, ``seconds``, ``mb_s`` of plain write + fsync in the store's
  directory, measured in the same run (null for an endpoint: its disk is not ours);
- ``phases``: one object per phase run, in order: ``name``, ``bytes``, ``objects``,
  ``parts``, ``seconds``, ``mb_s``, ``objects_s``, ``x_baseline`` (mb_s / baseline mb_s,
  or null), ``cpu_seconds``, ``cpu_s_per_gib`` (of this process: for an endpoint, the
  client's cost only), ``complete`` (false when ``--duration`` cut it short),
  ``latency`` (``object`` and ``part``: count, mean, p50, p90, p99, max; or null),
  ``timeline`` (pairs of seconds since the phase began and MB/s in that slice);
- ``logical_bytes``, ``stored_bytes``, ``dedup_ratio`` (null when nothing new was stored;
  both null for an endpoint),
  ``generator_cpu_s_per_gib`` (what making the synthetic data costs; part of the CPU
  figures).

MB is 10**6 bytes, GiB 2**30.
"""

from __future__ import annotations

import dataclasses
import datetime
from typing import Any

from objstore.benchtool.runner import BenchReport
from objstore.benchtool.stats import Latency
from objstore.errors import InvalidArgument

__all__ = ["plot", "to_json", "to_text"]


def _latency(value: Latency | None) -> dict[str, float] | None:
    return None if value is None else dataclasses.asdict(value)


def to_json(report: BenchReport) -> dict[str, Any]:
    """The report as JSON-ready data (see the module docstring)."""
    cfg = report.config
    base = report.baseline.mb_s if report.baseline is not None else None
    return {
        "version": 1,
        "started": datetime.datetime.fromtimestamp(report.started, datetime.UTC).isoformat(),
        "store": report.store_path,
        "config": {
            "size": cfg.size,
            "objects": cfg.object_count,
            "part_size": cfg.part_size,
            "concurrency": cfg.concurrency,
            "data": str(cfg.data),
            "duration": cfg.duration,
            "phases": list(cfg.phases),
        },
        "baseline": None
        if report.baseline is None
        else {
            "bytes": report.baseline.bytes,
            "seconds": report.baseline.seconds,
            "mb_s": base,
        },
        "phases": [
            {
                "name": p.name,
                "bytes": p.bytes,
                "objects": p.objects,
                "parts": p.parts,
                "seconds": p.seconds,
                "mb_s": p.mb_s,
                "objects_s": p.objects_s,
                "x_baseline": p.mb_s / base if base else None,
                "cpu_seconds": p.cpu_seconds,
                "cpu_s_per_gib": p.cpu_s_per_gib,
                "complete": p.complete,
                "latency": {"object": _latency(p.object_latency), "part": _latency(p.part_latency)},
                "timeline": [list(point) for point in p.timeline],
            }
            for p in report.phases
        ],
        "logical_bytes": report.logical_bytes,
        "stored_bytes": report.stored_bytes,
        "dedup_ratio": report.dedup_ratio,
        "generator_cpu_s_per_gib": report.generator_cpu_s_per_gib,
    }


def _ms(value: float) -> str:
    return f"{value * 1000:.1f}"


def to_text(report: BenchReport) -> str:
    """The report as a few aligned lines for a terminal."""
    cfg = report.config
    base = report.baseline
    remote = base is None
    lines = [
        f"objstore bench: {cfg.size / 2**30:.2f} GiB per phase, {cfg.object_count} objects, "
        f"parts of {cfg.part_size / 2**20:g} MiB, {cfg.concurrency} threads, data {cfg.data}",
        f"{'endpoint' if remote else 'store'}: {report.store_path}",
        "",
        f"{'phase':<11}{'MB/s':>9}{'x disk':>8}{'obj/s':>9}{'CPU s/GiB':>11}   "
        f"latency ms  p50 / p90 / p99",
    ]
    if base is not None:
        lines.append(
            f"{'disk':<11}{base.mb_s:>9.0f}{1:>8.2f}{'':>9}{'':>11}   "
            f"(write + fsync of {base.bytes / 2**20:.0f} MiB)"
        )
    for p in report.phases:
        cpu = f"{p.cpu_s_per_gib:.2f}" if p.cpu_s_per_gib is not None else "-"
        x_disk = f"{p.mb_s / max(base.mb_s, 1e-9):.2f}" if base is not None else "-"
        row = f"{p.name:<11}{p.mb_s:>9.0f}{x_disk:>8}{p.objects_s:>9.1f}{cpu:>11}   "
        spans = []
        for what, lat in (("object", p.object_latency), ("part", p.part_latency)):
            if lat is not None:
                spans.append(f"{what} {_ms(lat.p50)} / {_ms(lat.p90)} / {_ms(lat.p99)}")
        lines.append(row + ("; ".join(spans) or "-"))
        if not p.complete:
            lines.append(f"{'':<11}(stopped at --duration after {p.objects} objects)")
    ratio = report.dedup_ratio
    lines.append("")
    if report.stored_bytes is None:
        lines += [
            f"{report.logical_bytes / 2**20:.0f} MiB written; the endpoint's disk use and "
            "dedup ratio are not visible from here",
            f"CPU is this client's only; it includes {report.generator_cpu_s_per_gib:.2f} s/GiB "
            "for generating the data",
        ]
        return "\n".join(lines)
    lines += [
        f"dedup ratio: {ratio:.2f}" if ratio is not None else "dedup ratio: - (nothing stored)",
        f"  ({report.logical_bytes / 2**20:.0f} MiB written, "
        f"{report.stored_bytes / 2**20:.0f} MiB stored)",
        f"CPU includes {report.generator_cpu_s_per_gib:.2f} s/GiB for generating the data",
    ]
    return "\n".join(lines)


def plot(report: BenchReport, path: str) -> None:
    """Draw throughput over time, one line per phase, to the image file ``path``.

    Raises InvalidArgument when matplotlib is not installed (``pip install
    'objstore[plot]'``), OSError when the file cannot be written."""
    pyplot = load_pyplot()
    fig, ax = pyplot.subplots(figsize=(9, 4.5))
    try:
        for p in report.phases:
            if p.timeline:
                xs = [0.0] + [t for t, _ in p.timeline]
                ys = [p.timeline[0][1]] + [mbps for _, mbps in p.timeline]
                ax.step(xs, ys, where="pre", label=f"{p.name} ({p.mb_s:.0f} MB/s)")
        if report.baseline is not None:
            ax.axhline(
                report.baseline.mb_s,
                linestyle="--",
                color="grey",
                label=f"disk write+fsync ({report.baseline.mb_s:.0f} MB/s)",
            )
        ax.set_xlabel("seconds since the phase began")
        ax.set_ylabel("MB/s")
        ax.set_title(
            f"objstore bench: {report.config.size / 2**30:.2f} GiB, "
            f"{report.config.concurrency} threads, data {report.config.data}"
        )
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
        ax.legend()
        fig.tight_layout()
        fig.savefig(path)
    finally:
        pyplot.close(fig)


def load_pyplot() -> Any:
    """matplotlib's pyplot with a file-only backend. Raises InvalidArgument if missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        from matplotlib import pyplot
    except ImportError:
        raise InvalidArgument(
            "--plot needs matplotlib: pip install 'objstore[plot]' (or matplotlib)"
        ) from None
    return pyplot
