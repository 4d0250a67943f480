"""Small-object GET/s as an IAM user against the same GETs as the account root.

Issue 7's target: an IAM user with 5 managed policies of 5 statements (one using
``${aws:username}`` resources) plus a 5-statement bucket policy reads small objects at
>= 0.85 x the rate of the root (both through the default IAM authorizer, in one run).
Reps alternate root and user; the figure is the median ratio of the rates.

    python -m bench.bench_identity [--gets 3000] [--reps 5] [--dir PATH]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from typing import Any

import objstore

TARGET = 0.85
BUCKET = "bench-iam"


def _policy(statements: list[dict[str, Any]]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def _statements(i: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [
        {"Effect": "Allow", "Action": f"s3:Put{i}Thing{j}", "Resource": f"arn:aws:s3:::other-{j}/*"}
        for j in range(4)
    ]
    if i == 0:
        out.append(
            {
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:PutObject"],
                "Resource": f"arn:aws:s3:::{BUCKET}/home/${{aws:username}}/*",
            }
        )
    else:
        out.append(
            {
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{BUCKET}/shared-{i}/*",
            }
        )
    return out


def setup(store: objstore.Store) -> objstore.Client:
    root = store.root
    root.create_bucket(BUCKET)
    iam = root.iam
    iam.create_user("bench")
    for j in range(4):
        # Other users the bucket policy names: a policy may name only principals that exist
        # (AWS binds them to their unique ids when it is saved).
        iam.create_user(f"nobody{j}")
    for i in range(5):
        arn = iam.create_policy(f"p{i}", _policy(_statements(i))).arn
        iam.attach_user_policy("bench", arn)
    bucket_statements = [
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{store.account_id}:user/nobody{j}"},
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{BUCKET}/*",
        }
        for j in range(4)
    ]
    bucket_statements.append(
        {
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:DeleteBucket",
            "Resource": f"arn:aws:s3:::{BUCKET}",
        }
    )
    root.put_bucket_policy(BUCKET, _policy(bucket_statements))
    root.put_object(BUCKET, "home/bench/obj", b"x" * 1024)
    key = iam.create_access_key("bench")
    return store.client(key.access_key_id, key.secret_access_key)


def _rate(client: objstore.Client, n: int) -> float:
    t0 = time.process_time()
    for _ in range(n):
        with client.get_object(BUCKET, "home/bench/obj") as body:
            body.read()
    return n / (time.process_time() - t0)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.bench_identity")
    p.add_argument("--gets", type=int, default=3000)
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--dir", default=None, help="store directory (default: a temp dir)")
    a = p.parse_args(argv)
    with tempfile.TemporaryDirectory(dir=a.dir) as d, objstore.open(d) as store:
        user = setup(store)
        _rate(user, 200)
        _rate(store.root, 200)
        ratios, roots, users = [], [], []
        for _ in range(a.reps):
            r = _rate(store.root, a.gets)
            u = _rate(user, a.gets)
            roots.append(r)
            users.append(u)
            ratios.append(u / r)
    ratio = statistics.median(ratios)
    status = "PASS" if ratio >= TARGET else "MISS"
    print(
        f"small GET/s (CPU time): root {statistics.median(roots):,.0f}, IAM user "
        f"{statistics.median(users):,.0f}; ratio {ratio:.2f} (best {max(ratios):.2f}), "
        f"target >= {TARGET} {status}"
    )
    return 0 if status == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
