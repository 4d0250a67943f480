"""``Server``: the gateway on a free loopback port, in a background thread.

    with objstore.testing.Server(store) as url:
        s3 = boto3.client("s3", endpoint_url=url, ...)

The server runs its own event loop in a thread of its own; leaving the block stops it
(in-flight requests finish first). The store stays open: it is the caller's.
"""

from __future__ import annotations

import asyncio
import threading
from types import TracebackType
from typing import Any

from aiohttp import web

from objstore.gateway.app import create_app
from objstore.gateway.server import listening_socket, make_runner, stop_gracefully
from objstore.store import Store


class Server:
    """The gateway for ``store`` on ``host`` (default 127.0.0.1), a free port.

    Keyword arguments go to :func:`objstore.gateway.app.create_app` (``region``,
    ``authenticate``, ``domains`` ...); ``ssl_context`` serves HTTPS.
    """

    def __init__(
        self,
        store: Store,
        *,
        host: str = "127.0.0.1",
        ssl_context: Any = None,
        drain_timeout: float = 10.0,
        **app_options: Any,
    ) -> None:
        self.store = store
        self.host = host
        self._ssl = ssl_context
        self._drain = drain_timeout
        self._options = app_options
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._started = threading.Event()
        self._error: BaseException | None = None
        self.url = ""

    def start(self) -> str:
        """Start serving; returns the base URL (``http://127.0.0.1:PORT``,
        ``http://[::1]:PORT`` for an IPv6 host)."""
        app = create_app(self.store, **self._options)
        sock = listening_socket(self.host, 0, reuse_port=False)
        port = sock.getsockname()[1]
        scheme = "https" if self._ssl is not None else "http"
        # An IPv6 literal is bracketed in a URL, as objstore serve writes it: without
        # them boto3 refused the URL and urllib misread the port (review rev11b F7).
        host = f"[{self.host}]" if ":" in self.host else self.host
        self.url = f"{scheme}://{host}:{port}"
        self._thread = threading.Thread(
            target=self._run, args=(app, sock), name="objstore-test-server", daemon=True
        )
        self._thread.start()
        self._started.wait()
        if self._error is not None:
            raise self._error
        return self.url

    def _run(self, app: web.Application, sock: Any) -> None:
        try:
            asyncio.run(self._main(app, sock))
        except BaseException as exc:  # reported to start() or stop()
            self._error = exc
            self._started.set()

    async def _main(self, app: web.Application, sock: Any) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        runner = make_runner(app, self._drain)
        await runner.setup()
        try:
            await web.SockSite(runner, sock, ssl_context=self._ssl).start()
            self._started.set()
            await self._stop.wait()
        finally:
            await stop_gracefully(runner, self._drain)

    def stop(self) -> None:
        """Stop accepting, finish in-flight requests, end the thread."""
        if self._thread is None:
            return
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join()
        self._thread = None

    def __enter__(self) -> str:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
