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
import hashlib
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
from monitor.redact import StreamUrl, StreamUrlError, parse_stream_url, redact

log = logging.getLogger(__name__)

Image = npt.NDArray[Any]
"""A decoded picture as OpenCV hands it out (BGR or grey)."""

ANALYSIS_WIDTH = 320
"""Frames are reduced to this width (greyscale) before the picture checks."""

MAX_WINDOW_FRAMES = 6
"""At most this many frames of a window are converted and analysed (the rest are only grabbed)."""

_FAST_OPTIONS = "analyzeduration;0|probesize;32"
# only key frames reach the decoder: a check costs a few I-frame decodes instead of
# every frame of its window, and the picture measure compares I-frames, which an
# encoder re-quantises the same way for a still input (see monitor.analysis)
_DECODE_OPTIONS = "avdiscard;nonkey"

DEFAULT_KEYFRAME_S = 12.0
"""Bound for the first key frame while a camera's GOP is unknown ("smart" codecs: 10 s)."""

BUSY_CODES = (453, 454, 503)
"""RTSP/HTTP answers of a camera or NVR that is out of sessions or bandwidth: busy, not down."""


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
    gop_s: float | None = None
    """The camera's key-frame interval as measured by earlier checks (sizes the key-frame bound)."""
    motion_baseline: float | None = None
    """The camera's usual picture change between key frames (adapts the frozen threshold)."""
    transport_fallback: bool = True
    previous: npt.NDArray[np.uint8] | None = None
    """The previous check's key frame (grey, analysis size). With it a check decodes one
    key frame and compares it with this picture of a check ago — the cheapest proof of
    a live picture, and a stronger one than two frames a second apart."""
    """On 461/400 or no data, try the other RTSP transport once (the result says which worked)."""

    @property
    def keyframe_bound_s(self) -> float:
        """How long to wait for a key frame: 1.5 GOPs plus the timeout, or 12 s while unknown.

        HTTP streams other than HLS and FLV are MJPEG, where every frame is a key
        frame: the timeout alone.
        """
        if self.gop_s and self.gop_s > 0:
            return max(self.timeout_s, 1.5 * self.gop_s + self.timeout_s)
        try:
            parsed = parse_stream_url(self.url)
        except StreamUrlError:
            return self.timeout_s
        path = urllib.parse.urlsplit(parsed.rest).path.lower()
        if parsed.scheme in ("http", "https") and not path.endswith((".m3u8", ".flv")):
            return self.timeout_s
        return max(self.timeout_s, DEFAULT_KEYFRAME_S)

    @property
    def effective_window_s(self) -> float:
        """The frame window actually read."""
        return self.thresholds.frozen_window_s if self.window_s is None else self.window_s

    @property
    def hard_bound_s(self) -> float:
        """Wall-clock bound of the whole probe, after which the worker is killed.

        Connect, diagnosis and open (≤ 3 × timeout), the first key frame and one
        more (≤ 2 × the key-frame bound), the window, all twice when the other
        RTSP transport is tried, plus slack for process overhead.
        """
        if self.max_s is not None:
            return self.max_s
        one = self.timeout_s * 3 + 2 * self.keyframe_bound_s + self.effective_window_s
        return one * (2 if self.transport_fallback else 1) + 2.0


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
        # SETUP only the video track: audio (G.711, AAC) and ONVIF metadata are ignored
        return f"rtsp_transport;{transport}|allowed_media_types;video|{_FAST_OPTIONS}|{_DECODE_OPTIONS}"
    if _is_flv(url):
        # HTTP-FLV: the codec headers follow the FLV header and the metadata, past a
        # 32-byte probe (the picture size stays 0 and no frame comes out). A
        # max_analyze_duration of 0 means FFmpeg's default (5 s), which an FLV's
        # metadata/data track keeps waiting for: bound the probing at 0.1 s of stream.
        return f"analyzeduration;100000|probesize;65536|{_DECODE_OPTIONS}"
    if _is_hls(url):
        # HLS needs to read the playlist and the first segment's header; a 32-byte
        # probe fails on MPEG-TS segments, so only the analysis time is cut.
        return f"analyzeduration;0|{_DECODE_OPTIONS}"
    if _host_port(url) is None:
        return _FAST_OPTIONS  # a file: every frame, read as fast as it decodes
    return f"{_FAST_OPTIONS}|{_DECODE_OPTIONS}"


