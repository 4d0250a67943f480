"""Many writers: 4 processes x 4 threads of mixed operations on overlapping keys.

Afterwards every acknowledged version reads back byte-exact, every version or
delete marker present was acknowledged by some writer, and the listing of the
latest objects matches the versions present. Readers checked every body they saw
during the run (bodies carry their own checksum header).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import objstore
from tests.crashkit.stress import BUCKET, check_body, make_body

STRESS = Path(__file__).parent / "crashkit" / "stress.py"


@pytest.mark.slow
def test_four_processes_of_four_threads_agree_with_their_logs(tmp_path: Path) -> None:
    path = tmp_path / "store"
    with objstore.open(path) as store:
        store.root.create_bucket(BUCKET)
        store.root.put_bucket_versioning(BUCKET, "Enabled")
    logs = [tmp_path / f"log{p}.jsonl" for p in range(4)]
    procs = [
        subprocess.Popen(
            [sys.executable, str(STRESS), str(path), str(log), f"p{p}", "4", "4"],
            stderr=subprocess.PIPE,
            text=True,
        )
        for p, log in enumerate(logs)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, err
    puts: dict[str, tuple[str, int, int]] = {}
    deleted: set[str] = set()
    markers: set[str] = set()
    for log in logs:
        lines = [json.loads(x) for x in log.read_text().splitlines()]
        assert lines[-1].get("done"), "a writer did not finish"
        assert lines[-1]["failures"] == []
        for line in lines[:-1]:
            if line["op"] == "put":
                puts[line["vid"]] = (line["key"], line["seed"], line["size"])
            elif line["op"] == "delete_version":
                deleted.add(line["vid"])
            else:
                markers.add(line["vid"])
    assert len(puts) > 100, "the run did too little to mean anything"
    with objstore.open(path) as store:
        s3 = store.root
        versions, found_markers = [], []
        km = vm = None
        while True:
            page = s3.list_object_versions(BUCKET, key_marker=km, version_id_marker=vm)
            versions.extend(page.versions)
            found_markers.extend(page.delete_markers)
            if not page.is_truncated:
                break
            km, vm = page.next_key_marker, page.next_version_id_marker
        present = {str(v.version_id): v for v in versions}
        assert set(present) == set(puts) - deleted
        assert {str(m.version_id) for m in found_markers} == markers
        for vid, (key, seed, size) in puts.items():
            if vid in present:
                assert present[vid].key == key
                data = s3.get_object(BUCKET, key, version_id=vid).read()
                assert data == make_body(seed, size)
        # The latest listing is exactly the keys whose newest entry is an object.
        newest: dict[str, tuple[str, bool]] = {}
        for v in versions:
            if v.is_latest:
                newest[v.key] = (str(v.version_id), True)
        for m in found_markers:
            if m.is_latest:
                newest[m.key] = (str(m.version_id), False)
        listed = {o.key for o in s3.list_objects(BUCKET).contents}
        assert listed == {k for k, (_, is_obj) in newest.items() if is_obj}
        for key in listed:
            check_body(s3.get_object(BUCKET, key).read())
