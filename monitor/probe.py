"""Stream probes with OpenCV — the only module of the monitor that imports ``cv2``.

One probe opens a stream with the FFmpeg backend, proves life with a decoded
frame, reads a short window of frames and hands them to :mod:`monitor.analysis`.
Facts this code is built on (measured on the station hardware, OpenCV 5.0):

* Timeouts only work as open parameters of ``VideoCapture`` (``cap.set`` is
  ignored) and default to 30 s.
* FFmpeg's default probing costs ~2 s per open; ``analyzeduration;0|probesize;32``
  in ``OPENCV_FFMPEG_CAPTURE_OPTIONS`` brings open + first frame to ~0.3 s. The
  variable is process-global and re-read at each open, so a worker process sets
  it per probe (e.g. ``rtsp_transport;udp`` for one camera).
* OpenCV serializes opens inside a process: one dead camera's open timeout
  blocks every other open. Probes therefore run in a :class:`ProbePool` of
  worker processes, one probe per worker at a time; a worker stuck past the hard
  wall-clock bound is killed and replaced.
* ``isOpened()`` is no proof of life; a decoded frame is. A stalled RTSP stream
  is noticed only after 3 × the read timeout. An HLS playlist keeps serving its
  buffered segments for a while after the publisher died, so its freshness is
  checked separately.

When an open fails, a cheap diagnosis with plain sockets tells refused/timeout
(``unreachable``) from a 401/403 (``auth_failed``) from a server that answers
but sends no video (``no_video``) — OpenCV itself only says "not opened".
"""

from __future__ import annotations

import base64
import contextlib
import email.utils
import logging
import multiprocessing
import multiprocessing.connection
import os
import queue
import re
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing.process import BaseProcess
from typing import Any

# FFmpeg writes errors (with the full URL, credentials included) to stderr;
# OpenCV's own warnings may quote it too. Silence both in every process that
# imports this module, before cv2 loads.
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
os.environ.setdefault("OPENCV_LOG_LEVEL", "FATAL")

import cv2  # noqa: E402
import numpy as np
import numpy.typing as npt

from monitor import analysis
from monitor.redact import redact

log = logging.getLogger(__name__)

Image = npt.NDArray[Any]
"""A decoded picture as OpenCV hands it out (BGR or grey)."""

ANALYSIS_WIDTH = 320
"""Frames are reduced to this width (greyscale) before the picture checks."""

MAX_WINDOW_FRAMES = 6
"""At most this many frames of a window are converted and analysed (the rest are only grabbed)."""

_FAST_OPTIONS = "analyzeduration;0|probesize;32"


@dataclass
class ProbeRequest:
    """What to probe and how hard to try."""

    url: str
    timeout_s: float = 3.0
    rtsp_transport: str = "tcp"
    thresholds: analysis.Thresholds = field(default_factory=analysis.Thresholds)
    snapshot_width: int = 0
    """Width of the evidence JPEG to return with the result; 0 = no snapshot."""
    window_s: float | None = None
    """Length of the frame window; ``None`` = the camera's ``frozen_window_s``; 0 = one frame."""
    max_s: float | None = None
    """Explicit hard wall-clock bound; ``None`` = derived from the timeout and window."""

    @property
    def effective_window_s(self) -> float:
        """The frame window actually read."""
        return self.thresholds.frozen_window_s if self.window_s is None else self.window_s

    @property
    def hard_bound_s(self) -> float:
        """Wall-clock bound of the whole probe, after which the worker is killed.

        Open (≤ 1 × timeout), a slow first frame (≤ 3 ×), the window, a stall in
        it (noticed after 3 × the read timeout), plus slack for process overhead.
        """
        if self.max_s is not None:
            return self.max_s
        return self.timeout_s * 7 + self.effective_window_s + 2.0


@dataclass
class ProbeResult:
    """The outcome of one probe.

    ``verdict`` is ``None`` only when the monitor itself failed (a worker crashed):
    that is the monitor's blindness, never a camera problem.
    """

    verdict: str | None
    elapsed_ms: int
    measurements: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    snapshot: bytes | None = None
    thumb: npt.NDArray[np.uint8] | None = None
    """The last frame, grey at the analysis size, for comparison with the next check."""
    started_at: datetime | None = None