def _is_flv(url: str) -> bool:
    return urllib.parse.urlsplit(url).path.lower().endswith(".flv")


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


_STATUS = re.compile(r"^(?:HTTP/\d(?:\.\d)?|RTSP/1\.0) (\d{3}) ?([^\r\n]*)")
_AUTH_PARAM = re.compile(r'(\w+)=(?:"([^"]*)"|([^\s,]+))')


@dataclass
class Answer:
    """One answer of a camera to a diagnosis request."""

    code: int
    reason: str
    headers: dict[str, list[str]]
    body: str

    def header(self, name: str) -> str | None:
        """The first value of a header (case-insensitive)."""
        values = self.headers.get(name.lower())
        return values[0] if values else None

    def text(self, method: str) -> str:
        """The camera's own words, e.g. ``SETUP: 461 Unsupported transport``."""
        return f"{method}: {self.code} {self.reason}".strip()


class _Conversation:
    """A plain-socket RTSP or HTTP exchange with one camera, credentials sent at most once.

    The scheme comes from the camera's ``WWW-Authenticate`` (Digest preferred,
    as current Hikvision/Dahua firmware requires, else Basic). A request is
    retried with credentials once; a second 401 is the answer — a camera locks
    its account after a few failed logins, so the monitor never guesses again.
    """

    def __init__(self, url: StreamUrl, timeout_s: float) -> None:
        self.url = url
        self.rtsp = url.scheme == "rtsp"
        self.timeout_s = timeout_s
        self.sock: socket.socket | None = None
        self.cseq = 0
        self.auth: tuple[str, dict[str, str]] | None = None
        self.tried_credentials = False
        self.session: str | None = None
        self._buffer = b""

    def __enter__(self) -> _Conversation:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.sock is not None:
            with contextlib.suppress(OSError):
                if self.session:
                    self._send("TEARDOWN", self.target(), {"Session": self.session})
            self.sock.close()

    def target(self, control: str | None = None) -> str:
        base = self.url.without_userinfo()
        if not control or control == "*":
            return base
        if control.startswith(("rtsp://", "rtsps://")):
            return control
        return base.rstrip("/") + "/" + control

    def _authorization(self, method: str, uri: str) -> str | None:
        if self.auth is None or self.url.username is None:
            return None
        scheme, params = self.auth
        user, password = self.url.username, self.url.password or ""
        if scheme == "digest":
            realm, nonce = params.get("realm", ""), params.get("nonce", "")
            ha1 = hashlib.md5(f"{user}:{realm}:{password}".encode()).hexdigest()  # noqa: S324 - RFC 2617
            ha2 = hashlib.md5(f"{method}:{uri}".encode()).hexdigest()  # noqa: S324
            qop = params.get("qop", "")
            fields = [
                f'username="{user}"',
                f'realm="{realm}"',
                f'nonce="{nonce}"',
                f'uri="{uri}"',
            ]
            if "auth" in [q.strip() for q in qop.split(",")]:
                cnonce = os.urandom(8).hex()
                digest = hashlib.md5(  # noqa: S324
                    f"{ha1}:{nonce}:00000001:{cnonce}:auth:{ha2}".encode()
                ).hexdigest()
                fields += ["qop=auth", "nc=00000001", f'cnonce="{cnonce}"']
            else:
                digest = hashlib.md5(f"{ha1}:{nonce}:{ha2}".encode()).hexdigest()  # noqa: S324
            fields.append(f'response="{digest}"')
            if "opaque" in params:
                fields.append(f'opaque="{params["opaque"]}"')
            return "Digest " + ", ".join(fields)
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        return f"Basic {token}"

    def _send(self, method: str, uri: str, headers: dict[str, str]) -> None:
        assert self.sock is not None
        if self.rtsp:
            self.cseq += 1
            head = f"{method} {uri} RTSP/1.0\r\nCSeq: {self.cseq}\r\n"
        else:
            parts = urllib.parse.urlsplit(uri)
            path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            head = f"{method} {path} HTTP/1.0\r\nHost: {parts.netloc}\r\n"
        auth = self._authorization(
            method, uri if self.rtsp else urllib.parse.urlsplit(uri).path or "/"
        )
        if auth:
            headers = {**headers, "Authorization": auth}
        head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        self.sock.sendall(head.encode("latin-1", "replace"))

    def _receive(self) -> Answer | None:
        assert self.sock is not None
        while b"\r\n\r\n" not in self._buffer:
            chunk = self.sock.recv(4096)
            if not chunk:
                break
            self._buffer += chunk
            if len(self._buffer) > 65536:
                break
        head, _, rest = self._buffer.partition(b"\r\n\r\n")
        text = head.decode("latin-1", "replace")
        m = _STATUS.match(text)
        if m is None:
            return None
        headers: dict[str, list[str]] = {}
        for line in text.split("\r\n")[1:]:
            name, _, value = line.partition(":")
            headers.setdefault(name.strip().lower(), []).append(value.strip())
        length = int((headers.get("content-length") or ["0"])[0] or 0) if self.rtsp else 4096
        body = rest
        while self.rtsp and len(body) < length:
            chunk = self.sock.recv(4096)
            if not chunk:
                break
            body += chunk
        self._buffer = body[length:] if self.rtsp else b""
        return Answer(
            int(m.group(1)), m.group(2).strip(), headers, body[:length].decode("utf-8", "replace")
        )

    def request(
        self, method: str, uri: str, headers: dict[str, str] | None = None
    ) -> Answer | None:
        """Send one request (reconnecting for HTTP); on 401 retry once with credentials."""
        for _ in range(2):
            if self.sock is None or not self.rtsp:
                if self.sock is not None:
                    self.sock.close()
                hp = _host_port(self.url.without_userinfo())
                assert hp is not None
                self.sock = socket.create_connection(hp, timeout=self.timeout_s)
                self._buffer = b""
            self._send(method, uri, dict(headers or {}))
            answer = self._receive()
            if answer is None or answer.code != 401 or self.tried_credentials:
                return answer
            if self.url.username is None:
                return answer
            self.auth = _choose_auth(answer.headers.get("www-authenticate", []))
            self.tried_credentials = True
            if self.auth is None:
                return answer
        return answer


