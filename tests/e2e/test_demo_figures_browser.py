"""The demo in Chromium: the county dashboard, a village drill-down and its 督查 sheet show
the same numbers as each other and as the lists (逾期事项), in Chinese.

Screenshots (SCREENSHOTS=DIR): the county dashboard, 胜利村's drill-down and its 督查 sheet.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import BROWSER_ZONE, DESKTOP, new_e2e_app, serve

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    from argon2 import PasswordHasher

    from tracker import security

    app = new_e2e_app(tmp_path_factory, "demo_figures")
    saved = security._hasher
    security._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    try:
        with app.app_context(), app.test_request_context():
            from tracker.demo import seed_demo
            from tracker.extensions import db
            from tracker.models import Region

            seed_demo()
            db.session.commit()
            ids = {r.name: r.id for r in db.session.query(Region).all()}
    finally:
        security._hasher = saved

    def completed_since(start: Any) -> set[str]:
        """The pages of the matters completed on or after the local day ``start``."""
        from sqlalchemy import select

        from tracker import clock
        from tracker.extensions import db
        from tracker.matters.models import ServiceMatter

        with app.app_context():
            done = db.session.scalars(
                select(ServiceMatter.id).where(ServiceMatter.completed_at >= clock.at_local(start))
            )
            with app.test_request_context():
                from flask import url_for

                return {url_for("matters.detail", matter_id=i) for i in done}

    with serve(app) as url:
        yield {"url": url, "ids": ids, "completed_since": completed_since}


def _login(browser: Any, base: str, username: str) -> Any:
    from tracker.demo import DEMO_PASSWORD

    ctx = browser.new_context(
        viewport=DESKTOP, locale="zh-CN", timezone_id=BROWSER_ZONE, base_url=base
    )
    page = ctx.new_page()
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda u: "/login" not in u)
    return page


def _components(page: Any) -> dict[str, tuple[str, str]]:
    rows = page.locator("tr[data-component]")
    return {
        rows.nth(i).get_attribute("data-component"): (
            rows.nth(i).get_attribute("data-num"),
            rows.nth(i).get_attribute("data-den"),
        )
        for i in range(rows.count())
    }


def _links(page: Any, rows: str) -> list[str]:
    """The matter pages the rows link to (serial numbers repeat across villages)."""
    links = page.locator(f"{rows} td:first-child a")
    return [links.nth(i).get_attribute("href") for i in range(links.count())]


def _backlog(page: Any) -> tuple[int, set[str]]:
    total = int(page.locator("#backlog [data-figure=overdue_open]").inner_text())
    return total, set(_links(page, "#backlog tbody tr"))


def test_the_demo_dashboard_drill_down_and_inspection_agree_with_the_lists(
    browser: Any, demo_server: dict[str, Any], shoot: Any
) -> None:
    from tracker import clock
    from tracker.periods import Period, PeriodKind

    if browser is None:  # pragma: no cover - the fixture fails instead
        pytest.skip("no browser")
    base, ids = demo_server["url"], demo_server["ids"]
    page = _login(browser, base, "county")
    last = Period.containing(clock.today(), PeriodKind.month).previous()
    county = ids["洮北区"]
    # The 逾期事项 list of the county, today.
    page.goto("/matters/overdue")
    listed_total = int(page.locator("[data-figure=overdue_open]").first.inner_text())
    listed_rows = _links(page, "table tbody tr")
    listed = set(listed_rows)
    assert listed_total == len(listed_rows) == len(listed) > 0
    # This month's dashboard (cut-off today) lists exactly the same matters.
    page.goto(
        f"/dashboard/r/{county}?period={Period.containing(clock.today(), PeriodKind.month).key}"
    )
    total, serials = _backlog(page)
    assert total == listed_total and serials <= listed
    # Last month's county dashboard: the story's villages are 落后 / 需关注.
    page.goto(f"/dashboard/r/{county}?period={last.key}")
    assert page.locator("h1").inner_text().startswith("洮北区")
    html = page.content()
    for raw in ("auth_failed", "unreachable", "None", "秒数"):
        assert raw not in page.inner_text("main"), raw
    total, serials = _backlog(page)
    # overdue at the end of last month: still open today, or completed since (a story
    # village's late matter, due late last month, is closed this month)
    since = listed | demo_server["completed_since"](last.next().start)
    assert serials <= since
    assert "落后" in html and "需关注" in html
    shoot(page, "demo-county-dashboard")
    # 胜利村's drill-down and its 督查 sheet tell the same numbers.
    village = ids["胜利村"]
    page.goto(f"/dashboard/r/{village}?period={last.key}")
    drill = _components(page)
    drill_backlog = _backlog(page)
    drill_cams = page.locator("#camera-table tbody tr[data-camera]")
    cams = {
        drill_cams.nth(i).get_attribute("data-camera"): (
            drill_cams.nth(i).get_attribute("data-up-s"),
            drill_cams.nth(i).get_attribute("data-counted-s"),
        )
        for i in range(drill_cams.count())
    }
    score = page.locator(".score-badge").inner_text()
    assert page.locator(".score-card .badge").first.inner_text() == "落后"
    assert drill_backlog[0] >= 3 and drill_backlog[1] <= since
    assert "无法连接" in page.inner_text("#cameras")  # the dark camera, in Chinese
    up = sum(int(u) for u, _ in cams.values())
    counted = sum(int(c) for _, c in cams.values())
    assert drill["camera_uptime"] == (str(up), str(counted))
    shoot(page, "demo-village-drill-down")
    page.goto(f"/dashboard/r/{village}/inspect?period={last.key}")
    assert _components(page) == drill
    assert _backlog(page) == drill_backlog
    assert page.locator(".score-badge").inner_text() == score
    rows = page.locator("#camera-table tbody tr[data-camera]")
    assert {
        rows.nth(i).get_attribute("data-camera"): (
            rows.nth(i).get_attribute("data-up-s"),
            rows.nth(i).get_attribute("data-counted-s"),
        )
        for i in range(rows.count())
    } == cams
    text = page.inner_text("main")
    assert "村级党建台账督查表" in text and re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", text)
    assert not re.search(r"\d{2}:\d{2}:\d{2}\.\d+", text)  # no microseconds anywhere
    shoot(page, "demo-village-inspection")
    # 怎么算的: the definitions page, in Chinese and English, with the anchors pages link to.
    page.goto(f"/dashboard/r/{village}?period={last.key}")
    page.locator("#backlog a", has_text="怎么算的").click()
    page.wait_for_url(lambda u: "/figures" in u)
    for anchor in ("overdue", "matters", "callbacks", "meetings", "records", "cameras", "score"):
        assert page.locator(f"h2#{anchor}").count() == 1, anchor
    assert "逾期未办结" in page.inner_text("main") and "Overdue" in page.inner_text("main")
    assert page.locator("article table").count() >= 1
    shoot(page, "figures-page")
