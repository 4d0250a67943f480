"""IAM decisions per second: one user with 5 identity policies of 5 statements each.

Run: ``python -m bench.bench_iam [--seconds S] [--reps N]``. Target (issue 3): at least
100,000 decisions/s on one core. The policies are compiled once, as the authorizer keeps
them; each decision is a full ``objstore.iam.evaluate`` call (the public API), over a
rotating mix of requests: allowed, explicitly denied and implicitly denied, S3 object and
bucket actions, conditions on ``aws:SourceIp``, ``aws:SecureTransport`` and ``s3:prefix``,
and a ``${aws:username}`` resource variable.

Three scenarios are timed, alternated ``--reps`` times; each line gives the median and
the best rate:

* ``principal object``: the caller is a prepared :class:`objstore.iam.Principal` (what the
  authorizer holds for an authenticated request);
* ``principal ARN``: the caller is given as an ARN string;
* ``+ bucket policy``: a 5-statement bucket policy is in force too.

Exit status 0 when the median of the first scenario meets the target, else 1. Not a
pytest test: timing depends on the machine.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from objstore.iam import Decision, Policy, Principal, evaluate

TARGET = 100_000.0
ACCOUNT = "111122223333"
USER = f"arn:aws:iam::{ACCOUNT}:user/engineering/alice"
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def _policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)}, indent=2)


def _s(effect: str, action: Any, resource: Any, condition: Any = None) -> dict[str, Any]:
    out: dict[str, Any] = {"Effect": effect, "Action": action, "Resource": resource}
    if condition is not None:
        out["Condition"] = condition
    return out


# Five policies of five statements, in the shape real S3 users write.
POLICIES = [
    _policy(
        _s("Allow", ["s3:GetObject", "s3:GetObjectVersion"], "arn:aws:s3:::shared/*"),
        _s(
            "Allow",
            "s3:ListBucket",
            "arn:aws:s3:::shared",
            {"StringLike": {"s3:prefix": ["public/*", "team/*"]}},
        ),
        _s("Allow", "s3:ListAllMyBuckets", "*"),
        _s("Allow", "s3:GetBucketLocation", "arn:aws:s3:::*"),
        _s("Deny", "s3:DeleteBucket", "*"),
    ),
    _policy(
        _s("Allow", "s3:*", "arn:aws:s3:::home/${aws:username}/*"),
        _s(
            "Allow",
            "s3:ListBucket",
            "arn:aws:s3:::home",
            {"StringLike": {"s3:prefix": "${aws:username}/*"}},
        ),
        _s("Deny", "s3:*", "arn:aws:s3:::home/*", {"Bool": {"aws:SecureTransport": "false"}}),
        _s(
            "Allow",
            ["s3:PutObject", "s3:PutObjectTagging"],
            "arn:aws:s3:::uploads/*",
            {"IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "192.168.0.0/16"]}},
        ),
        _s("Deny", "s3:PutObject", "arn:aws:s3:::uploads/*.exe"),
    ),
    _policy(
        _s(
            "Allow",
            ["iam:GetUser", "iam:ListAccessKeys", "iam:ChangePassword"],
            f"arn:aws:iam::{ACCOUNT}:user/engineering/${{aws:username}}",
        ),
        _s("Allow", "iam:GetAccountPasswordPolicy", "*"),
        _s("Allow", "sts:GetSessionToken", "*"),
        _s(
            "Deny",
            "iam:*AccessKey*",
            "*",
            {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}},
        ),
        _s("Allow", "iam:ListMFADevices", f"arn:aws:iam::{ACCOUNT}:user/*"),
    ),
    _policy(
        _s(
            "Allow", ["s3:GetObject", "s3:ListBucket"], ["arn:aws:s3:::logs", "arn:aws:s3:::logs/*"]
        ),
        _s("Deny", "s3:*", ["arn:aws:s3:::logs/secret", "arn:aws:s3:::logs/secret/*"]),
        _s("Allow", "s3:GetObject*", "arn:aws:s3:::data-??/*"),
        _s(
            "Allow",
            "s3:PutObject",
            "arn:aws:s3:::data-01/incoming/*",
            {"StringEquals": {"s3:x-amz-server-side-encryption": "AES256"}},
        ),
        _s(
            "Deny",
            "s3:PutObject",
            "arn:aws:s3:::data-*",
            {"Null": {"s3:x-amz-server-side-encryption": "true"}},
        ),
    ),
    _policy(
        _s("Allow", "cloudwatch:*", "*"),
        _s("Allow", ["ec2:Describe*", "ec2:Get*"], "*"),
        _s(
            "Allow",
            "s3:GetObject",
            "arn:aws:s3:::reports/*",
            {"DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}},
        ),
        _s("Deny", "ec2:TerminateInstances", "*"),
        _s("Allow", "sqs:SendMessage", f"arn:aws:sqs:us-east-1:{ACCOUNT}:jobs-*"),
    ),
]

BUCKET_POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": "*",
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
            {
                "Effect": "Allow",
                "Principal": {"AWS": USER},
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::shared/special/*",
            },
            {
                "Effect": "Allow",
                "Principal": {"AWS": ACCOUNT},
                "Action": "s3:ListBucket",
                "Resource": "arn:aws:s3:::shared",
            },
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::shared/public/*",
            },
            {
                "Effect": "Deny",
                "NotPrincipal": {"AWS": [USER, ACCOUNT]},
                "Action": "s3:Delete*",
                "Resource": "*",
            },
        ],
    }
)

_TLS = {"aws:SecureTransport": True, "aws:SourceIp": "10.1.2.3"}
# (action, resource, context): a rotating mix of outcomes and code paths.
REQUESTS: list[tuple[str, str, dict[str, object]]] = [
    ("s3:GetObject", "arn:aws:s3:::shared/docs/readme.txt", _TLS),
    ("s3:ListBucket", "arn:aws:s3:::shared", {**_TLS, "s3:prefix": "team/x/"}),
    ("s3:PutObject", "arn:aws:s3:::home/alice/notes.txt", _TLS),
    ("s3:PutObject", "arn:aws:s3:::home/bob/notes.txt", _TLS),
    ("s3:DeleteObject", "arn:aws:s3:::home/alice/old.txt", {"aws:SecureTransport": False}),
    ("s3:PutObject", "arn:aws:s3:::uploads/tool.exe", _TLS),
    ("s3:PutObject", "arn:aws:s3:::uploads/photo.jpg", _TLS),
    ("iam:GetUser", f"arn:aws:iam::{ACCOUNT}:user/engineering/alice", _TLS),
    ("iam:CreateAccessKey", f"arn:aws:iam::{ACCOUNT}:user/engineering/alice", _TLS),
    ("s3:GetObject", "arn:aws:s3:::logs/secret/key", _TLS),
    ("s3:GetObjectVersion", "arn:aws:s3:::data-01/x.csv", _TLS),
    (
        "s3:PutObject",
        "arn:aws:s3:::data-01/incoming/y.csv",
        {**_TLS, "s3:x-amz-server-side-encryption": "AES256"},
    ),
    ("s3:GetObject", "arn:aws:s3:::reports/q1.pdf", _TLS),
    ("ec2:DescribeInstances", "*", _TLS),
    ("ec2:TerminateInstances", "*", _TLS),
    ("s3:ListAllMyBuckets", "*", {}),
]


def _run(decide: Callable[[str, str, dict[str, object]], Decision], seconds: float) -> float:
    """Decisions per CPU second over about ``seconds`` of repeated passes over REQUESTS.

    CPU time of this process, not wall time: the figure is "on one core", and other
    work on a shared machine then does not count against it.
    """
    requests = REQUESTS
    done = 0
    start = time.process_time()
    deadline = start + seconds
    while True:
        for action, resource, context in requests:
            decide(action, resource, context)
        done += len(requests)
        now = time.process_time()
        if now >= deadline:
            return done / (now - start)


def scenarios() -> dict[str, Callable[[str, str, dict[str, object]], Decision]]:
    """The timed callables, policies compiled once up front."""
    identity = [Policy.from_json(text) for text in POLICIES]
    bucket = Policy.from_json(BUCKET_POLICY, kind="resource")
    principal = Principal.from_arn(USER, user_id="AIDAEXAMPLEUSERID", tags={"team": "eng"})

    def with_object(action: str, resource: str, context: dict[str, object]) -> Decision:
        return evaluate(
            principal, action, resource, context=context, identity_policies=identity, now=NOW
        )

    def with_arn(action: str, resource: str, context: dict[str, object]) -> Decision:
        return evaluate(
            USER, action, resource, context=context, identity_policies=identity, now=NOW
        )

    def with_bucket(action: str, resource: str, context: dict[str, object]) -> Decision:
        return evaluate(
            principal,
            action,
            resource,
            context=context,
            identity_policies=identity,
            resource_policy=bucket,
            now=NOW,
        )

    return {
        "principal object": with_object,
        "principal ARN": with_arn,
        "+ bucket policy": with_bucket,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_iam", description=__doc__)
    parser.add_argument("--seconds", type=float, default=1.0, help="per timed run (default 1)")
    parser.add_argument("--reps", type=int, default=5, help="alternated repetitions (default 5)")
    args = parser.parse_args(argv)
    runs = scenarios()
    outcomes = [runs["principal object"](a, r, c).effect for a, r, c in REQUESTS]
    print(
        f"iam: 5 policies x 5 statements, {len(REQUESTS)} requests "
        f"({outcomes.count('allowed')} allowed, {outcomes.count('explicitDeny')} explicit deny, "
        f"{outcomes.count('implicitDeny')} implicit deny)"
    )
    for fn in runs.values():  # warm the per-policy action memo and the code paths
        _run(fn, 0.1)
    samples: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(max(1, args.reps)):
        for name, fn in runs.items():
            samples[name].append(_run(fn, args.seconds))
    for name, values in samples.items():
        print(
            f"  {name:<17} {statistics.median(values):>10,.0f} decisions/s "
            f"(best {max(values):,.0f})"
        )
    median = statistics.median(samples["principal object"])
    status = "PASS" if median >= TARGET else "MISS"
    print(f"  target {TARGET:,.0f} decisions/s on one core: {status}")
    return 0 if median >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
