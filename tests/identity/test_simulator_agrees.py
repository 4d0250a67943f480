"""The simulator and the live authorizer share one engine: for random policy sets, actions,
resources and source addresses, ``simulate_principal_policy`` for a user decides exactly as
the user's real call is decided."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import objstore
from objstore.errors import AccessDenied

from .helpers import allow, deny, policy

B = "bkt"
USER = "alice"
ARN = f"arn:aws:iam::000000000000:user/{USER}"
STATEMENTS: list[dict[str, Any]] = [
    allow("s3:GetObject", f"arn:aws:s3:::{B}/*"),
    allow("s3:*", f"arn:aws:s3:::{B}/home/${{aws:username}}/*"),
    deny("s3:DeleteObject"),
    allow("s3:PutObject", Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}),
    allow("s3:ListBucket", f"arn:aws:s3:::{B}"),
    deny("s3:*", Condition={"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}),
    allow("s3:Get*", Condition={"StringEquals": {"aws:username": USER}}),
    allow("s3:*", Condition={"Bool": {"aws:SecureTransport": "false"}}),
    allow(["s3:PutObject", "s3:DeleteObject"], f"arn:aws:s3:::{B}/pub/*"),
]
BUCKET_POLICIES: list[str | None] = [
    None,
    policy(
        {
            "Effect": "Allow",
            "Principal": {"AWS": ARN},
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{B}/*",
        }
    ),
    policy(
        {
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:PutObject",
            "Resource": f"arn:aws:s3:::{B}/home/*",
        }
    ),
    policy(
        {
            "Effect": "Allow",
            "Principal": "*",
            "Action": ["s3:DeleteObject", "s3:GetObject"],
            "Resource": f"arn:aws:s3:::{B}/pub/*",
        }
    ),
]
KEYS = ["home/alice/a", "home/bob/b", "pub/c"]
ACTIONS = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket"]


def live(client: objstore.Client, action: str, key: str) -> bool:
    try:
        if action == "s3:GetObject":
            client.get_object(B, key).close()
        elif action == "s3:PutObject":
            client.put_object(B, key, b"new")
        elif action == "s3:DeleteObject":
            client.delete_object(B, key)
        else:
            client.list_objects(B)
    except AccessDenied:
        return False
    return True


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    inline=st.lists(st.sampled_from(range(len(STATEMENTS))), max_size=3),
    grouped=st.lists(st.sampled_from(range(len(STATEMENTS))), max_size=3),
    bucket_policy=st.sampled_from(BUCKET_POLICIES),
    action=st.sampled_from(ACTIONS),
    key=st.sampled_from(KEYS),
    ip=st.sampled_from(["10.1.2.3", "192.0.2.7"]),
    secure=st.booleans(),
)
def test_simulator_and_live_calls_agree(
    inline: list[int],
    grouped: list[int],
    bucket_policy: str | None,
    action: str,
    key: str,
    ip: str,
    secure: bool,
) -> None:
    with objstore.open(None) as s:
        root = s.root
        root.create_bucket(B)
        for k in KEYS:
            root.put_object(B, k, b"x")
        iam = root.iam
        iam.create_user(USER)
        if inline:
            iam.put_user_policy(USER, "inline", policy(*(STATEMENTS[i] for i in inline)))
        if grouped:
            iam.create_group("grp")
            managed = iam.create_policy("grp-pol", policy(*(STATEMENTS[i] for i in grouped)))
            iam.attach_group_policy("grp", managed.arn)
            iam.add_user_to_group("grp", USER)
        if bucket_policy is not None:
            root.put_bucket_policy(B, bucket_policy)
        resource = f"arn:aws:s3:::{B}" if action == "s3:ListBucket" else f"arn:aws:s3:::{B}/{key}"
        (result,) = iam.simulate_principal_policy(
            ARN,
            [action],
            resource_arns=[resource],
            resource_policy=bucket_policy,
            context_entries=[
                {
                    "ContextKeyName": "aws:SourceIp",
                    "ContextKeyValues": [ip],
                    "ContextKeyType": "ip",
                },
                {
                    "ContextKeyName": "aws:SecureTransport",
                    "ContextKeyValues": [json.dumps(secure)],
                    "ContextKeyType": "boolean",
                },
            ],
        )
        access = iam.create_access_key(USER)
        client = s.client(
            access.access_key_id, access.secret_access_key, source_ip=ip, secure_transport=secure
        )
        assert live(client, action, key) == result.allowed, result
