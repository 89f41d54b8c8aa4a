"""A real HTTP reverse proxy on 127.0.0.1 that misbehaves the way proxies do, for delivery tests.

It forwards every request to an upstream (the contract stub) unless its
current *fault* says otherwise: answer 404 with an HTML page (a deploy, a
wrong location), 429 with ``Retry-After`` (a rate limiter), 413 with an HTML
page (a smaller body limit), or a 200 that is not JSON (a captive portal).
Faults are a schedule of ``(fault, seconds)`` that starts with the first
request, so a test can say "404 for a while, then 429, then 413, then fine".
It stops by itself after its lifetime.
"""

from __future__ import annotations

import http.client
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

HTML_404 = b"<html><body><h1>404 Not Found</h1><hr>nginx</body></html>"
HTML_413 = b"<html><body><h1>413 Request Entity Too Large</h1><hr>nginx</body></html>"


class _Handler(BaseHTTPRequestHandler):
    server: FlakyProxy
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass

    def _answer(self, status: int, body: bytes, ctype: str, extra: dict[str, str]) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        fault = self.server.fault() if self.server.only in self.path else ""
        self.server.seen.append((fault, self.command, self.path))
        if fault == "404":
            self._answer(404, HTML_404, "text/html", {})
        elif fault == "429":
            self._answer(429, b"slow down", "text/plain", {"Retry-After": "1"})
        elif fault == "413":
            self._answer(413, HTML_413, "text/html", {})
        elif fault == "portal":
            self._answer(200, b"<html>log in to the wifi</html>", "text/html", {})
        else:
            self._forward(body)

    def _forward(self, body: bytes) -> None:
        up = urlsplit(self.server.upstream)
        conn = http.client.HTTPConnection(up.hostname, up.port, timeout=10)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
        conn.request(self.command, self.path, body=body or None, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        ctype = resp.getheader("Content-Type") or "application/octet-stream"
        self._answer(resp.status, data, ctype, {})

    do_GET = _handle  # noqa: N815
    do_POST = _handle  # noqa: N815


class FlakyProxy(ThreadingHTTPServer):
    """The proxy's server; ``schedule`` is a list of (fault, seconds), then it forwards.

    ``only``: the faults hit only paths containing this (e.g. ``/snapshots``).
    """

    daemon_threads = True

    def __init__(self, upstream: str, schedule: list[tuple[str, float]], only: str = "") -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.upstream = upstream
        self.schedule = schedule
        self.only = only
        self.started: float | None = None
        self.seen: list[tuple[str, str, str]] = []
        self._lock = threading.Lock()

    def fault(self) -> str:
        """The fault in force now ("" = forward)."""
        with self._lock:
            if self.started is None:
                self.started = time.monotonic()
            elapsed = time.monotonic() - self.started
        for fault, seconds in self.schedule:
            if elapsed < seconds:
                return fault
            elapsed -= seconds
        return ""

    @property
    def url(self) -> str:
        """Base URL (without /api/v1)."""
        return f"http://127.0.0.1:{self.server_address[1]}"

    def start(self, lifetime_s: float = 60.0) -> FlakyProxy:
        """Serve in a daemon thread; stop by itself after ``lifetime_s``."""
        threading.Thread(target=self.serve_forever, daemon=True).start()
        timer = threading.Timer(lifetime_s, self.stop)
        timer.daemon = True
        timer.start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        self.shutdown()
        self.server_close()
