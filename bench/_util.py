"""Shared machinery of the benchmarks: work space, warm-up, timers, baselines, RSS, peers.

Everything here is plain Python over the standard library, ``blake3`` and ``lmdb``; nothing
imports objstore, so the helpers run (and are smoke-tested) without the store.

Why the care: this VM backs guest memory lazily (see docs/performance.md). A page the guest never
touched costs ~0.4 GB/s the first time, a recycled one ~2 GB/s or better, so every benchmark warms
memory first, keeps its files until its end, and alternates subject and baseline in one process.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
import queue
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import blake3

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB

# Read/write piece for baselines: large enough that per-call overhead vanishes and hashlib drops
# the GIL, small enough to stay in L2/L3-friendly territory and cost no memory.
IO_PIECE = 4 * MiB

BENCH_DIR = Path(__file__).resolve().parent
# Same filesystem as the project (the store under test lives there too); git-ignored.
WORK_ROOT = BENCH_DIR / ".work"

Status = Literal["PASS", "MISS", "INFO", "SKIP"]


# --------------------------------------------------------------------------------------------
# Configuration and results


@dataclass(frozen=True, slots=True)
class Config:
    """What one run measures: sizes, repetitions, and where work data goes."""

    size: int = 1 * GiB  # the large object of PUT/GET/dedup/peers
    reps: int = 3  # alternated repetitions per subject
    list_keys: int = 1_000_000  # keys for the listing benchmark
    list_budget_s: float = 240.0  # populate time the listing benchmark may spend at most
    rss_size: int = 4 * GiB  # the streamed PUT whose peak RSS is measured
    quiet_wait_s: float = 90.0  # total time a run may wait for other load to calm down
    quick: bool = False
    work_root: Path = WORK_ROOT

    @staticmethod
    def quick_config(work_root: Path = WORK_ROOT) -> Config:
        """Small sizes for smoke-testing the harness (figures are not meaningful)."""
        return Config(
            size=64 * MiB,
            reps=2,
            list_keys=5_000,
            list_budget_s=30.0,
            rss_size=256 * MiB,
            quiet_wait_s=0.0,
            quick=True,
            work_root=work_root,
        )


@dataclass(frozen=True, slots=True)
class Figure:
    """One printed result line: a value, its baseline, the ratio and the verdict."""

    name: str
    value: float
    unit: str
    baseline_name: str = ""
    baseline_value: float = 0.0
    target: str = ""  # e.g. ">= 0.9 x bound" or "< 128 MiB"; empty for information only
    status: Status = "INFO"
    best: float = 0.0  # best of the repetitions (value is the median), 0 when not applicable
    note: str = ""

    @property
    def ratio(self) -> float:
        """Value over baseline (0 when there is no baseline)."""
        return self.value / self.baseline_value if self.baseline_value else 0.0

    def line(self) -> str:
        """The one-line rendering printed by every benchmark."""
        # A figure without a unit only carries a verdict (its numbers were printed elsewhere).
        value = f"{self.value:>11,.1f} {self.unit:<6}" if self.unit else " " * 18
        parts = [f"{self.name:<30} {value}"]
        if self.best:
            parts.append(f"(best {self.best:,.1f})")
        if self.baseline_name:
            parts.append(
                f"| {self.baseline_name} {self.baseline_value:,.1f} {self.unit}"
                f" | ratio {self.ratio:.2f}"
            )
        if self.target:
            parts.append(f"| target {self.target}")
        parts.append(f"| {self.status}")
        if self.note:
            parts.append(f"| {self.note}")
        return " ".join(parts)


def notes(*parts: str) -> str:
    """Join the non-empty parts of a figure's note."""
    return "; ".join(p for p in parts if p)


def verdict(ok: bool) -> Status:
    """PASS or MISS."""
    return "PASS" if ok else "MISS"


def emit(fig: Figure, sink: list[Figure]) -> Figure:
    """Print a figure as soon as it is known (a long run shows progress) and collect it."""
    print(fig.line(), flush=True)
    sink.append(fig)
    return fig


def say(msg: str) -> None:
    """Progress and notes, prefixed so they are not mistaken for result lines."""
    print(f"  .. {msg}", flush=True)


# --------------------------------------------------------------------------------------------
# Statistics over repetitions


