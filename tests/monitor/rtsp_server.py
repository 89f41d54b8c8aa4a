"""GStreamer RTSP servers for the stream tests — run with Debian's /usr/bin/python3 (it has ``gi``).

They reproduce what cheap IP cameras and NVRs in village halls do. Mounts of
the main server (H.264 from ``videotestsrc`` via ``x264enc``, 10 fps):

* ``/live``   — a moving ball
* ``/frozen`` — a still picture (``pattern=smpte75``; the encoder repeats it)
* ``/black``  — a black picture
* ``/stall``  — live for ``--stall-after`` seconds, then the source stops sending
  while the session stays open
* ``/quiet``  — a still scene with faint sensor noise at a low bitrate: a quiet,
  empty hall on a smart codec (live, must never read as frozen)
* ``/osd``    — a still hall with the camera's on-screen clock (live)
* ``/audio_g711`` — G.711 A-law audio as the *first* track, then video
  (a camera with its microphone on)
* ``/audio_aac`` — video, then AAC audio (MPEG4-GENERIC, as NVR channels send it)
* ``/gop4``, ``/gop10`` — an I-frame every 4 s / 10 s, the client joining half a second
  into a GOP (a "smart" codec); ``/frozen`` and ``/quiet`` are joined past their first GOP
* ``/h265``, ``/h265_frozen`` — the ball and the still picture in H.265

Further servers, one port each, all serving ``/live``:

* ``auth``   — Basic authentication ``user:secret`` and ``admin:p@ss/w#rd%1:x``
* ``digest`` — Digest authentication, the same accounts (Hikvision/Dahua default)
* ``busy``   — at most 2 sessions at a time (an NVR's limit: 503 for the third)
* ``tcp``    — RTP over TCP only (461 to a UDP SETUP)
* ``udp``    — RTP over UDP only (461 to a TCP SETUP)

Prints ``READY <main port> <auth port> <json of every port>`` on stdout when
listening, exits by itself after ``--lifetime`` seconds, and when its parent's
stdin closes.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtsp", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtsp, GstRtspServer  # noqa: E402

CAPS = "video/x-raw,format=I420,width=320,height=240,framerate=10/1"


NOISE = 0.03
NASTY_PASSWORD = "p@ss/w#rd%1:x"
"""Password of the ``admin`` account of the auth servers: as a camera's web page prints it."""
"""Opacity of the sensor noise laid over the quiet hall's still scene."""


def enc(gop: int = 10, bitrate: int = 300, pay: str = "pay0") -> str:
    return (
        f"x264enc tune=zerolatency speed-preset=ultrafast key-int-max={gop} bitrate={bitrate} "
        f"! rtph264pay name={pay} pt=96 config-interval=1"
    )


def enc265(gop: int = 10, pay: str = "pay0", qp: int = -1, bitrate: int = 300) -> str:
    # qp: constant quantiser (a camera's steady state; x265's bitrate control takes
    # seconds to settle, a test cannot wait for it)
    return (
        f"x265enc tune=zerolatency speed-preset=ultrafast key-int-max={gop} bitrate={bitrate} qp={qp} "
        "option-string=repeat-headers=1 "
        "option-string=repeat-headers=1 "
        f"! rtph265pay name={pay} pt=97 config-interval=1"
    )


def pipeline(pattern: str, extra: str = "", encoder: str = "") -> str:
    return f"( videotestsrc is-live=true pattern={pattern} {extra} ! {CAPS} ! {encoder or enc()} )"


