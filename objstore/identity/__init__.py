"""Identities and credentials: users, groups, roles, MFA devices, passwords, STS sessions, OIDC.

The credential primitives are pure modules (no store access, time passed in by the caller):
``totp`` (virtual MFA), ``passwords`` (scrypt hashes and the account password policy),
``sessions`` (sealed STS session tokens), ``ids`` (AWS-shaped ids and secrets), ``oidc``
(web-identity JWT verification) and ``qr`` (QR codes for MFA seeds).
"""
