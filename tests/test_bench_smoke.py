"""Smoke test of the benchmark helpers (bench/_util.py) at tiny sizes.

No timing assertions (timings belong to ``make bench``); only that each helper runs, returns
positive numbers and, where it computes something, computes it right.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Callable
from pathlib import Path

import blake3
import pytest

# bench/ is not an installed package: pytest puts the project root on sys.path
# (``pythonpath`` in pyproject.toml), as ``python -m bench`` does.
from bench import _util as u

SIZE = 8 * u.MiB + 12_345  # not a multiple of the read piece: exercises the short last read


def test_quick_config_is_smaller_than_the_full_run() -> None:
    """--quick shrinks every size the full run uses."""
    quick, full = u.Config.quick_config(), u.Config()
    assert quick.quick and not full.quick
    assert quick.size < full.size and quick.rss_size < full.rss_size
    assert quick.list_keys < full.list_keys


def test_generated_data_is_deterministic_and_seekable() -> None:
    """The generator yields exactly ``size`` bytes, the same stream data_piece seeks into."""
    pieces = list(u.generate(3 * u.MiB + 5, seed=b"s", piece=u.MiB))
    data = b"".join(pieces)
    assert len(data) == 3 * u.MiB + 5
    assert [len(p) for p in pieces] == [u.MiB, u.MiB, u.MiB, 5]
    assert u.data_piece(b"s", u.MiB + 7, 100) == data[u.MiB + 7 : u.MiB + 107]
    assert u.data_piece(b"other", 0, 64) != data[:64]


def test_file_baselines_run_and_hash_correctly(tmp_path: Path) -> None:
    """Source file, warm-up and the write/MD5/read/BLAKE3+MD5 baselines on a small file."""
    src = u.make_source_file(tmp_path / "src.bin", SIZE)
    content = src.read_bytes()
    assert len(content) == SIZE
    warmer = u.MemoryWarmer(tmp_path)
    nbytes, speed = warmer.fill(limit=16 * u.MiB)
    assert nbytes >= 16 * u.MiB and speed > 0 and warmer.floor > 0
    assert warmer.path.stat().st_blocks == 0  # a sparse filler: no disk space used
    assert warmer.top_up() >= 0
    warmer.close()
    assert not warmer.path.exists()

    assert u.baseline_write_fsync(src, tmp_path / "copy.bin") > 0
    assert (tmp_path / "copy.bin").read_bytes() == content
    seconds, md5 = u.baseline_md5(src)
    assert seconds > 0 and md5 == hashlib.md5(content).hexdigest()
    assert u.baseline_read(src) > 0
    seconds, b3, md5b = u.baseline_blake3_md5(src)
    assert seconds > 0
    assert b3 == blake3.blake3(content).hexdigest() == u.blake3_file(src)
    assert md5b == md5
    assert u.tree_size(tmp_path) >= 2 * SIZE  # allocated blocks: whole 4 KiB blocks


def test_md5_of_parts_baseline_hashes_each_part(tmp_path: Path) -> None:
    """The multipart MD5 bound hashes every part, the short last one too, in part order."""
    src = u.make_source_file(tmp_path / "src.bin", SIZE)
    content = src.read_bytes()
    part = 3 * u.MiB
    seconds, digests = u.baseline_md5_parts(src, part, threads=2)
    assert seconds > 0
    assert digests == [hashlib.md5(content[i : i + part]).hexdigest() for i in range(0, SIZE, part)]


@pytest.mark.parametrize("mode", ["md5", "blake3"])
def test_multipart_bench_etag_check_matches_the_store(tmp_path: Path, mode: str) -> None:
    """The ETag the multipart bench expects is the one the store gives an upload in each
    ETag mode (else every run would print WRONG ETAG, or none ever could)."""
    from bench import bench_multipart as mp

    src = u.make_source_file(tmp_path / "src.bin", SIZE)
    part = 5 * u.MiB
    content = src.read_bytes()
    store = u.fresh_store(tmp_path / "store", **({"etag_mode": mode} if mode != "md5" else {}))
    try:
        c = store.root
        uid = c.create_multipart_upload(u.BUCKET, "k")
        parts = [
            c.upload_part(u.BUCKET, "k", uid, n, content[off : off + part])
            for n, off in enumerate(range(0, SIZE, part), start=1)
        ]
        etag = c.complete_multipart_upload(u.BUCKET, "k", uid, parts).etag
    finally:
        store.close()
    if mode == "md5":
        digests = [bytes.fromhex(d) for d in u.baseline_md5_parts(src, part, 2)[1]]
    else:
        digests = mp._blake3_parts(src, part)
    assert len(digests) == 2
    assert etag == mp._expected_etag(digests, mode)
    assert etag != mp._expected_etag(digests[::-1], mode)


def test_lmdb_baseline_scans_every_key(tmp_path: Path) -> None:
    """The raw-scan baseline sees exactly the keys written."""
    keys = [f"list/{i:09d}".encode() for i in range(5_000)]
    assert u.lmdb_fill(tmp_path, keys, b"v" * 100) == 5_000
    seconds, count = u.baseline_lmdb_scan(tmp_path)
    assert seconds > 0 and count == 5_000


def test_child_peak_rss_sees_the_childs_allocation() -> None:
    """A child touching 48 MiB reports a VmHWM of at least that much."""
    code = (
        "from bench._util import report_peak_rss\n"
        "x = bytearray(48 * 1024 * 1024)\n"
        "report_peak_rss({'n': len(x)})\n"
    )
    peak = u.run_child_peak([sys.executable, "-c", code], cwd=u.BENCH_DIR.parent)
    assert peak.vm_hwm >= 48 * u.MiB
    assert peak.ru_maxrss > 0
    assert peak.report["n"] == 48 * u.MiB


def test_alternate_rotates_order_and_collects_each_subjects_times() -> None:
    """Every subject runs once per repetition, and the starting subject rotates."""
    calls: list[str] = []

    def subject(name: str, seconds: float) -> tuple[str, Callable[[int], float]]:
        def one(_rep: int) -> float:
            calls.append(name)
            return seconds

        return name, one

    out = u.alternate(3, 8e6, [subject("a", 1.0), subject("b", 2.0)])
    assert calls == ["a", "b", "b", "a", "a", "b"]
    assert out["a"].seconds == (1.0,) * 3 and out["b"].seconds == (2.0,) * 3
    assert out["a"].median_rate == 8e6 and out["b"].best_rate == 4e6
    assert all(c >= 0 for c in out["a"].cpu) and len(out["b"].others) == 3
    s = u.Samples((2.0, 1.0, 4.0), 8e6, cpu=(1.0, 1.0, 2.0), others=(0.5, 0.0, 0.1))
    assert s.best_rate == 8e6 and s.median_rate == 4e6
    assert s.mb_s() == (4.0, 8.0)
    assert "core-s/GiB" in s.load_note() and "0.5 cores" in s.load_note()


def test_cpu_marks_count_this_process_work() -> None:
    """Burning CPU here shows up as own CPU time; a zero wait for quiet returns at once."""
    mark = u.CpuMark.now()
    blake3.blake3(bytes(64 * u.MiB)).digest()
    own, others = u.CpuMark.now().since(mark)
    assert own > 0 and others >= 0
    assert u.wait_quiet(0.0) < 0.5


def test_figure_line_shows_ratio_target_and_verdict() -> None:
    """A result line carries the value, the baseline, the ratio and the verdict."""
    fig = u.Figure("put md5/cdc", 630.0, "MB/s", "bound", 700.0, ">= 0.90", u.verdict(False))
    assert fig.ratio == 0.9
    line = fig.line()
    assert "630.0" in line and "ratio 0.90" in line and "MISS" in line
    assert u.verdict(True) == "PASS"


def test_workspace_is_removed_on_exit(tmp_path: Path) -> None:
    """Work data never outlives the run."""
    with u.Workspace(tmp_path / "work") as ws:
        sub = ws.sub("x")
        (sub / "f").write_bytes(b"1")
        assert sub.is_dir()
    assert not ws.path.exists()


def test_identity_bench_sets_up_and_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The issue 7 GET-as-IAM-user bench runs end to end (a bucket policy naming users
    that did not exist broke it once policies were bound to unique ids); speed is not
    judged here."""
    from bench import bench_identity

    bench_identity.main(["--gets", "20", "--reps", "1", "--dir", str(tmp_path)])
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert line.startswith("small GET/s (CPU time): root ") and "ratio" in line
