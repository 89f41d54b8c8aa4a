"""A real tracker stack under an ordinary office's load (shared by a test and a benchmark).

:func:`stack` migrates and seeds a database (SQLite file or PostgreSQL), then
starts the real processes: gunicorn with 2 workers, ``tracker jobs --once`` in
a loop (every job writes), the camera simulator and ``monitor run`` posting
reports and heartbeats. :func:`drive` runs N concurrent clients for a bounded
time, each doing a mix of logins, API reads, API writes, form posts and page
reads, and returns every response's status and latency.
"""

from __future__ import annotations

import contextlib
import os
import random
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
MIX = {"login": 15, "api_read": 35, "api_write": 15, "form_post": 20, "page_read": 15}


@dataclass
class Stack:
    url: str
    env: dict[str, str]
    usernames: dict[str, str]
    village_id: int
    token: str
    log_dir: Path
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)


@dataclass
class Result:
    kind: str
    status: int
    seconds: float


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _seed(db_url: str, env: dict[str, str], sim_url: str) -> dict[str, Any]:
    """Migrate, commit the test world, a personal token, a station with cameras."""
    from tests.factories import build_world
    from tracker import create_app
    from tracker.auth.services import create_api_token
    from tracker.database import upgrade
    from tracker.extensions import db
    from tracker.halls import services

    upgrade(db_url)
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        app = create_app({"SQLALCHEMY_DATABASE_URI": db_url})
    finally:
        os.environ.clear()
        os.environ.update(saved)
    with app.app_context():
        world = build_world()
        _, token = create_api_token(world.users["town_a1_editor"], "load")
        station, station_token = services.create_station("负载机房", world.county_a)
        hall = services.create_hall(world.village_a1a, services.HallData(name="负载大厅"))
        for i in range(3):
            services.create_camera(
                hall,
                services.CameraData(
                    name=f"负载{i}",
                    stream_url=sim_url,
                    station_id=station.id,
                    check_interval_s=10,
                    thresholds={"down_after": 2, "up_after": 2},
                ),
            )
        db.session.commit()
        out = {
            "usernames": {k: u.username for k, u in world.users.items()},
            "village_id": world.village_a1a.id,
            "token": token,
            "station_token": station_token,
        }
    with app.app_context():
        db.engine.dispose()
    return out