def join_mid_gop(skip_frames: int):  # noqa: ANN201 - a GStreamer signal handler
    """A ``media-configure`` handler: the client's stream starts ``skip_frames`` into a GOP.

    A test server starts a fresh encoder for each client, whose first frame is
    an I-frame; a camera that has run for months is joined somewhere in its GOP.
    Dropping the encoder's first frames gives the client exactly that: P-frames
    whose reference it never saw, then the next I-frame.
    """

    def configure(_factory: object, media: GstRtspServer.RTSPMedia) -> None:
        it = media.get_element().iterate_recurse()
        while True:
            ok, element = it.next()
            if ok != Gst.IteratorResult.OK:
                break
            factory = element.get_factory()
            if factory is not None and factory.get_name() in ("x264enc", "x265enc"):
                state = {"segments": 0, "frames": 0}

                def drop(
                    _pad: Gst.Pad, info: Gst.PadProbeInfo, state: dict[str, int] = state
                ) -> Gst.PadProbeReturn:
                    if info.type & Gst.PadProbeType.EVENT_DOWNSTREAM:
                        # PLAY seeks the media (a second segment): the encoder restarts
                        # with an I-frame, which is the one to hide
                        if info.get_event().type == Gst.EventType.SEGMENT:
                            state["segments"] += 1
                            state["frames"] = 0
                        return Gst.PadProbeReturn.OK
                    state["frames"] += 1
                    if state["segments"] >= 2 and state["frames"] <= skip_frames:
                        return Gst.PadProbeReturn.DROP
                    return Gst.PadProbeReturn.OK

                element.get_static_pad("src").add_probe(
                    Gst.PadProbeType.BUFFER | Gst.PadProbeType.EVENT_DOWNSTREAM, drop
                )

    return configure


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--lifetime", type=float, default=120)
    ap.add_argument("--stall-after", type=float, default=1.5)
    ap.add_argument(
        "--shared", action="store_true", help="one encoder for all clients of /live (benchmark)"
    )
    ap.add_argument("--size", default="320x240", help="picture size WxH")
    ap.add_argument("--codec", choices=("h264", "h265"), default="h264", help="codec of /live")
    ap.add_argument("--gop", type=int, default=10, help="frames per GOP of /live")
    ap.add_argument("--bitrate", type=int, default=300, help="kbit/s of /live")
    ap.add_argument("--fps", type=int, default=10, help="frames per second of every mount")
    ap.add_argument("--pattern", default="ball", help="videotestsrc pattern of /live")
    args = ap.parse_args()

    global CAPS
    width, height = args.size.split("x")
    CAPS = f"video/x-raw,format=I420,width={width},height={height},framerate={args.fps}/1"
    Gst.init(None)
    loop = GLib.MainLoop()

    def new_server(port: int = 0) -> GstRtspServer.RTSPServer:
        s = GstRtspServer.RTSPServer()
        s.set_address("127.0.0.1")
        s.set_service(str(port))
        return s

    def add(
        srv: GstRtspServer.RTSPServer,
        path: str,
        launch: str,
        shared: bool = False,
        skip: int = 0,
    ) -> GstRtspServer.RTSPMediaFactory:
        f = GstRtspServer.RTSPMediaFactory()
        f.set_launch(launch)
        f.set_shared(shared)
        if skip:
            f.connect("media-configure", join_mid_gop(skip))
        srv.get_mount_points().add_factory(path, f)
        return f

    live_enc = enc265(args.gop) if args.codec == "h265" else enc(args.gop, bitrate=args.bitrate)
    # a still picture: frozen H.265 needs a constant quantiser (see enc265)
    still_enc = enc265(qp=30) if args.codec == "h265" else enc()
    other_enc = enc265() if args.codec == "h265" else enc()
    server = new_server(args.port)
    add(server, "/live", pipeline(args.pattern, encoder=live_enc), shared=args.shared)
    add(server, "/frozen", pipeline("smpte75", encoder=still_enc), skip=5)
    add(server, "/black", pipeline("black", encoder=other_enc))
    # stall: a live source that stops producing after N frames, the session kept open
    frames = max(1, int(args.stall_after * 10))
    add(server, "/stall", pipeline("ball", f"num-buffers={frames}"))
    # a quiet hall: a still scene with faint, changing sensor noise, at a low bitrate
    add(
        server,
        "/quiet",
        f"( compositor name=mix ! videoconvert ! video/x-raw,format=I420 "
        f"! {enc(bitrate=120)} "
        f"videotestsrc is-live=true pattern=colors ! {CAPS} ! mix.sink_0 "
        f"videotestsrc is-live=true pattern=snow ! {CAPS} ! alpha alpha={NOISE} ! mix.sink_1 )",
        skip=5,
    )
    add(
        server,
        "/audio_g711",
        "( audiotestsrc is-live=true wave=sine ! audio/x-raw,rate=8000,channels=1 ! alawenc "
        f"! rtppcmapay name=pay0 pt=8 videotestsrc is-live=true pattern=ball ! {CAPS} "
        f"! {enc(pay='pay1')} )",
    )
    add(
        server,
        "/audio_aac",
        f"( videotestsrc is-live=true pattern=ball ! {CAPS} ! {enc()} "
        "audiotestsrc is-live=true wave=sine ! audio/x-raw,rate=16000,channels=1 ! voaacenc "
        "! rtpmp4gpay name=pay1 pt=97 )",
    )
    # a still hall with the camera's on-screen clock (date and seconds): what every real
    # camera shows, and what makes two checks a minute apart differ
    add(
        server,
        "/osd",
        f"( videotestsrc is-live=true pattern=smpte75 ! {CAPS} "
        '! clockoverlay time-format="%Y-%m-%d %H:%M:%S" font-desc="Sans 14" '
        f"! videoconvert ! {CAPS} ! {enc()} )",
    )
    add(server, "/gop4", pipeline("ball", encoder=enc(gop=40)), skip=5)
    add(server, "/gop10", pipeline("ball", encoder=enc(gop=100)), skip=5)
    add(server, "/h265", pipeline("ball", encoder=enc265()))
    add(server, "/h265_frozen", pipeline("smpte75", encoder=enc265(qp=30)), skip=5)

    ports: dict[str, GstRtspServer.RTSPServer] = {"main": server}

    def live_only(name: str, srv: GstRtspServer.RTSPServer) -> GstRtspServer.RTSPMediaFactory:
        ports[name] = srv
        return add(srv, "/live", pipeline("ball"))

    def with_auth(name: str, method: GstRtsp.RTSPAuthMethod) -> None:
        srv = new_server()
        auth = GstRtspServer.RTSPAuth()
        token = GstRtspServer.RTSPToken()
        token.set_string(GstRtspServer.RTSP_TOKEN_MEDIA_FACTORY_ROLE, "user")
        for user, password in (("user", "secret"), ("admin", NASTY_PASSWORD)):
            if method == GstRtsp.RTSPAuthMethod.DIGEST:
                auth.add_digest(user, password, token)
            else:
                auth.add_basic(GstRtspServer.RTSPAuth.make_basic(user, password), token)
        auth.set_supported_methods(method)
        srv.set_auth(auth)
        factory = live_only(name, srv)
        perms = GstRtspServer.RTSPPermissions()
        perms.add_role_from_structure(
            Gst.Structure.from_string(
                "user, media.factory.access=(boolean)true, media.factory.construct=(boolean)true"
            )[0]
        )
        factory.set_permissions(perms)

    with_auth("auth", GstRtsp.RTSPAuthMethod.BASIC)
    with_auth("digest", GstRtsp.RTSPAuthMethod.DIGEST)
    busy = new_server()
    busy.get_session_pool().set_max_sessions(2)
    live_only("busy", busy)
    live_only("tcp", new_server()).set_protocols(GstRtsp.RTSPLowerTrans.TCP)
    live_only("udp", new_server()).set_protocols(GstRtsp.RTSPLowerTrans.UDP)

    for srv in ports.values():
        srv.attach(None)
    bound = {name: srv.get_bound_port() for name, srv in ports.items()}
    print(f"READY {bound['main']} {bound['auth']} {json.dumps(bound)}", flush=True)
    GLib.timeout_add(int(args.lifetime * 1000), loop.quit)

    def watch_stdin() -> None:
        sys.stdin.read()  # returns when the parent closes the pipe or dies
        GLib.idle_add(loop.quit)

    threading.Thread(target=watch_stdin, daemon=True).start()
    loop.run()


if __name__ == "__main__":
    main()
