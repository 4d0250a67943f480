"""S3 servers the gateway benchmark runs as child processes: ``objstore serve`` and moto.

Each server is started on a free loopback port (``--port 0``; the URL is read from what the
server prints), in a process group of its own so that its workers go with it, and stopped by
the harness: at the end of its ``with`` block, and at interpreter exit if the harness dies
on the way. Its output is drained by a thread (moto logs every request: an unread pipe would
stall it) and the last lines are kept for the error message when it fails to start.
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_URL = re.compile(r"(https?://127\.0\.0\.1:[1-9][0-9]*)")
_LIVE: set[subprocess.Popen[bytes]] = set()


def _kill_group(proc: subprocess.Popen[bytes], grace: float = 5.0) -> None:
    """SIGTERM the server's process group, SIGKILL it after ``grace`` seconds."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(grace)
    with contextlib.suppress(ProcessLookupError):  # workers left behind by the leader
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    _LIVE.discard(proc)


@atexit.register
def _kill_leftovers() -> None:
    for proc in list(_LIVE):
        _kill_group(proc, grace=1.0)


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A running server: its URL and the credentials its clients sign with."""

    name: str
    url: str
    access_key: str
    secret_key: str
    pid: int  # the leader (``objstore serve``'s master, or moto)

    def client(self, **config: Any) -> Any:
        """A new boto3 S3 client for this server (path-style; ``config``: botocore Config)."""
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            config=Config(s3={"addressing_style": "path"}, **config),
        )


@contextlib.contextmanager
def server(
    name: str,
    argv: Sequence[str],
    access_key: str,
    secret_key: str,
    timeout: float = 60.0,
    grace: float = 5.0,
) -> Iterator[Endpoint]:
    """Run ``argv`` (a server that binds a free port and prints its URL) for the block;
    then SIGTERM it, and SIGKILL its process group after ``grace`` seconds."""
    proc = subprocess.Popen(
        list(argv),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: workers are stopped with it
    )
    _LIVE.add(proc)
    tail: collections.deque[str] = collections.deque(maxlen=20)
    found = threading.Event()
    url: list[str] = []

    def drain() -> None:
        assert proc.stdout is not None
        for raw in proc.stdout:
            line = raw.decode(errors="replace").rstrip()
            if not found.is_set():
                tail.append(line)
                if m := _URL.search(line):
                    url.append(m.group(1))
                    found.set()

    reader = threading.Thread(target=drain, name=f"{name}-output", daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + timeout
        while not found.wait(0.1):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"{name} did not start ({' '.join(argv)}):\n  " + "\n  ".join(tail)
                )
        yield Endpoint(name, url[0], access_key, secret_key, proc.pid)
    finally:
        _kill_group(proc, grace)
        reader.join(5.0)


def moto(python: str = sys.executable) -> contextlib.AbstractContextManager[Endpoint]:
    """A moto S3 server (any credentials are accepted)."""
    argv = [python, "-m", "moto.server", "-H", "127.0.0.1", "-p", "0"]
    return server("moto", argv, "bench-key", "bench-secret")


def objstore_serve(
    store: Path, workers: int, python: str = sys.executable
) -> contextlib.AbstractContextManager[Endpoint]:
    """``objstore serve`` of ``store`` with ``workers`` processes, signed for by a new access
    key of the store's root (made before the server starts)."""
    import objstore

    with objstore.open(str(store)) as opened:
        key = opened.root.iam.create_access_key()
    argv = [python, "-m", "objstore", "serve", "--store", str(store), "--host", "127.0.0.1"]
    argv += ["--port", "0", "--workers", str(workers)]
    return server(
        f"objstore serve --workers {workers}", argv, key.access_key_id, key.secret_access_key
    )


def serve_available(python: str = sys.executable) -> bool:
    """Whether this checkout has ``objstore serve`` and the SigV4 authentication it needs
    (both are missing in older commits)."""
    res = subprocess.run(
        [python, "-m", "objstore", "serve", "--help"], capture_output=True, check=False
    )
    auth = subprocess.run(
        [python, "-c", "import objstore.gateway.auth"], capture_output=True, check=False
    )
    return res.returncode == 0 and b"--workers" in res.stdout and auth.returncode == 0
