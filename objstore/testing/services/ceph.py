"""A single-node Ceph cluster with radosgw for the tests, on 127.0.0.1, state in one directory.

One monitor (``a``), one manager (``x``), one bluestore OSD (``0``) on a sparse 20 GiB file and
radosgw (``client.rgw.x``, beast frontend). Pools have size 1 and 8 placement groups; the OSD
aims at 1 GiB of memory. All keys live in one keyring that the monitor imports at ``mkfs``, so no
``ceph auth`` round trip is needed. Daemons run in the foreground of their own session (the
pid we record is theirs, and no daemonizing parent holds our pipes); their logs are in ``log/``.

A stopped cluster restarts from its data (the monitor's ports are in its monmap, so they are
kept); a cluster that cannot be restarted is recreated.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import string
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from objstore.testing.services._proc import (
    LOOPBACK,
    ServiceError,
    choose_port,
    http_answers,
    listening,
    port_free,
    read_pid,
    run,
    terminate,
    wait_until,
)
from objstore.testing.services.state import CephInfo, RgwInfo

BINARIES = (
    "ceph-mon",
    "ceph-mgr",
    "ceph-osd",
    "radosgw",
    "ceph",
    "radosgw-admin",
    "ceph-authtool",
    "monmaptool",
)
PREFERRED_PORTS = {"mon_v2": 13300, "mon_v1": 16789, "rgw": 17480}
REGION = "us-east-1"
S3_USER = "objstore"
RGW_NAME = "client.rgw.x"
_DAEMONS = (("mon", "a"), ("mgr", "x"), ("osd", "0"))

_CONF = """\
[global]
fsid = {fsid}
mon_host = [v2:{host}:{mon_v2},v1:{host}:{mon_v1}]
public_network = {host}/32
cluster_network = {host}/32
ms_bind_ipv4 = true
ms_bind_ipv6 = false
auth_cluster_required = cephx
auth_service_required = cephx
auth_client_required = cephx
keyring = {d}/ceph.keyring
run_dir = {d}/run
admin_socket = {d}/run/$cluster-$name.asok
pid_file = {d}/run/$name.pid
log_file = {d}/log/$cluster-$name.log
crash_dir = {d}/crash
exporter_sock_dir = {d}/run
osd_pool_default_size = 1
osd_pool_default_min_size = 1
mon_allow_pool_size_one = true
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
osd_pool_default_pg_autoscale_mode = off
osd_crush_chooseleaf_type = 0
mon_warn_on_pool_no_redundancy = false
mon_data_avail_warn = 2
mon_data_avail_crit = 1
mon_allow_pool_delete = true
mon_warn_on_insecure_global_id_reclaim_allowed = false
mon_max_pg_per_osd = 1000

[mon]
mon_data = {d}/mon/$cluster-$id
mon_cluster_log_file = {d}/log/$cluster.log

[mgr]
mgr_data = {d}/mgr/$cluster-$id

[osd]
osd_data = {d}/osd/$cluster-$id
osd_objectstore = bluestore
bluestore_block_create = true
bluestore_block_size = 21474836480
osd_memory_target = 1073741824
osd_memory_cache_min = 134217728

