"""Leases and gc generations: how gc learns what writers and readers still rely on.

No lock is shared between gc and the I/O paths; everything gc must know is in
the metadata store, so the scheme holds for several processes or machines
sharing one metadata store. The safety argument is in ``docs/architecture.md``
("Garbage collection"); in short:

- A *gc generation* (counter ``S gcgen``) only grows; gc bumps it. A chunk
  record remembers the gen at which its count fell to zero, a dead body the gen
  at which it lost its last version.
- Each open store handle owns a *lease* record ``H <id>`` (heartbeat time,
  *protected gen*, *floor time*). Writers and readers register a :class:`Ticket`
  with their handle (in memory, no metadata write) holding the gen current when
  they started. The handle publishes ``gen = min(ticket gens, gen read before)``
  and ``floor = min(writer start times, now) - skew``: nothing it is running
  started before either.
- gc deletes a zero-reference chunk or drops a dead body only if it died at a gen
  below every live lease's protected gen, so after anything an active writer
  or reader might have seen; it deletes an unreferenced chunk *file* only if it
  is older than every live lease's floor. A lease whose heartbeat is older than
  its own ttl, recorded in it, whatever the ttl of the node running gc (or whose
  process is gone, on this host and in this pid namespace) is deleted before gc
  relies on its absence, and a writer checks its lease still
  exists in the transaction that commits its references: a crashed or stalled
  writer fails with the retryable :class:`~objstore.errors.ServiceUnavailable`
  instead of referencing chunks gc may have removed.
"""

from __future__ import annotations

import contextlib
import os
import socket
import struct
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import blake3

from objstore import keyspace
from objstore.blob.records import GEN, current_gen, get_doom
from objstore.errors import ServiceUnavailable, StoreClosed, StoreDamaged
from objstore.meta import counters
from objstore.meta.base import MetadataStore, ReadTxn, WriteTxn
from objstore.meta.scan import scan_prefix

# created ns, heartbeat ns, gen, floor ns, pid, host, ttl ns (the lease's own ttl)
LEASE_REC = struct.Struct("<QQQqQ8sQ")
_LEASE_REC_V1 = struct.Struct("<QQQqQ8s")  # written before leases carried their ttl
#: The ttl a lease recorded without one is judged by, at least: ``lease_ttl``'s default.
#: A node of the earlier format runs with it unless configured otherwise, and judging
#: its lease by a shorter ttl (a gc node's ``--lease-ttl``) would reap it under its
#: readers and writers; a longer wait for a crashed node only delays gc.
V1_TTL_NS = 600 * 1_000_000_000


def _host_key() -> bytes:
    """Who can check this process's pid: one kernel boot *and* one pid namespace.

    gc deletes at once a lease whose process is gone, but only when the lease comes
    from the same key, i.e. when ``kill(pid, 0)`` here asks about that very process.
    A host name alone is not enough: containers on one machine share the kernel and
    often the host name, while each has its own pids (a live node's pid is "gone" in
    another namespace), and different machines may share a name. Without a boot id
    and a namespace to go by, the key is random: the rule never applies, and dead
    leases wait for their ttl.
    """
    try:
        with open("/proc/sys/kernel/random/boot_id", "rb") as f:
            boot = f.read().strip()
        pidns = os.readlink("/proc/self/ns/pid").encode()
    except OSError:
        return os.urandom(8)
    if not boot or not pidns:
        return os.urandom(8)
    return blake3.blake3(socket.gethostname().encode() + b"\0" + boot + b"\0" + pidns).digest()[:8]


HOST = _host_key()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True


