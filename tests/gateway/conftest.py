"""Fixtures shared by the gateway tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.gateway.s3_support import Gateway, served_store


@pytest.fixture
def gw(tmp_path: Path) -> Iterator[Gateway]:
    """``objstore serve`` of a fresh store on a free loopback port."""
    with served_store(tmp_path) as gateway:
        yield gateway
