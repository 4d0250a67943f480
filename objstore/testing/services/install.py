"""Install the Debian packages the services need (as root, or through sudo), if missing."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence

from objstore.testing.services._proc import ServiceError, is_root

# rclone is not a service, but the gateway's tests drive it, and `make services` installs it.
PACKAGES: dict[str, tuple[str, ...]] = {
    "tools": ("rclone",),
    "postgres": ("postgresql",),
    "ceph": ("ceph-mon", "ceph-mgr", "ceph-osd", "radosgw", "ceph-common", "uuid-runtime"),
}


def installed(package: str) -> bool:
    """True when dpkg says ``package`` is installed."""
    if shutil.which("dpkg-query") is None:
        return False
    done = subprocess.run(
        ["dpkg-query", "-W", "-f=${db:Status-Status}", package],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.returncode == 0 and done.stdout.strip() == "installed"


def missing(names: Sequence[str]) -> list[str]:
    """The packages of ``names`` (and the tools) that are not installed."""
    wanted = [p for name in ("tools", *names) for p in PACKAGES.get(name, ())]
    return [p for p in wanted if not installed(p)]


def install(names: Sequence[str]) -> None:
    """``apt-get install`` what is missing; raises ServiceError when that is impossible."""
    todo = missing(names)
    if not todo:
        return
    if shutil.which("apt-get") is None:
        raise ServiceError(f"missing packages {' '.join(todo)} and no apt-get to install them")
    sudo: list[str] = [] if is_root() else ["sudo"]
    if sudo and shutil.which("sudo") is None:
        raise ServiceError(f"missing packages {' '.join(todo)}: run as root or install sudo")
    print("installing: " + " ".join(todo), flush=True)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for argv in (
        [*sudo, "apt-get", "update", "-qq"],
        [*sudo, "apt-get", "install", "-y", "-qq", "--no-install-recommends", *todo],
    ):
        if subprocess.run(argv, env=env, check=False).returncode != 0:
            raise ServiceError(f"{' '.join(argv)} failed")
