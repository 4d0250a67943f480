"""Input no record can hold (a lone surrogate: not UTF-8) is a wrong secret, an unknown key,
an unknown user (review 7e L1). Regression: the secret, and any name looked up, were encoded
strictly, so such input raised UnicodeEncodeError (an InternalError) instead of the answer a
wrong value gets."""

from __future__ import annotations

import pytest

import objstore
from objstore.errors import (
    AccessDenied,
    InvalidClientTokenId,
    NoSuchEntity,
    SignatureDoesNotMatch,
)

PASSWORD = "Zq9!unique-Passw0rd"


def test_a_secret_that_is_not_utf8_is_a_wrong_secret() -> None:
    with objstore.open(None) as s:
        s.root.iam.create_user("u")
        key = s.root.iam.create_access_key("u")
        with pytest.raises(SignatureDoesNotMatch):
            s.client(key.access_key_id, "\ud800")
        with pytest.raises(InvalidClientTokenId):
            s.client("AKIA\ud800", key.secret_access_key)
        with pytest.raises(AccessDenied):
            s.sign_in("\ud800", PASSWORD)
        with pytest.raises(NoSuchEntity):
            s.root.iam.get_user("\ud800")
