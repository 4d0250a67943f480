"""``client.iam``, second half: credentials, MFA, reports, federation, simulation, audit.

:class:`CredentialCalls` is a base of :class:`objstore.identity.facade.IamClient`
(split by job: entities there, credentials here). Same rules as every IAM call:
one row of ``actions.py`` each, authorized once and audited.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from objstore.authz import Identity
from objstore.iam.simulate import EvaluationResult
from objstore.identity.passwords import PasswordPolicy
from objstore.identity.results import (
    AccessKey,
    AccessKeyLastUsed,
    AccessKeyMetadata,
    AuditRecord,
    LoginProfile,
    MFADevice,
    OpenIDConnectProvider,
    VirtualMFADevice,
)

if TYPE_CHECKING:
    from objstore.engine import Engine


class FacadeBase:
    """The caller and the engine every IAM call goes through."""

    def __init__(self, engine: Engine, identity: Identity) -> None:
        self._engine = engine
        self.identity = identity

    def _call(self, name: str, **params: Any) -> Any:
        return self._engine.call(self.identity, name, params)


class CredentialCalls(FacadeBase):
    """Access keys, passwords, MFA, reports, OIDC providers, the simulator, the audit log."""

    # ----------------------------------------------------------- access keys

    def create_access_key(self, user_name: str | None = None) -> AccessKey:
        """A new key for the user (the caller when None, the root included); its secret is
        shown only here. Raises NoSuchEntity, LimitExceeded (2 keys)."""
        result: AccessKey = self._call("CreateAccessKey", user_name=user_name)
        return result

    def update_access_key(self, user_name: str | None, access_key_id: str, status: str) -> None:
        """Set "Active" or "Inactive". Raises NoSuchEntity, ValidationError."""
        self._call(
            "UpdateAccessKey", user_name=user_name, access_key_id=access_key_id, status=status
        )

    def delete_access_key(self, user_name: str | None, access_key_id: str) -> None:
        """Raises NoSuchEntity."""
        self._call("DeleteAccessKey", user_name=user_name, access_key_id=access_key_id)

    def list_access_keys(self, user_name: str | None = None) -> list[AccessKeyMetadata]:
        """Raises NoSuchEntity."""
        result: list[AccessKeyMetadata] = self._call("ListAccessKeys", user_name=user_name)
        return result

    def get_access_key_last_used(self, access_key_id: str) -> AccessKeyLastUsed:
        """Raises NoSuchEntity."""
        result: AccessKeyLastUsed = self._call("GetAccessKeyLastUsed", access_key_id=access_key_id)
        return result

    # -------------------------------------------------------- passwords, MFA

    def create_login_profile(
        self, user_name: str | None, password: str, *, password_reset_required: bool = False
    ) -> LoginProfile:
        """A console password for the user (the caller, root included, when None).
        Raises EntityAlreadyExists, NoSuchEntity, PasswordPolicyViolation."""
        result: LoginProfile = self._call(
            "CreateLoginProfile",
            user_name=user_name,
            password=password,
            password_reset_required=password_reset_required,
        )
        return result

    def update_login_profile(
        self,
        user_name: str | None,
        *,
        password: str | None = None,
        password_reset_required: bool | None = None,
    ) -> None:
        """An administrator's reset. Raises NoSuchEntity, PasswordPolicyViolation."""
        self._call(
            "UpdateLoginProfile",
            user_name=user_name,
            password=password,
            password_reset_required=password_reset_required,
        )

    def get_login_profile(self, user_name: str | None = None) -> LoginProfile:
        """Raises NoSuchEntity."""
        result: LoginProfile = self._call("GetLoginProfile", user_name=user_name)
        return result

    def delete_login_profile(self, user_name: str | None = None) -> None:
        """Raises NoSuchEntity."""
        self._call("DeleteLoginProfile", user_name=user_name)

    def change_password(self, old_password: str, new_password: str) -> None:
        """The caller's own password. Raises AccessDenied (wrong old password),
        PasswordPolicyViolation."""
        self._call("ChangePassword", old_password=old_password, new_password=new_password)

    def update_account_password_policy(
        self,
        *,
        minimum_password_length: int | None = None,
        require_symbols: bool = False,
        require_numbers: bool = False,
        require_uppercase_characters: bool = False,
        require_lowercase_characters: bool = False,
        allow_users_to_change_password: bool = False,
        max_password_age: int | None = None,
        password_reuse_prevention: int | None = None,
        hard_expiry: bool = False,
    ) -> None:
        """Replace the whole account password policy, as AWS does. Raises ValidationError."""
        self._call(
            "UpdateAccountPasswordPolicy",
            minimum_password_length=minimum_password_length,
            require_symbols=require_symbols,
            require_numbers=require_numbers,
            require_uppercase_characters=require_uppercase_characters,
            require_lowercase_characters=require_lowercase_characters,
            allow_users_to_change_password=allow_users_to_change_password,
            max_password_age=max_password_age,
            password_reuse_prevention=password_reuse_prevention,
            hard_expiry=hard_expiry,
        )

    def get_account_password_policy(self) -> PasswordPolicy:
        """Raises NoSuchEntity when none is set."""
        result: PasswordPolicy = self._call("GetAccountPasswordPolicy")
        return result

    def delete_account_password_policy(self) -> None:
        """Raises NoSuchEntity."""
        self._call("DeleteAccountPasswordPolicy")

    def create_virtual_mfa_device(
        self, virtual_mfa_device_name: str, *, path: str = "/"
    ) -> VirtualMFADevice:
        """A new TOTP device; its seed (and otpauth URI) are shown only here.
        Raises EntityAlreadyExists."""
        result: VirtualMFADevice = self._call(
            "CreateVirtualMFADevice", virtual_mfa_device_name=virtual_mfa_device_name, path=path
        )
        return result

    def enable_mfa_device(
        self,
        user_name: str | None,
        serial_number: str,
        authentication_code1: str,
        authentication_code2: str,
    ) -> None:
        """Bind a device to the user (the caller, root included, when None) with two
        consecutive codes. Raises NoSuchEntity, EntityAlreadyExists,
        InvalidAuthenticationCode, LimitExceeded."""
        self._call(
            "EnableMFADevice",
            user_name=user_name,
            serial_number=serial_number,
            authentication_code1=authentication_code1,
            authentication_code2=authentication_code2,
        )

    def deactivate_mfa_device(self, user_name: str | None, serial_number: str) -> None:
        """Raises NoSuchEntity."""
        self._call("DeactivateMFADevice", user_name=user_name, serial_number=serial_number)

    def list_mfa_devices(self, user_name: str | None = None) -> list[MFADevice]:
        """Raises NoSuchEntity."""
        result: list[MFADevice] = self._call("ListMFADevices", user_name=user_name)
        return result

    def delete_virtual_mfa_device(self, serial_number: str) -> None:
        """Raises NoSuchEntity, DeleteConflict (still enabled for a user)."""
        self._call("DeleteVirtualMFADevice", serial_number=serial_number)

    def generate_credential_report(self) -> str:
        """Build the credential report; returns "COMPLETE"."""
        result: str = self._call("GenerateCredentialReport")
        return result

    def get_credential_report(self) -> str:
        """The report as CSV (AWS's columns, the root's row first). Raises NoSuchEntity
        before the first :meth:`generate_credential_report`."""
        result: str = self._call("GetCredentialReport")
        return result

    # ------------------------------------------------------------ federation

    def create_open_id_connect_provider(
        self,
        url: str,
        client_id_list: Sequence[str],
        *,
        jwks: Mapping[str, Any] | None = None,
        thumbprint_list: Sequence[str] | None = None,
    ) -> OpenIDConnectProvider:
        """Register an OIDC provider: its https URL (the tokens' issuer), the client ids
        (audiences) it issues for, and its public keys (``jwks``; objstore never fetches
        them). Raises InvalidInput, EntityAlreadyExists."""
        result: OpenIDConnectProvider = self._call(
            "CreateOpenIDConnectProvider",
            url=url,
            client_id_list=client_id_list,
            jwks=jwks,
            thumbprint_list=thumbprint_list,
        )
        return result

    def get_open_id_connect_provider(self, provider_arn: str) -> OpenIDConnectProvider:
        """Raises NoSuchEntity."""
        result: OpenIDConnectProvider = self._call(
            "GetOpenIDConnectProvider", provider_arn=provider_arn
        )
        return result

    def list_open_id_connect_providers(self) -> list[OpenIDConnectProvider]:
        result: list[OpenIDConnectProvider] = self._call("ListOpenIDConnectProviders")
        return result

    def delete_open_id_connect_provider(self, provider_arn: str) -> None:
        """Raises NoSuchEntity."""
        self._call("DeleteOpenIDConnectProvider", provider_arn=provider_arn)

    # ------------------------------------------------------------- simulator

    def simulate_principal_policy(
        self,
        policy_source_arn: str,
        action_names: Sequence[str],
        *,
        resource_arns: Sequence[str] | None = None,
        context_entries: Iterable[Mapping[str, object]] | None = None,
        resource_policy: str | None = None,
        caller_arn: str | None = None,
    ) -> list[EvaluationResult]:
        """Decide each action on each resource for a user, group or role, as the live
        authorizer does. Raises NoSuchEntity, InvalidInput, MalformedPolicyDocument."""
        result: list[EvaluationResult] = self._call(
            "SimulatePrincipalPolicy",
            policy_source_arn=policy_source_arn,
            action_names=action_names,
            resource_arns=resource_arns,
            context_entries=context_entries,
            resource_policy=resource_policy,
            caller_arn=caller_arn,
        )
        return result

    def simulate_custom_policy(
        self,
        policy_input_list: Sequence[str],
        action_names: Sequence[str],
        *,
        resource_arns: Sequence[str] | None = None,
        context_entries: Iterable[Mapping[str, object]] | None = None,
        resource_policy: str | None = None,
        caller_arn: str | None = None,
        permissions_boundary_policy_input_list: Sequence[str] = (),
    ) -> list[EvaluationResult]:
        """The simulator over policies given as text. Raises InvalidInput,
        MalformedPolicyDocument."""
        result: list[EvaluationResult] = self._call(
            "SimulateCustomPolicy",
            policy_input_list=policy_input_list,
            action_names=action_names,
            resource_arns=resource_arns,
            context_entries=context_entries,
            resource_policy=resource_policy,
            caller_arn=caller_arn,
            permissions_boundary_policy_input_list=permissions_boundary_policy_input_list,
        )
        return result

    # ----------------------------------------------------------------- audit

    def lookup_events(self, *, max_results: int = 1000) -> list[AuditRecord]:
        """The audit log, newest first (action ``cloudtrail:LookupEvents``)."""
        result: list[AuditRecord] = self._call("LookupEvents", max_results=max_results)
        return result
