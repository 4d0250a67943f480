"""The run context every benchmark module receives, and the store under test."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench._core import Config, Figure, MiB, emit, say
from bench._data import MemoryWarmer, Workspace, make_source_file
from bench._stats import wait_quiet

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
            # Under --busy the hog is load we asked for: wait only for the rest to calm down.
            waited = wait_quiet(left, threshold=1.3 if self.cfg.busy else 0.3)
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


def put_file(store: Any, key: str, src: Path, **options: Any) -> tuple[float, Any]:
    """PUT the file ``src`` as ``key`` (streamed from the open file, with ``put_object``'s
    ``options``); return (seconds, result).

    Only ``put_object`` is timed: it returns after the durable commit, which is what a client
    waits for.
    """
    size = src.stat().st_size
    with open(src, "rb") as f:
        t0 = time.perf_counter()
        result = store.root.put_object(BUCKET, key, f, content_length=size, **options)
        elapsed = time.perf_counter() - t0
    if result.size != size:
        raise RuntimeError(f"put_object stored {result.size} bytes of {size}")
    return elapsed, result