def _ms(since: float) -> int:
    return int(round((time.monotonic() - since) * 1000))


def _now() -> datetime:
    return datetime.now(UTC)


# --------------------------------------------------------------------------- helpers
def encode_jpeg(frame: Image, quality: int = 80) -> bytes:
    """JPEG bytes of a BGR or greyscale frame."""
    ok, buf = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return bytes(buf.tobytes())


def resize_to_width(frame: Image, width: int) -> Image:
    """Downscale (never upscale) a frame to ``width`` pixels, keeping its aspect ratio."""
    h, w = frame.shape[:2]
    if width <= 0 or w <= width:
        return frame
    height = max(1, int(round(h * width / w)))
    return np.asarray(cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA))


def _grey_small(frame: Image) -> npt.NDArray[np.uint8]:
    small = resize_to_width(frame, ANALYSIS_WIDTH)
    if small.ndim == 3:
        small = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
    return np.asarray(small, dtype=np.uint8)


def _capture_options(url: str, transport: str) -> str:
    scheme = urllib.parse.urlsplit(url).scheme.lower()
    if scheme in ("rtsp", "rtsps"):
        return f"rtsp_transport;{transport}|{_FAST_OPTIONS}"
    if _is_hls(url):
        # HLS needs to read the playlist and the first segment's header; a 32-byte
        # probe fails on MPEG-TS segments, so only the analysis time is cut.
        return "analyzeduration;0"
    return _FAST_OPTIONS


def _is_hls(url: str) -> bool:
    return urllib.parse.urlsplit(url).path.lower().endswith(".m3u8")


def _host_port(url: str) -> tuple[str, int] | None:
    parts = urllib.parse.urlsplit(url)
    if not parts.hostname or parts.scheme.lower() not in ("rtsp", "rtsps", "http", "https"):
        return None
    default = {"rtsp": 554, "rtsps": 322, "http": 80, "https": 443}[parts.scheme.lower()]
    try:
        port = parts.port or default
    except ValueError:
        return None
    return parts.hostname, port


# --------------------------------------------------------------------------- diagnosis
def _connect(url: str, timeout_s: float) -> tuple[str | None, str | None, int]:
    """TCP reachability: (verdict or None if reachable, error, connect ms)."""
    hp = _host_port(url)
    t0 = time.monotonic()
    if hp is None:
        return None, None, 0
    try:
        with socket.create_connection(hp, timeout=timeout_s):
            pass
    except socket.gaierror as exc:
        return "unreachable", f"DNS: {exc}", _ms(t0)
    except ConnectionRefusedError:
        return "unreachable", "connection refused", _ms(t0)
    except TimeoutError:
        return "unreachable", "connect timeout", _ms(t0)
    except OSError as exc:
        return "unreachable", f"connect failed: {exc.strerror or exc}", _ms(t0)
    return None, None, _ms(t0)


_STATUS = re.compile(rb"^(?:HTTP/\d(?:\.\d)?|RTSP/1\.0) (\d{3})")


def _diagnose_failed_open(url: str, timeout_s: float) -> tuple[str, str]:
    """Why did OpenCV not open ``url``? Asks the server directly, once."""
    parts = urllib.parse.urlsplit(url)
    scheme = parts.scheme.lower()
    hp = _host_port(url)
    if hp is None:
        return "no_video", "could not open (not a network stream)"
    if scheme in ("https", "rtsps"):
        return "no_video", "server reachable, stream could not be opened"
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    headers = ""
    if parts.username is not None:
        cred = (
            f"{urllib.parse.unquote(parts.username)}:{urllib.parse.unquote(parts.password or '')}"
        )
        headers = f"Authorization: Basic {base64.b64encode(cred.encode()).decode()}\r\n"
    if scheme == "rtsp":
        netloc = hp[0] if hp[1] == 554 else f"{hp[0]}:{hp[1]}"
        request = (
            f"DESCRIBE rtsp://{netloc}{path} RTSP/1.0\r\nCSeq: 1\r\nAccept: application/sdp\r\n"
            f"{headers}\r\n"
        )
    else:
        request = f"GET {path} HTTP/1.0\r\nHost: {hp[0]}\r\n{headers}\r\n"
    try:
        with socket.create_connection(hp, timeout=timeout_s) as sock:
            sock.sendall(request.encode("latin-1", "replace"))
            head = sock.recv(256)
    except TimeoutError:
        return "unreachable", "server accepted the connection but did not answer"
    except OSError as exc:
        return "unreachable", f"connection failed: {exc.strerror or exc}"
    if not head:
        return "no_video", "server closed the connection without an answer"
    match = _STATUS.match(head)
    if match is None:
        return "no_video", "server answered with something that is not a stream"
    code = int(match.group(1))
    if code in (401, 403):
        return "auth_failed", f"server refused the credentials ({code})"
    if code == 404:
        return "no_video", "stream not found (404)"
    if code >= 400:
        return "no_video", f"server error ({code})"
    return "no_video", f"server answered {code} but no decodable video"


