"""Where a store's sealing key comes from, and the check that every handle uses the same one.

Access-key secrets and MFA seeds are sealed with one 32-byte key (``crypto.py``). Every
process that opens the store must use that key: one sealed under another key does not
open anywhere else, so a node that quietly made a key of its own would strand every
credential created through it. The key is found, first match wins, in:

1. ``objstore.open(..., secret_key=<32 bytes>)``;
2. ``<path>/identity.key``, when the store has a path and the file exists;
3. the environment: ``OBJSTORE_SECRET_KEY`` (the key in base64) or
   ``OBJSTORE_SECRET_KEY_FILE`` (a file holding it, base64 or the 32 raw bytes: a
   mounted secret);
4. with a path, a new ``<path>/identity.key`` (mode 0600), unless the store already
   has a key (then that key was lost and a new one would not open its credentials);
5. without a path, over metadata kept in memory: a random key (it dies with the
   records it seals).

Otherwise (no path, persistent metadata, no key) opening is refused with
InvalidArgument: nodes sharing a store have no common directory to keep a key in.

The metadata records a *key check* (``G keycheck``: an HMAC of a fixed text under the
key, which reveals nothing about it) when a store first gets its key; opening with any
other key is refused. A store made before the check is adopted once one of its sealed
access keys is seen to open with the key offered.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets

from objstore import keyspace
from objstore.errors import DataCorruption, InvalidArgument
from objstore.identity import repo
from objstore.identity.crypto import KEY_FILE, KEY_SIZE, SecretBox, load_or_create_key
from objstore.meta.base import MetadataStore, ReadTxn
from objstore.meta.scan import scan_prefix

ENV_KEY = "OBJSTORE_SECRET_KEY"
ENV_KEY_FILE = "OBJSTORE_SECRET_KEY_FILE"
_CHECK_KEY = keyspace.CONFIG + b"keycheck"
_CHECK_TEXT = b"objstore secret key check v1"


def key_check(key: bytes) -> bytes:
    """What the metadata records about ``key``: 16 bytes of HMAC-SHA256 of a fixed text."""
    return hmac.new(key, _CHECK_TEXT, hashlib.sha256).digest()[:16]


def decode_key(text: bytes | str, where: str) -> bytes:
    """A key from base64 text (standard or URL-safe alphabet, padding optional) or, for
    bytes of exactly the key's size, the raw key. Raises InvalidArgument naming
    ``where`` (never the text)."""
    if isinstance(text, bytes) and len(text) == KEY_SIZE:
        return text
    raw = text.strip() if isinstance(text, str) else text.strip().decode("ascii", "replace")
    raw = raw.replace("-", "+").replace("_", "/")
    try:
        key = base64.b64decode(raw + "=" * (-len(raw) % 4), validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != KEY_SIZE:
        raise InvalidArgument(
            f"{where} must hold a {KEY_SIZE}-byte key in base64 "
            f"(e.g. from: python -c 'import os,base64; print(base64.b64encode(os.urandom(32)))')"
        )
    return key


def key_from_environment() -> bytes | None:
    """The key named by ``OBJSTORE_SECRET_KEY`` / ``OBJSTORE_SECRET_KEY_FILE``, if set.
    Raises InvalidArgument when the variable is set but holds no key."""
    text = os.environ.get(ENV_KEY)
    if text:
        return decode_key(text, f"${ENV_KEY}")
    path = os.environ.get(ENV_KEY_FILE)
    if not path:
        return None
    try:
        with open(path, "rb") as f:
            data = f.read(4096)
    except OSError as exc:
        raise InvalidArgument(
            f"cannot read the key file named by ${ENV_KEY_FILE}: {exc.strerror}"
        ) from None
    return decode_key(data, f"the key file named by ${ENV_KEY_FILE}")


def _recorded(txn: ReadTxn) -> bytes | None:
    return txn.get(_CHECK_KEY)


def resolve(
    meta: MetadataStore, *, secret_key: bytes | None, path: str | None, ephemeral: bool
) -> bytes:
    """The store's key, by the rules of this module's docstring; checked against (or
    recorded in) the metadata. Raises InvalidArgument: no key for a shared store, a key
    that is not the store's, a key file or variable that holds no key."""
    with meta.begin() as txn:
        recorded = _recorded(txn)
    key = secret_key
    source = "secret_key"
    if key is None and path is not None and os.path.exists(os.path.join(path, KEY_FILE)):
        key, source = load_or_create_key(path), os.path.join(path, KEY_FILE)
    if key is None:
        key, source = key_from_environment(), f"${ENV_KEY}"
    if key is None and path is not None:
        if recorded is not None:
            raise InvalidArgument(
                f"the store's secret key is missing: there is no {os.path.join(path, KEY_FILE)} "
                f"and neither secret_key nor ${ENV_KEY} is given; restore the key (a new one "
                "would not open the stored credentials)"
            )
        key, source = load_or_create_key(path), os.path.join(path, KEY_FILE)
    if key is None:
        if not ephemeral:
            raise InvalidArgument(
                "a store without a path needs its secret key, the same on every node: pass "
                f"secret_key=<32 bytes> or set ${ENV_KEY} (base64) or ${ENV_KEY_FILE}"
            )
        return secrets.token_bytes(KEY_SIZE)
    box = SecretBox(key)  # InvalidArgument unless 32 bytes
    check = key_check(bytes(key))
    if recorded is not None:
        if not hmac.compare_digest(recorded, check):
            raise InvalidArgument(
                f"the secret key from {source} is not this store's (its credentials were "
                "sealed with another); every node of a store must use the same key"
            )
        return bytes(key)
    with meta.begin_write() as wtxn:
        recorded = _recorded(wtxn)
        if recorded is None:
            if not _opens_stored_credentials(wtxn, box):
                raise InvalidArgument(
                    f"the secret key from {source} does not open this store's credentials"
                )
            wtxn.put(_CHECK_KEY, check)
        elif not hmac.compare_digest(recorded, check):
            raise InvalidArgument(
                f"the secret key from {source} is not this store's; every node of a store "
                "must use the same key"
            )
    return bytes(key)


def _opens_stored_credentials(txn: ReadTxn, box: SecretBox) -> bool:
    """Whether ``box`` opens the first sealed access key (True when there is none)."""
    for _, raw in scan_prefix(txn, keyspace.IAM_ACCESS_KEY):
        rec = repo.decode(raw)
        sealed = rec.get("secret")
        if not isinstance(sealed, str):
            continue
        key_id = rec.get("id")
        if not isinstance(key_id, str):
            continue
        try:
            box.open(base64.b64decode(sealed), key_id.encode())
        except DataCorruption:
            return False
        return True
    return True