@dataclass(frozen=True, slots=True)
class CpuMark:
    """A point in time: wall clock, this process's CPU (with reaped children), all CPUs busy."""

    wall: float
    own: float
    busy: float

    @staticmethod
    def now() -> CpuMark:
        """Take a mark (CPU figures in seconds)."""
        t = os.times()
        return CpuMark(
            time.perf_counter(), t.user + t.system + t.children_user + t.children_system, _busy()
        )

    def since(self, earlier: CpuMark) -> tuple[float, float]:
        """(own CPU seconds, cores used by everything else on average) between two marks.

        "Everything else" is other processes and kernel threads (including the writeback and
        reclaim our own I/O causes): the load a figure was measured under.
        """
        wall = max(self.wall - earlier.wall, 1e-9)
        own = self.own - earlier.own
        return own, max(0.0, (self.busy - earlier.busy) - own) / wall


_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _busy() -> float:
    """Seconds all CPUs spent not idle since boot (/proc/stat; 0 where it does not exist)."""
    try:
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
    except (OSError, ValueError):
        return 0.0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    # guest time is already included in user time; steal is time we did not get
    total = sum(fields[:8])
    return (total - idle) / _TICK


def wait_quiet(max_wait: float, threshold: float = 0.3, window: float = 0.5) -> float:
    """Wait (up to ``max_wait`` s) until other work uses under ``threshold`` cores.

    Other engineers' test runs and the kernel's writeback of the previous measurement share
    the two cores with us; starting a measurement in a quiet moment keeps them out of it.
    Returns the seconds waited.
    """
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < max_wait:
        mark = CpuMark.now()
        time.sleep(window)
        if CpuMark.now().since(mark)[1] < threshold:
            break
    return time.perf_counter() - t0


@dataclass(frozen=True, slots=True)
class Samples:
    """Repetitions of one subject over the same ``amount`` (bytes or items)."""

    seconds: tuple[float, ...]
    amount: float
    cpu: tuple[float, ...] = ()  # own core-seconds per repetition (threads + child processes)
    others: tuple[float, ...] = ()  # cores used by everything else during each repetition

    @property
    def best_rate(self) -> float:
        """Amount per second of the fastest repetition."""
        return self.amount / min(self.seconds)

    @property
    def median_rate(self) -> float:
        """Amount per second of the median repetition (robust to one noisy repetition)."""
        return self.amount / statistics.median(self.seconds)

    def mb_s(self) -> tuple[float, float]:
        """(median, best) in MB/s (10^6 bytes, as disks and the issue quote them)."""
        return self.median_rate / 1e6, self.best_rate / 1e6

    def load_note(self, per: float = GiB, unit: str = "GiB") -> str:
        """Own CPU cost per ``per`` of amount, and the load others put on the machine meanwhile.

        CPU cost barely depends on contention, so it compares runs where MB/s cannot.
        """
        if not self.cpu:
            return ""
        cost = statistics.median(self.cpu) / self.amount * per
        return f"cpu {cost:.2f} core-s/{unit}, others {max(self.others):.1f} cores"


def alternate(
    reps: int,
    amount: float,
    subjects: Sequence[tuple[str, Callable[[int], float]]],
    before: Callable[[], object] | None = None,
) -> dict[str, Samples]:
    """Run each subject ``reps`` times, interleaved; return their Samples over ``amount``.

    A subject is called with the repetition index and returns its own elapsed time, so that it
    can leave set-up (opening a store, creating a bucket) out of the measurement; its CPU use
    and the load of other processes are recorded around the whole call. The order is rotated
    every repetition so that no subject always follows the same neighbour (page cache and CPU
    frequency effects then average out instead of biasing one side). ``before`` runs, untimed,
    ahead of every call (the run passes ``Context.settle``).
    """
    secs: dict[str, list[float]] = {name: [] for name, _ in subjects}
    cpu: dict[str, list[float]] = {name: [] for name, _ in subjects}
    others: dict[str, list[float]] = {name: [] for name, _ in subjects}
    n = len(subjects)
    for rep in range(reps):
        for j in range(n):
            name, fn = subjects[(rep + j) % n]
            if before is not None:
                before()
            mark = CpuMark.now()
            secs[name].append(fn(rep))
            own, load = CpuMark.now().since(mark)
            cpu[name].append(own)
            others[name].append(load)
    out: dict[str, Samples] = {}
    for name in secs:
        out[name] = Samples(tuple(secs[name]), amount, tuple(cpu[name]), tuple(others[name]))
        # the raw repetitions, to see the spread behind a median
        say(
            f"{name}: "
            + " ".join(f"{x:.3f}" for x in secs[name])
            + " s; others "
            + " ".join(f"{x:.1f}" for x in others[name])
            + " cores"
        )
    return out


def timed(fn: Callable[[], object]) -> float:
    """Seconds one call of ``fn`` takes (perf_counter)."""
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


# --------------------------------------------------------------------------------------------
# Work space and data