def _hls_freshness(url: str, timeout_s: float) -> tuple[str | None, str | None, dict[str, Any]]:
    """Is the HLS publisher alive? (verdict or None if fresh, error, measurements).

    A playlist whose last change is older than 3 target durations (min 3 s), or
    that ended (``#EXT-X-ENDLIST``), means the publisher stopped even if
    buffered segments still decode.
    """
    extra: dict[str, Any] = {}
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as resp:  # noqa: S310 - camera URL
            body = resp.read(256 * 1024).decode("utf-8", "replace")
            last_modified = resp.headers.get("Last-Modified")
            final_url = resp.geturl()
    except urllib.error.HTTPError as exc:
        if exc.code in (401, 403):
            return "auth_failed", f"playlist refused the credentials ({exc.code})", extra
        return "no_video", f"playlist unavailable ({exc.code})", extra
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return "unreachable", f"playlist not reachable: {reason}", extra
    if "#EXTM3U" not in body:
        return "no_video", "not an HLS playlist", extra
    if "#EXT-X-STREAM-INF" in body:  # master playlist: judge the first variant
        variant = next(
            (ln.strip() for ln in body.splitlines() if ln.strip() and not ln.startswith("#")), None
        )
        if variant:
            return _hls_freshness(urllib.parse.urljoin(final_url, variant), timeout_s)
    if "#EXT-X-ENDLIST" in body:
        extra["playlist_ended"] = True
        return "no_video", "playlist ended (publisher stopped)", extra
    target = re.search(r"#EXT-X-TARGETDURATION:\s*(\d+(?:\.\d+)?)", body)
    target_s = float(target.group(1)) if target else 6.0
    if last_modified:
        try:
            changed = email.utils.parsedate_to_datetime(last_modified)
        except (TypeError, ValueError):
            changed = None
        if changed is not None:
            age = (_now() - changed).total_seconds()
            extra["playlist_age_s"] = round(age, 1)
            if age > max(3 * target_s, 3.0):
                return "no_video", f"playlist stale for {age:.0f} s (publisher stopped)", extra
    return None, None, extra


