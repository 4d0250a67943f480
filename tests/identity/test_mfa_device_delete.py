"""Deleting a virtual MFA device still enabled for a user is DeleteConflict (review 7e L3):
AWS documents DeleteConflict (409) for DeleteVirtualMFADevice and no
EntityTemporarilyUnmodifiable; the device must be deactivated first."""

from __future__ import annotations

import time

import pytest

import objstore
from objstore.errors import DeleteConflict, NoSuchEntity
from objstore.identity import totp


def test_an_enabled_device_is_a_delete_conflict() -> None:
    with objstore.open(None) as s:
        iam = s.root.iam
        iam.create_user("u")
        device = iam.create_virtual_mfa_device("d")
        seed = totp.seed_from_base32(device.base32_string_seed)
        step = totp.time_step(time.time())
        iam.enable_mfa_device(
            "u", device.serial_number, totp.hotp(seed, step - 1), totp.hotp(seed, step)
        )
        with pytest.raises(DeleteConflict) as conflict:
            iam.delete_virtual_mfa_device(device.serial_number)
        assert (conflict.value.code, conflict.value.http_status) == ("DeleteConflict", 409)
        assert [d.serial_number for d in iam.list_mfa_devices("u")] == [device.serial_number]
        iam.deactivate_mfa_device("u", device.serial_number)
        iam.delete_virtual_mfa_device(device.serial_number)
        with pytest.raises(NoSuchEntity):
            iam.delete_virtual_mfa_device(device.serial_number)