@dataclass(frozen=True, slots=True)
class LeaseRec:
    """A lease record (``H <id>``). ``ttl_ns``: the ttl of the handle that wrote it, by
    which every gc judges it (0 in a record of the earlier format: see :meth:`ttl`)."""

    created_ns: int
    heartbeat_ns: int
    gen: int
    floor_ns: int
    pid: int
    host: bytes
    ttl_ns: int = 0

    def encode(self) -> bytes:
        return LEASE_REC.pack(
            self.created_ns,
            self.heartbeat_ns,
            self.gen,
            self.floor_ns,
            self.pid,
            self.host,
            self.ttl_ns,
        )

    @staticmethod
    def decode(raw: bytes) -> LeaseRec:
        if len(raw) == _LEASE_REC_V1.size:
            return LeaseRec(*_LEASE_REC_V1.unpack(raw))
        if len(raw) < LEASE_REC.size:
            raise StoreDamaged(
                f"a lease record of {len(raw)} bytes (expected {_LEASE_REC_V1.size} or at "
                f"least {LEASE_REC.size})"
            )
        return LeaseRec(*LEASE_REC.unpack_from(raw))  # longer: a later format's extra fields

    def ttl(self, reaper_ns: int) -> int:
        """How long after its last heartbeat the lease is dead: its own ttl. Nodes may run
        with different ``lease_ttl``s (a gc node with a short one): judged by the gc
        node's, a default-ttl node's lease, renewed every ttl/4, was reaped under its
        readers and writers (review 9c, M2). A record without one: the longer of the
        reaper's and the default (:data:`V1_TTL_NS`)."""
        return self.ttl_ns or max(reaper_ns, V1_TTL_NS)


@dataclass(eq=False, slots=True)
class Ticket:
    """One writer or reader registered with its store handle."""

    writer: bool
    gen: int  # the gc gen current when it started: gc keeps what died at or after it
    lease_id: bytes
    start_ns: int
    active_ns: int
    busy: int = 0  # a reader inside a read call is never idle
    expired: bool = False
    # Writers: chunk id -> the gen of the snapshot in which they saw gc had
    # finished deleting an earlier copy (their own copy is newer).
    decided: dict[bytes, int] = field(default_factory=dict)


def deleted_under(txn: ReadTxn, cid: bytes, t: Ticket | None) -> bool:
    """Whether gc is deleting ``cid`` (its doom pending), or deleted it after ``t``
    decided to write or use it (without a ticket: only the pending doom counts). A
    reference, or a record, committed then would name a file that is, or will be, gone."""
    doom = get_doom(txn, cid)
    if doom is None:
        return False
    return doom[1] == 0 or (t is not None and doom[1] > t.decided.get(cid, t.gen))


@dataclass(frozen=True, slots=True)
class Horizon:
    """What gc may collect, from the live leases."""

    gen: int  # bodies / zero-reference chunks that died below this gen
    floor_ns: int  # unreferenced files older than this
    live: frozenset[bytes]  # ids of live leases
    reaped: int
    own: bytes  # this handle's lease id (owner of what this gc dooms)