# --------------------------------------------------------------------------- the probe
def probe_stream(req: ProbeRequest) -> ProbeResult:
    """Probe one stream in this process (blocking, bounded by OpenCV's timeouts).

    Use :class:`ProbePool` for the hard wall-clock bound; this function is what a
    pool worker runs.
    """
    started = _now()
    t0 = time.monotonic()
    cpu0 = time.process_time()
    m: dict[str, Any] = {}

    def done(
        verdict: str | None, error: str | None = None, snap: bytes | None = None
    ) -> ProbeResult:
        m["cpu_ms"] = round((time.process_time() - cpu0) * 1000, 1)
        return ProbeResult(
            verdict=verdict,
            elapsed_ms=_ms(t0),
            measurements=m,
            error=redact(error) if error else None,
            snapshot=snap,
            started_at=started,
        )

    timeout_ms = max(100, int(req.timeout_s * 1000))
    verdict, error, connect_ms = _connect(req.url, req.timeout_s)
    if _host_port(req.url):
        m["connect_ms"] = connect_ms
    if verdict:
        return done(verdict, error)
    if _is_hls(req.url):
        verdict, error, extra = _hls_freshness(req.url, req.timeout_s)
        m.update(extra)
        if verdict:
            return done(verdict, error)

    os.environ["OPENCV_FFMPEG_CAPTURE_OPTIONS"] = _capture_options(req.url, req.rtsp_transport)
    t_open = time.monotonic()
    cap = cv2.VideoCapture(
        req.url,
        cv2.CAP_FFMPEG,
        [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, timeout_ms, cv2.CAP_PROP_READ_TIMEOUT_MSEC, timeout_ms],
    )
    try:
        m["open_ms"] = _ms(t_open)
        if not cap.isOpened():
            verdict, error = _diagnose_failed_open(req.url, req.timeout_s)
            return done(verdict, error)
        ok, frame = cap.read()
        if not ok or frame is None:
            m["frames"] = 0
            return done("no_video", "stream opened but no frame could be decoded")
        m["first_frame_ms"] = _ms(t_open)
        h, w = frame.shape[:2]
        m["width"], m["height"] = int(w), int(h)
        greys = [_grey_small(frame)]
        pts = [float(cap.get(cv2.CAP_PROP_POS_MSEC))]
        last_colour = frame
        frames_read = 1
        window = max(0.0, req.effective_window_s)
        stalled = False
        if window > 0:
            t_first = time.monotonic()
            step = window / (MAX_WINDOW_FRAMES - 1)
            next_sample = t_first + step
            deadline = t_first + window
            # a file (or device) is read as fast as it decodes: sample it by frame
            # count, and its end is not a stall
            is_file = _host_port(req.url) is None
            file_step = max(1, int(window * 10) // (MAX_WINDOW_FRAMES - 1))
            while True:
                if not cap.grab():
                    stalled = not is_file
                    break
                frames_read += 1
                now = time.monotonic()
                if is_file:
                    if frames_read % file_step == 0:
                        ok, frame = cap.retrieve()
                        if ok and frame is not None:
                            greys.append(_grey_small(frame))
                            pts.append(float(cap.get(cv2.CAP_PROP_POS_MSEC)))
                            last_colour = frame
                    if len(greys) >= MAX_WINDOW_FRAMES or now >= deadline:
                        break
                    continue
                if now >= next_sample or now >= deadline:
                    ok, frame = cap.retrieve()
                    if ok and frame is not None:
                        greys.append(_grey_small(frame))
                        pts.append(float(cap.get(cv2.CAP_PROP_POS_MSEC)))
                        last_colour = frame
                    next_sample = now + step
                if now >= deadline:
                    break
                if now - t_first > window + 3 * req.timeout_s:
                    break
        m["frames_read"] = frames_read
        m["window_ms"] = _ms(t_open) - m["first_frame_ms"]
        pic = analysis.measure(greys, pts)
        m.update(pic.as_dict())
        m["pts_first_ms"] = round(pts[0], 1)
        m["pts_last_ms"] = round(pts[-1], 1)
        snap = None
        if req.snapshot_width > 0:
            snap = encode_jpeg(resize_to_width(last_colour, req.snapshot_width), 80)
        if stalled:
            m["stalled"] = True
            return done("no_video", "stream stopped delivering frames mid-way", snap)
        result = done(analysis.picture_verdict(pic, req.thresholds), None, snap)
        result.thumb = greys[-1]
        return result
    except cv2.error as exc:
        return done("no_video", f"decoder error: {exc}")
    finally:
        cap.release()


# --------------------------------------------------------------------------- worker pool
def _worker_main(conn: multiprocessing.connection.Connection) -> None:
    """Loop of a pool worker: receive a request, answer a result, until ``None``."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when workers stop
    try:
        conn.send("ready")  # imports (cv2, numpy) are done: the hard bound may start counting
    except OSError:
        return
    while True:
        try:
            req = conn.recv()
        except (EOFError, OSError):
            return
        if req is None:
            return
        try:
            result = probe_stream(req)
        except Exception as exc:  # a bug must not look like a dead camera
            result = ProbeResult(verdict=None, elapsed_ms=0, error=redact(f"probe failed: {exc}"))
        try:
            conn.send(result)
        except (BrokenPipeError, OSError):
            return


WORKER_START_TIMEOUT_S = 120.0
"""How long a new worker may take to import OpenCV (slow on a loaded or cold machine)."""


class _Worker:
    def __init__(self, ctx: Any) -> None:
        self.conn, child = ctx.Pipe()
        self.process: BaseProcess = ctx.Process(
            target=_worker_main, args=(child,), daemon=True, name="monitor-probe"
        )
        self.process.start()
        child.close()
        self.ready = False

    def wait_ready(self) -> bool:
        """Wait until the worker finished its imports; False if it never does.

        Start-up time must not count against a camera's hard bound, or a slow
        start (a loaded station, a cold disk) would be blamed on the camera.
        """
        if self.ready:
            return True
        try:
            if self.conn.poll(WORKER_START_TIMEOUT_S) and self.conn.recv() == "ready":
                self.ready = True
        except (EOFError, OSError):
            return False
        return self.ready

    def kill(self) -> None:
        with contextlib.suppress(Exception):  # already gone
            self.process.kill()
        self.process.join(timeout=2)
        self.conn.close()


class ProbePool:
    """A fixed number of probe worker processes with a hard wall-clock bound per probe.

    :meth:`probe` is thread-safe: each call borrows an idle worker (waiting for
    one if all are busy). A worker that overruns ``req.hard_bound_s`` is killed
    and replaced, and the probe reports ``unreachable`` — the camera did not
    deliver within any reasonable time. A worker that dies on its own is the
    monitor's failure: the result has ``verdict=None``.
    """

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError("a probe pool needs at least one worker")
        # forkserver: the daemon has threads (scheduler, HTTP) and a plain fork would
        # copy their locks; the fork server is single-threaded and has OpenCV
        # imported once, so a replacement worker starts in milliseconds.
        self._ctx = multiprocessing.get_context("forkserver")
        self._ctx.set_forkserver_preload(["monitor.probe"])
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._all: set[_Worker] = set()
        self._lock = threading.Lock()
        self._closed = False
        self.replaced = 0
        for _ in range(size):
            self._add()

    @property
    def size(self) -> int:
        """Number of live worker processes."""
        return len(self._all)

    def _add(self) -> None:
        w = _Worker(self._ctx)
        with self._lock:
            self._all.add(w)
        self._idle.put(w)

    def _replace(self, w: _Worker) -> None:
        w.kill()
        with self._lock:
            self._all.discard(w)
            self.replaced += 1
        if not self._closed:
            self._add()

    def probe(self, req: ProbeRequest) -> ProbeResult:
        """Run ``req`` in a worker, never longer than ``req.hard_bound_s`` (plus a worker's wait).

        A worker found dead before it took the request (killed by the OOM killer
        while idle, say) is replaced and the request goes to another one, once.
        """
        if self._closed:
            raise RuntimeError("probe pool is closed")
        for _attempt in range(2):
            w = self._idle.get()
            if not w.wait_ready():
                self._replace(w)
                continue
            try:
                w.conn.send(req)
            except (OSError, BrokenPipeError):
                self._replace(w)
                continue
            return self._await(w, req)
        return ProbeResult(verdict=None, elapsed_ms=0, error="no probe worker could start")

    def _await(self, w: _Worker, req: ProbeRequest) -> ProbeResult:
        started = _now()
        t0 = time.monotonic()
        try:
            if w.conn.poll(req.hard_bound_s):
                result: ProbeResult = w.conn.recv()
                self._idle.put(w)
                return result
        except (EOFError, OSError) as exc:
            self._replace(w)
            return ProbeResult(
                verdict=None,
                elapsed_ms=_ms(t0),
                error=f"probe worker died: {type(exc).__name__}",
                started_at=started,
            )
        self._replace(w)
        return ProbeResult(
            verdict="unreachable",
            elapsed_ms=_ms(t0),
            measurements={"probe_killed": True},
            error=f"no answer within the hard bound of {req.hard_bound_s:.1f} s",
            started_at=started,
        )

    def close(self) -> None:
        """Stop every worker (politely first, then by force)."""
        self._closed = True
        with self._lock:
            workers = list(self._all)
            self._all.clear()
        for w in workers:
            with contextlib.suppress(OSError):
                w.conn.send(None)
        deadline = time.monotonic() + 2
        for w in workers:
            w.process.join(timeout=max(0.0, deadline - time.monotonic()))
            if w.process.is_alive():
                w.kill()
            else:
                w.conn.close()

    def __enter__(self) -> ProbePool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
