"""SIGKILL at any stage of any operation loses nothing acknowledged and shows nothing half-done.

A child process (tests/crashkit/child.py) runs a random mix of PUTs (inline,
one chunk, several chunks, several pending batches), versioned PUTs and version
deletes, copies, deletes, multi-deletes, multipart uploads (create, part
uploads, completion) and aborted ones, versioning changes and gc, and kills
itself at the N-th crossing of a chosen pipeline stage (chunk write, after the
rename, chunk sync, metadata transaction begin, just before and just after the
commit, chunk deletion), or is killed by the parent at a random moment. After
each kill the parent reopens the store (no repair step) and checks it against
the child's log of acknowledged operations: every acknowledged write reads back
byte-exact; the one operation in flight either happened whole or not at all;
nothing else is visible; listings agree with reads; the integrity check is clean.
The store carries over from kill to kill, so crash leftovers pile up and later
runs (and their gc) must cope with them.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import objstore
from objstore.errors import NoSuchKey
from tests.crashkit.child import PLAIN, TOGGLE, VER, body

CHILD = Path(__file__).parent / "crashkit" / "child.py"
KEYS = [f"k{i}" for i in range(6)] + ["dir/ä", "dir/\x01x"]
STAGES = [
    "chunk_write",
    "chunk_written",
    "chunk_sync",
    "chunk_synced",
    "meta_begin",
    "meta_precommit",
    "meta_committed",
    "chunk_delete",
    "chunk_deleted",
    "none",
]
KILLS_WANTED = 50


def _read_log(path: Path) -> tuple[list[dict[str, Any]], dict[str, Any] | None, bool]:
    """Acknowledged intents in order, the one in flight (if any), whether the child finished."""
    intents: dict[int, dict[str, Any]] = {}
    acked: list[dict[str, Any]] = []
    done = False
    for raw in path.read_text().splitlines():
        line = json.loads(raw)
        if "i" in line:
            intents[line["i"]] = line
        elif "a" in line:
            op = intents.pop(line["a"])
            acked.append({**op, **line})
        elif line.get("done"):
            done = True
    assert len(intents) <= 1, "at most one operation can be in flight"
    flight = next(iter(intents.values()), None)
    return acked, flight, done


def _apply(model: dict[str, Any], op: dict[str, Any]) -> None:
    kind = op["op"]
    if kind in ("put", "copy", "multipart"):
        model["plain"][op["key"]] = op["spec"]
    elif kind == "delete":
        model["plain"].pop(op["key"], None)
    elif kind == "delete_many":
        for k in op["keys"]:
            model["plain"].pop(k, None)
    elif kind == "put_ver":
        model["ver"][op["vid"]] = [op["key"], op["spec"]]
    elif kind == "delete_ver":
        model["ver"].pop(op["vid"], None)
    elif kind == "versioning":
        model["toggle"] = op["status"]


def _all_versions(s3: Any) -> list[Any]:
    out: list[Any] = []
    km: str | None = None
    vm: str | None = None
    while True:
        page = s3.list_object_versions(VER, key_marker=km, version_id_marker=vm)
        out.extend(page.versions)
        if not page.is_truncated:
            return out
        km, vm = page.next_key_marker, page.next_version_id_marker


def _verify(path: Path, model: dict[str, Any], flight: dict[str, Any] | None) -> dict[str, Any]:
    """Check the reopened store against ``model`` (+ the in-flight op); return what is there."""
    kind = flight["op"] if flight else None
    seen: dict[str, Any] = {"plain": {}, "ver": {}, "toggle": model["toggle"]}
    with objstore.open(path) as store:
        s3 = store.root
        # Unversioned bucket: each key holds its acknowledged state or the in-flight one's.
        for key in KEYS:
            allowed = [model["plain"].get(key)]
            if kind in ("put", "copy", "multipart") and flight and flight["key"] == key:
                allowed.append(flight["spec"])
            if (kind == "delete" and flight and flight["key"] == key) or (
                kind == "delete_many" and flight and key in flight["keys"]
            ):
                allowed.append(None)
            try:
                data = s3.get_object(PLAIN, key).read()
            except NoSuchKey:
                assert None in allowed, f"acknowledged {key!r} lost"
                continue
            match = [sp for sp in allowed if sp is not None and body(sp) == data]
            assert match, f"{key!r} holds bytes nobody acknowledged"
            seen["plain"][key] = match[0]
        listed = {o.key for o in s3.list_objects(PLAIN, max_keys=1000).contents}
        assert listed == set(seen["plain"]), "listing disagrees with reads"
        # Versioned bucket: acknowledged versions stay; the in-flight put may add one.
        for v in _all_versions(s3):
            vid = str(v.version_id)
            if vid in model["ver"]:
                key, sp = model["ver"][vid]
            else:
                assert kind == "put_ver" and flight, f"version {vid} nobody wrote"
                key, sp = flight["key"], flight["spec"]
                assert v.key == key
            assert s3.get_object(VER, key, version_id=vid).read() == body(sp)
            seen["ver"][vid] = [key, sp]
        missing = set(model["ver"]) - set(seen["ver"])
        if kind == "delete_ver" and flight:
            missing.discard(flight["vid"])
        assert not missing, f"acknowledged versions lost: {missing}"
        # Versioning change: old or new state, nothing else.
        status = s3.get_bucket_versioning(TOGGLE)
        allowed_status = {model["toggle"]} | ({flight["status"]} if kind == "versioning" else set())
        assert status in allowed_status
        seen["toggle"] = status
        if hasattr(store, "fsck"):
            report = store.fsck(verify_data=True)
            assert not report.missing and not report.corrupt, report
        store.gc()
        for key, sp in seen["plain"].items():  # gc after a crash keeps every live byte
            assert s3.get_object(PLAIN, key).read() == body(sp)
    return seen


@pytest.mark.slow
def test_sigkill_at_every_stage_loses_nothing_acknowledged(tmp_path: Path) -> None:
    path = tmp_path / "store"
    with objstore.open(path) as store:
        for b in (PLAIN, VER, TOGGLE):
            store.root.create_bucket(b)
        store.root.put_bucket_versioning(VER, "Enabled")
    model: dict[str, Any] = {"plain": {}, "ver": {}, "toggle": None, "next": 0, "fresh": False}
    rng = random.Random(20261130)
    kills: dict[str, int] = {}
    runs = 0
    while sum(kills.values()) < KILLS_WANTED:
        runs += 1
        assert runs < 4 * KILLS_WANTED, f"too few kill points reached: {kills}"
        stage = STAGES[runs % len(STAGES)]
        n = rng.randint(1, 12)
        model_file, log_file = tmp_path / "model.json", tmp_path / f"log{runs}.jsonl"
        model_file.write_text(json.dumps(model))
        cmd = [sys.executable, str(CHILD), str(path), str(model_file), str(log_file)]
        proc = subprocess.Popen(
            [*cmd, f"seed{runs}", stage, str(n)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        if stage == "none":
            assert proc.stdout is not None
            assert proc.stdout.readline().strip() == "ready"
            time.sleep(rng.uniform(0.0, 0.6))
            proc.kill()
        try:
            proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
            pytest.fail(f"child hung at stage {stage}")
        acked, flight, done = _read_log(log_file)
        if proc.returncode not in (-9, 0):
            pytest.fail(
                f"child failed ({proc.returncode}): {proc.stderr.read() if proc.stderr else ''}"
            )
        if proc.returncode == -9:
            kills[stage] = kills.get(stage, 0) + 1
        else:
            assert done and flight is None
        for op in acked:
            _apply(model, op)
        seen = _verify(path, model, flight)
        model.update(seen)
        model["next"] = int(model["next"]) + 1000
    print(f"{runs} runs, kills by stage: {kills}")
    assert len(kills) >= 8, f"kill points must cover the pipeline stages: {kills}"
