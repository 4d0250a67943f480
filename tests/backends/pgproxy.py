"""A TCP proxy in front of PostgreSQL that cuts a connection at its COMMIT (tests only).

``cut_next_commit(forward=True)`` delivers the COMMIT to the server and drops the answer (the
client's connection closes once the answer arrives, so the COMMIT was processed);
``forward=False`` drops the COMMIT itself. Either way the client sees its connection die
with the outcome unknown. ``refuse`` makes the "server" unreachable (connections closed at
once), and ``then_refuse=True`` turns it on with the cut, closing every other link.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from types import TracebackType
from urllib.parse import urlsplit, urlunsplit

# psycopg sends COMMIT as the text of a Parse message, NUL-terminated.
_COMMIT = b"COMMIT\x00"


class _Link:
    def __init__(self, client: socket.socket, server: socket.socket) -> None:
        self.client = client
        self.server = server
        self.cut = False

    def close(self) -> None:
        for s in (self.client, self.server):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()


class CommitCutter:
    def __init__(self, dsn: str) -> None:
        parts = urlsplit(dsn)
        self._target = (parts.hostname or "127.0.0.1", parts.port or 5432)
        self._listener = socket.create_server(("127.0.0.1", 0))
        port = self._listener.getsockname()[1]
        netloc = parts.netloc.rsplit(":", 1)[0] + f":{port}"
        self.dsn = urlunsplit(parts._replace(netloc=netloc))
        self.cuts = 0
        self.refuse = False
        self._armed: tuple[bool, bool] | None = None
        self._lock = threading.Lock()
        self._links: list[_Link] = []
        self._stopped = False
        threading.Thread(target=self._accept, daemon=True).start()

    def cut_next_commit(self, *, forward: bool, then_refuse: bool = False) -> None:
        with self._lock:
            self._armed = (forward, then_refuse)

    def __enter__(self) -> CommitCutter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stopped = True
        self._listener.close()
        for link in self._links:
            link.close()

    def _accept(self) -> None:
        while not self._stopped:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self.refuse:
                client.close()
                continue
            try:
                server = socket.create_connection(self._target)
            except OSError:
                client.close()
                continue
            link = _Link(client, server)
            self._links.append(link)
            threading.Thread(target=self._up, args=(link,), daemon=True).start()
            threading.Thread(target=self._down, args=(link,), daemon=True).start()

    def _up(self, link: _Link) -> None:
        try:
            while data := link.client.recv(65536):
                with self._lock:
                    armed = self._armed if _COMMIT in data else None
                    if armed is not None:
                        self._armed = None
                        self.cuts += 1
                        self.refuse = armed[1]
                        link.cut = True
                if armed is None:
                    link.server.sendall(data)
                    continue
                if armed[1]:
                    for other in self._links:
                        if other is not link:
                            other.close()
                if armed[0]:
                    # The client's side closes when the server's answer arrives (in _down):
                    # closing it now would let the client's settling terminate the server
                    # session before it has read the COMMIT (then rightly reported lost).
                    link.server.sendall(data)
                else:
                    link.close()
                return
        except OSError:
            pass
        link.close()

    def _down(self, link: _Link) -> None:
        try:
            while data := link.server.recv(65536):
                if link.cut:
                    # The answer to the COMMIT is lost: the server has committed, and the
                    # client sees its connection die without the answer.
                    break
                link.client.sendall(data)
        except OSError:
            pass
        link.close()
