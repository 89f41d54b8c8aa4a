"""``monitor`` command line: run the daemon, check one URL, show status, requeue, serve demo cameras.

Exit codes of ``monitor check``: 0 online, 1 a camera problem (any other
verdict), 2 bad usage, 3 the monitor itself failed (no verdict).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sqlite3
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from monitor import __version__
from monitor.redact import install_redaction, redact

if TYPE_CHECKING:
    from monitor.config import MonitorConfig

EXIT_ONLINE, EXIT_PROBLEM, EXIT_USAGE, EXIT_BLIND = 0, 1, 2, 3


def setup_logging(level: str) -> None:
    """Log to stdout, every line redacted."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    install_redaction(handler)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("urllib3").setLevel(logging.WARNING)


def _config(args: argparse.Namespace) -> MonitorConfig:
    # imported here: `monitor check` needs no configuration and starts faster without pydantic
    from monitor.config import load

    return load(args.config)


def cmd_run(args: argparse.Namespace) -> int:
    """``monitor run``: the daemon."""
    from monitor.scheduler import Daemon

    cfg = _config(args)
    setup_logging(cfg.log_level)
    if not cfg.token:
        logging.getLogger("monitor").warning("no station token configured (MONITOR_TOKEN)")
    return Daemon(cfg).run_forever()


def cmd_check(args: argparse.Namespace) -> int:
    """``monitor check URL``: one probe with the hard bound, verdict and measurements.

    The probe runs in this process (no worker pool to start: one OpenCV import,
    well under 0.5 s CPU); a watchdog thread enforces the hard bound and exits
    with the ``unreachable`` verdict a pool would give.
    """
    import os
    import threading

    from monitor.analysis import Thresholds
    from monitor.probe import ProbeRequest, ProbeResult, probe_stream
    from monitor.redact import StreamUrlError, parse_stream_url

    if args.timeout <= 0 or (args.window is not None and args.window < 0):
        print(
            "monitor check: --timeout must be positive and --window not negative", file=sys.stderr
        )
        return EXIT_USAGE
    try:
        secrets = parse_stream_url(args.url).secrets
    except StreamUrlError as exc:
        print(f"monitor check: 地址无法使用（unusable URL）：{exc}", file=sys.stderr)
        return EXIT_USAGE
    req = ProbeRequest(
        url=args.url,
        timeout_s=args.timeout,
        rtsp_transport=args.transport,
        thresholds=Thresholds(),
        snapshot_width=640 if args.snapshot else 0,
        window_s=args.window,
    )

    def overrun() -> None:
        killed = ProbeResult(
            verdict="unreachable",
            elapsed_ms=int(req.hard_bound_s * 1000),
            measurements={"probe_killed": True},
            error=f"no answer within the hard bound of {req.hard_bound_s:.1f} s",
        )
        _print_check(args, killed, secrets)
        sys.stdout.flush()
        os._exit(EXIT_PROBLEM)

    watchdog = threading.Timer(req.hard_bound_s, overrun)
    watchdog.daemon = True
    watchdog.start()
    result = probe_stream(req)
    watchdog.cancel()
    if args.snapshot and result.snapshot:
        Path(args.snapshot).write_bytes(result.snapshot)
    _print_check(args, result, secrets)
    if result.measurements.get("busy"):
        return EXIT_PROBLEM  # the camera/NVR is out of sessions: try again later
    if result.verdict is None:
        return EXIT_BLIND
    return EXIT_ONLINE if result.verdict == "online" else EXIT_PROBLEM


def _print_check(args: argparse.Namespace, result: Any, secrets: Sequence[str]) -> None:
    """The result of ``monitor check`` as one JSON object or as lines for a person."""
    out: dict[str, Any] = {
        "url": redact(args.url, secrets),
        "verdict": result.verdict,
        "elapsed_ms": result.elapsed_ms,
        "error": result.error,
        "measurements": result.measurements,
    }
    if args.json:
        print(json.dumps(out, ensure_ascii=False))
    else:
        print(f"{out['url']}: {result.verdict or _no_verdict(result)} in {result.elapsed_ms} ms")
        if result.error:
            print(f"  {result.error}")
        for key, value in result.measurements.items():
            print(f"  {key:16} {value}")


def _no_verdict(result: Any) -> str:
    if result.measurements.get("busy"):
        return "busy (the camera/NVR is out of sessions — not a verdict, try again)"
    return "no verdict (monitor failure)"


