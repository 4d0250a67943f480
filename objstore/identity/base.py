"""What every part of the IAM service shares: the account, the clock, ARNs, record lookups."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

from objstore import keyspace
from objstore.authz import CallerMoved, Identity
from objstore.errors import InvalidClientTokenId, InvalidInput, NoSuchEntity, ValidationError
from objstore.identity import callers, repo
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
        name out (a role session has no user to act on), ValidationError for an empty name
        (IAM's user names are 1-64 characters; "" must never stand for the root).
        """
        if user_name is not None:
            if not isinstance(user_name, str):
                raise InvalidInput(f"user_name must be a str, not {type(user_name).__name__}")
            if not user_name:
                raise ValidationError(
                    "1 validation error detected: Value '' at 'userName' failed to satisfy "
                    "constraint: Member must have length greater than or equal to 1"
                )
            return user_name
        if caller.kind == "user" and caller.name:
            return caller.name
        if caller.kind == "root":
            return None
        raise InvalidInput("user_name is required for callers that are not IAM users")

    def acted_on(self, txn: ReadTxn, caller: Identity, user_name: str | None) -> str | None:
        """The user an operation acts on, found in the operation's own transaction ``txn``:
        ``user_name``, or when None the caller's own user (None for the root).

        The caller's own user is found by its unique id (``callers.find_user``), never by
        the name the caller had when the call was authorized: a rename and a new user of the
        old name in between must not hand the caller what is another user's. A user renamed
        or moved since the call was authorized raises CallerMoved, before anything is
        written (the engine decides and runs the call again as the user it is now); a user
        gone raises InvalidClientTokenId (NoSuchEntity for a caller made by an embedding
        service, without credentials), as its next call would.

        Raises InvalidInput (see :meth:`caller_user`), CallerMoved, InvalidClientTokenId,
        NoSuchEntity.
        """
        name = self.caller_user(caller, user_name)
        if user_name is not None or name is None or caller.user_id is None:
            return name
        rec = callers.find_user(txn, name, caller.user_id)
        if rec is None:
            if caller.access_key_id is None and caller.token_issued_at is None:
                raise NoSuchEntity(f"The user with name {name} cannot be found.", name=name)
            raise InvalidClientTokenId("The security token included in the request is invalid.")
        arn = self.entity_arn("user", rec)
        if rec["name"] != caller.name or arn != caller.arn:
            raise CallerMoved(replace(caller, arn=arn, name=rec["name"]))
        return name

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
