"""``objstore bench``: a smoke run with tiny sizes (no timing assertions), its parts."""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import objstore
from objstore.benchtool import BenchConfig, DataSpec, parse_duration, parse_size
from objstore.benchtool.data import DataSource
from objstore.benchtool.runner import chunk_bytes
from objstore.benchtool.stats import Meter, latency, percentile
from objstore.cli import main
from objstore.errors import InvalidArgument

MIB = 1 << 20


def bench(tmp_path: Path, *args: str) -> dict[str, Any]:
    out = tmp_path / "report.json"
    assert main(["bench", "--json", str(out), "--concurrency", "2", *args]) == 0
    report: dict[str, Any] = json.loads(out.read_text())
    return report


def check_phase(phase: dict[str, Any], *, name: str, size: int, objects: int) -> None:
    assert phase["name"] == name and phase["complete"] is True
    assert phase["bytes"] == size and phase["objects"] == objects
    assert phase["seconds"] > 0 and phase["mb_s"] > 0 and phase["objects_s"] > 0
    assert phase["mb_s"] == pytest.approx(size / phase["seconds"] / 1e6)
    assert phase["cpu_seconds"] >= 0 and phase["cpu_s_per_gib"] >= 0
    lat = phase["latency"]["object"]
    assert lat["count"] == objects
    assert 0 < lat["p50"] <= lat["p90"] <= lat["p99"] <= lat["max"] <= phase["seconds"]
    times = [t for t, _ in phase["timeline"]]
    assert times == sorted(times) and times[-1] == pytest.approx(phase["seconds"])
    # The slices account for every byte.
    starts = [0.0, *times[:-1]]
    pairs = zip(phase["timeline"], starts, strict=True)
    moved = sum(mbps * 1e6 * (t1 - t0) for (t1, mbps), t0 in pairs)
    assert moved == pytest.approx(size, rel=1e-6)


def test_bench_smoke_in_a_named_store_leaves_it_as_it_was(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """PUT and GET of 16 MiB in 4 objects, half the blocks duplicate; JSON fields sane."""
    store = tmp_path / "store"
    assert main(["--store", str(store), "mb", "mine"]) == 0
    report = bench(
        tmp_path,
        *("--store", str(store), "--size", "16MiB", "--objects", "4"),
        *("--data", "dup:0.5", "--phases", "put,get"),
    )
    out = capsys.readouterr().out
    assert "put" in out and "get" in out and "dedup ratio: 1.33" in out
    assert report["version"] == 1 and report["store"] == str(store)
    assert report["config"] == {
        "size": 16 * MIB,
        "objects": 4,
        "part_size": 64 * MIB,
        "concurrency": 2,
        "data": "dup:0.5",
        "duration": 60.0,
        "phases": ["put", "get"],
    }
    assert report["baseline"]["bytes"] == 16 * MIB and report["baseline"]["mb_s"] > 0
    put, get = report["phases"]
    check_phase(put, name="put", size=16 * MIB, objects=4)
    check_phase(get, name="get", size=16 * MIB, objects=4)
    assert put["latency"]["part"] is None
    # Two of the four 4 MiB blocks are the one shared block: 12 MiB stored.
    assert report["logical_bytes"] == 16 * MIB and report["stored_bytes"] == 12 * MIB
    assert report["dedup_ratio"] == pytest.approx(16 / 12)
    assert report["generator_cpu_s_per_gib"] >= 0
    # Cleaned up: the user's bucket alone remains, and no chunk.
    with objstore.open(store) as s:
        assert [b.name for b in s.root.list_buckets()] == ["mine"]
    assert chunk_bytes(str(store)) == 0


def test_bench_default_store_is_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without --store: a temporary store in the current directory, removed afterwards.
    Zeros deduplicate to one block."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OBJSTORE_DIR", str(tmp_path / "never-used"))
    # One thread: two concurrent first writers of the same new chunk may both
    # write a copy before either commits, which makes the growth on disk vary.
    report = bench(
        tmp_path,
        *("--size", "16MiB", "--data", "zeros", "--phases", "put"),
        *("--objects", "2", "--concurrency", "1"),
    )
    (put,) = report["phases"]
    check_phase(put, name="put", size=16 * MIB, objects=2)  # objects default to >= threads
    assert report["stored_bytes"] == 4 * MIB and report["dedup_ratio"] == 4.0
    assert Path(report["store"]).parent == tmp_path
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]
    assert "dedup ratio: 4.00" in capsys.readouterr().out


