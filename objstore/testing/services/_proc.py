"""Process plumbing of the test services: commands, ports, pids, waits, a lock.

Standard library only, so that ``make services`` can run before the venv exists and the CLI
stays importable without the test dependencies.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pwd
import secrets
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

LOOPBACK = "127.0.0.1"
_LOW_RANGE = (20000, 32000)


class ServiceError(RuntimeError):
    """A service could not be installed, started, stopped or reached (the message says why)."""


def run(
    argv: Sequence[str],
    *,
    user: str | None = None,
    env: Mapping[str, str] | None = None,
    input: str | None = None,
    timeout: float = 120.0,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` (as ``user`` when given), capturing text output.

    Raises ServiceError when the command is missing, times out, or (``check``) exits non-zero;
    the error carries the command's stderr, which is what a reader needs to fix it.
    """
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    uid: int | None = None
    gid: int | None = None
    groups: list[int] | None = None
    if user is not None and user != current_user():
        entry = pwd.getpwnam(user)
        uid, gid, groups = entry.pw_uid, entry.pw_gid, []
        full_env["HOME"] = entry.pw_dir
        full_env["USER"] = full_env["LOGNAME"] = user
    try:
        done = subprocess.run(
            list(argv),
            env=full_env,
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd="/",  # a cwd the service user may not be able to enter would break it
            user=uid,
            group=gid,
            extra_groups=groups,
        )
    except FileNotFoundError as exc:
        raise ServiceError(f"{argv[0]}: not installed ({exc})") from None
    except subprocess.TimeoutExpired:
        raise ServiceError(f"{' '.join(argv)}: no answer within {timeout:.0f} s") from None
    if check and done.returncode != 0:
        out = (done.stderr.strip() or done.stdout.strip())[-2000:]
        raise ServiceError(f"{' '.join(argv)} exited {done.returncode}: {out}")
    return done


def current_user() -> str:
    """The name of the effective user."""
    return pwd.getpwuid(os.geteuid()).pw_name


def is_root() -> bool:
    """True when running as root (then services that refuse root run as their own user)."""
    return os.geteuid() == 0


def port_free(port: int, host: str = LOOPBACK) -> bool:
    """True when nothing listens on ``host:port`` and it can be bound."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        # As the servers bind: a port whose old connections linger in TIME_WAIT is free.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = LOOPBACK) -> int:
    """A port the kernel says is free now (it may be taken again before use: callers retry)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        port: int = s.getsockname()[1]
        return port


def choose_port(*preferred: int, avoid: Sequence[int] = ()) -> int:
    """The first of ``preferred`` that is free, else a free port below the ephemeral range.

    Below 32768 (Linux's default ``ip_local_port_range`` starts there), so that outgoing
    connections do not take a stopped service's port before it restarts. Never one of ``avoid``.
    """
    for port in preferred:
        if port and port not in avoid and port_free(port):
            return port
    start = secrets.randbelow(_LOW_RANGE[1] - _LOW_RANGE[0])
    span = _LOW_RANGE[1] - _LOW_RANGE[0]
    for i in range(span):
        port = _LOW_RANGE[0] + (start + i) % span
        if port not in avoid and port_free(port):
            return port
    return free_port()


def listening(port: int, host: str = LOOPBACK) -> bool:
    """True when a TCP connect to ``host:port`` succeeds."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(1.0)
        return s.connect_ex((host, port)) == 0


def http_answers(url: str) -> bool:
    """True when ``url`` answers HTTP at all (any status)."""
    try:
        with urllib.request.urlopen(url, timeout=2.0):
            return True
    except urllib.error.HTTPError:
        return True
    except (OSError, ValueError):
        return False


def wait_until(check: Callable[[], bool], what: str, timeout: float, interval: float = 0.1) -> None:
    """Poll ``check`` until it is true; raises ServiceError after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise ServiceError(f"{what}: not ready within {timeout:.0f} s")
        time.sleep(interval)


def read_pid(pid_file: Path) -> int | None:
    """The pid in ``pid_file`` if that process is alive, else None."""
    try:
        pid = int(pid_file.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return pid if pid_alive(pid) else None


def pid_alive(pid: int) -> bool:
    """True when process ``pid`` exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def terminate(pid: int, timeout: float = 30.0) -> None:
    """SIGTERM ``pid``, then SIGKILL if it is still alive after ``timeout`` seconds."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while pid_alive(pid):
        if time.monotonic() > deadline:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            wait_until(lambda: not pid_alive(pid), f"pid {pid} after SIGKILL", 10)
            return
        time.sleep(0.05)


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (two ``make services`` never race on one state dir)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)
