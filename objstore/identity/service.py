"""The IAM service: what the engine runs for IAM operations and bucket policies.

Its methods are the ``method`` column of the IAM rows of ``actions.py``; the engine calls
them only after authorizing the call. It also resolves the ARNs those rows name
(:meth:`resource_arn`) and re-checks a caller's credentials before every call
(:meth:`check_caller`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from objstore import keyspace
from objstore.actions import (
    ENTITY_KIND,
    IAM_KEY_OWNER,
    IAM_MFA,
    IAM_OIDC,
    IAM_POLICY,
    Operation,
    Permission,
)
from objstore.authz import Identity
from objstore.errors import (
    AccessDenied,
    ExpiredToken,
    InvalidInput,
    MalformedPolicy,
    MalformedPolicyDocument,
    NoSuchBucketPolicy,
    NoSuchEntity,
)
from objstore.iam import public
from objstore.iam.evaluate import as_policy
from objstore.iam.simulate import EvaluationResult, simulate
from objstore.identity import bindings, callers, gather, oidc, repo, session_rules
from objstore.identity.audit import AuditLog
from objstore.identity.base import KIND_PREFIX
from objstore.identity.crypto import SecretBox
from objstore.identity.entities import EntityOps
from objstore.identity.keys import KeyOps
from objstore.identity.names import check_str
from objstore.identity.repo import Repo
from objstore.identity.report import ReportOps
from objstore.identity.results import AuditRecord
from objstore.identity.sessions import SessionSealer
from objstore.identity.tagging import TagOps
from objstore.identity.updates import UpdateOps
from objstore.meta.base import ReadTxn
from objstore.ns.index import bucket_key
from objstore.ns.records import BucketRecord
from objstore.types import PolicyStatus

BUCKET_POLICY_MAX = 20 * 1024


class IamService(EntityOps, TagOps, UpdateOps, KeyOps, ReportOps):
    """Every IAM operation of one store's account."""

    def __init__(
        self,
        repo_: Repo,
        account: str,
        box: SecretBox,
        *,
        bucket_created: Callable[[str], datetime],
        audit: AuditLog,
        clock: Callable[[], int] = time.time_ns,
    ) -> None:
        super().__init__(repo_, account, box, clock)
        self.bucket_created = bucket_created
        self.audit_log = audit
        self._last_used_written = {}
        self.sealer = SessionSealer(box.signing_key)

    # ------------------------------------------------------------- resources

    def resource_arn(self, perm: Permission, params: Mapping[str, Any], caller: Identity) -> str:
        """The ARN a permission of an IAM operation names, for these arguments."""
        kind = perm.resource
        if perm.renames is not None and kind in ENTITY_KIND:
            return self._arn_after_update(ENTITY_KIND[kind], perm, params)
        value = params.get(perm.name_param) if perm.name_param else None
        if kind == IAM_POLICY:
            if isinstance(params.get("policy_arn"), str):
                return str(params["policy_arn"])
            return self.arn("policy", _path(params), str(value))
        if kind == IAM_MFA:
            return f"arn:aws:iam::{self.account}:mfa/{value}"
        if kind == IAM_OIDC:
            try:
                return self.provider_arn(oidc.provider_host(str(value)))
            except InvalidInput:
                return self.provider_arn(str(value))
        if kind == IAM_KEY_OWNER:
            owner = self.key_owner(str(value))
            if owner is None:
                return self.root_arn
            value = owner
        elif kind not in ENTITY_KIND:
            return value if isinstance(value, str) else "*"
        entity = ENTITY_KIND.get(kind, "user")
        if value is None and entity == "user":
            if caller.kind == "root" or caller.account != self.account:
                return caller.arn
            return caller.arn if caller.kind == "user" else self.root_arn
        name = str(value)
        with self.repo.read() as txn:
            rec = repo.get(txn, KIND_PREFIX[entity], name)
        if rec is not None:
            return self.entity_arn(entity, rec)
        return self.arn(entity, _path(params), name)

    def _arn_after_update(self, entity: str, perm: Permission, params: Mapping[str, Any]) -> str:
        """The ARN an entity renamed or moved by UpdateUser/UpdateGroup will have: its new
        name and path, each defaulting to the current one (AWS asks for the permission on
        both the source and the target)."""
        current = str(params.get(str(perm.renames)))
        with self.repo.read() as txn:
            rec = repo.get(txn, KIND_PREFIX[entity], current)
        new_name = params.get(perm.name_param) if perm.name_param else None
        new_path = params.get("new_path")
        name = str(new_name) if new_name is not None else rec["name"] if rec else current
        path = str(new_path) if new_path is not None else rec["path"] if rec else "/"
        return self.arn(entity, path, name)

    def check_caller(self, caller: Identity, op: Operation) -> Identity:
        """Before each call, for an authorizer other than IAM's: the caller as it stands now
        (:meth:`current_caller`), then what it may not call whatever the policies say
        (``session_rules.check_scope``); records a long-term key's last use.

        Raises InvalidClientTokenId for a deactivated or deleted key or a deleted user or
        role, ExpiredToken, AccessDenied.
        """
        caller = self.current_caller(caller)
        if caller.access_key_id is not None and caller.token_issued_at is None:
            self.note_used(caller.access_key_id, op.permissions[0].action.split(":", 1)[0])
        session_rules.check_scope(caller, op)
        return caller

    def check_scope(self, caller: Identity, op: Operation) -> Identity:
        """Before each call, with IAM's authorizer (which re-checks credentials, and follows
        a renamed user, in its own read): for IAM and STS calls the caller as it stands now
        first (an expired or orphaned session is told so before it is told what it may not
        do; ``user_name=None`` and GetCallerIdentity name a renamed user anew), then what it
        may not call whatever the policies say (``session_rules.py``).

        Raises AccessDenied, and for IAM and STS calls what :meth:`current_caller` raises.
        """
        if op.target == "identity":
            caller = self.current_caller(caller)
        session_rules.check_scope(caller, op)
        return caller

    def current_caller(self, caller: Identity) -> Identity:
        """The caller as it stands now (``callers.current``): its temporary credentials not
        expired, its key or session still valid, a renamed or moved user under its new name
        and path. Raises ExpiredToken, InvalidClientTokenId."""
        if caller.expires_at is not None and self.clock() // 1_000_000_000 >= caller.expires_at:
            raise ExpiredToken("The security token included in the request is expired")
        if caller.access_key_id is None and caller.token_issued_at is None:
            return caller
        with self.repo.read() as txn:
            return callers.current(txn, self.account, caller)

    # ------------------------------------------------------- bucket policies

    def put_bucket_policy(self, bucket: str, policy: object) -> None:
        """Raises NoSuchBucket, MalformedPolicy, AccessDenied (a public policy while the
        bucket's BlockPublicPolicy is on)."""
        text = policy if isinstance(policy, str) else None
        if isinstance(policy, Mapping):
            text = json.dumps(policy)
        if text is None:
            raise MalformedPolicy("the bucket policy must be JSON text")
        created = self.bucket_created(bucket).isoformat()
        try:
            parsed = as_policy(text, "resource", "policy")
        except MalformedPolicyDocument as exc:
            raise MalformedPolicy(exc.message) from None
        if parsed.size > BUCKET_POLICY_MAX:
            raise MalformedPolicy(f"a bucket policy is at most {BUCKET_POLICY_MAX} characters")
        with self.repo.write() as txn:
            # Read in the transaction that stores the policy: a PutPublicAccessBlock
            # committed before it is seen, one committed after it finds it stored.
            if _blocks_public_policy(txn, bucket) and public.is_public(text):
                raise AccessDenied(
                    f"public bucket policies are blocked by the BlockPublicPolicy setting "
                    f"of bucket {bucket}",
                    bucket=bucket,
                )
            # Bound in the transaction that stores it: the users and roles named are the
            # ones that exist when the policy is saved (see bindings.py).
            try:
                principals = bindings.resolve(txn, self.account, parsed)
            except MalformedPolicyDocument as exc:
                raise MalformedPolicy(exc.message, **exc.details) from None
            record = {"policy": text, "created": created, "principals": principals}
            txn.put(keyspace.BUCKET_POLICY + bucket.encode(), json.dumps(record).encode())

    def _policy_record(self, txn: ReadTxn, bucket: str, created: str) -> dict[str, Any] | None:
        """The bucket's stored policy record: None when it has none, or when the record
        is one a deleted bucket of the same name left behind."""
        raw = txn.get(keyspace.BUCKET_POLICY + bucket.encode())
        record: dict[str, Any] | None = None if raw is None else json.loads(raw)
        return record if record is not None and record["created"] == created else None

    def _shown_policy(self, bucket: str) -> str | None:
        """The bucket's policy as shown (bound principals rendered, see bindings.render)."""
        created = self.bucket_created(bucket).isoformat()
        with self.repo.read() as txn:
            record = self._policy_record(txn, bucket, created)
            if record is None:
                return None
            return bindings.render(txn, self.account, record["policy"], record.get("principals"))

    def get_bucket_policy_status(self, bucket: str) -> PolicyStatus:
        """Whether the bucket's policy is public (:mod:`objstore.iam.public`); a bucket
        without a policy is not. Raises NoSuchBucket."""
        created = self.bucket_created(bucket).isoformat()
        with self.repo.read() as txn:
            record = self._policy_record(txn, bucket, created)
        return PolicyStatus(record is not None and public.is_public(record["policy"]))

    def get_bucket_policy(self, bucket: str) -> str:
        """Raises NoSuchBucket, NoSuchBucketPolicy."""
        found = self._shown_policy(bucket)
        if found is None:
            raise NoSuchBucketPolicy("The bucket policy does not exist", bucket=bucket)
        return found

    def delete_bucket_policy(self, bucket: str) -> None:
        """Raises NoSuchBucket. Deleting an absent policy is not an error (as S3)."""
        self.bucket_created(bucket)
        with self.repo.write() as txn:
            txn.delete(keyspace.BUCKET_POLICY + bucket.encode())

    # ------------------------------------------------------------- simulator

    def simulate_principal_policy(
        self,
        policy_source_arn: str,
        action_names: Sequence[str],
        resource_arns: Sequence[str] | None = None,
        context_entries: Iterable[Mapping[str, object]] | None = None,
        resource_policy: str | None = None,
        caller_arn: str | None = None,
    ) -> list[EvaluationResult]:
        """Decide as the live authorizer would for the user, group or role named.

        Raises NoSuchEntity, InvalidInput, MalformedPolicyDocument.
        """
        source = check_str(policy_source_arn, "policy_source_arn")
        head = f"arn:aws:iam::{self.account}:"
        kind, _, rest = source[len(head) :].partition("/") if source.startswith(head) else ("",) * 3
        if kind not in ("user", "group", "role"):
            raise InvalidInput(f"policy_source_arn must be a user, group or role ARN: {source!r}")
        name = rest.rsplit("/", 1)[-1]
        with self.repo.read() as txn:
            rec = self.need(txn, kind, name)
            if self.entity_arn(kind, rec) != source:
                # Authorized on the ARN as given: another path or case is another entity.
                raise NoSuchEntity(f"The {kind} {source} cannot be found.", name=name)
            if kind == "user":
                identity = Identity(
                    source, self.account, "user", rec["name"], rec["id"], rec.get("tags", {})
                )
                loaded = gather.load(txn, self.account, identity)
                policies, bounds = loaded.identity, loaded.boundaries
                caller: object = loaded.principal
            elif kind == "role":
                policies = tuple(gather.entity_policies(txn, self.account, rec))
                bounds = gather.boundary_of(txn, self.account, rec)
                caller = source
            else:
                policies = tuple(gather.entity_policies(txn, self.account, rec))
                bounds, caller = (), None
        return simulate(
            policies,
            action_names,
            ("*",) if resource_arns is None else resource_arns,
            resource_policy=resource_policy,
            boundary_policies=bounds,
            context_entries=context_entries or (),
            caller=caller_arn if caller_arn is not None else caller,  # type: ignore[arg-type]
            resource_account=self.account,
        )

    def simulate_custom_policy(
        self,
        policy_input_list: Sequence[str],
        action_names: Sequence[str],
        resource_arns: Sequence[str] | None = None,
        context_entries: Iterable[Mapping[str, object]] | None = None,
        resource_policy: str | None = None,
        caller_arn: str | None = None,
        permissions_boundary_policy_input_list: Sequence[str] = (),
    ) -> list[EvaluationResult]:
        """The simulator over policies given as text. Raises InvalidInput,
        MalformedPolicyDocument."""
        return simulate(
            policy_input_list,
            action_names,
            ("*",) if resource_arns is None else resource_arns,
            resource_policy=resource_policy,
            boundary_policies=permissions_boundary_policy_input_list,
            context_entries=context_entries or (),
            caller=caller_arn,
            resource_account=self.account,
        )

    # ----------------------------------------------------------------- audit

    def lookup_events(self, max_results: int = 1000) -> list[AuditRecord]:
        """The newest audit entries, newest first."""
        if not isinstance(max_results, int) or max_results < 1:
            raise InvalidInput("max_results must be a positive int")
        return self.audit_log.records(max_results)


def _path(params: Mapping[str, Any]) -> str:
    path = params.get("path")
    return path if isinstance(path, str) else "/"


def _blocks_public_policy(txn: ReadTxn, bucket: str) -> bool:
    """Whether the bucket's Block Public Access settings include BlockPublicPolicy."""
    raw = txn.get(bucket_key(bucket))
    flags = None if raw is None else BucketRecord.decode(bucket, raw).public_access_block
    return flags is not None and flags[2]