def _choose_auth(challenges: list[str]) -> tuple[str, dict[str, str]] | None:
    """The scheme to answer with: Digest when the camera offers it, else Basic."""
    parsed = []
    for challenge in challenges:
        scheme, _, rest = challenge.strip().partition(" ")
        params = {m.group(1).lower(): m.group(2) if m.group(2) is not None else m.group(3)
                  for m in _AUTH_PARAM.finditer(rest)}  # fmt: skip
        parsed.append((scheme.lower(), params))
    for scheme, params in parsed:
        if scheme == "digest":
            return scheme, params
    for scheme, params in parsed:
        if scheme == "basic":
            return scheme, params
    return None


def _video_control(sdp: str) -> str | None:
    """The ``a=control`` of the first video track of an SDP (``None`` if it has no video)."""
    in_video = False
    control: str | None = None
    for line in sdp.splitlines():
        if line.startswith("m="):
            if in_video:
                break
            in_video = line.startswith("m=video")
            control = "" if in_video else None
        elif in_video and line.startswith("a=control:"):
            control = line.split(":", 1)[1].strip()
    return control


@dataclass
class Diagnosis:
    """What a camera said when asked directly: a verdict (or busy), its words, the transport."""

    verdict: str | None
    detail: str
    busy: bool = False
    transport_refused: bool = False


def _diagnose_failed_open(url: StreamUrl, timeout_s: float, transport: str) -> Diagnosis:
    """Why did OpenCV not open ``url``? Asks the camera itself (RTSP: DESCRIBE, then SETUP)."""
    hp = _host_port(url.without_userinfo())
    if hp is None:
        return Diagnosis("no_video", "could not open (not a network stream)")
    if url.scheme in ("https", "rtsps"):
        return Diagnosis("no_video", "server reachable, stream could not be opened")
    try:
        with _Conversation(url, timeout_s) as talk:
            if talk.rtsp:
                answer = talk.request("DESCRIBE", talk.target(), {"Accept": "application/sdp"})
                method = "DESCRIBE"
                if answer is not None and answer.code == 200:
                    control = _video_control(answer.body)
                    if control is None:
                        return Diagnosis("no_video", "the camera's SDP has no video track")
                    base = answer.header("content-base") or talk.target()
                    uri = control if control.startswith("rtsp") else (
                        base.rstrip("/") + "/" + control if control and control != "*" else base
                    )  # fmt: skip
                    spec = (
                        "RTP/AVP/TCP;unicast;interleaved=0-1"
                        if transport == "tcp"
                        else "RTP/AVP;unicast;client_port=50000-50001"
                    )
                    answer = talk.request("SETUP", uri, {"Transport": spec})
                    method = "SETUP"
                    if answer is not None and answer.code == 200:
                        talk.session = (answer.header("session") or "").split(";")[0] or None
            else:
                answer = talk.request("GET", talk.target())
                method = "GET"
    except TimeoutError:
        return Diagnosis("unreachable", "server accepted the connection but did not answer")
    except OSError as exc:
        return Diagnosis("unreachable", f"connection failed: {exc.strerror or exc}")
    if answer is None:
        return Diagnosis("no_video", "server answered with something that is not a stream")
    said = answer.text(method)
    code = answer.code
    if code in (401, 403):
        how = "" if url.username is not None else " (no credentials in the URL)"
        return Diagnosis("auth_failed", f"server refused the credentials{how} — {said}")
    if code in BUSY_CODES:
        return Diagnosis(None, f"camera/NVR busy — {said}", busy=True)
    if code == 461 or (code == 400 and method == "SETUP"):
        return Diagnosis(
            "no_video", f"transport {transport} refused — {said}", transport_refused=True
        )
    if code == 404:
        return Diagnosis("no_video", f"stream not found — {said}")
    if code >= 400:
        return Diagnosis("no_video", f"server error — {said}")
    return Diagnosis("no_video", f"server answered {said} but no decodable video")


