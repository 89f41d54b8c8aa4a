"""Demo camera simulator: synthetic cameras over HTTP MJPEG on 127.0.0.1.

``monitor simulate`` serves one camera of every kind so a newcomer (and
``make run``) sees camera pages fill up without a real NVR; the tests and the
benchmark start the same server. Kinds (the URL path is the kind):

* ``live``    — moving ball over a textured background
* ``quiet``   — an empty hall: a still picture with sensor noise only
* ``frozen``  — the same JPEG repeated (a hung encoder)
* ``black``   — a covered lens
* ``blurred`` — a smeared picture
* ``auth``    — live, but only with ``demo:demo`` basic auth, else 401
* ``garbage`` — answers 200 with random bytes
* ``hang``    — accepts and never answers
* ``stall``   — a few live frames, then silence with the connection open
* ``notfound``— a 404 for anything unknown

A "dead" camera is simply a port nobody listens on (:func:`refusing_url`).
The server stops by itself after ``lifetime_s`` (if given) so a forgotten one
cannot outlive a test run.
"""

from __future__ import annotations

import base64
import logging
import os
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np
import numpy.typing as npt

from monitor.probe import encode_jpeg

log = logging.getLogger(__name__)

KINDS = ("live", "quiet", "frozen", "black", "blurred", "auth", "garbage", "hang", "stall")
DEMO_USER, DEMO_PASSWORD = "demo", "demo"
BOUNDARY = "frameboundary"