def cmd_status(args: argparse.Namespace) -> int:
    """``monitor status``: cameras, states, outbox depth, last delivery — from the state directory."""
    from monitor.cameras import open_camera_cache
    from monitor.outbox import open_readonly
    from monitor.scheduler import OUTBOX_FILE

    cfg = _config(args)
    path = cfg.state_path / OUTBOX_FILE
    if not path.exists():
        print(f"no monitor state in {cfg.state_path} (has `monitor run` been started?)")
        return 1
    db = open_readonly(path)
    try:
        kv = {k: json.loads(v) for k, v in db.execute("SELECT key, value FROM kv")}
        depth = dict(db.execute("SELECT kind, COUNT(*) FROM items GROUP BY kind").fetchall())
        try:
            dead_rows = db.execute(
                "SELECT kind, code, COUNT(*) FROM dead GROUP BY kind, code ORDER BY kind, code"
            ).fetchall()
        except sqlite3.OperationalError:  # an outbox of a monitor older than the dead letters
            dead_rows = []
    finally:
        db.close()
    dead: dict[str, int] = {}
    for kind, _code, n in dead_rows:
        dead[kind] = dead.get(kind, 0) + n
    opened = open_camera_cache(kv.get("cameras"), cfg.cache_key, cfg.token)
    sealed = opened is None and kv.get("cameras") is not None
    doc = opened or {}
    cams = {c.get("id"): c for c in doc.get("cameras", []) if isinstance(c, dict)}
    states = {v["camera_id"]: v for k, v in kv.items() if k.startswith("state:")}
    status: dict[str, Any] = {
        "cameras": [
            {
                "id": cid,
                "name": cams.get(cid, {}).get("name", ""),
                "stream_url": redact(cams.get(cid, {}).get("stream_url", "")),
                "state": states.get(cid, {}).get("state", "unknown"),
                "cause": states.get(cid, {}).get("cause"),
                "since": states.get(cid, {}).get("since"),
                "last_verdict": states.get(cid, {}).get("last_verdict"),
                "last_check": states.get(cid, {}).get("last_check"),
            }
            for cid in sorted(set(cams) | set(states), key=lambda x: (x is None, x))
        ],
        "outbox_depth": sum(depth.values()),
        "outbox": depth,
        "dead_letter": sum(dead.values()),
        "dead_letter_by_kind": dead,
        "dead_letter_by_code": [{"kind": k, "code": c, "count": n} for k, c, n in dead_rows],
        "last_delivery": kv.get("last_delivery"),
        "last_heartbeat": kv.get("last_heartbeat"),
        "cameras_fetched_at": kv.get("cameras_fetched_at"),
        "capacity": kv.get("capacity"),
        "camera_list_readable": not sealed,
    }
    if args.json:
        print(json.dumps(status, ensure_ascii=False))
        return 0
    print(
        f"cameras: {len(status['cameras'])} (list fetched {status['cameras_fetched_at'] or 'never'})"
    )
    if sealed:
        print(
            "  (names and URLs unknown: the cached camera list is encrypted — run with the "
            "daemon's MONITOR_TOKEN or MONITOR_CACHE_KEY)"
        )
    for c in status["cameras"]:
        cause = f" ({c['cause']})" if c["cause"] else ""
        since = _short_time(c["since"])
        print(
            f"  #{c['id']:<5} {c['state']:8}{cause:14} since {since:20} "
            f"last {c['last_verdict'] or '-':12} {c['name']}  {c['stream_url']}"
        )
    cap = status["capacity"]
    if isinstance(cap, dict):
        state = "yes" if cap.get("keeping_up") else "NO"
        print(
            f"keeping up: {state} — {cap.get('checks_done_per_min')} checks done in the last minute, "
            f"{cap.get('checks_needed_per_min')} needed, {cap.get('missed_per_min')} missed; "
            f"{cap.get('workers')} probe workers (at most {cap.get('max_workers')}, "
            f"{cap.get('workers_needed')} busy on average)"
            + (f"; why: {cap['why']}" if cap.get("why") else "")
            + f" (as of {_short_time(cap.get('at'))})"
        )
    kinds = ", ".join(f"{k} {n}" for k, n in sorted(depth.items()))
    print(f"outbox depth: {status['outbox_depth']}" + (f" ({kinds})" if kinds else ""))
    print(
        f"dead letters (refused by the tracker): {status['dead_letter']}"
        + "".join(f"\n  {k:9} {c:18} {n}" for k, c, n in dead_rows)
        + ("\n  (`monitor requeue --all` sends them again)" if dead_rows else "")
    )
    print(f"last delivery: {status['last_delivery'] or 'never'}")
    print(
        f"last heartbeat queued: {status['last_heartbeat'] or 'never'} (the daemon queues one every heartbeat interval)"
    )
    return 0


