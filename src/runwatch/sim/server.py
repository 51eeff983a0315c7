"""Serve the simulator with uvicorn: in the foreground (`runwatch sim`) or on a background
thread on a loopback port (the demo and the tests)."""

from __future__ import annotations

import threading
import time

import uvicorn
from starlette.types import ASGIApp

# An idle connection is kept as long as nginx's default keepalive_timeout (what most API
# front ends run): uvicorn's own 5 s closed it between two 5 s polls, so every poll
# reconnected, which real servers do not make a client do.
KEEP_ALIVE_S = 75


class ThreadedServer:
    """uvicorn on its own thread and event loop; `stop()` and `start()` again on the same
    port model a server that goes away and comes back."""

    def __init__(self, app: ASGIApp, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        self.host = host
        self.port = port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout_s: float = 10.0) -> ThreadedServer:
        config = uvicorn.Config(
            self.app, host=self.host, port=self.port, log_level="critical",
            lifespan="off", access_log=False, timeout_graceful_shutdown=1,
            timeout_keep_alive=KEEP_ALIVE_S,
        )
        server = uvicorn.Server(config)  # on a thread: it leaves the process's signals alone
        self._server = server
        self._thread = threading.Thread(target=server.run, name="runwatch-sim", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError(f"simulator did not start on {self.host}:{self.port}")
            time.sleep(0.01)
        self.port = server.servers[0].sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None


def serve_forever(app: ASGIApp, host: str, port: int) -> None:
    uvicorn.run(app, host=host, port=port, log_level="info", lifespan="off",
                timeout_keep_alive=KEEP_ALIVE_S)