class Workspace:
    """A temp dir under bench/.work (same filesystem as the store); removed on exit."""

    def __init__(self, root: Path = WORK_ROOT, keep: bool = False) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.path = Path(tempfile.mkdtemp(prefix="run-", dir=root))
        self.keep = keep
        # Deleting cached files frees memory, which this VM turns cold (see MemoryWarmer), so a
        # run keeps every benchmark's files to the end when the disk has room for them all.
        self.defer_drops = False

    def sub(self, name: str) -> Path:
        """A fresh sub-directory (removed with the workspace, or earlier with ``drop``)."""
        p = self.path / name
        p.mkdir(parents=True, exist_ok=False)
        return p

    def drop(self, p: Path) -> None:
        """Remove a sub-directory a benchmark is done with (at close, when drops are deferred)."""
        if not self.keep and not self.defer_drops:
            shutil.rmtree(p, ignore_errors=True)

    def close(self) -> None:
        """Remove everything (unless asked to keep it for inspection)."""
        if not self.keep:
            shutil.rmtree(self.path, ignore_errors=True)
            with contextlib.suppress(OSError):
                self.path.parent.rmdir()  # only succeeds when no other run is using it

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def data_piece(seed: bytes, offset: int, length: int) -> bytes:
    """``length`` pseudo-random bytes at ``offset`` of the stream named ``seed``.

    BLAKE3's extendable output is seekable and runs at ~4.5 GB/s here, so data of any size is
    incompressible, never repeats (no accidental dedup inside one object), and costs no memory.
    """
    return blake3.blake3(seed).digest(length=length, seek=offset)


def generate(size: int, seed: bytes = b"objstore-bench", piece: int = 1 * MiB) -> Iterator[bytes]:
    """Yield ``size`` bytes of the ``seed`` stream as fresh ``piece``-sized bytes objects.

    Fresh objects, not one reused buffer: a consumer may legitimately keep a piece alive (hand
    it to a hashing thread), so mutating it under its feet would corrupt the measurement.
    """
    off = 0
    while off < size:
        n = min(piece, size - off)
        yield data_piece(seed, off, n)
        off += n


def make_source_file(path: Path, size: int, seed: bytes = b"objstore-bench") -> Path:
    """Write ``size`` bytes of the ``seed`` stream to ``path`` and fsync it (left in cache)."""
    with open(path, "wb") as f:
        for piece in generate(size, seed, 8 * MiB):
            f.write(piece)
        f.flush()
        os.fsync(f.fileno())
    return path