def cmd_requeue(args: argparse.Namespace) -> int:
    """``monitor requeue``: list dead-letter items, or move them back into the outbox."""
    from monitor.outbox import Outbox
    from monitor.scheduler import OUTBOX_FILE

    cfg = _config(args)
    path = cfg.state_path / OUTBOX_FILE
    if not path.exists():
        print(f"no monitor state in {cfg.state_path} (has `monitor run` been started?)")
        return 1
    if not (args.uuids or args.all or args.list):
        print("monitor requeue: name UUIDs, or use --all or --list", file=sys.stderr)
        return EXIT_USAGE
    box = Outbox(path)  # the daemon may run: both sides take SQLite's write lock
    try:
        if args.list:
            items = [i for i in box.dead() if args.kind is None or i.kind == args.kind]
            for i in items:
                print(
                    f"{i.uuid}  {i.kind:9} refused {_short_time(i.dead_at)}  {i.code}: {i.message}"
                )
            print(f"{len(items)} dead-letter items")
            return 0
        moved = box.requeue(None if args.all else args.uuids, kind=args.kind)
    finally:
        box.close()
    unknown = sorted(set(args.uuids) - set(moved))
    for uid in unknown:
        print(f"not in the dead-letter table: {uid}", file=sys.stderr)
    print(f"{len(moved)} items back in the outbox; the daemon sends them on its next delivery")
    return EXIT_PROBLEM if unknown else 0


def _short_time(value: str | None) -> str:
    """An ISO time as ``2026-11-26T01:00:00Z`` (or ``-``)."""
    if not value:
        return "-"
    from datetime import datetime

    from monitor.outbox import utc_iso

    try:
        return utc_iso(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        return value


def cmd_simulate(args: argparse.Namespace) -> int:
    """``monitor simulate``: serve the demo cameras until interrupted (or ``--duration``)."""
    from monitor.simulator import SimulatorServer, demo_urls

    width, _, height = args.size.partition("x")
    if not (width.isdigit() and height.isdigit()):
        print("monitor simulate: --size must look like 640x360", file=sys.stderr)
        return EXIT_USAGE
    try:
        server = SimulatorServer(args.port, fps=args.fps, width=int(width), height=int(height))
    except OSError as exc:
        print(
            f"monitor simulate: cannot listen on 127.0.0.1:{args.port}: {exc.strerror}",
            file=sys.stderr,
        )
        return EXIT_PROBLEM
    server.start(lifetime_s=args.duration)
    urls = demo_urls(server)
    if args.json:
        print(json.dumps(urls), flush=True)
    else:
        print(f"demo cameras on 127.0.0.1:{server.port} (Ctrl-C to stop):")
        for kind, url in urls.items():
            print(f"  {kind:15} {url}")
        sys.stdout.flush()
    try:
        while not server.stopped.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exit code 2 on bad usage, as argparse does)."""
    p = argparse.ArgumentParser(
        prog="monitor", description="Service-hall camera monitor (station daemon)"
    )
    p.add_argument("--version", action="version", version=f"monitor {__version__}")
    p.add_argument("--config", help="config file (default: $MONITOR_CONFIG or ./config.toml)")
    sub = p.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the station daemon (logs to stdout)")
    run.set_defaults(func=cmd_run)

    check = sub.add_parser("check", help="probe one stream URL once")
    check.add_argument("url")
    check.add_argument("--json", action="store_true", help="print one JSON object")
    check.add_argument(
        "--timeout", type=float, default=3.0, help="open/read timeout in seconds (default 3)"
    )
    check.add_argument(
        "--window", type=float, default=None, help="frame window in seconds (default 2)"
    )
    check.add_argument("--transport", choices=("tcp", "udp"), default="tcp", help="RTSP transport")
    check.add_argument("--snapshot", metavar="FILE", help="write a 640 px JPEG of the last frame")
    check.set_defaults(func=cmd_check)

    status = sub.add_parser("status", help="cameras, states, outbox depth, last delivery")
    status.add_argument("--json", action="store_true")
    status.set_defaults(func=cmd_status)

    requeue = sub.add_parser(
        "requeue", help="send items the tracker refused (the dead-letter table) again"
    )
    requeue.add_argument("uuids", nargs="*", metavar="UUID", help="items to requeue")
    requeue.add_argument("--all", action="store_true", help="every dead-letter item")
    requeue.add_argument("--kind", choices=("report", "heartbeat", "snapshot"), help="only these")
    requeue.add_argument("--list", action="store_true", help="list the items, change nothing")
    requeue.set_defaults(func=cmd_requeue)

    sim = sub.add_parser("simulate", help="serve synthetic demo cameras on 127.0.0.1")
    sim.add_argument(
        "--port", type=int, default=8554, help="port (default 8554; 0 = any free port)"
    )
    sim.add_argument("--fps", type=float, default=10.0)
    sim.add_argument("--size", default="320x240", help="picture size WxH (default 320x240)")
    sim.add_argument(
        "--duration", type=float, default=None, help="stop by itself after this many seconds"
    )
    sim.add_argument("--json", action="store_true", help="print the URLs as one JSON object")
    sim.set_defaults(func=cmd_simulate)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Console-script entry point."""
    os.umask(0o077)  # outbox, camera cache (stream credentials), states: owner only
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        config = sys.modules.get("monitor.config")  # loaded by every command that reads it
        if config is not None and isinstance(exc, config.ConfigError):
            print(f"monitor：配置错误（configuration error）：{exc}", file=sys.stderr)
            return EXIT_USAGE
        raise


if __name__ == "__main__":
    sys.exit(main())
