"""bench/test_micro.py (the pytest-benchmark suite ``make bench`` runs) keeps working.

With ``--benchmark-disable`` every benchmark runs its body once, assertions included;
nothing is timed here.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_micro_benchmarks_run_once(tmp_path: Path) -> None:
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "--benchmark-disable",
            f"--basetemp={tmp_path / 'pytest'}",
            str(ROOT / "bench" / "test_micro.py"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "8 passed" in run.stdout
