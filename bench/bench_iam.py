"""IAM decisions per second, two policy shapes, through ``evaluate()`` and compiled sets.

Run: ``python -m bench.bench_iam [--seconds S] [--reps N]``. Target (issue 7): at least
100,000 decisions/s on one core for both shapes, through :func:`objstore.iam.evaluate`
itself (callers passing raw policy lists) and through a compiled
:class:`objstore.iam.BoundPolicySet` (what the live authorizer keeps per caller).

* **(a) 5 x 5**: one user with 5 managed policies of 5 statements each, in the shape real
  S3 users write: a rotating mix of allowed, explicitly denied and implicitly denied
  requests, S3 object and bucket actions, conditions on ``aws:SourceIp``,
  ``aws:SecureTransport`` and ``s3:prefix``, and ``${aws:username}`` resources.
* **(b) variables + tags**: 5 policies of 5 statements whose resources use
  ``${aws:username}`` and ``${aws:PrincipalTag/team}`` and whose conditions test
  ``aws:PrincipalTag/team`` (and ``s3:prefix`` against ``${aws:username}/*``).

Scenarios are alternated ``--reps`` times; each line gives the median and the best rate,
in decisions per CPU second of this process. Policies are parsed once up front, as the
authorizer keeps them. Exit status 0 when every scenario's median meets the target, else 1.
Not a pytest test: timing depends on the machine.
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

from objstore.iam import Decision, Policy, PolicySet, Principal, evaluate

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

_TEAM = {"StringEquals": {"aws:PrincipalTag/team": "eng"}}
_HOME = "arn:aws:s3:::home/${aws:username}"
_TEAM_BUCKET = "arn:aws:s3:::team-${aws:PrincipalTag/team}"
# Shape (b): every statement reads the caller's name or tags.
VARIABLE_POLICIES = [
    _policy(
        _s("Allow", ["s3:GetObject", "s3:PutObject"], f"{_HOME}/*", _TEAM),
        _s(
            "Allow",
            "s3:ListBucket",
            "arn:aws:s3:::home",
            {"StringLike": {"s3:prefix": "${aws:username}/*"}},
        ),
        _s("Deny", "s3:DeleteObject", f"{_HOME}/keep/*"),
        _s("Allow", "s3:GetObject", f"{_TEAM_BUCKET}/*"),
        _s("Allow", "s3:PutObject", f"{_TEAM_BUCKET}/${{aws:username}}/*", _TEAM),
    ),
    _policy(
        _s("Allow", "s3:DeleteObject", f"{_HOME}/tmp/*", _TEAM),
        _s("Allow", "s3:GetObjectTagging", f"{_HOME}/*"),
        _s(
            "Deny",
            "s3:PutObject",
            f"{_TEAM_BUCKET}/*",
            {"StringNotEquals": {"aws:PrincipalTag/level": ["senior", "lead"]}},
        ),
        _s("Allow", "s3:ListBucket", "arn:aws:s3:::team-${aws:PrincipalTag/team}"),
        _s("Allow", "s3:GetObjectVersion", f"{_HOME}/*", _TEAM),
    ),
    _policy(
        _s(
            "Allow",
            ["iam:GetUser", "iam:ChangePassword"],
            f"arn:aws:iam::{ACCOUNT}:user/engineering/${{aws:username}}",
        ),
        _s("Allow", "iam:ListAccessKeys", f"arn:aws:iam::{ACCOUNT}:user/*/${{aws:username}}"),
        _s("Allow", "iam:ListMFADevices", f"arn:aws:iam::{ACCOUNT}:user/*", _TEAM),
        _s(
            "Deny",
            "iam:DeleteUser",
            "*",
            {"StringNotEquals": {"aws:PrincipalTag/level": "lead"}},
        ),
        _s("Allow", "sts:GetSessionToken", "*", _TEAM),
    ),
    _policy(
        _s("Allow", "s3:GetObject", "arn:aws:s3:::shared/${aws:PrincipalTag/team}/*"),
        _s("Allow", "s3:PutObject", "arn:aws:s3:::shared/${aws:username}/*", _TEAM),
        _s("Deny", "s3:*", "arn:aws:s3:::shared/${aws:username}/locked/*"),
        _s(
            "Allow",
            "s3:ListBucket",
            "arn:aws:s3:::shared",
            {"StringLike": {"s3:prefix": ["${aws:PrincipalTag/team}/*", "${aws:username}/*"]}},
        ),
        _s("Allow", "s3:GetBucketLocation", "arn:aws:s3:::*", _TEAM),
    ),
    _policy(
        _s("Allow", "sqs:SendMessage", f"arn:aws:sqs:us-east-1:{ACCOUNT}:${{aws:username}}-*"),
        _s("Allow", "sqs:ReceiveMessage", f"arn:aws:sqs:*:{ACCOUNT}:team-*", _TEAM),
        _s("Deny", "sqs:DeleteQueue", "*", {"StringEquals": {"aws:PrincipalTag/team": "ops"}}),
        _s("Allow", "s3:GetObject", "arn:aws:s3:::reports/${aws:PrincipalTag/team}/*"),
        _s("Allow", "s3:PutObjectTagging", f"{_HOME}/*", _TEAM),
    ),
]
VARIABLE_REQUESTS: list[tuple[str, str, dict[str, object]]] = [
    ("s3:GetObject", "arn:aws:s3:::home/alice/a.txt", {}),
    ("s3:GetObject", "arn:aws:s3:::home/bob/a.txt", {}),
    ("s3:PutObject", "arn:aws:s3:::team-eng/alice/x", {}),
    ("s3:ListBucket", "arn:aws:s3:::home", {"s3:prefix": "alice/"}),
    ("s3:ListBucket", "arn:aws:s3:::home", {"s3:prefix": "bob/"}),
    ("s3:DeleteObject", "arn:aws:s3:::home/alice/keep/x", {}),
    ("s3:DeleteObject", "arn:aws:s3:::home/alice/tmp/x", {}),
    ("iam:GetUser", f"arn:aws:iam::{ACCOUNT}:user/engineering/alice", {}),
    ("iam:DeleteUser", f"arn:aws:iam::{ACCOUNT}:user/engineering/bob", {}),
    ("s3:GetObject", "arn:aws:s3:::shared/eng/doc.pdf", {}),
    ("s3:PutObject", "arn:aws:s3:::shared/alice/locked/x", {}),
    ("s3:ListBucket", "arn:aws:s3:::shared", {"s3:prefix": "eng/"}),
    ("sqs:SendMessage", f"arn:aws:sqs:us-east-1:{ACCOUNT}:alice-jobs", {}),
    ("s3:GetObject", "arn:aws:s3:::reports/ops/q1.pdf", {}),
    ("s3:GetObjectVersion", "arn:aws:s3:::home/alice/v", {}),
    ("sts:GetSessionToken", "*", {}),
]

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


Decide = Callable[[str, str, dict[str, object]], Decision]
Requests = list[tuple[str, str, dict[str, object]]]


def _run(scenario: tuple[Decide, Requests], seconds: float) -> float:
    """Decisions per CPU second over about ``seconds`` of repeated passes over the requests.

    CPU time of this process, not wall time: the figure is "on one core", and other
    work on a shared machine then does not count against it.
    """
    decide, requests = scenario
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


def scenarios() -> dict[str, tuple[Decide, Requests]]:
    """The timed callables and their requests, policies parsed once up front."""
    identity = [Policy.from_json(text) for text in POLICIES]
    variables = [Policy.from_json(text) for text in VARIABLE_POLICIES]
    bucket = Policy.from_json(BUCKET_POLICY, kind="resource")
    principal = Principal.from_arn(
        USER, user_id="AIDAEXAMPLEUSERID", tags={"team": "eng", "level": "senior"}
    )
    bound = PolicySet.compile(identity).bind(principal)
    bound_variables = PolicySet.compile(variables).bind(principal)

    def a_evaluate(action: str, resource: str, context: dict[str, object]) -> Decision:
        return evaluate(
            principal, action, resource, context=context, identity_policies=identity, now=NOW
        )

    def a_arn(action: str, resource: str, context: dict[str, object]) -> Decision:
        return evaluate(
            USER, action, resource, context=context, identity_policies=identity, now=NOW
        )

    def a_bucket(action: str, resource: str, context: dict[str, object]) -> Decision:
        return evaluate(
            principal,
            action,
            resource,
            context=context,
            identity_policies=identity,
            resource_policy=bucket,
            now=NOW,
        )

    def a_compiled(action: str, resource: str, context: dict[str, object]) -> Decision:
        return bound.decide(action, resource, context=context, now=NOW)

    def b_evaluate(action: str, resource: str, context: dict[str, object]) -> Decision:
        return evaluate(
            principal, action, resource, context=context, identity_policies=variables, now=NOW
        )

    def b_compiled(action: str, resource: str, context: dict[str, object]) -> Decision:
        return bound_variables.decide(action, resource, context=context, now=NOW)

    return {
        "(a) evaluate()": (a_evaluate, REQUESTS),
        "(a) compiled": (a_compiled, REQUESTS),
        "(a) principal ARN": (a_arn, REQUESTS),
        "(a) + bucket policy": (a_bucket, REQUESTS),
        "(b) evaluate()": (b_evaluate, VARIABLE_REQUESTS),
        "(b) compiled": (b_compiled, VARIABLE_REQUESTS),
    }


def _outcomes(scenario: tuple[Decide, Requests]) -> str:
    decide, requests = scenario
    effects = [decide(a, r, c).effect for a, r, c in requests]
    return (
        f"{len(requests)} requests ({effects.count('allowed')} allowed, "
        f"{effects.count('explicitDeny')} explicit deny, "
        f"{effects.count('implicitDeny')} implicit deny)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_iam", description=__doc__)
    parser.add_argument("--seconds", type=float, default=1.0, help="per timed run (default 1)")
    parser.add_argument("--reps", type=int, default=5, help="alternated repetitions (default 5)")
    args = parser.parse_args(argv)
    runs = scenarios()
    print(f"iam (a) 5 policies x 5 statements: {_outcomes(runs['(a) evaluate()'])}")
    shape_b = _outcomes(runs["(b) evaluate()"])
    print(f"iam (b) 5 x 5, ${{aws:username}} resources + aws:PrincipalTag: {shape_b}")
    for scenario in runs.values():  # warm the memos and the code paths
        _run(scenario, 0.1)
    samples: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(max(1, args.reps)):
        for name, scenario in runs.items():
            samples[name].append(_run(scenario, args.seconds))
    for name, values in samples.items():
        print(
            f"  {name:<20} {statistics.median(values):>10,.0f} decisions/s "
            f"(best {max(values):,.0f})"
        )
    met = all(statistics.median(values) >= TARGET for values in samples.values())
    verdict = "PASS" if met else "MISS"
    print(f"  target {TARGET:,.0f} decisions/s on one core, every scenario: {verdict}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
