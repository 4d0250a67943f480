"""Secrets at rest: AES-GCM under a store-local key.

Access-key secrets and MFA seeds must be readable again (a signature or a TOTP code is
checked against them), so they are encrypted, not hashed. The 32-byte key lives in
``<store>/identity.key``, created once with mode 0600, or is supplied by the embedding
service (``objstore.open(path, secret_key=...)``), in which case nothing is written.
Each sealed value is bound to the record it belongs to (AES-GCM associated data), so a
sealed secret copied onto another record does not open.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from objstore.errors import DataCorruption, InvalidArgument

KEY_FILE = "identity.key"
KEY_SIZE = 32
_NONCE = 12


class SecretBox:
    """Seals and opens small secrets with AES-256-GCM."""

    __slots__ = ("_aead", "_mac_key")

    def __init__(self, key: bytes) -> None:
        if not isinstance(key, bytes | bytearray) or len(key) != KEY_SIZE:
            raise InvalidArgument(f"secret_key must be {KEY_SIZE} bytes")
        self._aead = AESGCM(bytes(key))
        # A separate key for MACs (session tokens): never the encryption key itself.
        self._mac_key = hmac.new(bytes(key), b"objstore session signing", hashlib.sha256).digest()

    def seal(self, plaintext: bytes, bound_to: bytes) -> bytes:
        """``nonce || ciphertext+tag``; opens only with the same ``bound_to``."""
        nonce = os.urandom(_NONCE)
        return nonce + self._aead.encrypt(nonce, plaintext, bound_to)

    def open(self, sealed: bytes, bound_to: bytes) -> bytes:
        """The plaintext. Raises DataCorruption if the value was altered, moved to another
        record, or sealed under another key (the key file was replaced)."""
        try:
            return self._aead.decrypt(sealed[:_NONCE], sealed[_NONCE:], bound_to)
        except (InvalidTag, ValueError):
            raise DataCorruption(
                "a sealed credential does not open: wrong store key or altered record"
            ) from None

    def mac(self, data: bytes) -> bytes:
        """HMAC-SHA256 of ``data`` under the store's signing key."""
        return hmac.new(self._mac_key, data, hashlib.sha256).digest()

    @property
    def signing_key(self) -> bytes:
        """The key that signs temporary credentials (derived, never the sealing key)."""
        return self._mac_key


def load_or_create_key(directory: str) -> bytes:
    """The store's key from ``directory/identity.key``, created (mode 0600) if absent.

    Raises InvalidArgument when the file exists but is not a key, or cannot be created.
    """
    path = os.path.join(directory, KEY_FILE)
    if not os.path.exists(path):
        tmp = f"{path}.{os.getpid()}.{secrets.token_hex(4)}"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                os.write(fd, secrets.token_bytes(KEY_SIZE))
                os.fsync(fd)
            finally:
                os.close(fd)
            # link() publishes the whole file at once and fails if another process won:
            # a reader never sees a half-written key, and only one key is ever used.
            with contextlib.suppress(FileExistsError):
                os.link(tmp, path)
        except OSError as exc:
            raise InvalidArgument(f"cannot create the store key {path!r}: {exc}") from None
        finally:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
    try:
        with open(path, "rb") as f:
            key = f.read(KEY_SIZE + 1)
    except OSError as exc:
        raise InvalidArgument(f"cannot read the store key {path!r}: {exc}") from None
    if len(key) != KEY_SIZE:
        raise InvalidArgument(f"the store key {path!r} is not a {KEY_SIZE}-byte key")
    return key
