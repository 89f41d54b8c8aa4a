"""Real-browser fixtures: a live tracker and Debian's headless Chromium via Playwright.

The live server runs in a thread against its own migrated SQLite file (data is
committed, as a real user would see it). Playwright drives the system
``/usr/bin/chromium`` — no browser is ever downloaded. Set ``SCREENSHOTS=DIR``
to keep screenshots of the pages the tests visit (desktop and phone widths).
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1366, "height": 900}
# Township staff sit in China: the browser's clock reads Beijing time, as the app's zone
# does (a "前天" button computed in the machine's UTC would be a day off after 16:00 UTC).
BROWSER_ZONE = "Asia/Shanghai"
PHONE = {"width": 390, "height": 844}

pytestmark = pytest.mark.e2e


def new_e2e_app(tmp_path_factory: pytest.TempPathFactory, name: str) -> Any:
    """An app on its own freshly migrated SQLite file, CSRF on (as users get it)."""
    from tracker import create_app
    from tracker.database import upgrade

    url = f"sqlite:///{tmp_path_factory.mktemp(name) / f'{name}.db'}"
    upgrade(url)
    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "UPLOAD_DIR": str(tmp_path_factory.mktemp(f"{name}-uploads")),
            "WTF_CSRF_ENABLED": True,
        }
    )


def seed_world(app: Any) -> dict[str, Any]:
    """Commit the factories' test world; return plain user names and village ids."""
    from tests.factories import build_world
    from tracker.extensions import db

    with app.app_context():
        world = build_world()
        db.session.commit()
        # Keep plain values: the objects' session closes with this context.
        users = {k: u.username for k, u in world.users.items()}
        villages = {
            "a1a": world.village_a1a.id,
            "a1b": world.village_a1b.id,
            "a2a": world.village_a2a.id,
            "b1a": world.village_b1a.id,
        }
    return {"users": users, "villages": villages}


@contextlib.contextmanager
def serve(app: Any) -> Iterator[str]:
    """Serve ``app`` on a free 127.0.0.1 port in a thread; stop it on exit."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()


@pytest.fixture(scope="session")
def e2e_app(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return new_e2e_app(tmp_path_factory, "e2e")


@pytest.fixture(scope="session")
def e2e_world(e2e_app: Any) -> Any:
    return seed_world(e2e_app)


@pytest.fixture(scope="session")
def live_server(e2e_app: Any) -> Iterator[str]:
    with serve(e2e_app) as url:
        yield url


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM} (make test installs the Debian package)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page_for(browser: Any, live_server: str) -> Iterator[Callable[..., Any]]:
    """``page_for(username, phone=False)`` → a logged-in Playwright page."""
    contexts: list[Any] = []

    def make(username: str | None = None, phone: bool = False) -> Any:
        ctx = browser.new_context(
            viewport=PHONE if phone else DESKTOP,
            locale="zh-CN",
            timezone_id=BROWSER_ZONE,
            base_url=live_server,
            device_scale_factor=1,
        )
        contexts.append(ctx)
        page = ctx.new_page()
        if username:
            from tests.factories import PASSWORD

            page.goto("/login")
            page.fill("input[name=username]", username)
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(lambda url: "/login" not in url)
        return page

    yield make
    for ctx in contexts:
        ctx.close()


@pytest.fixture
def shoot() -> Callable[[Any, str], None]:
    """Save a full-page screenshot when SCREENSHOTS=DIR is set."""
    out = os.environ.get("SCREENSHOTS")

    def take(page: Any, name: str) -> None:
        if out:
            Path(out).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(Path(out) / f"{name}.png"), full_page=True)

    return take
