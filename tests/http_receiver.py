"""A real HTTP server on loopback that records requests and answers from a script, for webhook-style tests."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class ScriptedReceiver:
    """Answers the n-th request with script[n] = (status, delay_s, headers); the last entry repeats."""

    script: list[tuple[int, float, dict[str, str]]] = field(default_factory=lambda: [(200, 0.0, {})])
    requests: list[Recorded] = field(default_factory=list)

    def __enter__(self) -> ScriptedReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                index = len(receiver.requests)
                receiver.requests.append(Recorded(self.path, dict(self.headers), body))
                status, delay, headers = receiver.script[min(index, len(receiver.script) - 1)]
                time.sleep(delay)
                try:
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting: that is what a timeout test wants

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
