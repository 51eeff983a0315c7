"""A threaded HTTP server on a loopback port, for tests that play a peer runwatch talks to
(a hub, a webhook receiver) where the simulator does not."""

from __future__ import annotations

import http.server
import threading


class QuietHandler(http.server.BaseHTTPRequestHandler):
    """A request handler that keeps the test's output clean (no access log)."""

    def log_message(self, *args: object) -> None:
        pass


class Loopback:
    """`handler` served on 127.0.0.1 on a free port, on a thread, until `close`."""

    def __init__(self, handler: type[http.server.BaseHTTPRequestHandler]) -> None:
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.root = f"http://127.0.0.1:{self.server.server_port}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
