"""Local delivery servers for the notification tests (127.0.0.1, random ports, stop by themselves).

* ``hook`` — an HTTP server recording every POST; ``fail_first`` answers 503 that many
  times, ``answers[path]`` sets the body of the 200 answer (a robot's ``errcode``);
* ``channels`` — ``[alerts]`` pointed at it: ``/generic``, ``/dingtalk``, ``/wecom``;
* ``smtp`` — just enough SMTP to accept messages (``server.messages``), ``[alerts] smtp_*`` set.
"""

from __future__ import annotations

import json
import socketserver
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


class _Hook(BaseHTTPRequestHandler):
    received: list[tuple[str, dict[str, Any]]]
    fail_first: int

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass

    def do_POST(self) -> None:  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        server: Any = self.server
        server.received.append((self.path, body))
        if server.fail_first > 0:
            server.fail_first -= 1
            self.send_response(503)
            self.end_headers()
            return
        answer = server.answers.get(self.path, b'{"errcode": 0, "errmsg": "ok"}')
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)


@pytest.fixture
def hook() -> Iterator[Any]:
    server: Any = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    server.received = []
    server.fail_first = 0
    server.answers = {}  # path → body of the HTTP 200 answer (a robot's errcode)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()


@pytest.fixture
def channels(app: Any, hook: Any) -> Iterator[str]:
    base = f"http://127.0.0.1:{hook.server_port}"
    cfg = app.config["SETTINGS"].alerts
    saved = cfg.model_dump()
    cfg.webhook_url = f"{base}/generic"
    cfg.dingtalk_webhook = f"{base}/dingtalk"
    cfg.wecom_webhook = f"{base}/wecom"
    try:
        yield base
    finally:
        for key, value in saved.items():
            setattr(cfg, key, value)


class _Smtp(socketserver.StreamRequestHandler):
    """Just enough SMTP to accept one message (EHLO/HELO, MAIL, RCPT, DATA, QUIT)."""

    def handle(self) -> None:
        server: Any = self.server
        self.wfile.write(b"220 test ESMTP\r\n")
        data_mode, lines = False, []
        while True:
            line = self.rfile.readline()
            if not line:
                return
            if data_mode:
                if line in (b".\r\n", b".\n"):
                    server.messages.append(b"".join(lines).decode("utf-8", "replace"))
                    data_mode, lines = False, []
                    self.wfile.write(b"250 queued\r\n")
                else:
                    lines.append(line)
                continue
            cmd = line[:4].upper()
            if cmd == b"DATA":
                data_mode = True
                self.wfile.write(b"354 go ahead\r\n")
            elif cmd == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


@pytest.fixture
def smtp(app: Any) -> Iterator[Any]:
    server: Any = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Smtp)
    server.messages = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    cfg = app.config["SETTINGS"].alerts
    saved = cfg.model_dump()
    cfg.smtp_host = "127.0.0.1"
    cfg.smtp_port = server.server_address[1]
    cfg.smtp_from = "tracker@example.cn"
    try:
        yield server
    finally:
        for key, value in saved.items():
            setattr(cfg, key, value)
        server.shutdown()
        server.server_close()
