"""A real HTTP server on loopback that serves job inputs the way the internet does: files, redirects, error pages."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


@dataclass(frozen=True)
class Route:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    file: Path | None = None
    drip_delay_s: float = 0.0  # pause between 1 KB pieces: a server too slow to finish in time
    announce_length: int | None = None  # a Content-Length other than the real one


@dataclass
class FileServer:
    routes: dict[str, Route] = field(default_factory=dict)
    hits: list[str] = field(default_factory=list)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def serve_file(self, path: str, file: Path, content_type: str = "application/octet-stream") -> str:
        self.routes[path] = Route(file=file, headers={"Content-Type": content_type})
        return self.url(path)

    def redirect(self, path: str, location: str, status: int = 302) -> str:
        self.routes[path] = Route(status=status, headers={"Location": location})
        return self.url(path)

    def __enter__(self) -> FileServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                path = self.path.split("?")[0]
                server.hits.append(self.path)
                route = server.routes.get(path, Route(status=404, body=b"<html><body>Not Found</body></html>",
                                                      headers={"Content-Type": "text/html"}))
                body = route.file.read_bytes() if route.file else route.body
                status, extra = route.status, {}
                wanted = self.headers.get("Range", "")
                if route.file and wanted.startswith("bytes=") and status == 200:
                    # Byte ranges as any file host serves them: a browser's video element seeks with them.
                    first, _, last = wanted[6:].split(",")[0].partition("-")
                    start, end = int(first or 0), min(int(last) if last else len(body) - 1, len(body) - 1)
                    status, extra = 206, {"Content-Range": f"bytes {start}-{end}/{len(body)}"}
                    body = body[start:end + 1]
                try:
                    self.send_response(status)
                    for name, value in {**route.headers, **extra}.items():
                        self.send_header(name, value)
                    if route.file:
                        self.send_header("Accept-Ranges", "bytes")
                    self.send_header("Content-Length", str(route.announce_length or len(body)))
                    self.end_headers()
                    if route.drip_delay_s:
                        for start in range(0, len(body), 1024):
                            self.wfile.write(body[start:start + 1024])
                            self.wfile.flush()
                            time.sleep(route.drip_delay_s)
                    else:
                        self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up, as a size or time limit should make it

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
