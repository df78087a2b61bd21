"""Real loopback proxies that misbehave on cue, for the fault tests.

`FaultyHttpProxy` forwards HTTP to an upstream (moto_server for S3) but answers scripted errors first, e.g.
S3's 503 SlowDown on the next two PUTs. `CuttableTcpProxy` forwards raw TCP (HTTP and websockets to ComfyUI) and
can cut every open connection at once, the way a flaky network or a load balancer does.
"""

from __future__ import annotations

import http.client
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse

_S3_ERRORS = {500: "InternalError", 503: "SlowDown"}


@dataclass
class FaultyHttpProxy:
    upstream: str
    failures: list[tuple[str, str, int]] = field(default_factory=list)  # (method, path part, status), in order
    seen: list[tuple[str, str, int]] = field(default_factory=list)  # (method, path, status answered)
    delays: list[tuple[str, float]] = field(default_factory=list)  # (method, seconds) before forwarding, in order

    def fail_next(self, method: str, status: int, count: int = 1, path_part: str = "") -> None:
        self.failures.extend([(method, path_part, status)] * count)

    def slow_next(self, method: str, seconds: float, count: int = 1) -> None:
        """The next `count` requests of `method` are forwarded only after `seconds`: a store answering slowly."""
        self.delays.extend([(method, seconds)] * count)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> FaultyHttpProxy:
        proxy, target = self, urlparse(self.upstream)
        lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _forward(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0) or 0))
                with lock:
                    scripted = next((f for f in proxy.failures
                                     if f[0] in (self.command, "*") and f[1] in self.path), None)
                    if scripted:
                        proxy.failures.remove(scripted)
                    delay = next((d for d in proxy.delays if d[0] in (self.command, "*")), None)
                    if delay and not scripted:
                        proxy.delays.remove(delay)
                if delay and not scripted:
                    time.sleep(delay[1])
                if scripted:
                    status = scripted[2]
                    code = _S3_ERRORS.get(status, "ServiceUnavailable")
                    payload = f"<Error><Code>{code}</Code><Message>scripted</Message></Error>".encode()
                    proxy.seen.append((self.command, self.path, status))
                    self.send_response(status)
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                upstream = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection",)}
                upstream.request(self.command, self.path, body=body, headers=headers)
                answer = upstream.getresponse()
                data = answer.read()
                proxy.seen.append((self.command, self.path, answer.status))
                self.send_response(answer.status)
                for name, value in answer.getheaders():
                    if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
                upstream.close()

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _forward  # noqa: N815

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


@dataclass
class CuttableTcpProxy:
    upstream_port: int
    cuts: int = 0
    _sockets: list[socket.socket] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    def cut_all(self) -> int:
        """Reset every connection still open through the proxy; returns how many were open (a connection already
        closed by either side does not count)."""
        open_now, self._sockets = [s for s in self._sockets if s.fileno() != -1], []
        for sock in open_now:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
        self.cuts += 1
        return len(open_now) // 2

    def __enter__(self) -> CuttableTcpProxy:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._running = True
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def _accept(self) -> None:
        while self._running:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            server = socket.create_connection(("127.0.0.1", self.upstream_port))
            self._sockets += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            for sock in (source, sink):  # closed, so cut_all sees the connection is over
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()

    def __exit__(self, *exc: object) -> None:
        self._running = False
        self._listener.close()
        self.cut_all()
