"""Start, stop and inspect the services of one state directory (under its lock)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

from objstore.testing.services import ceph, postgres
from objstore.testing.services._proc import locked
from objstore.testing.services.state import ServicesState, load, save, state_dir

SERVICES = ("postgres", "ceph")


def start(names: Sequence[str] = SERVICES, directory: Path | None = None) -> ServicesState:
    """Start ``names`` in ``directory`` (default :func:`state_dir`), reusing running ones.

    Returns the state also written to ``env.json``. Raises ServiceError when a service cannot
    be started (the message says why).
    """
    d = directory or state_dir()
    d.mkdir(parents=True, exist_ok=True)
    with locked(d / ".lock"):
        state = load(d) or ServicesState(state_dir=str(d))
        state = dataclasses.replace(state, state_dir=str(d))
        if "postgres" in names:
            state = dataclasses.replace(state, postgres=postgres.ensure(d, state.postgres))
            save(state)
        if "ceph" in names:
            cinfo, rinfo = ceph.ensure(d)
            state = dataclasses.replace(state, ceph=cinfo, rgw=rinfo)
            save(state)
        return state


def stop(names: Sequence[str] = SERVICES, directory: Path | None = None) -> list[str]:
    """Stop ``names`` in ``directory``; returns the names of those that were running."""
    d = directory or state_dir()
    if not d.exists():
        return []
    stopped: list[str] = []
    with locked(d / ".lock"):
        state = load(d)
        if "ceph" in names and ceph.stop(d):
            stopped.append("ceph")
        if "postgres" in names and postgres.stop(d, state.postgres if state else None):
            stopped.append("postgres")
    return stopped


def status(directory: Path | None = None) -> dict[str, bool]:
    """Which services of ``directory`` answer now."""
    d = directory or state_dir()
    state = load(d)
    out = {name: False for name in SERVICES}
    if state is None:
        return out
    if state.postgres is not None and (d / "postgres").exists():
        out["postgres"] = postgres.cluster_for(d, state.postgres).running()
    if state.rgw is not None:
        out["ceph"] = ceph.rgw_answers(state.rgw)
    return out
