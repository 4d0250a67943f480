"""Peak RSS of a child process."""

from __future__ import annotations

import json
import os
import resource
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench._core import KiB


@dataclass(frozen=True, slots=True)
class ChildPeak:
    """What a measured child reported (its own VmHWM) and what the kernel says (wait4).

    VmHWM is the figure to trust: it starts afresh at exec. ``ru_maxrss`` survives exec, and a
    child spawned by fork/vfork briefly runs on the parent's pages, so it can show the parent's
    size when that is larger than the child's own peak.
    """

    vm_hwm: int  # bytes, from the child's /proc/self/status
    ru_maxrss: int  # bytes, from wait4's rusage of exactly this child (see above)
    report: dict[str, Any] = field(default_factory=dict)


def vm_hwm() -> int:
    """This process's peak resident set (VmHWM) in bytes; falls back to ru_maxrss."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * KiB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * KiB


def report_peak_rss(extra: dict[str, object]) -> None:
    """Called by a measured child as its last act: one JSON line with its VmHWM and ``extra``."""
    print(json.dumps({"vm_hwm": vm_hwm(), **extra}), flush=True)


def run_child_peak(argv: Sequence[str], cwd: Path | None = None) -> ChildPeak:
    """Run ``argv``, and return the peak RSS of exactly that child.

    The child prints its own VmHWM (``report_peak_rss``). ``os.wait4`` adds the kernel's rusage
    of this one child, unlike RUSAGE_CHILDREN, which keeps the maximum over every child ever
    reaped (a borg run earlier would leak into it).
    Raises RuntimeError when the child fails or prints no report.
    """
    proc = subprocess.Popen(list(argv), stdout=subprocess.PIPE, cwd=cwd)
    assert proc.stdout is not None
    out = proc.stdout.read()
    proc.stdout.close()
    _pid, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)  # we reaped it; tell Popen
    if proc.returncode != 0:
        raise RuntimeError(f"child {argv!r} exited with {proc.returncode}")
    lines = [ln for ln in out.decode().splitlines() if ln.startswith("{")]
    if not lines:
        raise RuntimeError(f"child {argv!r} printed no report")
    report = json.loads(lines[-1])
    return ChildPeak(int(report["vm_hwm"]), usage.ru_maxrss * KiB, report)