def _texture(h: int, w: int, seed: int) -> npt.NDArray[np.uint8]:
    """A sharp, high-contrast background: checker + gradient, a bit like tiles and furniture."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    checker = (((yy // 16) + (xx // 16)) % 2) * 90
    gradient = (xx * 80 // max(1, w)).astype(np.int64)
    base = 60 + checker + gradient
    img = np.stack([base, base * 0.9, base * 0.8], axis=-1)
    img += rng.normal(0, 3, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def _ball(img: npt.NDArray[np.uint8], cx: int, cy: int, r: int) -> npt.NDArray[np.uint8]:
    h, w = img.shape[:2]
    yy, xx = np.ogrid[0:h, 0:w]
    mask = (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r
    out = img.copy()
    out[mask] = (40, 40, 230)
    return out


def _box_blur(img: npt.NDArray[np.uint8], k: int) -> npt.NDArray[np.uint8]:
    """Separable box blur in numpy (k odd), applied three times ≈ a Gaussian."""
    f: npt.NDArray[Any] = img.astype(np.float32)
    for _ in range(3):
        for axis in (0, 1):
            pad = [(0, 0)] * f.ndim
            pad[axis] = (k // 2, k // 2)
            p = np.pad(f, pad, mode="edge")
            c = np.cumsum(p, axis=axis, dtype=np.float32)
            zero_shape = list(c.shape)
            zero_shape[axis] = 1
            c = np.concatenate([np.zeros(zero_shape, np.float32), c], axis=axis)
            n = f.shape[axis]
            f = (np.take(c, range(k, k + n), axis=axis) - np.take(c, range(0, n), axis=axis)) / k
    return np.clip(f, 0, 255).astype(np.uint8)


LOOP_FRAMES = 37
"""Frames of a kind's loop. A prime: at 10 fps the live ball comes back to the same place
only every 3.7 s, so two checks a whole number of seconds apart (up to 37 s) never see
the same picture — a 20-frame loop showed a check 10 s later exactly the picture of the
check before, and the monitor rightly called a live camera frozen."""


def make_frames(
    kind: str, width: int = 320, height: int = 240, count: int = LOOP_FRAMES
) -> list[bytes]:
    """Pre-encoded JPEG frames for a camera kind (played in a loop)."""
    bg = _texture(height, width, seed=7)
    rng = np.random.default_rng(11)
    frames: list[npt.NDArray[np.uint8]] = []
    if kind in ("live", "auth", "stall"):
        r = max(6, height // 10)
        for i in range(count):
            t = i / count
            cx = int(r + (width - 2 * r) * (0.5 + 0.5 * np.sin(2 * np.pi * t)))
            cy = int(r + (height - 2 * r) * (0.5 + 0.5 * np.cos(2 * np.pi * t)))
            frames.append(_ball(bg, cx, cy, r))
    elif kind == "quiet":
        for _ in range(count):
            noisy = bg.astype(np.int16) + rng.normal(0, 3.0, bg.shape).astype(np.int16)
            frames.append(np.clip(noisy, 0, 255).astype(np.uint8))
    elif kind == "frozen":
        frames.append(_ball(bg, width // 3, height // 2, max(6, height // 10)))
    elif kind == "black":
        dark = rng.normal(6, 1.5, bg.shape)
        frames.append(np.clip(dark, 0, 255).astype(np.uint8))
    elif kind == "blurred":
        blurred = _box_blur(_ball(bg, width // 2, height // 2, max(6, height // 10)), 21)
        for _ in range(max(2, count // 2)):
            noisy = blurred.astype(np.int16) + rng.integers(-2, 3, bg.shape)
            frames.append(np.clip(noisy, 0, 255).astype(np.uint8))
    else:
        raise ValueError(f"no frames for kind {kind!r}")
    return [encode_jpeg(f, 85) for f in frames]


class _Handler(BaseHTTPRequestHandler):
    server: SimulatorServer
    protocol_version = "HTTP/1.0"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        log.debug("simulator: " + format, *args)

    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        kind = self.path.strip("/").split("?")[0].split("/")[0]
        srv = self.server
        if kind == "hang":
            srv.stopped.wait()
            return
        if kind == "garbage":
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.end_headers()
            self._write_for(os.urandom(4096) * 4, 2.0)
            return
        if kind == "auth":
            expected = base64.b64encode(f"{DEMO_USER}:{DEMO_PASSWORD}".encode()).decode()
            if self.headers.get("Authorization", "") != f"Basic {expected}":
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="camera"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
        frames = srv.frames.get(kind)
        if frames is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", f"multipart/x-mixed-replace; boundary={BOUNDARY}")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        period = 1.0 / srv.fps
        limit = srv.stall_after if kind == "stall" else None
        i = 0  # frames sent on this connection (for the stall limit)
        next_at = time.monotonic()
        # The picture follows the clock, as a real camera's does: a new connection joins
        # the loop where it is now, not at its first frame (else every check would start
        # on the same picture, and two checks could read as frozen).
        first = int(next_at * srv.fps)
        try:
            while not srv.stopped.is_set():
                if limit is not None and i >= limit:
                    srv.stopped.wait()  # keep the connection open, send nothing
                    return
                jpeg = frames[(first + i) % len(frames)]
                self.wfile.write(
                    f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n\r\n".encode()
                    + jpeg
                    + b"\r\n"
                )
                self.wfile.flush()
                i += 1
                next_at += period
                delay = next_at - time.monotonic()
                if delay > 0:
                    srv.stopped.wait(delay)
                else:
                    next_at = time.monotonic()
        except (BrokenPipeError, ConnectionResetError, OSError):
            return

    def _write_for(self, data: bytes, seconds: float) -> None:
        end = time.monotonic() + seconds
        try:
            while time.monotonic() < end and not self.server.stopped.is_set():
                self.wfile.write(data)
                self.server.stopped.wait(0.05)
        except OSError:
            return


class SimulatorServer(ThreadingHTTPServer):
    """A threading HTTP server of synthetic MJPEG cameras on 127.0.0.1."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(
        self,
        port: int = 0,
        *,
        fps: float = 10.0,
        width: int = 320,
        height: int = 240,
        stall_after: int = 5,
        kinds: tuple[str, ...] = KINDS,
    ) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.fps = fps
        self.stall_after = stall_after
        self.stopped = threading.Event()
        self.frames: dict[str, list[bytes]] = {}
        for kind in kinds:
            if kind in ("garbage", "hang"):
                continue
            self.frames[kind] = make_frames(kind, width, height)
        self._thread: threading.Thread | None = None
        self._timer: threading.Timer | None = None

    @property
    def port(self) -> int:
        """The TCP port the server listens on."""
        return int(self.server_address[1])

    def url(self, kind: str, *, credentials: bool = False) -> str:
        """The stream URL of a camera kind (``auth`` with the demo credentials if asked)."""
        cred = f"{DEMO_USER}:{DEMO_PASSWORD}@" if credentials else ""
        return f"http://{cred}127.0.0.1:{self.port}/{kind}"

    def start(self, lifetime_s: float | None = None) -> SimulatorServer:
        """Serve in a daemon thread; stop by itself after ``lifetime_s`` seconds if given."""
        self._thread = threading.Thread(target=self.serve_forever, daemon=True, name="simulator")
        self._thread.start()
        if lifetime_s is not None:
            self._timer = threading.Timer(lifetime_s, self.stop)
            self._timer.daemon = True
            self._timer.start()
        return self

    def stop(self) -> None:
        """Stop serving and release every held connection."""
        if self.stopped.is_set():
            return
        self.stopped.set()
        if self._timer is not None:
            self._timer.cancel()
        self.shutdown()
        self.server_close()

    def __enter__(self) -> SimulatorServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def refusing_url() -> str:
    """URL of a local port that refuses connections (a dead camera)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/dead"


def demo_urls(server: SimulatorServer) -> dict[str, str]:
    """The demo cameras ``monitor simulate`` prints: every kind plus a dead one."""
    urls = {kind: server.url(kind) for kind in KINDS if kind not in ("stall",)}
    urls["auth"] = server.url("auth", credentials=True)
    urls["wrong_password"] = f"http://demo:wrong@127.0.0.1:{server.port}/auth"
    urls["dead"] = refusing_url()
    return urls
