"""Peer tools (installed on demand) and the machine facts printed at the top of a run."""

from __future__ import annotations

import contextlib
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bench._core import BENCH_DIR, say


def ensure_tool(command: str, package: str) -> str | None:
    """Path of ``command``; installs Debian ``package`` first when it is not on PATH.

    Returns None (after printing why) when it cannot be had, so the caller skips that peer.
    """
    found = shutil.which(command)
    if found:
        return found
    apt = shutil.which("apt-get")
    if apt is None:
        say(f"{command} not on PATH and no apt-get here: skipping {command}")
        return None
    say(f"{command} not on PATH: apt-get install -y {package}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for step in ([apt, "update"], [apt, "install", "-y", package]):
        res = subprocess.run(step, env=env, capture_output=True, text=True, check=False)
        if res.returncode != 0:
            tail = (res.stderr or res.stdout).strip().splitlines()[-1:] or ["?"]
            say(f"`{' '.join(step)}` failed ({tail[0]}): skipping {command}")
            return None
    found = shutil.which(command)
    if not found:
        say(f"{package} installed but {command} still not on PATH: skipping {command}")
    return found


def tool_version(command: str) -> str:
    """First line of ``command --version`` (or ``version`` for restic), for the record."""
    arg = "version" if Path(command).name == "restic" else "--version"
    res = subprocess.run([command, arg], capture_output=True, text=True, check=False)
    return (res.stdout or res.stderr).strip().splitlines()[0] if res.returncode == 0 else "?"


# --------------------------------------------------------------------------------------------
# Machine facts (printed at the top of a run, copied into docs/performance.md)


def machine_facts(work_dir: Path) -> dict[str, str]:
    """CPU, cores, memory, kernel, filesystem of the work dir, Python and library versions."""
    facts: dict[str, str] = {}
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                facts["cpu"] = line.split(":", 1)[1].strip()
                break
    facts["cores"] = str(os.cpu_count())
    with contextlib.suppress(OSError):
        total = Path("/proc/meminfo").read_text().splitlines()[0].split()[1]
        facts["memory"] = f"{int(total) / (1024 * 1024):.1f} GiB"
    facts["kernel"] = platform.release()
    with contextlib.suppress(OSError, IndexError):
        df = (
            subprocess.run(["df", "-T", str(work_dir)], capture_output=True, text=True, check=True)
            .stdout.splitlines()[1]
            .split()
        )
        facts["filesystem"] = f"{df[1]} on {df[0]}"
    facts["python"] = sys.version.split()[0]
    from importlib import metadata

    for pkg in ("blake3", "lmdb", "fastcdc"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            facts[pkg] = metadata.version(pkg)
    with contextlib.suppress(OSError, subprocess.CalledProcessError):
        git = ["git", "-C", str(BENCH_DIR.parent)]
        run = subprocess.run
        facts["commit"] = run(
            [*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        # The store is measured as it is in the working tree, which may be ahead of HEAD.
        dirty = run(
            [*git, "status", "--porcelain", "--", "objstore"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        if dirty:
            facts["commit"] += f" + uncommitted changes in {len(dirty.splitlines())} objstore files"
    facts["date"] = time.strftime("%Y-%m-%d %H:%M %Z")
    return facts
