"""Access keys: create, list, rotate, delete, last used; and authenticating with one.

A secret is generated here, shown once (in the :class:`AccessKey` returned at creation)
and stored only sealed (see ``crypto.py``), bound to its key id. Authentication opens it
and compares in constant time; a failed attempt writes nothing.
"""

from __future__ import annotations

import base64
import hmac
import time

from objstore import keyspace
from objstore.authz import Identity
from objstore.errors import (
    InvalidClientTokenId,
    LimitExceeded,
    NoSuchEntity,
    SignatureDoesNotMatch,
    ValidationError,
)
from objstore.identity import repo
from objstore.identity.base import ROOT_RECORD, ServiceBase, to_datetime, when
from objstore.identity.ids import new_access_key_id, new_secret_access_key
from objstore.identity.names import check_str
from objstore.identity.repo import Record
from objstore.identity.results import AccessKey, AccessKeyLastUsed, AccessKeyMetadata
from objstore.meta.base import ReadTxn, WriteTxn

MAX_KEYS = 2
STATUSES = ("Active", "Inactive")
# Last-used dates are recorded at most this often per key and process (AWS reports them
# to the hour); a write per request would put a disk sync on every GET.
LAST_USED_EVERY_S = 60.0


def key_record(txn: ReadTxn, access_key_id: str) -> Record | None:
    """The record of the access key ``access_key_id``, spelled exactly (None: no such key).

    Key ids are case-sensitive, as AWS's. Their records are keyed by the lower-cased id like
    every identity record (stores written so stay readable), so an id typed in another case
    finds a record that is not its own: it is an unknown key, never a secret sealed under
    another spelling (that would fail to open, as corruption).
    """
    rec = repo.get(txn, keyspace.IAM_ACCESS_KEY, access_key_id)
    return rec if rec is not None and rec.get("id") == access_key_id else None