[{rgw}]
rgw_data = {d}/rgw/$cluster-$id
rgw_frontends = beast endpoint={host}:{rgw_port}
rgw_dns_name = {host}
rgw_enable_usage_log = false
# No lifecycle rules are used; their threads delay a stop (they sleep 5 s between attempts).
rgw_enable_lc_threads = false
# Deleted objects' data is freed by radosgw's gc, after 2 h by default: benchmarks that write
# and delete GiBs would fill the 20 GiB OSD (writes then hang). A minute is plenty here.
rgw_gc_obj_min_wait = 60
rgw_gc_processor_period = 60
"""


def binaries_present() -> bool:
    """True when every Ceph program the cluster needs is on PATH."""
    return all(shutil.which(b) for b in BINARIES)


@dataclass
class CephCluster:
    """The cluster in ``directory`` (``ceph.conf``, ``ceph.keyring``, daemons' data and logs)."""

    directory: Path

    @property
    def conf(self) -> Path:
        return self.directory / "ceph.conf"

    @property
    def _keys_file(self) -> Path:
        return self.directory / "s3-user.json"

    def _env(self) -> dict[str, str]:
        return {"CEPH_CONF": str(self.conf)}

    def _pid_file(self, name: str) -> Path:
        return self.directory / "run" / f"{name}.pid"

    def created(self) -> bool:
        return self._keys_file.is_file() and self.conf.is_file()

    def settings(self) -> dict[str, str]:
        """``fsid``, ports (as text) of the configuration file."""
        out: dict[str, str] = {}
        for line in self.conf.read_text().splitlines():
            key, sep, value = line.partition(" = ")
            if sep:
                out.setdefault(key.strip(), value.strip())
        return out

    def ports(self) -> tuple[int, int, int]:
        """(mon v2, mon v1, rgw) ports of the configuration."""
        s = self.settings()
        mon = s["mon_host"].strip("[]").split(",")
        v2, v1 = (int(m.rsplit(":", 1)[1]) for m in mon)
        rgw = int(s["rgw_frontends"].rsplit(":", 1)[1])
        return v2, v1, rgw

    def _write_conf(self, fsid: str, mon_v2: int, mon_v1: int, rgw_port: int) -> None:
        self.conf.write_text(
            _CONF.format(
                fsid=fsid,
                host=LOOPBACK,
                mon_v2=mon_v2,
                mon_v1=mon_v1,
                rgw_port=rgw_port,
                d=self.directory,
                rgw=RGW_NAME,
            )
        )

    # ---- creation ------------------------------------------------------------------------

    def create(self) -> None:
        """A new cluster: configuration, keys, monitor map, S3 user keys (nothing started)."""
        if self.directory.exists():
            shutil.rmtree(self.directory)
        for sub in ("run", "log", "crash", "mon", "mgr", "osd", "rgw"):
            (self.directory / sub).mkdir(parents=True, exist_ok=True)
        os.chmod(self.directory, 0o700)
        mon_v2 = choose_port(PREFERRED_PORTS["mon_v2"])
        mon_v1 = choose_port(PREFERRED_PORTS["mon_v1"], avoid=[mon_v2])
        rgw_port = choose_port(PREFERRED_PORTS["rgw"], avoid=[mon_v2, mon_v1])
        fsid = str(uuid.uuid4())
        self._write_conf(fsid, mon_v2, mon_v1, rgw_port)
        keyring = str(self.directory / "ceph.keyring")
        caps = {
            "mon.": ["--cap", "mon", "allow *"],
            "client.admin": [
                "--cap",
                "mon",
                "allow *",
                "--cap",
                "osd",
                "allow *",
                "--cap",
                "mds",
                "allow *",
                "--cap",
                "mgr",
                "allow *",
            ],
            "mgr.x": [
                "--cap",
                "mon",
                "allow profile mgr",
                "--cap",
                "osd",
                "allow *",
                "--cap",
                "mds",
                "allow *",
            ],
            "osd.0": [
                "--cap",
                "mon",
                "allow profile osd",
                "--cap",
                "mgr",
                "allow profile osd",
                "--cap",
                "osd",
                "allow *",
            ],
            RGW_NAME: [
                "--cap",
                "mon",
                "allow rw",
                "--cap",
                "osd",
                "allow rwx",
                "--cap",
                "mgr",
                "allow rw",
            ],
        }
        first = True
        for name, cap in caps.items():
            create = ["--create-keyring"] if first else []
            run(["ceph-authtool", keyring, *create, "--gen-key", "-n", name, *cap])
            first = False
        os.chmod(keyring, 0o600)
        monmap = str(self.directory / "monmap")
        run(
            [
                "monmaptool",
                "--create",
                "--fsid",
                fsid,
                "--addv",
                "a",
                f"[v2:{LOOPBACK}:{mon_v2},v1:{LOOPBACK}:{mon_v1}]",
                monmap,
            ]
        )
        run(
            ["ceph-mon", "--mkfs", "-i", "a", "--monmap", monmap, "--keyring", keyring],
            env=self._env(),
        )
        self._keys_file.write_text(
            json.dumps(
                {
                    "access_key": "".join(
                        secrets.choice(string.ascii_uppercase + string.digits) for _ in range(20)
                    ),
                    "secret_key": secrets.token_urlsafe(30),
                    "osd_uuid": str(uuid.uuid4()),
                    "user_created": False,
                }
            )
        )
        os.chmod(self._keys_file, 0o600)

    def _keys(self) -> dict[str, object]:
        loaded: dict[str, object] = json.loads(self._keys_file.read_text())
        return loaded

    # ---- daemons -------------------------------------------------------------------------

    def _spawn(self, pid_name: str, argv: list[str]) -> None:
        """Start a foreground daemon in a session of its own; record its pid."""
        if read_pid(self._pid_file(pid_name)) is not None:
            return
        log = open(self.directory / "log" / f"{pid_name}.out", "ab")  # noqa: SIM115
        with log:
            proc = subprocess.Popen(
                [*argv, "-f", "-c", str(self.conf)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                cwd=self.directory,
                env={**os.environ, **self._env()},
            )
        self._pid_file(pid_name).write_text(f"{proc.pid}\n")

    def ceph(self, *args: str, timeout: float = 60) -> str:
        """Run the ``ceph`` CLI against this cluster; returns its output."""
        return run(
            ["ceph", "--connect-timeout", "30", *args], env=self._env(), timeout=timeout
        ).stdout

    def start(self) -> None:
        """Start what is not running (monitor, manager, OSD, radosgw), wait for S3."""
        mon_v2, mon_v1, rgw_port = self.ports()
        if read_pid(self._pid_file(RGW_NAME)) is None and not port_free(rgw_port):
            # Taken while radosgw was down. The monitor's ports are in its monmap and
            # cannot move; radosgw's can (env.json then records the new one).
            rgw_port = choose_port(avoid=[mon_v2, mon_v1])
        # Rewritten from the code's template: a cluster created by an older version of this
        # module gets the current settings (identity and ports are kept).
        self._write_conf(self.settings()["fsid"], mon_v2, mon_v1, rgw_port)
        keys = self._keys()
        self._spawn("mon.a", ["ceph-mon", "-i", "a"])
        wait_until(lambda: listening(mon_v1) and listening(mon_v2), "ceph-mon", 30)
        self._spawn("mgr.x", ["ceph-mgr", "-i", "x"])
        osd_dir = self.directory / "osd" / "ceph-0"
        if not (osd_dir / "ready").exists():
            osd_uuid = str(keys["osd_uuid"])
            self.ceph("osd", "new", osd_uuid, "0")
            osd_dir.mkdir(parents=True, exist_ok=True)
            run(
                ["ceph-osd", "-i", "0", "--mkfs", "--osd-uuid", osd_uuid, "-c", str(self.conf)],
                env=self._env(),
                timeout=120,
            )
        self._spawn("osd.0", ["ceph-osd", "-i", "0"])
        self.start_rgw()
        if not keys["user_created"]:
            run(
                [
                    "radosgw-admin",
                    "user",
                    "create",
                    f"--uid={S3_USER}",
                    f"--display-name={S3_USER}",
                    f"--access-key={keys['access_key']}",
                    f"--secret-key={keys['secret_key']}",
                ],
                env=self._env(),
            )
            self._keys_file.write_text(json.dumps({**keys, "user_created": True}))
        wait_until(lambda: http_answers(f"http://{LOOPBACK}:{rgw_port}/"), "radosgw", 120)

    def start_rgw(self) -> None:
        """Start the main radosgw (a no-op when it runs)."""
        self._spawn(RGW_NAME, ["radosgw", "-n", RGW_NAME])

    def stop_rgw(self) -> None:
        """Stop the main radosgw."""
        pid = read_pid(self._pid_file(RGW_NAME))
        if pid is not None:
            terminate(pid)

    def running(self) -> bool:
        """True when every daemon's recorded process is alive."""
        names = [f"{t}.{i}" for t, i in _DAEMONS] + [RGW_NAME]
        return all(read_pid(self._pid_file(n)) is not None for n in names)

    def stop(self) -> bool:
        """Stop every daemon (radosgw first, the monitor last); True if any was running."""
        any_running = False
        for name in [RGW_NAME] + [f"{t}.{i}" for t, i in reversed(_DAEMONS)]:
            pid = read_pid(self._pid_file(name))
            if pid is not None:
                any_running = True
                terminate(pid)
        return any_running

    def info(self) -> tuple[CephInfo, RgwInfo]:
        mon_v2, _, rgw_port = self.ports()
        keys = self._keys()
        ceph = CephInfo(conf=str(self.conf), fsid=self.settings()["fsid"], mon_port=mon_v2)
        rgw = RgwInfo(
            endpoint=f"http://{LOOPBACK}:{rgw_port}",
            port=rgw_port,
            access_key=str(keys["access_key"]),
            secret_key=str(keys["secret_key"]),
            region=REGION,
        )
        return ceph, rgw


class RadosGateway:
    """One more radosgw on the cluster of ``conf``, on a port of its own, files in ``directory``.

    Fault tests stop, kill and restart it without disturbing the main radosgw that other tests
    (and other checkouts) share; it serves the same users and buckets.
    """

    def __init__(self, conf: Path, directory: Path, port: int = 0) -> None:
        self.conf = conf
        self.directory = directory
        self.port = port or choose_port()
        self.endpoint = f"http://{LOOPBACK}:{self.port}"
        self._proc: subprocess.Popen[bytes] | None = None
        self._addresses: set[str] = set()

    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self, timeout: float = 60) -> None:
        """Start (a no-op when it runs) and wait until it answers HTTP."""
        if self.running():
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        d = self.directory
        before = self._watchers()
        with open(d / "radosgw.out", "ab") as log:
            self._proc = subprocess.Popen(
                [
                    "radosgw",
                    "-n",
                    RGW_NAME,
                    "-f",
                    "-c",
                    str(self.conf),
                    "--rgw-frontends",
                    f"beast endpoint={LOOPBACK}:{self.port}",
                    "--pid-file",
                    str(d / "radosgw.pid"),
                    "--admin-socket",
                    str(d / "radosgw.asok"),
                    "--log-file",
                    str(d / "radosgw.log"),
                    # Only the main radosgw collects garbage. Lifecycle threads are off in every
                    # radosgw: after a kill their locks stay held, and the next radosgw's threads
                    # then retry every 5 s, which delays its stop by up to 30 s.
                    "--rgw-enable-lc-threads=false",
                    "--rgw-enable-gc-threads=false",
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env={**os.environ, "CEPH_CONF": str(self.conf)},
            )
        proc = self._proc

        def up() -> bool:
            if proc.poll() is not None:
                raise ServiceError(f"radosgw exited {proc.returncode}: see {d / 'radosgw.log'}")
            return http_answers(self.endpoint + "/")

        wait_until(up, f"radosgw on port {self.port}", timeout)
        self._addresses = self._watchers() - before

    def stop(self, grace: float = 5.0) -> None:
        """SIGTERM, then SIGKILL after ``grace`` seconds: a radosgw with idle keep-alive
        connections of a client otherwise takes 30 s and more to exit."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(grace)
            except subprocess.TimeoutExpired:
                self.kill()

    def kill(self) -> None:
        """SIGKILL (a crash), wait for the exit, then drop its watches (see _forget)."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
            self._forget()

    def _watchers(self) -> set[str]:
        """Addresses of the RADOS clients watching radosgw's first control object."""
        out = run(
            ["rados", "-p", "default.rgw.control", "listwatchers", "notify.0"],
            env={"CEPH_CONF": str(self.conf)},
            check=False,
        ).stdout
        return {line.removeprefix("watcher=").split(" ")[0] for line in out.splitlines()}

    def _forget(self) -> None:
        """Blocklist the dead process's RADOS client, as Ceph does with a dead client.

        Every radosgw watches the control objects, and each metadata change (a bucket created
        or deleted) notifies all watchers and waits for their answer: a killed radosgw's
        watches linger until the OSD times them out, and meanwhile bucket operations on every
        radosgw of the cluster stall for 10-30 s. Its address is the watcher that appeared
        when it started.
        """
        for addr in sorted(self._addresses):
            run(
                ["ceph", "osd", "blocklist", "add", addr, "3600"],
                env={"CEPH_CONF": str(self.conf)},
                check=False,
            )
        self._addresses = set()


def rgw_answers(info: RgwInfo) -> bool:
    """True when radosgw answers HTTP at ``info.endpoint``."""
    return http_answers(info.endpoint + "/")


def ensure(state_dir: Path) -> tuple[CephInfo, RgwInfo]:
    """Create (once) and start (unless running) the cluster of ``state_dir``.

    A stopped cluster restarts from its data; if that fails it is recreated. Raises
    ServiceError when Ceph is not installed or cannot be started.
    """
    if not binaries_present():
        missing = [b for b in BINARIES if not shutil.which(b)]
        raise ServiceError(f"Ceph is not installed (no {', '.join(missing)}): run `make services`")
    cluster = CephCluster(state_dir / "ceph")
    if cluster.created():
        if cluster.running():
            ceph, rgw = cluster.info()
            if rgw_answers(rgw):
                return ceph, rgw
        try:
            cluster.start()
            return cluster.info()
        except ServiceError:
            cluster.stop()  # then recreate below
    began = time.monotonic()
    cluster.create()
    try:
        cluster.start()
    except ServiceError as exc:
        cluster.stop()
        raise ServiceError(
            f"{exc} (after {time.monotonic() - began:.0f} s; logs in {cluster.directory / 'log'})"
        ) from None
    return cluster.info()


def stop(state_dir: Path) -> bool:
    """Stop the cluster of ``state_dir``; True if it was running."""
    cluster = CephCluster(state_dir / "ceph")
    return cluster.conf.is_file() and cluster.stop()
