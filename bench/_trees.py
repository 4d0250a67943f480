"""Running one measurement in a child process per code tree, trees alternated.

Used by the A/B tools (``bench.gateway_cost``, ``bench.small_cost``): each tree is a
directory holding an ``objstore`` package (``git archive main objstore | tar -x -C dir``);
its child runs with ``PYTHONPATH=<tree>:<this checkout>`` from a scratch directory, so that
it imports that tree's store and this checkout's ``bench``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def add_arguments(p: argparse.ArgumentParser, rounds: int) -> None:
    """The arguments every A/B tool takes."""
    p.add_argument("trees", help="name=dir,name=dir (each dir holds an objstore package)")
    p.add_argument("--rounds", type=int, default=rounds, help=f"windows per run ({rounds})")
    p.add_argument("--repeat", type=int, default=2, help="runs per tree, alternated (2)")
    p.add_argument("--child", help=argparse.SUPPRESS)


def parse_trees(spec: str) -> dict[str, str]:
    """``name=dir,name=dir`` -> {name: absolute dir}."""
    return {n: str(Path(d).resolve()) for n, d in (t.split("=", 1) for t in spec.split(","))}


def alternated(
    trees: dict[str, str], module: str, child_args: list[str], repeat: int, scratch: str
) -> Iterator[tuple[str, Any]]:
    """Run ``python -m module - --child ...child_args`` once per tree, ``repeat`` times,
    the order reversed every other time; yield (tree name, the JSON its last line printed)."""
    bench_root = str(Path(__file__).resolve().parent.parent)
    for r in range(repeat):
        for name in list(trees) if r % 2 == 0 else list(trees)[::-1]:
            env = dict(os.environ, PYTHONPATH=f"{trees[name]}:{bench_root}")
            argv = [sys.executable, "-m", module, "-", "--child", *child_args]
            out = subprocess.run(argv, env=env, cwd=scratch, capture_output=True, check=True)
            yield name, json.loads(out.stdout.decode().strip().splitlines()[-1])


def scratch_dir(prefix: str) -> str:
    """A fresh directory for the children to run from (removed by the caller)."""
    return tempfile.mkdtemp(prefix=prefix)