def test_bench_multipart_phase(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """16 MiB in parts of 5 MiB, two threads: objects of 10 + 6 MiB, four parts."""
    monkeypatch.chdir(tmp_path)
    report = bench(
        tmp_path,
        *("--size", "16MiB", "--objects", "4", "--part-size", "5MiB", "--phases", "multipart"),
    )
    (mp,) = report["phases"]
    check_phase(mp, name="multipart", size=16 * MIB, objects=2)
    part = mp["latency"]["part"]
    assert part["count"] == mp["parts"] == 4
    assert 0 < part["p50"] <= part["p90"] <= part["p99"] <= part["max"]
    # An object waits for its parts: its slowest part is within its latency.
    assert part["max"] <= mp["latency"]["object"]["max"]
    assert report["logical_bytes"] == report["stored_bytes"] == 16 * MIB
    assert report["dedup_ratio"] == 1.0


def test_bench_deadline_stops_phases(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A phase past its --duration starts nothing more and says so; empty phases report
    no latency and no CPU cost per GiB rather than dividing by zero."""
    monkeypatch.chdir(tmp_path)
    report = bench(tmp_path, "--size", "8MiB", "--duration", "0.000000001s")
    put, mp = report["phases"]  # no GET: nothing was written to read
    for phase in (put, mp):
        assert phase["complete"] is False and phase["bytes"] == 0 and phase["objects"] == 0
        assert phase["latency"] == {"object": None, "part": None}
        assert phase["cpu_s_per_gib"] is None and phase["mb_s"] == 0
    assert report["dedup_ratio"] is None
    out = capsys.readouterr().out
    assert "stopped at --duration" in out and "nothing stored" in out


def test_bench_plot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    png = tmp_path / "bench.png"
    bench(tmp_path, "--size", "8MiB", "--part-size", "5MiB", "--plot", str(png))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_bench_without_matplotlib_says_how_to_get_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import fails
    monkeypatch.chdir(tmp_path)
    assert main(["bench", "--size", "8MiB", "--plot", str(tmp_path / "p.png")]) == 1
    assert "objstore[plot]" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []  # refused before running


@pytest.mark.parametrize(
    "args,message",
    [
        (["--size", "ten"], "size 'ten'"),
        (["--duration", "5 fortnights"], "duration"),
        (["--data", "dup:2"], "dup:F"),
        (["--part-size", "1MiB"], "part size"),
        (["--concurrency", "0"], "concurrency"),
        (["--phases", "put,delete"], "--phases"),
        (["--json", "/no/such/dir/r.json"], "no such directory"),
        (["--size", "1TiB"], "choose a smaller --size"),
    ],
)
def test_bench_refuses_bad_options(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["bench", *args]) == 1
    assert message in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_parse_sizes_and_durations() -> None:
    assert parse_size("10GiB") == 10 << 30
    assert parse_size("64MiB") == 64 * MIB
    assert parse_size("100MB") == 100_000_000
    assert parse_size("4096") == 4096
    assert parse_size("1.5KiB") == 1536
    assert parse_duration("60s") == 60 and parse_duration("5m") == 300
    assert parse_duration("250ms") == 0.25 and parse_duration("2") == 2
    for bad in ("", "GiB", "-1MiB", "1 parsec", "\u0661\u0662MiB"):
        with pytest.raises(InvalidArgument):
            parse_size(bad)
    assert DataSpec.parse("dup:0.25") == DataSpec("dup", 0.25)
    assert str(DataSpec.parse("zeros")) == "zeros"


def test_data_streams_are_unique_and_duplicates_identical() -> None:
    """Unique blocks never repeat (within or across streams); duplicate blocks all match."""
    block = 64 * 1024
    source = DataSource(DataSpec("dup", 0.5), block)
    streams = [source.stream(4 * block).read() for _ in range(3)]
    blocks = [s[i : i + block] for s in streams for i in range(0, len(s), block)]
    assert all(len(s) == 4 * block for s in streams)
    dups = [b for b in blocks if b == source.dup_block]
    assert len(dups) == 6  # every second block of the 12
    unique = [b for b in blocks if b != source.dup_block]
    assert len(set(unique)) == len(unique) == 6
    random = DataSource(DataSpec("random"), block)
    a, b = random.stream(3 * block + 5).read(), random.stream(3 * block + 5).read()
    assert len(a) == 3 * block + 5 and a != b
    assert len({a[i : i + block] for i in range(0, len(a), block)}) == 4
    assert DataSource(DataSpec("zeros"), block).stream(2 * block + 1).read() == bytes(2 * block + 1)


def test_short_target_buffers_get_every_byte() -> None:
    """readinto into buffers smaller than the cipher's slack still fills them exactly."""
    source = DataSource(DataSpec("random"), 1024, key=b"k" * 32)
    whole = source.stream(5000).read()
    again = DataSource(DataSpec("random"), 1024, key=b"k" * 32).stream(5000)
    pieces = []
    buf = bytearray(7)
    while n := again.readinto(memoryview(buf)):
        pieces.append(bytes(buf[:n]))
    assert b"".join(pieces) == whole


@given(st.lists(st.floats(0, 1e6, allow_nan=False), min_size=1, max_size=50))
def test_percentiles(values: list[float]) -> None:
    ordered = sorted(values)
    assert percentile(ordered, 0) == ordered[0] and percentile(ordered, 100) == ordered[-1]
    assert percentile(ordered, 50) == pytest.approx(statistics.median(values))
    summary = latency(values)
    assert summary is not None and summary.count == len(values)
    assert ordered[0] <= summary.p50 <= summary.p90 <= summary.p99 <= summary.max
    assert latency([]) is None


def test_config_object_counts() -> None:
    assert BenchConfig(size=10 << 30).object_count == 160
    assert BenchConfig(size=3, concurrency=8).object_count == 3
    assert BenchConfig(size=100 * MIB, objects=7).object_count == 7
    with pytest.raises(InvalidArgument):
        BenchConfig(size=10, objects=11)


def test_the_timeline_ends_where_the_phase_ended() -> None:
    """Slices in which no bytes arrived (a phase's final commit on a busy machine) still
    count: the last point is the phase's end (this check failed under load 16)."""
    now = [10.0]
    meter = Meter(interval=0.5, clock=lambda: now[0])
    now[0] = 10.1
    meter.add(1_000_000)
    line = meter.timeline(end=12.3)
    assert [t for t, _ in line] == pytest.approx([0.5, 1.0, 1.5, 2.0, 2.3])
    assert [round(mbps, 6) for _, mbps in line] == [2.0, 0.0, 0.0, 0.0, 0.0]
