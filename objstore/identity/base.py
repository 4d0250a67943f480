"""What every part of the IAM service shares: the account, the clock, ARNs, record lookups."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from objstore import keyspace
from objstore.authz import Identity
from objstore.errors import InvalidInput, NoSuchEntity
from objstore.identity import repo
from objstore.identity.crypto import SecretBox
from objstore.identity.paging import Markers
from objstore.identity.repo import Record, Repo
from objstore.meta.base import ReadTxn

# The record prefix and ARN word of each entity kind.
KIND_PREFIX = {
    "user": keyspace.IAM_USER,
    "group": keyspace.IAM_GROUP,
    "role": keyspace.IAM_ROLE,
    "policy": keyspace.IAM_POLICY,
}
ROOT_RECORD = "root"  # a <root>: the account root's access keys, login profile, MFA
PASSWORD_POLICY_RECORD = "password-policy"  # the account password policy (IAM_ACCOUNT)


def to_datetime(ns: int | None) -> datetime | None:
    return None if ns is None else datetime.fromtimestamp(ns / 1e9, UTC)


def when(ns: int) -> datetime:
    return datetime.fromtimestamp(ns / 1e9, UTC)


class ServiceBase:
    """State shared by the IAM service's parts (see ``service.py``)."""

    def __init__(
        self,
        repo_: Repo,
        account: str,
        box: SecretBox,
        clock: Callable[[], int],
    ) -> None:
        self.repo = repo_
        self.account = account
        self.box = box
        self.clock = clock

    # ------------------------------------------------------------------ ARNs

    def arn(self, kind: str, path: str, name: str) -> str:
        return f"arn:aws:iam::{self.account}:{kind}{path}{name}"

    @property
    def root_arn(self) -> str:
        return f"arn:aws:iam::{self.account}:root"

    def entity_arn(self, kind: str, record: Record) -> str:
        return self.arn(kind, record["path"], record["name"])

    def markers(self, *scope: str) -> Markers:
        """The paging markers of one list call: ``scope`` is its name and filters (a marker
        of one list, or of other filters, does not open in another)."""
        return Markers(self.box.mac, "\x00".join(scope).encode())

    # --------------------------------------------------------------- lookups

    def need(self, txn: ReadTxn, kind: str, name: str) -> Record:
        """The record of ``kind`` named ``name``; NoSuchEntity if there is none."""
        found = repo.get(txn, KIND_PREFIX[kind], name)
        if found is None:
            raise NoSuchEntity(f"The {kind} with name {name} cannot be found.", name=name)
        return found

    def root_record(self, txn: ReadTxn) -> Record:
        found = repo.get(txn, keyspace.IAM_ACCOUNT, ROOT_RECORD)
        return found if found is not None else {"keys": [], "mfa": [], "login": None}

    def caller_user(self, caller: Identity, user_name: str | None) -> str | None:
        """``user_name``, or the caller's own user name when None (None for the root).

        Raises InvalidInput when a caller that is neither a user nor the root leaves the
        name out (a role session has no user to act on).
        """
        if user_name is not None:
            if not isinstance(user_name, str):
                raise InvalidInput(f"user_name must be a str, not {type(user_name).__name__}")
            return user_name
        if caller.kind == "user" and caller.name:
            return caller.name
        if caller.kind == "root":
            return None
        raise InvalidInput("user_name is required for callers that are not IAM users")

    def policy_name_of(self, policy_arn: object) -> str:
        """The name of a customer managed policy of this account from its ARN.

        Raises InvalidInput for a value that is not a policy ARN, NoSuchEntity for a
        policy of another account.
        """
        if not isinstance(policy_arn, str) or not policy_arn.startswith("arn:aws:iam::"):
            raise InvalidInput(f"not a policy ARN: {policy_arn!r}")
        head = f"arn:aws:iam::{self.account}:policy/"
        if not policy_arn.startswith(head):
            raise NoSuchEntity(f"Policy {policy_arn} does not exist or is not attachable.")
        return policy_arn.rsplit("/", 1)[-1]
