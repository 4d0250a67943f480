"""Who a caller is now: its credentials re-checked, and an IAM user found by its unique id.

A caller's :class:`Identity` is made when its credentials are presented (``store.client``,
``store.sign_in``, a gateway request) and a client keeps it for its later calls. Before each
call it is checked again against the records (:func:`current`), as AWS checks a request's
credentials each time:

- A long-term access key must still exist (exactly so spelled), be active and belong to the
  same kind of caller (root or user). A key belongs to the user that created it for good:
  keys follow their user through a rename (``updates.py`` rewrites their owner) and a user
  cannot be deleted while it has keys, so the key's owner *is* the caller's user, found
  under its current name; its unique id must still be the caller's.
- Temporary credentials (GetSessionToken, console sign-in) of an IAM user stand for the
  user's unique id: the user is looked up under the name they were issued to and, when that
  name now names another user or none (a rename), through the id record a rename leaves
  (``i <user id> -> name``). Role sessions stand for the role's id under its name (roles are
  not renamed). Gone, or another entity of the same name: InvalidClientTokenId, as for a
  deleted key. Nothing of a new user or role of the old name ever applies.
- A user renamed or moved since is the caller under its new name and path: the identity is
  returned with its current ARN and name, so its policies, ``aws:username``,
  ``aws:PrincipalArn``, ``GetCallerIdentity`` and ``user_name=None`` follow the user.

Records are parsed once per distinct content (the decision is re-made from the current
bytes at every call); nothing is cached per credential.
"""

from __future__ import annotations

import functools
from dataclasses import replace

from objstore import keyspace
from objstore.authz import Identity
from objstore.errors import InvalidClientTokenId
from objstore.identity import repo
from objstore.identity.repo import Record
from objstore.meta.base import ReadTxn, WriteTxn

__all__ = ["current", "find_user", "forget_user_id", "note_user_name"]


def _refused() -> InvalidClientTokenId:
    return InvalidClientTokenId("The security token included in the request is invalid.")


@functools.lru_cache(maxsize=1024)
def _key_state(raw: bytes) -> tuple[bool, str | None, str]:
    """(active, owner name or None for the root, key id) of a stored access key record."""
    rec = repo.decode(raw)
    return rec["status"] == "Active", rec["user"], rec["id"]


@functools.lru_cache(maxsize=4096)
def _entity_state(raw: bytes) -> tuple[str, str, str]:
    """(unique id, name, path) of a stored user or role record."""
    rec = repo.decode(raw)
    return rec["id"], rec["name"], rec["path"]


def _state(txn: ReadTxn, prefix: bytes, name: str) -> tuple[str, str, str] | None:
    raw = txn.get(repo.key(prefix, name))
    return None if raw is None else _entity_state(raw)


def _user_state(txn: ReadTxn, name: str | None, user_id: str) -> tuple[str, str, str] | None:
    """(id, name, path) of the user whose unique id is ``user_id``: under ``name`` (the
    name the caller knew), else under the name its id record gives (a rename)."""
    if name:
        found = _state(txn, keyspace.IAM_USER, name)
        if found is not None and found[0] == user_id:
            return found
    raw = txn.get(repo.key(keyspace.IAM_USER_ID, user_id))
    if raw is None:
        return None
    found = _state(txn, keyspace.IAM_USER, raw.decode())
    return found if found is not None and found[0] == user_id else None


def find_user(txn: ReadTxn, name: str | None, user_id: str) -> Record | None:
    """The record of the user with unique id ``user_id`` (see :func:`_user_state`), or None."""
    found = _user_state(txn, name, user_id)
    return None if found is None else repo.get(txn, keyspace.IAM_USER, found[1])


def note_user_name(txn: WriteTxn, user_id: str, name: str) -> None:
    """Record the current name of a renamed user, so callers holding its id find it."""
    txn.put(repo.key(keyspace.IAM_USER_ID, user_id), name.encode())


def forget_user_id(txn: WriteTxn, user_id: str) -> None:
    """Drop a deleted user's id record (its id then names nobody, as ids are not reused)."""
    txn.delete(repo.key(keyspace.IAM_USER_ID, user_id))


def _as_user(identity: Identity, account: str, state: tuple[str, str, str]) -> Identity:
    """``identity`` under the user's current name and path (itself when unchanged)."""
    _, name, path = state
    arn = f"arn:aws:iam::{account}:user{path}{name}"
    if arn == identity.arn and name == identity.name:
        return identity
    return replace(identity, arn=arn, name=name)


def current(txn: ReadTxn, account: str, identity: Identity, *, complete: bool = True) -> Identity:
    """``identity`` as it stands now (see the module docstring): itself, or under its user's
    new name and path. Callers without credentials (services, anonymous, callers made by an
    embedding service) are returned as they are.

    ``complete=False`` (IAM's authorizer, which compares the caller's ARN with the user
    record it loads once per IAM generation anyway, ``gather.load``): a long-term key whose
    owner still has the caller's name is not followed to the user record, so a move to
    another path is left for that comparison. It spares a read per request.

    Raises InvalidClientTokenId for a long-term key deleted, deactivated or not the
    caller's, and for temporary credentials whose user or role is gone or is another one now.
    """
    if identity.token_issued_at is not None:
        return _session(txn, account, identity)
    if identity.access_key_id is None:
        return identity
    raw = txn.get(repo.key(keyspace.IAM_ACCESS_KEY, identity.access_key_id))
    key = None if raw is None else _key_state(raw)
    # Key ids are case-sensitive: a record reached by another spelling is not this key.
    if key is None or key[2] != identity.access_key_id or not key[0]:
        raise _refused()
    owner = key[1]
    if identity.kind == "root":
        if owner is not None:
            raise _refused()
        return identity
    if owner is None or identity.kind != "user" or identity.user_id is None:
        raise _refused()
    if owner == identity.name and not complete:
        # The key names its owner as the caller knows it: not renamed (keys follow renames
        # in the same transaction, and a user with keys cannot be deleted).
        return identity
    state = _state(txn, keyspace.IAM_USER, owner)
    if state is None or state[0] != identity.user_id:
        raise _refused()
    return _as_user(identity, account, state)


def _session(txn: ReadTxn, account: str, identity: Identity) -> Identity:
    if identity.kind == "assumed-role" and identity.role_arn and identity.user_id:
        # aws:userid of a role session is "AROA...:session-name".
        role_id = identity.user_id.split(":", 1)[0]
        state = _state(txn, keyspace.IAM_ROLE, identity.role_arn.rsplit("/", 1)[-1])
        if state is None or state[0] != role_id:
            raise _refused()
        return identity
    if identity.kind == "user" and identity.user_id:
        state = _user_state(txn, identity.name, identity.user_id)
        if state is None:
            raise _refused()
        return _as_user(identity, account, state)
    return identity