def _wait_up(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(requests.RequestException):
            if requests.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        time.sleep(0.3)
    raise RuntimeError(f"tracker did not come up at {url}")


@contextlib.contextmanager
def stack(db_url: str, tmp: Path, *, lifetime_s: float = 120) -> Iterator[Stack]:
    """Start gunicorn (2 workers), the jobs loop, the simulator and a monitor on ``db_url``."""
    from cryptography.fernet import Fernet

    from monitor.simulator import SimulatorServer

    sim = SimulatorServer(fps=5).start(lifetime_s=lifetime_s)
    env = {
        "TRACKER_DATABASE_URL": db_url,
        "TRACKER_SECRET_KEY": os.urandom(32).hex(),
        "TRACKER_CAMERA_KEY": Fernet.generate_key().decode(),
        "TRACKER_CONFIG": str(ROOT / "config.toml"),
    }
    seeded = _seed(db_url, env, sim.url("live"))
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    full_env = {**os.environ, **env, "PYTHONPATH": str(ROOT)}
    log_dir = tmp / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    st = Stack(url, env, seeded["usernames"], seeded["village_id"], seeded["token"], log_dir)
    stop = threading.Event()

    def spawn(name: str, argv: list[str], extra: dict[str, str] | None = None) -> Any:
        log = (log_dir / f"{name}.log").open("ab")
        proc = subprocess.Popen(
            argv, env={**full_env, **(extra or {})}, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
        )
        st.processes.append(proc)
        return proc

    def jobs_loop() -> None:
        while not stop.is_set():
            spawn("jobs", [sys.executable, "-m", "tracker.cli", "jobs", "--once"]).wait()

    gunicorn = [
        sys.executable,
        "-m",
        "gunicorn",
        "-w",
        "2",
        "-b",
        f"127.0.0.1:{port}",
        "--timeout",
        "60",
        "tracker.wsgi:app",
    ]
    monitor_cfg = tmp / "monitor.toml"
    monitor_cfg.write_text(
        f"""[monitor]
tracker_url = "{url}"
state_dir = "{tmp / "monitor-state"}"
workers = 2
probe_timeout_s = 1.5
heartbeat_interval_s = 2
delivery_interval_s = 0.5
jitter_s = 0.2
camera_refresh_s = 10
request_timeout_s = 5
max_backoff_s = 1
snapshot_width = 160
max_window_s = 0
""",
        encoding="utf-8",
    )
    jobs_thread = threading.Thread(target=jobs_loop, daemon=True)
    try:
        spawn("gunicorn", gunicorn)
        _wait_up(url)
        jobs_thread.start()
        spawn(
            "monitor",
            [sys.executable, "-m", "monitor.cli", "run"],
            {"MONITOR_CONFIG": str(monitor_cfg), "MONITOR_TOKEN": seeded["station_token"]},
        )
        yield st
    finally:
        stop.set()
        for proc in st.processes:
            if proc.poll() is None:
                proc.terminate()
        for proc in st.processes:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        jobs_thread.join(timeout=30)
        sim.stop()


def _csrf(html: str) -> str:
    match = CSRF_RE.search(html)
    return match.group(1) if match else ""


class Client:
    """One office worker: a browser session (form posts, pages) and an API token."""

    def __init__(self, st: Stack, n: int, password: str) -> None:
        self.st = st
        self.n = n
        self.password = password
        self.rng = random.Random(n)
        self.web = requests.Session()
        self.seq = 0
        self.results: list[Result] = []

    def _timed(self, kind: str, fn: Any) -> requests.Response | None:
        started = time.perf_counter()
        try:
            resp = fn()
        except requests.RequestException:
            self.results.append(Result(kind, 599, time.perf_counter() - started))
            return None
        self.results.append(Result(kind, resp.status_code, time.perf_counter() - started))
        return resp

    def login(self, session: requests.Session | None = None) -> None:
        s = session or requests.Session()
        page = s.get(f"{self.st.url}/login", timeout=30)
        data = {
            "csrf_token": _csrf(page.text),
            "username": self.st.usernames["town_a1_editor"],
            "password": self.password,
        }
        self._timed(
            "login",
            lambda: s.post(f"{self.st.url}/login", data=data, allow_redirects=False, timeout=30),
        )

    def api_read(self) -> None:
        headers = {"Authorization": f"Bearer {self.st.token}"}
        path = self.rng.choice(
            ["/api/v1/regions", f"/api/v1/villages/{self.st.village_id}/members"]
        )
        self._timed(
            "api_read", lambda: requests.get(self.st.url + path, headers=headers, timeout=30)
        )

    def api_write(self) -> None:
        self.seq += 1
        headers = {"Authorization": f"Bearer {self.st.token}"}
        body = {"name": f"负载{self.n}号{self.seq}", "status": "full"}
        url = f"{self.st.url}/api/v1/villages/{self.st.village_id}/members"
        self._timed("api_write", lambda: requests.post(url, json=body, headers=headers, timeout=30))

    def form_post(self) -> None:
        self.seq += 1
        url = f"{self.st.url}/org/villages/{self.st.village_id}/members/new"
        form = self.web.get(url, timeout=30)
        data = {"csrf_token": _csrf(form.text), "name": f"表单{self.n}号{self.seq}"}
        data["status"] = "full"
        self._timed(
            "form_post", lambda: self.web.post(url, data=data, allow_redirects=False, timeout=30)
        )

    def page_read(self) -> None:
        path = self.rng.choice(["/", f"/org/villages/{self.st.village_id}", "/halls/"])
        self._timed("page_read", lambda: self.web.get(self.st.url + path, timeout=30))

    def run(self, deadline: float) -> None:
        self.login(self.web)
        kinds = list(MIX)
        weights = [MIX[k] for k in kinds]
        while time.monotonic() < deadline:
            getattr(self, self.rng.choices(kinds, weights)[0])()


def drive(st: Stack, clients: int, seconds: float, password: str) -> list[Result]:
    """``clients`` concurrent workers for ``seconds``; every response's status and time."""
    workers = [Client(st, n, password) for n in range(clients)]
    deadline = time.monotonic() + seconds
    threads = [threading.Thread(target=w.run, args=(deadline,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return [r for w in workers for r in w.results]


def summary(results: list[Result], seconds: float) -> dict[str, dict[str, float]]:
    """Per kind and in total: count, req/s, p50 and p99 (ms), 5xx count."""
    out: dict[str, dict[str, float]] = {}
    groups: dict[str, list[Result]] = {"all": results}
    for r in results:
        groups.setdefault(r.kind, []).append(r)
    for kind, rows in groups.items():
        times = sorted(r.seconds for r in rows)

        def pct(p: float, times: list[float] = times) -> float:
            return times[min(len(times) - 1, int(p * len(times)))] * 1000 if times else 0.0

        out[kind] = {
            "count": len(rows),
            "rps": len(rows) / seconds,
            "p50_ms": pct(0.50),
            "p99_ms": pct(0.99),
            "5xx": sum(1 for r in rows if r.status >= 500),
        }
    return out
