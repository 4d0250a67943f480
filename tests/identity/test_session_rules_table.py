"""``session_rules.check_scope`` over the whole operation table (pure: no store needed):
which operations GetSessionToken credentials, role sessions and the root may call at all,
whatever their policies say."""

from __future__ import annotations

from dataclasses import replace

import pytest

from objstore.actions import OPERATIONS, Operation
from objstore.authz import Identity
from objstore.errors import AccessDenied
from objstore.identity.ids import new_access_key_id, new_temporary_access_key_id
from objstore.identity.session_rules import check_scope, is_session_token_caller

ACCOUNT = "123456789012"
USER = Identity(f"arn:aws:iam::{ACCOUNT}:user/dev", ACCOUNT, "user", "dev", "AIDAEXAMPLE")
TOKEN_SESSION = replace(
    USER, access_key_id=new_temporary_access_key_id(), token_issued_at=1, expires_at=2
)
ROLE_SESSION = Identity(
    f"arn:aws:sts::{ACCOUNT}:assumed-role/r/s",
    ACCOUNT,
    "assumed-role",
    "s",
    "AROAEXAMPLE:s",
    access_key_id=new_temporary_access_key_id(),
    token_issued_at=1,
    expires_at=2,
    role_arn=f"arn:aws:iam::{ACCOUNT}:role/r",
)
ROOT = Identity.root(ACCOUNT)


def refused(identity: Identity, op: Operation) -> bool:
    try:
        check_scope(identity, op)
    except AccessDenied:
        return True
    return False


def _actions(op: Operation) -> set[str]:
    return {p.action.split(":", 1)[0] for p in op.permissions}


def test_who_is_a_session_token_caller() -> None:
    assert is_session_token_caller(TOKEN_SESSION)
    assert is_session_token_caller(
        replace(ROOT, access_key_id=new_temporary_access_key_id(), token_issued_at=1)
    )
    assert not is_session_token_caller(replace(USER, access_key_id=new_access_key_id()))
    assert not is_session_token_caller(replace(USER, token_issued_at=1))  # console sign-in
    assert not is_session_token_caller(ROLE_SESSION)


@pytest.mark.parametrize("name", sorted(OPERATIONS))
def test_session_token_credentials_over_the_whole_table(name: str) -> None:
    op = OPERATIONS[name]
    services = _actions(op)
    with_mfa = replace(TOKEN_SESSION, mfa_authenticated_at=1)
    if "iam" in services:
        assert refused(TOKEN_SESSION, op) and not refused(with_mfa, op)
    elif "sts" in services:
        allowed = name in ("AssumeRole", "GetCallerIdentity")
        assert refused(TOKEN_SESSION, op) is not allowed
        assert refused(with_mfa, op) is not allowed
    else:  # S3, bucket policies, the audit log: as the policies say
        assert not refused(TOKEN_SESSION, op) and not refused(with_mfa, op)


@pytest.mark.parametrize("name", sorted(OPERATIONS))
def test_other_callers_over_the_whole_table(name: str) -> None:
    op = OPERATIONS[name]
    for caller in (USER, replace(USER, token_issued_at=1), ROLE_SESSION):
        assert not refused(caller, op)
    # The root may call everything but AssumeRole (with long-term keys or a session).
    assert refused(ROOT, op) is (name == "AssumeRole")