def meminfo(field: str) -> int:
    """One field of /proc/meminfo (``MemFree``, ``MemAvailable``...) in bytes; 0 when unknown."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * KiB
    except OSError:
        pass
    return 0


class MemoryWarmer:
    """Keeps the page cache full of touched, clean, reclaimable pages for the whole run.

    Why not "write and delete a big file" (what performance.md first suggested): this VM runs
    with free page reporting (virtio-balloon, ``page_reporting``), so pages freed by a delete are
    handed back to the host within seconds and are cold again: measured here, a 1 GiB write+fsync
    ran at 1.58 GB/s right after deleting a file, 0.26 GB/s ten seconds later. Freed memory does
    not stay warm; only memory still in use does.

    So the warmer reads a sparse file (holes: no disk blocks, no disk I/O) until MemFree is down
    to the kernel's reclaim floor. From then on every allocation -- page cache of the store and of
    the baselines, a peer's heap -- is served by reclaiming filler pages, which were touched and
    are warm. Whenever memory is freed during the run (a child exits, files are deleted),
    ``top_up`` reads on until MemFree is back at that floor. The file is removed at the end.
    """

    CHUNK = 64 * MiB

    def __init__(self, directory: Path) -> None:
        self.path = directory / "warm-filler.sparse"
        with open(self.path, "wb") as f:
            f.truncate(1 << 40)  # 1 TiB of holes: costs no disk, reads allocate page cache
        self._fd = os.open(self.path, os.O_RDONLY)
        self._buf = bytearray(self.CHUNK)
        self.offset = 0
        self.floor = 0  # MemFree once the page cache is full (the kernel's reclaim point)

    def _read(self, nbytes: int) -> int:
        done = 0
        while done < nbytes:
            n = os.preadv(self._fd, [self._buf], self.offset)
            self.offset += n
            done += n
        return done

    def fill(self, limit: int | None = None) -> tuple[int, float]:
        """Read filler until MemFree stops falling (or ``limit`` bytes); return (bytes, MB/s)."""
        cap = limit if limit is not None else meminfo("MemFree") + 2 * GiB
        done = 0
        t0 = time.perf_counter()
        while done < cap:
            before = meminfo("MemFree")
            done += self._read(min(4 * self.CHUNK, cap - done))
            # Reading no longer lowers MemFree: the kernel now reclaims to serve allocations.
            if before - meminfo("MemFree") < 2 * self.CHUNK and before < 2 * GiB:
                break
        self.floor = meminfo("MemFree")
        return done, done / max(time.perf_counter() - t0, 1e-9) / 1e6

    def top_up(self) -> int:
        """Give back to the page cache what was freed since the last call; return bytes read."""
        excess = meminfo("MemFree") - self.floor - 256 * MiB
        return self._read(excess + self.CHUNK) if excess > 0 else 0

    def close(self) -> None:
        """Drop the filler (its pages are freed: the run is over)."""
        os.close(self._fd)
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


def tree_size(path: Path) -> int:
    """Disk bytes allocated to the files under ``path`` (what a store or repo occupies).

    Allocated blocks, not ``st_size``: LMDB and sparse files may claim more than they use.
    """
    total = 0
    for dirpath, _dirs, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(dirpath, name)).st_blocks * 512
    return total


# --------------------------------------------------------------------------------------------
# Baselines (each returns elapsed seconds; each reads its input from a file, as the store does)


def _pieces(src: Path, buf: bytearray) -> Iterator[memoryview]:
    """Read ``src`` into the one reused ``buf`` (no allocation per piece), yielding views."""
    view = memoryview(buf)
    with open(src, "rb", buffering=0) as f:
        while True:
            n = f.readinto(buf)
            if not n:
                return
            yield view[:n]


def baseline_write_fsync(src: Path, dst: Path) -> float:
    """Copy ``src`` to a new plain file ``dst`` and fsync it: the disk bound of a PUT."""
    buf = bytearray(IO_PIECE)
    t0 = time.perf_counter()
    with open(dst, "wb", buffering=0) as out:
        for piece in _pieces(src, buf):
            out.write(piece)
        os.fsync(out.fileno())
    return time.perf_counter() - t0


def baseline_md5(src: Path) -> tuple[float, str]:
    """MD5 of ``src`` (read included): the hash bound of an S3-exact ETag. Returns (s, hex)."""
    buf = bytearray(IO_PIECE)
    t0 = time.perf_counter()
    h = hashlib.md5()
    for piece in _pieces(src, buf):
        h.update(piece)
    return time.perf_counter() - t0, h.hexdigest()


def baseline_read(src: Path) -> float:
    """Read ``src`` through a reused buffer (page cache, no hashing): the bound of a GET."""
    buf = bytearray(IO_PIECE)
    t0 = time.perf_counter()
    for _ in _pieces(src, buf):
        pass
    return time.perf_counter() - t0


def blake3_file(src: Path) -> str:
    """BLAKE3 hex of a file (for correctness checks outside the timed sections)."""
    h = blake3.blake3()
    for piece in _pieces(src, bytearray(IO_PIECE)):
        h.update(piece)
    return h.hexdigest()


def baseline_blake3_md5(src: Path, nbufs: int = 4) -> tuple[float, str, str]:
    """BLAKE3 in this thread and MD5 in a second one over ``src``: the bound of a dedup re-PUT.

    Buffers circulate through a small pool (read -> BLAKE3 here -> MD5 there -> back to the
    pool), the way a store pipelines them, so the MD5 thread never waits on a fresh allocation.
    Returns (seconds, blake3 hex, md5 hex).
    """
    free: queue.Queue[bytearray] = queue.Queue()
    for _ in range(nbufs):
        free.put(bytearray(IO_PIECE))
    todo: queue.Queue[tuple[bytearray, int] | None] = queue.Queue()
    md5 = hashlib.md5()

    def md5_worker() -> None:
        while (item := todo.get()) is not None:
            buf, n = item
            md5.update(memoryview(buf)[:n])
            free.put(buf)

    t0 = time.perf_counter()
    worker = threading.Thread(target=md5_worker, name="bench-md5")
    worker.start()
    b3 = blake3.blake3()
    try:
        with open(src, "rb", buffering=0) as f:
            while True:
                buf = free.get()
                n = f.readinto(buf)
                if not n:
                    break
                b3.update(memoryview(buf)[:n])
                todo.put((buf, n))
    finally:
        todo.put(None)
        worker.join()
    return time.perf_counter() - t0, b3.hexdigest(), md5.hexdigest()


def lmdb_fill(directory: Path, keys: Iterable[bytes], value: bytes) -> int:
    """Write ``keys`` (each with ``value``) into a plain LMDB environment in one transaction.

    The counterpart of the listing benchmark's populate step, for its raw-scan baseline.
    Returns the number of keys written.
    """
    import lmdb  # local: only the listing benchmark needs it

    env = lmdb.open(str(directory), map_size=16 * GiB, sync=False, metasync=False)
    n = 0
    try:
        with env.begin(write=True) as txn:
            for k in keys:
                txn.put(k, value)
                n += 1
    finally:
        env.close()
    return n


def baseline_lmdb_scan(directory: Path) -> tuple[float, int]:
    """Cursor-scan every key of the LMDB environment at ``directory``: (seconds, keys seen).

    The floor of any LMDB-backed listing: what visiting the same number of keys costs with no
    S3 logic on top (keys and values are materialised as bytes, as a lister must).
    """
    import lmdb

    env = lmdb.open(str(directory), map_size=16 * GiB, readonly=True, lock=False)
    try:
        t0 = time.perf_counter()
        count = 0
        with env.begin() as txn:
            for _k, _v in txn.cursor():
                count += 1
        elapsed = time.perf_counter() - t0
    finally:
        env.close()
    return elapsed, count


# --------------------------------------------------------------------------------------------
# Peak RSS of a child process


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


# --------------------------------------------------------------------------------------------
# Peer tools


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


# --------------------------------------------------------------------------------------------
# The run context every benchmark module receives, and the store under test


QUIET_WAIT_EACH = 10.0  # seconds one measurement waits at most for a quiet moment


class Context:
    """One run: its configuration, work space, the shared source file and the figures so far."""

    def __init__(self, cfg: Config, ws: Workspace, warmer: MemoryWarmer | None = None) -> None:
        self.cfg = cfg
        self.ws = ws
        self.warmer = warmer
        self.figures: list[Figure] = []
        self._source: Path | None = None
        self.waited = 0.0  # seconds spent waiting for quiet moments so far

    def settle(self) -> None:
        """Before each measured call: re-warm freed memory, then wait for a quiet moment."""
        if self.warmer is not None:
            self.warmer.top_up()
        left = min(QUIET_WAIT_EACH, self.cfg.quiet_wait_s - self.waited)
        if left > 0:
            waited = wait_quiet(left)
            self.waited += waited
            if waited >= left:
                say(
                    f"others still busy after {waited:.0f} s: measuring anyway "
                    f"({max(0.0, self.cfg.quiet_wait_s - self.waited):.0f} s of waiting left)"
                )

    def source(self) -> Path:
        """The ``cfg.size`` data file every large-object benchmark reads (made once per run)."""
        if self._source is None:
            self.settle()
            say(f"writing the {self.cfg.size / MiB:,.0f} MiB source file")
            self._source = make_source_file(self.ws.path / "source.bin", self.cfg.size)
        return self._source

    def emit(self, fig: Figure) -> Figure:
        """Print and record one result line."""
        return emit(fig, self.figures)


def open_store(path: Path, **options: str) -> Any:
    """``objstore.open(path, **options)``; objstore is imported here, not at module import."""
    import objstore

    opener: Callable[..., Any] = objstore.open  # type: ignore[attr-defined, unused-ignore]
    return opener(str(path), **options)


def store_supports(probe_dir: Path, **options: str) -> bool:
    """Whether ``objstore.open`` accepts ``options`` (probed on a throw-away store)."""
    from objstore.errors import ObjstoreError

    try:
        store = open_store(probe_dir, **options)
        store.close()
    except (TypeError, ValueError, ObjstoreError) as exc:
        shown = ", ".join(f"{k}={v!r}" for k, v in options.items())
        say(f"objstore.open({shown}) refused: {exc}")
        return False
    finally:
        shutil.rmtree(probe_dir, ignore_errors=True)
    return True


BUCKET = "bench"


def fresh_store(path: Path, **options: str) -> Any:
    """Open a new store at ``path`` with the benchmark bucket already created."""
    store = open_store(path, **options)
    store.root.create_bucket(BUCKET)
    return store


def put_file(store: Any, key: str, src: Path) -> tuple[float, Any]:
    """PUT the file ``src`` as ``key`` (streamed from the open file); return (seconds, result).

    Only ``put_object`` is timed: it returns after the durable commit, which is what a client
    waits for.
    """
    size = src.stat().st_size
    with open(src, "rb") as f:
        t0 = time.perf_counter()
        result = store.root.put_object(BUCKET, key, f, content_length=size)
        elapsed = time.perf_counter() - t0
    if result.size != size:
        raise RuntimeError(f"put_object stored {result.size} bytes of {size}")
    return elapsed, result
