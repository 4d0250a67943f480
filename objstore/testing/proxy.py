"""``FaultProxy``: a TCP proxy on loopback that slows, cuts or refuses traffic to a server.

    with FaultProxy("127.0.0.1", 7480) as proxy:
        store = S3ChunkStore(bucket, endpoint=proxy.url, ...)
        proxy.delay = 0.05         # every forwarded piece waits 50 ms
        proxy.down()               # drop every connection, refuse new ones
        proxy.up()
        proxy.cut_after = 100_000  # forward that many request bytes per connection, then cut it
        proxy.respond(b"if-none-match:", 501, "NotImplemented")  # answer matching requests itself
        proxy.spoil_next = True    # flip a byte of the next answer (a body spoiled in flight)

For fault tests of backends (a slow or restarting RGW, PostgreSQL ...). Threads, one pair
per connection; it only ever listens on and connects to the addresses it is given.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from types import TracebackType

_PIECE = 65536


class FaultProxy:
    """Forwards ``listen_host:<free port>`` to ``host:port``, with faults on demand."""

    def __init__(self, host: str, port: int, *, listen_host: str = "127.0.0.1") -> None:
        self.target = (host, port)
        #: Seconds each forwarded piece (up to 64 KiB, either direction) is held back.
        self.delay = 0.0
        #: Client-to-server bytes a connection forwards in all before it is cut (None: no
        #: limit); read at every piece, so it applies to open (pooled) connections too.
        self.cut_after: int | None = None
        #: Spoil one byte of the next server-to-client piece of 1000 bytes or more (a bit
        #: flipped in flight), then forward faithfully again.
        self.spoil_next = False
        self._up = True
        self._answer: tuple[bytes, bytes] | None = None
        #: How many more matching requests :meth:`respond` answers (None: no limit).
        self.answers_left: int | None = None
        self._lock = threading.Lock()
        self._conns: set[socket.socket] = set()
        self._listener = socket.create_server((listen_host, 0))
        self.port = self._listener.getsockname()[1]
        self.url = f"http://{listen_host}:{self.port}"
        self._closed = False
        self._thread = threading.Thread(target=self._accept, name="fault-proxy", daemon=True)
        self._thread.start()

    # -- faults ---------------------------------------------------------------------------

    def down(self) -> None:
        """Reset every open connection and refuse new ones until :meth:`up`."""
        with self._lock:
            self._up = False
            conns = list(self._conns)
        for conn in conns:
            self._reset(conn)

    def up(self) -> None:
        """Accept and forward again."""
        with self._lock:
            self._up = True

    def respond(
        self,
        match: bytes | None,
        status: int = 503,
        code: str = "SlowDown",
        *,
        times: int | None = None,
    ) -> None:
        """Answer every request whose bytes contain ``match`` (case-insensitive) with an S3
        error document of ``status``/``code`` instead of forwarding it, ``times`` times at
        most (None: until told otherwise); ``match=None`` stops that.

        The request is not forwarded (its server connection is reset), the rest of it is
        read and thrown away, and the connection is closed after the answer.
        """
        if match is None:
            self._answer = None
            return
        self.answers_left = times
        body = (
            f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code>'
            f"<Message>injected by FaultProxy</Message></Error>"
        ).encode()
        head = (
            f"HTTP/1.1 {status} Injected\r\nContent-Type: application/xml\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        ).encode()
        self._answer = (match.lower(), head + body)

    def drop_all(self) -> None:
        """Reset every open connection (new ones are accepted)."""
        with self._lock:
            conns = list(self._conns)
        for conn in conns:
            self._reset(conn)

    # -- plumbing -------------------------------------------------------------------------

    @staticmethod
    def _reset(conn: socket.socket) -> None:
        with contextlib.suppress(OSError):
            # SO_LINGER 0: close sends RST, as a crashed server's kernel would.
            conn.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
            )
        with contextlib.suppress(OSError):
            conn.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            conn.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                up = self._up
            if not up:
                self._reset(client)
                continue
            try:
                server = socket.create_connection(self.target, timeout=5)
                server.settimeout(None)
            except OSError:
                self._reset(client)
                continue
            with self._lock:
                # Checked again with the connection registered under the same lock: a
                # down() meanwhile either sees it (and resets it) or is seen here.
                up = self._up
                if up:
                    self._conns.update((client, server))
            if not up:
                self._reset(client)
                self._reset(server)
                continue
            budget = [0]  # client-to-server bytes forwarded on this connection
            ends = [2]  # directions still open; the last one to end closes both sockets
            for src, dst, limit in ((client, server, budget), (server, client, None)):
                threading.Thread(
                    target=self._pump,
                    args=(src, dst, limit, ends),
                    name="fault-proxy-pump",
                    daemon=True,
                ).start()

    def _pump(
        self,
        src: socket.socket,
        dst: socket.socket,
        budget: list[int] | None,
        ends: list[int],
    ) -> None:
        cut = False
        try:
            while True:
                data = src.recv(_PIECE)
                if not data:
                    break
                if self.delay:
                    time.sleep(self.delay)
                answer = self._answer if budget is not None else None
                if answer is not None and answer[0] in data.lower() and self._take_answer():
                    self._answer_instead(src, dst, answer[1])
                    return
                if budget is None and self.spoil_next and len(data) >= 1000:
                    with self._lock:
                        spoil, self.spoil_next = self.spoil_next, False
                    if spoil:
                        data = data[:-1] + bytes([data[-1] ^ 0xFF])
                limit = self.cut_after if budget is not None else None
                if limit is not None and budget is not None:
                    if budget[0] + len(data) >= limit:
                        dst.sendall(data[: max(0, limit - budget[0])])
                        cut = True
                        break
                    budget[0] += len(data)
                dst.sendall(data)
        except OSError:
            cut = True
        if not cut:
            with contextlib.suppress(OSError):
                dst.shutdown(socket.SHUT_WR)  # a clean end: pass it on
        with self._lock:
            ends[0] -= 1
            last = ends[0] == 0
            if cut or last:
                self._conns.difference_update((src, dst))
        if cut:
            for sock in (src, dst):
                self._reset(sock)
        elif last:
            for sock in (src, dst):
                with contextlib.suppress(OSError):
                    sock.close()

    def _take_answer(self) -> bool:
        """Whether to answer one more matching request (counts ``times`` down)."""
        with self._lock:
            if self.answers_left is None:
                return True
            if self.answers_left <= 0:
                return False
            self.answers_left -= 1
            return True

    def _answer_instead(self, client: socket.socket, server: socket.socket, reply: bytes) -> None:
        """Reset the server side, answer the client, drain what it still sends, close."""
        with self._lock:
            self._conns.discard(server)
        self._reset(server)
        try:
            client.sendall(reply)
            client.settimeout(10)
            while client.recv(_PIECE):
                pass  # the rest of the request body: read so that the client reads the answer
        except OSError:
            pass
        with self._lock:
            self._conns.discard(client)
        with contextlib.suppress(OSError):
            client.close()

    def close(self) -> None:
        """Stop listening and reset every connection."""
        self._closed = True
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() below
        with contextlib.suppress(OSError):
            self._listener.close()
        self.drop_all()
        self._thread.join(timeout=5)

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
