"""An HTTP-FLV live server for the stream tests — run with Debian's /usr/bin/python3 (it has ``gi``).

What a village NVR's or a relay's (SRS, nginx-http-flv, ZLMediaKit) HTTP-FLV
output looks like to a client: one encoder per stream runs all the time, and
every HTTP client that connects gets the FLV header, the metadata and the codec
headers (``flvmux``'s stream headers), then the stream **from the latest
buffer** — joined mid-GOP, without a GOP cache, so the decoder sees P-frames
until the next key frame. GStreamer's ``tcpserversink`` does the serving (many
clients, stream headers, join point); a thin HTTP front in this process answers
``GET /<mount>.flv`` with ``200 video/x-flv`` and relays its bytes.

Mounts (H.264 at 10 fps, AAC audio where named — a camera with its microphone on):

* ``/live.flv``   — a moving ball, a key frame every second, with AAC audio
* ``/gop4.flv``   — the ball with a key frame every 4 s, with AAC audio (joined mid-GOP)
* ``/frozen.flv`` — a still picture, the encoder repeating it
* ``/black.flv``  — a black picture
* ``/stall.flv``  — live for ``--stall-after`` seconds, then the encoder stops; the
  front keeps every connection open without sending (a publisher that died behind a
  relay that holds its clients)

Any other path answers 404. Prints ``READY <port>`` on stdout when listening,
exits by itself after ``--lifetime`` seconds, and when its parent's stdin closes.
"""

from __future__ import annotations

import argparse
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import gi

gi.require_version("Gst", "1.0")
from gi.repository import GLib, Gst  # noqa: E402

CAPS = "video/x-raw,format=I420,width=320,height=240,framerate=10/1"
AUDIO = (
    "audiotestsrc is-live=true wave=sine ! audioconvert ! audioresample "
    "! audio/x-raw,rate=16000,channels=1 ! voaacenc ! aacparse ! mux."
)


def video(pattern: str, gop: int = 10, extra: str = "") -> str:
    return (
        f"videotestsrc is-live=true pattern={pattern} {extra} ! {CAPS} "
        f"! x264enc tune=zerolatency speed-preset=ultrafast key-int-max={gop} bitrate=300 "
        "! h264parse ! mux."
    )


def sink() -> str:
    # sync-method=latest: a new client starts at the newest buffer (mid-GOP); the
    # stream headers (FLV header, onMetaData, AVC/AAC sequence headers) come first
    return (
        "flvmux name=mux streamable=true "
        "! tcpserversink name=out host=127.0.0.1 port=0 sync-method=latest "
        "recover-policy=keyframe"
    )


def mounts(stall_after_s: float) -> dict[str, str]:
    frames = max(1, int(stall_after_s * 10))
    return {
        "live": f"{sink()} {video('ball')} {AUDIO}",
        "gop4": f"{sink()} {video('ball', gop=40)} {AUDIO}",
        "frozen": f"{sink()} {video('smpte75')}",
        "black": f"{sink()} {video('black')}",
        "stall": f"{sink()} {video('ball', extra=f'num-buffers={frames}')}",
    }


class Front(BaseHTTPRequestHandler):
    """``GET /<mount>.flv`` → the bytes of that mount's ``tcpserversink``."""

    ports: dict[str, int] = {}
    protocol_version = "HTTP/1.0"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        name = self.path.split("?", 1)[0].lstrip("/")
        port = self.ports.get(name.removesuffix(".flv")) if name.endswith(".flv") else None
        if port is None:
            self.send_error(404)
            return
        try:
            upstream = socket.create_connection(("127.0.0.1", port), timeout=5)
        except OSError:
            self.send_error(503)
            return
        self.send_response(200)
        self.send_header("Content-Type", "video/x-flv")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        upstream.settimeout(None)
        try:
            while chunk := upstream.recv(65536):
                self.wfile.write(chunk)
                self.wfile.flush()
            if name == "stall.flv":
                self.hold()
        except OSError:
            pass  # the client went away
        finally:
            upstream.close()

    def hold(self) -> None:
        """Keep the connection open, sending nothing, until the client leaves."""
        self.connection.settimeout(None)
        while self.connection.recv(1024):
            pass


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lifetime", type=float, default=120)
    ap.add_argument("--stall-after", type=float, default=1.5)
    args = ap.parse_args()

    Gst.init(None)
    loop = GLib.MainLoop()
    pipelines = {}
    for name, launch in mounts(args.stall_after).items():
        pipe = Gst.parse_launch(launch)
        pipe.set_state(Gst.State.PLAYING)
        pipelines[name] = pipe
    for name, pipe in pipelines.items():
        pipe.get_state(5 * Gst.SECOND)
        Front.ports[name] = pipe.get_by_name("out").get_property("current-port")

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Front)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    print(f"READY {httpd.server_address[1]}", flush=True)
    GLib.timeout_add(int(args.lifetime * 1000), loop.quit)

    def watch_stdin() -> None:
        sys.stdin.read()  # returns when the parent closes the pipe or dies
        GLib.idle_add(loop.quit)

    threading.Thread(target=watch_stdin, daemon=True).start()
    try:
        loop.run()
    finally:
        httpd.shutdown()
        for pipe in pipelines.values():
            pipe.set_state(Gst.State.NULL)


if __name__ == "__main__":
    main()
