"""Run the public ceph/s3-tests suite against a server on a loopback port; count the outcomes.

``make conformance`` (objstore's gateway) or ``make conformance TARGET=moto`` (moto server, the
comparison) runs this with the project's venv. Steps:

1. The suite, pinned at ``COMMIT``: ``$S3TESTS_DIR`` if set (used as is), else a cached
   extraction under ``.s3tests/``, else ``git clone`` of the public repository, else the local git
   mirror ``$S3TESTS_MIRROR``; otherwise it stops saying so. The suite's code is never part of the
   project (``.s3tests/`` is ignored by git).
2. Its requirements go into a venv of their own (``.venv-s3tests``, plus pytest-timeout), so they
   never touch the project's ``.venv``.
3. A fresh store in a temporary directory with the suite's four identities (see ``accounts.py``),
   ``s3tests.conf``, then the server as a subprocess on a free port of 127.0.0.1.
4. ``pytest s3tests/functional/test_s3.py -m SELECTION`` with a junit report, a per-test timeout
   and an overall bound, each test with a bucket prefix of its own (``s3tests_plugin.py``), then
   the server is stopped and the outcomes are counted (``report.py``).

Results go to ``.conformance/<target>/``: ``junit.xml``, ``failures.txt`` (one line per failed
test: outcome, name, first line of the error), ``server.log`` and ``pytest.log``.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from accounts import Conf, moto_conf, objstore_conf, write_conf  # noqa: E402
from report import format_counts, read_junit, write_failures  # noqa: E402

REPO_URL = "https://github.com/ceph/s3-tests"
COMMIT = "8f0ae7b404a3a2fcf7038bf1e6bf29544fe9b6a3"
PROJECT = HERE.parent.parent
# The selection of ../shared/reference/s3-tests-selection.md: it removes only features an S3+IAM
# store without lifecycle/encryption/website/select/notifications cannot be expected to have.
SELECTION = (
    "not (lifecycle or lifecycle_expiration or lifecycle_transition or object_lock or s3website"
    " or s3website_routing_rules or s3website_redirect_location or s3select or sns or encryption"
    " or sse_s3 or bucket_encryption or bucket_logging or bucket_logging_cleanup"
    " or fails_without_logging_rollover or storage_class or cloud_transition or cloud_restore"
    " or target_by_bucket or appendobject or auth_aws2 or fails_on_aws)"
)
EXPECTED = 463
# Requirements of the suite that running it does not need (tox drives its own CI only).
UNNEEDED = {"tox"}


class HarnessError(Exception):
    """The run could not be made (no suite, no venv, the server did not start)."""


def log(msg: str) -> None:
    print(f"conformance: {msg}", flush=True)


# --------------------------------------------------------------------------- the suite


def _git(*args: str, timeout: float) -> subprocess.CompletedProcess[bytes]:
    env = dict(os.environ, GIT_TERMINAL_PROMPT="0")
    return subprocess.run(
        ["git", *args], env=env, capture_output=True, timeout=timeout, check=False
    )


def _extract(git_dir: str, dest: Path) -> bool:
    """``git archive COMMIT`` of ``git_dir`` unpacked into ``dest``; False if it has no COMMIT."""
    tmp = dest.with_name(dest.name + ".part")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    archive = subprocess.Popen(
        ["git", f"--git-dir={git_dir}", "archive", "--format=tar", COMMIT],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    tar = subprocess.run(["tar", "-x", "-C", str(tmp)], stdin=archive.stdout, check=False)
    assert archive.stdout is not None
    archive.stdout.close()
    if archive.wait() != 0 or tar.returncode != 0:
        shutil.rmtree(tmp, ignore_errors=True)
        return False
    tmp.rename(dest)
    return True


def find_suite(cache: Path) -> Path:
    """The suite's directory at COMMIT (see the module docstring for the order tried)."""
    given = os.environ.get("S3TESTS_DIR")
    if given:
        path = Path(given)
        if not (path / "s3tests" / "functional" / "test_s3.py").is_file():
            raise HarnessError(f"S3TESTS_DIR={given} holds no s3tests/functional/test_s3.py")
        log(f"suite from S3TESTS_DIR={given} (used as is, commit not checked)")
        return path
    dest = cache / COMMIT
    if (dest / "s3tests" / "functional" / "test_s3.py").is_file():
        log(f"suite from the cache {dest}")
        return dest
    cache.mkdir(parents=True, exist_ok=True)
    clone = cache / "clone"
    shutil.rmtree(clone, ignore_errors=True)
    try:
        got = _git("clone", "--quiet", "--bare", REPO_URL, str(clone), timeout=300)
        if got.returncode == 0 and _extract(str(clone), dest):
            log(f"suite cloned from {REPO_URL} at {COMMIT[:12]}")
            return dest
        log(f"git clone {REPO_URL} failed: {got.stderr.decode(errors='replace').strip()[:200]}")
    except subprocess.TimeoutExpired:
        log(f"git clone {REPO_URL} timed out")
    finally:
        shutil.rmtree(clone, ignore_errors=True)
    mirror = os.environ.get("S3TESTS_MIRROR", "")
    if mirror and Path(mirror).exists():
        if _extract(mirror, dest):
            log(f"suite from the local mirror {mirror} at {COMMIT[:12]}")
            return dest
        raise HarnessError(f"the mirror {mirror} has no commit {COMMIT}")
    raise HarnessError(
        f"no ceph/s3-tests suite: set S3TESTS_DIR to a checkout of {COMMIT}, allow git clone of "
        f"{REPO_URL}, or set S3TESTS_MIRROR to a git directory that has the commit"
    )