def _http_opener(url: StreamUrl) -> urllib.request.OpenerDirector:
    """An opener that answers Basic or Digest, whichever the server asks for, once."""
    handlers: list[urllib.request.BaseHandler] = []
    if url.username is not None:
        mgr = urllib.request.HTTPPasswordMgrWithDefaultRealm()
        mgr.add_password(None, url.without_userinfo(), url.username, url.password or "")
        handlers += [
            urllib.request.HTTPDigestAuthHandler(mgr),
            urllib.request.HTTPBasicAuthHandler(mgr),
        ]
    return urllib.request.build_opener(*handlers)


def _hls_freshness(
    url: StreamUrl, timeout_s: float, depth: int = 0
) -> tuple[str | None, str | None, dict[str, Any]]:
    """Is the HLS publisher alive? (verdict or None if fresh, error, measurements).

    A playlist whose last change is older than 3 target durations (min 3 s), or
    that ended (``#EXT-X-ENDLIST``), means the publisher stopped even if
    buffered segments still decode.
    """
    extra: dict[str, Any] = {}
    try:
        with _http_opener(url).open(url.without_userinfo(), timeout=timeout_s) as resp:
            body = resp.read(256 * 1024).decode("utf-8", "replace")
            last_modified = resp.headers.get("Last-Modified")
            final_url = resp.geturl()
    except urllib.error.HTTPError as exc:
        if exc.code in (401, 403):
            return (
                "auth_failed",
                f"playlist refused the credentials ({exc.code} {exc.reason})",
                extra,
            )
        return "no_video", f"playlist unavailable ({exc.code} {exc.reason})", extra
    except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return "unreachable", f"playlist not reachable: {reason}", extra
    if "#EXTM3U" not in body:
        return "no_video", "not an HLS playlist", extra
    if "#EXT-X-STREAM-INF" in body and depth == 0:  # master playlist: judge the first variant
        variant = next(
            (ln.strip() for ln in body.splitlines() if ln.strip() and not ln.startswith("#")), None
        )
        if variant:
            joined = urllib.parse.urljoin(final_url, variant)
            sub = parse_stream_url(joined)
            return _hls_freshness(
                StreamUrl(sub.scheme, url.username, url.password, sub.hostport, sub.rest),
                timeout_s,
                depth + 1,
            )
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
@dataclass
class _Attempt:
    """One open of the stream with one transport."""

    verdict: str | None
    error: str | None = None
    diagnosis: Diagnosis | None = None
    no_data: bool = False
    snapshot: bytes | None = None
    thumb: npt.NDArray[np.uint8] | None = None


