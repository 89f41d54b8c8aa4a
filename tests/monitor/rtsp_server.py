"""A GStreamer RTSP server for the stream tests — run with Debian's /usr/bin/python3 (it has ``gi``).

Mounts (H.264 from ``videotestsrc`` via ``x264enc``):

* ``/live``   — a moving ball
* ``/frozen`` — a still picture (``pattern=smpte``, no motion; the encoder repeats it)
* ``/black``  — a black picture
* ``/stall``  — live for ``--stall-after`` seconds, then the source stops sending
  while the session stays open

A second server on another port serves ``/live`` only with basic auth
``user:secret`` (401 otherwise). Prints ``READY <port> <auth port>`` on stdout when listening, exits by itself after
``--lifetime`` seconds, and when its parent's stdin closes.
"""

from __future__ import annotations

import argparse
import sys
import threading

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

ENC = "x264enc tune=zerolatency speed-preset=ultrafast key-int-max=10 bitrate=300 ! rtph264pay name=pay0 pt=96 config-interval=1"
CAPS = "video/x-raw,width=320,height=240,framerate=10/1"


def pipeline(pattern: str, extra: str = "") -> str:
    return f"( videotestsrc is-live=true pattern={pattern} {extra} ! {CAPS} ! {ENC} )"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--lifetime", type=float, default=120)
    ap.add_argument("--stall-after", type=float, default=1.5)
    ap.add_argument(
        "--shared", action="store_true", help="one encoder for all clients of /live (benchmark)"
    )
    ap.add_argument("--size", default="320x240", help="picture size WxH")
    args = ap.parse_args()

    global CAPS
    width, height = args.size.split("x")
    CAPS = f"video/x-raw,width={width},height={height},framerate=10/1"
    Gst.init(None)
    loop = GLib.MainLoop()
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(args.port))
    mounts = server.get_mount_points()

    def add(path: str, launch: str, shared: bool = False) -> GstRtspServer.RTSPMediaFactory:
        f = GstRtspServer.RTSPMediaFactory()
        f.set_launch(launch)
        f.set_shared(shared)
        mounts.add_factory(path, f)
        return f

    add("/live", pipeline("ball"), shared=args.shared)
    add("/frozen", pipeline("checkers-8"))
    add("/black", pipeline("black"))
    # stall: a live source that stops producing after N frames, the session kept open
    frames = max(1, int(args.stall_after * 10))
    add(
        "/stall",
        f"( videotestsrc is-live=true pattern=ball num-buffers={frames} ! {CAPS} ! {ENC} )",
    )

    # a second server on its own port where every mount needs basic auth user:secret
    secure = GstRtspServer.RTSPServer()
    secure.set_address("127.0.0.1")
    secure.set_service("0")
    auth = GstRtspServer.RTSPAuth()
    token = GstRtspServer.RTSPToken()
    token.set_string(GstRtspServer.RTSP_TOKEN_MEDIA_FACTORY_ROLE, "user")
    auth.add_basic(GstRtspServer.RTSPAuth.make_basic("user", "secret"), token)
    secure.set_auth(auth)
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(pipeline("ball"))
    perms = GstRtspServer.RTSPPermissions()
    perms.add_role_from_structure(
        Gst.Structure.from_string(
            "user, media.factory.access=(boolean)true, media.factory.construct=(boolean)true"
        )[0]
    )
    factory.set_permissions(perms)
    secure.get_mount_points().add_factory("/live", factory)

    server.attach(None)
    secure.attach(None)
    print(f"READY {server.get_bound_port()} {secure.get_bound_port()}", flush=True)
    GLib.timeout_add(int(args.lifetime * 1000), loop.quit)

    def watch_stdin() -> None:
        sys.stdin.read()  # returns when the parent closes the pipe or dies
        GLib.idle_add(loop.quit)

    threading.Thread(target=watch_stdin, daemon=True).start()
    loop.run()


if __name__ == "__main__":
    main()