class Leases:
    """This store handle's lease and the tickets of its writers and readers."""

    def __init__(
        self,
        meta: MetadataStore,
        *,
        clock: Callable[[], int],
        ttl_ns: int,
        skew_ns: int,
    ) -> None:
        self.meta = meta
        self.clock = clock
        self.ttl_ns = ttl_ns
        self.skew_ns = skew_ns
        self._lock = threading.Lock()
        self._tickets: set[Ticket] = set()
        self.lease_id: bytes | None = None
        self._created_ns = 0
        self._pid = os.getpid()
        self._published_ns = 0
        self._publishing = threading.Lock()
        # Chunk-store deletions in flight under this lease (kept_alive): close waits for
        # them before it removes the lease, and refuses new ones once it has begun.
        self._deleting = 0
        self._closing = False
        self._quiet = threading.Condition()

    # ---------------------------------------------------------------- tickets

    def enter(self, *, writer: bool) -> Ticket:
        """Register a writer or reader (before it reads any metadata it relies on)."""
        if self.lease_id is None or self._pid != os.getpid() or self._due():
            self.heartbeat()
        with self._lock:
            # The gen is read under the lock, so a concurrent publish either sees
            # this ticket or read its own gen before this one (see `heartbeat`).
            with self.meta.begin() as txn:
                gen = current_gen(txn)
            now = self.clock()
            assert self.lease_id is not None
            t = Ticket(writer, gen, self.lease_id, now, now)
            self._tickets.add(t)
        return t

    def touch(self, t: Ticket) -> None:
        """The ticket's owner made progress (renews the lease when due)."""
        t.active_ns = self.clock()
        if self._due():
            self.heartbeat()

    def leave(self, t: Ticket) -> None:
        with self._lock:
            self._tickets.discard(t)

    def check(self, txn: WriteTxn, t: Ticket, chunks: Iterable[bytes] = ()) -> None:
        """Inside the transaction that commits ``t``'s references: may it still?

        Raises ServiceUnavailable if the ticket outlived its lease (gc no longer
        protects what it saw) or gc deleted, after ``t`` decided to use it, one
        of ``chunks``.
        """
        if t.expired or txn.get(keyspace.LEASE + t.lease_id) is None:
            raise ServiceUnavailable(
                "the upload stalled longer than its gc lease; nothing was stored, retry"
            )
        for cid in chunks:
            if deleted_under(txn, cid, t):
                raise ServiceUnavailable(
                    f"chunk {cid.hex()} was being garbage-collected during the upload; retry"
                )

    # ------------------------------------------------------------------ lease

    def _due(self) -> bool:
        return self.clock() - self._published_ns > self.ttl_ns // 4

    def fresh(self, lease_id: bytes) -> bool:
        """Whether ``lease_id`` is still this handle's, renewed within half the ttl (never
        once :meth:`close` has begun)."""
        if self._closing:
            return False
        if self._due():
            self.heartbeat()
        return self.lease_id == lease_id and self.clock() - self._published_ns < self.ttl_ns // 2

    def _bounds(self, gen_before: int) -> tuple[int, int]:
        now = self.clock()
        with self._lock:
            for t in list(self._tickets):
                if t.busy == 0 and now - t.active_ns > self.ttl_ns:
                    t.expired = True  # idle reader / stalled writer: no longer protected
                    self._tickets.discard(t)
            gen = min([t.gen for t in self._tickets] + [gen_before])
            floor = min([t.start_ns for t in self._tickets if t.writer] + [now])
        return gen, floor - self.skew_ns

    def write_record(self, txn: WriteTxn, gen_before: int) -> bytes:
        """Write this handle's lease record in ``txn``; returns the lease id.

        ``gen_before`` must have been read from a committed snapshot before this
        call: a ticket registered later reads at least that gen. A lease that gc
        reaped is never renewed under its old id (its tickets must fail).
        """
        gen, floor = self._bounds(gen_before)
        now = self.clock()
        lid = self.lease_id
        if lid is None or self._pid != os.getpid() or txn.get(keyspace.LEASE + lid) is None:
            if self._closing:  # a renewal that outlived the close must not make a new lease
                raise StoreClosed("the store is closed: its lease is not renewed")
            lid = os.urandom(16)
            self._created_ns = now
            self._pid = os.getpid()
        rec = LeaseRec(self._created_ns, now, gen, floor, self._pid, HOST, self.ttl_ns)
        txn.put(keyspace.LEASE + lid, rec.encode())
        return lid

    def heartbeat(self) -> None:
        """Renew (or create) this handle's lease record."""
        with self._publishing:
            with self.meta.begin() as txn:
                before = current_gen(txn)
            with self.meta.begin_write() as wtxn:
                lid = self.write_record(wtxn, before)
            self._adopt(lid)

    @contextlib.contextmanager
    def kept_alive(self) -> Iterator[None]:
        """Renew this handle's lease from another thread while the block runs, and keep
        :meth:`close` from removing it meanwhile.

        For a gc's chunk deletions: one chunk-store call may outlast the ttl (an S3
        client retries for up to a minute), and a deletion must never land after
        another gc reaped this lease and took the doom over (a writer may have stored
        those bytes again meanwhile). Renewing while the call runs keeps the lease,
        and with it the doom, this handle's until the call has returned; a failed
        renewal is tried again every quarter ttl (break-it review 9f, H1). What no
        renewal can cover is metadata this node cannot reach for longer than the ttl
        while its delete is still under way: the one timing assumption, as in every
        lease scheme (docs/architecture.md, "Garbage collection").
        """
        with self._quiet:
            self._deleting += 1
        done = threading.Event()
        period = self.ttl_ns / 4e9

        def renew() -> None:
            while not done.wait(period):
                # A failure (the metadata unreachable for a moment) is tried again at
                # the next period: giving up would let the lease lapse under the delete.
                with contextlib.suppress(Exception):
                    self.heartbeat()

        beater = threading.Thread(target=renew, name="objstore-lease-renew", daemon=True)
        try:
            beater.start()  # inside: a thread that cannot start must still uncount
            yield
        finally:
            # Not joined: a renewal stuck on hung metadata held up the end of the delete,
            # and with it the close waiting for it, for good (break-it review 9f, L2). The
            # thread ends after the renewal it is in.
            done.set()
            with self._quiet:
                self._deleting -= 1
                self._quiet.notify_all()

    def _adopt(self, lid: bytes) -> None:
        with self._lock:
            self.lease_id = lid
        self._published_ns = self.clock()

    def advance(self) -> Horizon:
        """Bump the gen, renew this lease, reap dead ones; what may gc collect now?"""
        with self.meta.begin_write() as txn:
            counters.add(txn, GEN, 1)
        with self._publishing:
            with self.meta.begin() as rtxn:
                before = current_gen(rtxn)
            with self.meta.begin_write() as txn:
                lid = self.write_record(txn, before)
                horizon = self._reap(txn, own=lid)
            self._adopt(lid)
        return horizon

    def _reap(self, txn: WriteTxn, *, own: bytes) -> Horizon:
        now = self.clock()
        gen = current_gen(txn) + 1
        floor = now
        live: set[bytes] = set()
        reaped = 0
        for key, raw in list(scan_prefix(txn, keyspace.LEASE)):
            lid = key[1:]
            rec = LeaseRec.decode(raw)
            # The heartbeat is the other node's clock: it may run up to skew behind ours.
            dead = now - rec.heartbeat_ns > rec.ttl(self.ttl_ns) + self.skew_ns or (
                lid != own
                and rec.host == HOST
                and rec.pid != os.getpid()
                and not _pid_alive(rec.pid)
            )
            if dead:
                txn.delete(key)
                reaped += 1
                continue
            live.add(lid)
            gen = min(gen, rec.gen)
            floor = min(floor, rec.floor_ns)
        return Horizon(gen, floor, frozenset(live), reaped, own)

    def close(self) -> None:
        """Remove this handle's lease (best effort: an unremoved one expires), once the
        chunk-store deletions under it have returned: a gc pass run on another thread
        may be in one, and another gc takes a doom over as soon as its lease is gone
        (break-it review 9f, H3)."""
        with self._quiet:
            self._closing = True  # fresh() is False from now on: no new deletion starts
            # (A forked child inherits the count of its parent's threads, not the threads.)
            while self._deleting and self._pid == os.getpid():
                self._quiet.wait()
        lid, self.lease_id = self.lease_id, None
        if lid is None:
            return
        try:
            with self.meta.begin_write() as txn:
                txn.delete(keyspace.LEASE + lid)
        except Exception:  # a lease left behind expires after its ttl; closing must not fail
            return


