"""AssumeRole on a role that does not exist is AccessDenied, worded as for a role that does
not trust the caller (review 7e M2). Regression: it answered NoSuchEntity, so anyone allowed
sts:AssumeRole could tell which role names exist. AWS answers AccessDenied in both cases."""

from __future__ import annotations

import pytest

import objstore
from objstore.errors import AccessDenied

from .helpers import allow, policy, user_client


def test_a_missing_role_answers_as_a_role_that_does_not_trust_the_caller() -> None:
    with objstore.open(None) as s:
        account = s.account_id
        dev = user_client(s, "dev", allow("sts:AssumeRole"))
        trusts_ec2 = policy(
            {
                "Effect": "Allow",
                "Principal": {"Service": "ec2.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        )
        s.root.iam.create_role("exists", trusts_ec2)
        s.root.iam.create_role("elsewhere", trusts_ec2, path="/p/")
        answers = {}
        for name in ("exists", "nope", "p/nope", "elsewhere"):
            arn = f"arn:aws:iam::{account}:role/{name}"
            with pytest.raises(AccessDenied) as denied:
                dev.sts.assume_role(arn, "s1")
            answers[name] = (denied.value.code, str(denied.value).replace(arn, "ARN"))
        assert len(set(answers.values())) == 1, answers
        events = [e for e in s.root.iam.lookup_events() if e.operation == "AssumeRole"]
        assert {e.decision for e in events} == {"denied"}