def suite_venv(suite: Path, venv: Path) -> Path:
    """The suite's own venv (created or refreshed when its requirements change) -> its python."""
    reqs = [
        line.strip()
        for line in (suite / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    reqs = [r for r in reqs if r.split()[0].split(">")[0].split("=")[0].lower() not in UNNEEDED]
    reqs.append("pytest-timeout")
    digest = hashlib.sha256("\n".join(reqs).encode()).hexdigest()
    stamp = venv / ".installed"
    python = venv / "bin" / "python"
    if stamp.is_file() and stamp.read_text() == digest and python.exists():
        return python
    log(f"installing the suite's requirements into {venv}")
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    done = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", *reqs], check=False, timeout=900
    )
    if done.returncode != 0:
        raise HarnessError(f"pip install of the suite's requirements failed: {reqs}")
    stamp.write_text(digest)
    return python


# --------------------------------------------------------------------------- the server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_listening(proc: subprocess.Popen[bytes], port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise HarnessError(f"the server exited with status {proc.returncode} (see server.log)")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.2)
    raise HarnessError(f"the server did not listen on port {port} within {timeout:.0f} s")


@contextlib.contextmanager
def running(cmd: list[str], port: int, logfile: Path) -> Iterator[None]:
    """The server ``cmd`` running (its own process group, output to ``logfile``)."""
    with logfile.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            wait_listening(proc, port, 60)
            yield
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()


def server_command(target: str, store: Path, port: int, workers: int) -> list[str]:
    bindir = Path(sys.executable).parent
    if target == "moto":
        return [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    cmd = [str(bindir / "objstore"), "serve", "--store", str(store)]
    cmd += ["--host", "127.0.0.1", "--port", str(port)]
    if workers > 1:
        cmd += ["--workers", str(workers)]
    return cmd


# --------------------------------------------------------------------------- the run


def run_pytest(python: Path, suite: Path, conf: Path, out: Path, args: argparse.Namespace) -> int:
    cmd = [str(python), "-m", "pytest", "s3tests/functional/test_s3.py"]
    cmd += ["-m", SELECTION, "-p", "s3tests_plugin", "-p", "no:cacheprovider"]
    cmd += [f"--junitxml={out / 'junit.xml'}", f"--timeout={args.timeout}", "-q", "-rN"]
    if args.k:
        cmd += ["-k", args.k]
    env = dict(os.environ, S3TEST_CONF=str(conf), PYTHONPATH=str(HERE), PYTHONDONTWRITEBYTECODE="1")
    env.pop("VIRTUAL_ENV", None)
    with (out / "pytest.log").open("wb") as logf:
        proc = subprocess.Popen(
            cmd, cwd=suite, env=env, stdout=logf, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            return proc.wait(args.bound)
        except subprocess.TimeoutExpired:
            log(f"the run exceeded {args.bound} s: stopped (junit.xml is incomplete)")
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            return -1


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--target", choices=["objstore", "moto"], default="objstore")
    p.add_argument("--timeout", type=int, default=60, help="seconds per test (pytest-timeout)")
    p.add_argument("--bound", type=int, default=1800, help="seconds for the whole pytest run")
    p.add_argument("--workers", type=int, default=1, help="objstore serve --workers")
    p.add_argument("-k", default="", help="a pytest -k expression, to rerun a few tests")
    p.add_argument("--out", type=Path, default=PROJECT / ".conformance")
    args = p.parse_args(argv)
    try:
        suite = find_suite(PROJECT / ".s3tests")
        python = suite_venv(suite, PROJECT / ".venv-s3tests")
        out = args.out / args.target
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True)
        port = free_port()
        with tempfile.TemporaryDirectory(prefix="objstore-conformance-") as tmp:
            store = Path(tmp) / "store"
            conf: Conf = moto_conf() if args.target == "moto" else objstore_conf(store)
            conf_path = Path(tmp) / "s3tests.conf"
            write_conf(conf, "127.0.0.1", port, conf_path)
            started = time.monotonic()
            log(f"{args.target} on 127.0.0.1:{port}; pytest -m <selection of {EXPECTED} tests>")
            cmd = server_command(args.target, store, port, args.workers)
            with running(cmd, port, out / "server.log"):
                status = run_pytest(python, suite, conf_path, out, args)
            elapsed = time.monotonic() - started
    except HarnessError as e:
        log(f"error: {e}")
        return 2
    junit = out / "junit.xml"
    if not junit.is_file():
        log(f"pytest wrote no junit report (status {status}); see {out / 'pytest.log'}")
        return 2
    results = read_junit(junit)
    summary = [ln for ln in (out / "pytest.log").read_text(errors="replace").splitlines() if ln]
    if summary:
        log(f"pytest says: {summary[-1].strip('= ')}")
    write_failures(results, out / "failures.txt")
    log(f"{args.target}: {format_counts(results, EXPECTED)} in {elapsed:.0f} s; details in {out}")
    if not args.k and len(results) != EXPECTED:
        log(f"error: {len(results)} tests ran, the selection has {EXPECTED}")
        return 1
    # Failing tests are the measurement, not an error of the run; pytest's own errors are.
    return 0 if status in (0, 1) else 1


if __name__ == "__main__":
    sys.exit(main())