def probe_stream(req: ProbeRequest) -> ProbeResult:
    """Probe one stream in this process (blocking, bounded by OpenCV's timeouts).

    Use :class:`ProbePool` for the hard wall-clock bound; this function is what a
    pool worker runs.
    """
    started = _now()
    t0 = time.monotonic()
    cpu0 = time.process_time()
    m: dict[str, Any] = {}
    secrets: tuple[str, ...] = ()

    def done(
        verdict: str | None,
        error: str | None = None,
        snap: bytes | None = None,
        thumb: npt.NDArray[np.uint8] | None = None,
    ) -> ProbeResult:
        m["cpu_ms"] = round((time.process_time() - cpu0) * 1000, 1)
        for key, value in list(m.items()):
            if isinstance(value, str):
                m[key] = redact(value, secrets)
        return ProbeResult(
            verdict=verdict,
            elapsed_ms=_ms(t0),
            measurements=m,
            error=redact(error, secrets) if error else None,
            snapshot=snap,
            thumb=thumb,
            started_at=started,
        )

    try:
        url = parse_stream_url(req.url)
    except StreamUrlError as exc:
        return done("no_video", f"unusable stream URL: {exc}")
    secrets = url.secrets
    target = url.canonical() if url.scheme else url.rest
    verdict, error, connect_ms = _connect(target, req.timeout_s)
    if _host_port(target):
        m["connect_ms"] = connect_ms
    if verdict:
        return done(verdict, error)
    if _is_hls(target):
        verdict, error, extra = _hls_freshness(url, req.timeout_s)
        m.update(extra)
        if verdict:
            return done(verdict, error)

    transport = req.rtsp_transport if req.rtsp_transport in ("tcp", "udp") else "tcp"
    attempt = _open_and_read(req, url, target, transport, m)
    other = "udp" if transport == "tcp" else "tcp"
    refused = attempt.diagnosis is not None and attempt.diagnosis.transport_refused
    if url.scheme == "rtsp" and req.transport_fallback and (refused or attempt.no_data):
        first_words = attempt.error
        m.pop("open_ms", None)
        attempt = _open_and_read(req, url, target, other, m)
        if (
            attempt.verdict is not None
            and attempt.verdict not in ("unreachable",)
            and not (attempt.diagnosis and attempt.diagnosis.transport_refused)
        ):
            m["transport_fallback"] = f"{transport}→{other}: {first_words}"
            if attempt.error and attempt.verdict != "online":
                attempt.error = f"{attempt.error} (after {transport}: {first_words})"
        else:
            attempt.error = f"{first_words}; {other}: {attempt.error}"
    if url.scheme == "rtsp":
        m["transport"] = m.get("transport") or transport
    if attempt.diagnosis is not None and attempt.diagnosis.busy:
        m["busy"] = True
        return done(None, attempt.error)
    return done(attempt.verdict, attempt.error, attempt.snapshot, attempt.thumb)


