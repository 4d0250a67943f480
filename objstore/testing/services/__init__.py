"""Real PostgreSQL and Ceph RGW for the distributed tests, started from the checkout.

    python -m objstore.testing.services start     # or: make services
    python -m objstore.testing.services env       # shell exports (eval "$(...)")
    python -m objstore.testing.services stop      # or: make services-stop

Everything binds 127.0.0.1 and lives in one state directory (:func:`state_dir`: ``.services/``
of the checkout, or ``$OBJSTORE_SERVICES`` to share one running instance between checkouts);
``env.json`` there records ports, URLs and credentials. ``start`` reuses running services.
The pytest fixtures are in :mod:`objstore.testing.services.fixtures`.
"""

from __future__ import annotations

from objstore.testing.services._proc import ServiceError
from objstore.testing.services.control import SERVICES, start, status, stop
from objstore.testing.services.state import (
    ENV_VAR,
    CephInfo,
    PostgresInfo,
    RgwInfo,
    ServicesState,
    load,
    state_dir,
)

__all__ = [
    "ENV_VAR",
    "SERVICES",
    "CephInfo",
    "PostgresInfo",
    "RgwInfo",
    "ServiceError",
    "ServicesState",
    "load",
    "start",
    "state_dir",
    "status",
    "stop",
]