@dataclass(frozen=True, slots=True)
class LeaseInfo:
    """One store handle's lease, as ``objstore leases`` shows it to an operator."""

    lease_id: bytes
    pid: int
    heartbeat_ns: int  # on the clock of the node that holds it
    ttl_ns: int  # 0: a record of the earlier format (judged by at least V1_TTL_NS)
    here: bool  # held from this host and pid namespace (gc reaps it once its pid is gone)


def list_leases(meta: MetadataStore) -> list[LeaseInfo]:
    """Every lease record (live or not yet reaped), in key order."""
    out = []
    with meta.begin() as txn:
        for key, raw in scan_prefix(txn, keyspace.LEASE):
            rec = LeaseRec.decode(raw)
            out.append(LeaseInfo(key[1:], rec.pid, rec.heartbeat_ns, rec.ttl_ns, rec.host == HOST))
    return out


def reap_lease(meta: MetadataStore, lease_id: bytes) -> bool:
    """Delete the lease ``lease_id`` now, for an operator who knows its node is dead (a
    crashed node's lease otherwise holds gc back for its whole ttl, up to a day); whether
    there was one. NOT safe while the node lives and runs gc: a chunk deletion of its in
    flight may land after another gc took its doom over and a writer stored those bytes
    again (break-it review 9g, M1). Its writers and readers are covered: a reaped lease
    is never renewed under its id, so its writers fail at commit (ServiceUnavailable,
    retryable) and its readers of a body gc collects fail (InternalError: open it
    again)."""
    with meta.begin_write() as txn:
        return txn.delete(keyspace.LEASE + lease_id)