def _open_and_read(
    req: ProbeRequest, url: StreamUrl, target: str, transport: str, m: dict[str, Any]
) -> _Attempt:
    """Open ``target`` with one transport, wait for a key frame, read the window."""
    timeout_ms = max(100, int(req.timeout_s * 1000))
    keyframe_ms = max(timeout_ms, int(req.keyframe_bound_s * 1000))
    os.environ["OPENCV_FFMPEG_CAPTURE_OPTIONS"] = _capture_options(target, transport)
    t_open = time.monotonic()
    # the open timeout bounds the connection; the read timeout bounds each wait for a
    # key frame (a GOP of 10 s keeps a live camera silent, to a key-frame-only decoder,
    # for up to 10 s); one decoder thread, as a check decodes a handful of pictures
    cap = cv2.VideoCapture(
        target,
        cv2.CAP_FFMPEG,
        [
            cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, timeout_ms,
            cv2.CAP_PROP_READ_TIMEOUT_MSEC, keyframe_ms,
            cv2.CAP_PROP_N_THREADS, 1,
        ],
    )  # fmt: skip
    try:
        m["open_ms"] = _ms(t_open)
        if not cap.isOpened():
            diag = _diagnose_failed_open(url, req.timeout_s, transport)
            return _Attempt(diag.verdict, diag.detail, diagnosis=diag)
        m["transport"] = transport if url.scheme == "rtsp" else None
        ok = cap.grab()
        ok, frame = cap.retrieve() if ok else (False, None)
        if not ok or frame is None:
            m["frames"] = 0
            return _Attempt(
                "no_video",
                f"stream opened but no key frame within {keyframe_ms / 1000:.1f} s",
                no_data=True,
            )
        m["first_frame_ms"] = _ms(t_open)
        h, w = frame.shape[:2]
        m["width"], m["height"] = int(w), int(h)
        greys = [_grey_small(frame)]
        pts = [float(cap.get(cv2.CAP_PROP_POS_MSEC))]
        keyframe_pts = [pts[0]]
        last_colour = frame
        frames_read = 1
        window = max(0.0, req.effective_window_s)
        stalled = False
        is_file = _host_port(target) is None
        previous = req.previous
        compare = previous is not None and previous.shape == greys[0].shape and not is_file
        if compare:
            m["compared_with"] = "previous_check"
        if window > 0 and not compare:
            t_first = time.monotonic()
            step = window / (MAX_WINDOW_FRAMES - 1)
            next_sample = t_first + step
            deadline = t_first + window
            # a file is read as fast as it decodes: sample it by frame count, and its
            # end is not a stall
            file_step = max(1, int(window * 10) // (MAX_WINDOW_FRAMES - 1))
            while True:
                gop = req.gop_s
                if not is_file and gop and time.monotonic() + gop > deadline - 0.1:
                    break  # the next key frame is not inside the window: do not wait for it
                if not cap.grab():
                    stalled = not is_file
                    break
                frames_read += 1
                now = time.monotonic()
                position = float(cap.get(cv2.CAP_PROP_POS_MSEC))
                keyframe_pts.append(position)
                take = (
                    frames_read % file_step == 0
                    if is_file
                    else now >= next_sample or now >= deadline
                )
                if take and len(greys) < MAX_WINDOW_FRAMES:
                    ok, frame = cap.retrieve()
                    if ok and frame is not None:
                        greys.append(_grey_small(frame))
                        pts.append(position)
                        last_colour = frame
                    next_sample = now + step
                if is_file and len(greys) >= MAX_WINDOW_FRAMES:
                    break
                if now >= deadline:
                    break
        m["frames_read"] = frames_read
        m["window_ms"] = _ms(t_open) - m["first_frame_ms"]
        gaps = [b - a for a, b in zip(keyframe_pts, keyframe_pts[1:], strict=False) if b > a]
        if gaps and not is_file:
            m["gop_s"] = round(min(gaps) / 1000, 2)
        pic = analysis.measure(
            [previous, *greys] if compare and previous is not None else greys, pts
        )
        m.update(pic.as_dict())
        threshold = analysis.frozen_threshold(req.thresholds, req.motion_baseline)
        m["frozen_threshold"] = round(threshold, 3)
        m["pts_first_ms"] = round(pts[0], 1)
        m["pts_last_ms"] = round(pts[-1], 1)
        snap = None
        if req.snapshot_width > 0:
            snap = encode_jpeg(resize_to_width(last_colour, req.snapshot_width), 80)
        if stalled:
            m["stalled"] = True
            return _Attempt("no_video", "stream stopped delivering frames mid-way", snapshot=snap)
        verdict = analysis.picture_verdict(pic, req.thresholds, threshold)
        return _Attempt(verdict, None, snapshot=snap, thumb=greys[-1])
    except cv2.error as exc:
        return _Attempt("no_video", f"decoder error: {exc}")
    finally:
        cap.release()


# --------------------------------------------------------------------------- worker pool
def _worker_main(conn: multiprocessing.connection.Connection) -> None:
    """Loop of a pool worker: receive a request, answer a result, until ``None``."""
    import signal

    # the parent decides when workers stop: Ctrl-C and systemd's SIGTERM to the whole
    # process group reach the workers too, and a probe in progress must finish
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
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
        self._target = size
        for _ in range(size):
            self._add()

    @property
    def size(self) -> int:
        """Number of live worker processes."""
        return len(self._all)

    @property
    def target(self) -> int:
        """The number of workers the pool is resizing towards."""
        return self._target

    def resize(self, size: int) -> None:
        """Grow at once, or shrink as workers become idle (a probe in progress finishes)."""
        if self._closed:
            return
        with self._lock:
            self._target = max(1, size)
            missing = self._target - len(self._all)
        for _ in range(missing):
            self._add()
        while self.size > self._target:
            try:
                w = self._idle.get_nowait()
            except queue.Empty:
                break
            self._retire(w)

    def _retire(self, w: _Worker) -> None:
        with self._lock:
            self._all.discard(w)
        with contextlib.suppress(OSError):
            w.conn.send(None)
        w.process.join(timeout=0.5)
        if w.process.is_alive():
            w.kill()
        else:
            w.conn.close()

    def _back(self, w: _Worker) -> None:
        """A worker finished a probe: idle again, or retired if the pool is shrinking."""
        if self.size > self._target and not self._closed:
            self._retire(w)
        else:
            self._idle.put(w)

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
                self._back(w)
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