class KeyOps(ServiceBase):
    """The access-key calls, and authentication."""

    _last_used_written: dict[str, float]

    def _owner(self, txn: ReadTxn, user: str | None) -> tuple[Record, bytes, str]:
        """The record holding the key list: a user's, or the root's."""
        if user is None:
            return self.root_record(txn), keyspace.IAM_ACCOUNT, ROOT_RECORD
        return self.need(txn, "user", user), keyspace.IAM_USER, user

    def _key(self, txn: ReadTxn, user: str | None, access_key_id: object) -> Record:
        key_id = check_str(access_key_id, "access_key_id")
        rec = key_record(txn, key_id)
        owner = None if rec is None else rec["user"]
        # The root's keys have no owner (None): only the root (user None) names them; no
        # user name, not even "", may stand for "no owner".
        same = owner is user if owner is None or user is None else owner.lower() == user.lower()
        if rec is None or not same:
            raise NoSuchEntity(f"The Access Key with id {key_id} cannot be found.")
        return rec

    def create_access_key(self, user_name: str | None, caller: Identity) -> AccessKey:
        secret = new_secret_access_key()
        with self.repo.write() as txn:
            owner, prefix, name = self._owner(txn, self.acted_on(txn, caller, user_name))
            if len(owner["keys"]) >= MAX_KEYS:
                raise LimitExceeded(f"Cannot exceed quota for AccessKeysPerUser: {MAX_KEYS}")
            key_id = new_access_key_id()
            now = self.clock()
            rec: Record = {
                "id": key_id,
                "user": owner.get("name"),
                "status": "Active",
                "created": now,
                "secret": base64.b64encode(
                    self.box.seal(secret.encode(), key_id.encode())
                ).decode(),
                "last_used": None,
                "last_service": None,
            }
            owner["keys"].append(key_id)
            repo.put(txn, prefix, name, owner)
            repo.put(txn, keyspace.IAM_ACCESS_KEY, key_id, rec)
        return AccessKey(rec["user"], key_id, secret, "Active", when(now))

    def update_access_key(
        self, user_name: str | None, access_key_id: str, status: str, caller: Identity
    ) -> None:
        if status not in STATUSES:
            raise ValidationError(f"status must be Active or Inactive, not {status!r}")
        with self.repo.write() as txn:
            rec = self._key(txn, self.acted_on(txn, caller, user_name), access_key_id)
            rec["status"] = status
            repo.put(txn, keyspace.IAM_ACCESS_KEY, rec["id"], rec)

    def delete_access_key(
        self, user_name: str | None, access_key_id: str, caller: Identity
    ) -> None:
        with self.repo.write() as txn:
            user = self.acted_on(txn, caller, user_name)
            rec = self._key(txn, user, access_key_id)
            owner, prefix, name = self._owner(txn, user)
            owner["keys"].remove(rec["id"])
            repo.put(txn, prefix, name, owner)
            repo.delete(txn, keyspace.IAM_ACCESS_KEY, rec["id"])

    def list_access_keys(self, user_name: str | None, caller: Identity) -> list[AccessKeyMetadata]:
        with self.repo.read() as txn:
            user = self.acted_on(txn, caller, user_name)
            owner, _, _ = self._owner(txn, user)
            recs = [self._key(txn, user, k) for k in owner["keys"]]
        return [
            AccessKeyMetadata(r["user"], r["id"], r["status"], when(r["created"])) for r in recs
        ]

    def get_access_key_last_used(self, access_key_id: str) -> AccessKeyLastUsed:
        key_id = check_str(access_key_id, "access_key_id")
        with self.repo.read() as txn:
            rec = key_record(txn, key_id)
        if rec is None:
            raise NoSuchEntity(f"The Access Key with id {key_id} cannot be found.")
        used = rec.get("last_used")
        return AccessKeyLastUsed(
            rec["user"],
            to_datetime(used),
            rec.get("last_service") or "N/A",
            "us-east-1" if used else "N/A",
        )

    def key_owner(self, access_key_id: str) -> str | None:
        """The user name owning a key (None: the root, or no such key)."""
        with self.repo.read() as txn:
            rec = key_record(txn, access_key_id)
        return None if rec is None else rec["user"]

    # -------------------------------------------------------- authentication

    def identity_of_key(self, txn: ReadTxn, rec: Record) -> Identity:
        """The caller an active key stands for."""
        if rec["user"] is None:
            return Identity.root(self.account, rec["id"])  # one constructor call per request
        user = self.need(txn, "user", rec["user"])
        return Identity(
            arn=self.entity_arn("user", user),
            account=self.account,
            kind="user",
            name=user["name"],
            user_id=user["id"],
            tags=dict(user.get("tags", {})),
            access_key_id=rec["id"],
        )

    def authenticate(self, access_key_id: object, secret_access_key: object) -> Identity:
        """The identity of a long-term access key and its secret.

        Raises InvalidClientTokenId for an unknown, deleted or inactive key and
        SignatureDoesNotMatch for a wrong secret. Nothing is written on failure.
        """
        if not isinstance(secret_access_key, str):
            raise InvalidClientTokenId("The security token included in the request is invalid.")
        stored, identity = self.signing_secret(access_key_id)
        # surrogatepass: any str the caller passes is compared (and mismatches), never raises.
        given = secret_access_key.encode("utf-8", "surrogatepass")
        if not hmac.compare_digest(stored.encode(), given):
            raise SignatureDoesNotMatch(
                "The request signature we calculated does not match the signature you "
                "provided. Check your AWS Secret Access Key."
            )
        self.note_used(identity.access_key_id or "", "iam")
        return identity

    def signing_secret(self, access_key_id: object) -> tuple[str, Identity]:
        """The secret of an active long-term key and the identity it stands for, for a
        gateway that verifies request signatures made with it (the secret stays in memory
        only for that check).

        Raises InvalidClientTokenId for an unknown, deleted or inactive key.
        """
        if not isinstance(access_key_id, str):
            raise InvalidClientTokenId("The security token included in the request is invalid.")
        with self.repo.read() as txn:
            rec = key_record(txn, access_key_id)
            if rec is None or rec["status"] != "Active":
                raise InvalidClientTokenId("The security token included in the request is invalid.")
            stored = self.box.open(base64.b64decode(rec["secret"]), access_key_id.encode())
            try:
                identity = self.identity_of_key(txn, rec)
            except NoSuchEntity:  # a key left behind by a deleted user authenticates nobody
                raise InvalidClientTokenId(
                    "The security token included in the request is invalid."
                ) from None
        return stored.decode(), identity

    def last_used_due(self, key_id: str) -> bool:
        """Whether :meth:`note_used` would write now (lets async callers skip a thread hop)."""
        seen = self._last_used_written.get(key_id)
        return seen is None or time.monotonic() - seen >= LAST_USED_EVERY_S

    def note_used(self, key_id: str, service: str) -> None:
        """Record the key's last use (at most once a minute per key in this process)."""
        now = time.monotonic()
        seen = self._last_used_written.get(key_id)
        if seen is not None and now - seen < LAST_USED_EVERY_S:
            return
        self._last_used_written[key_id] = now
        # Not a policy change: written without bumping the generation.
        with self.repo.meta.begin_write() as txn:
            self._write_used(txn, key_id, service)

    def _write_used(self, txn: WriteTxn, key_id: str, service: str) -> None:
        rec = key_record(txn, key_id)
        if rec is not None:
            rec["last_used"] = self.clock()
            rec["last_service"] = service
            repo.put(txn, keyspace.IAM_ACCESS_KEY, key_id, rec)
