"""English pages: every package's main page read with ?lang=en shows its own text in English.

The visible text of ``<main>`` is checked for Chinese; what is left may only be data
people typed or imported (region, branch, member and user names, meeting topics …),
which is shown as it was written.
"""

from __future__ import annotations

import html as htmllib
import re
from typing import Any

import pytest
from sqlalchemy import select

from tests.tracker.test_dashboard_scores import build_dash_world

CJK = re.compile(r"[\u4e00-\u9fff]+")
# Text of the halls package shown on other pages (durations, outage causes): halls/ is
# converted on its own; drop an entry when halls.po translates it.
HALLS_PENDING = ("小时", "分", "无法连接", "画面异常", "离线")


def visible_main(page: str) -> str:
    """The text a reader sees in ``<main>`` (tags, scripts and styles removed)."""
    start = page.find("<main")
    end = page.find("</main>")
    body = page[start:end] if start >= 0 and end > start else page
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.S)
    body = re.sub(r"<[^>]+>", " ", body)
    return htmllib.unescape(body)


def data_names(db: Any) -> set[str]:
    """Names stored as data: shown as typed, in whatever language they were typed in."""
    from tracker import models
    from tracker.halls.models import Camera, ServiceHall
    from tracker.matters.models import MatterType

    names: set[str] = set()
    for model, columns in (
        (models.Region, ("name",)),
        (models.Branch, ("name",)),
        (models.PartyGroup, ("name",)),
        (models.Member, ("name",)),
        (models.User, ("display_name",)),
        (MatterType, ("name",)),
        (Camera, ("name",)),
        (ServiceHall, ("name",)),
    ):
        for col in columns:
            names.update(v for v in db.session.scalars(select(getattr(model, col))) if v)
    return names


def chinese_left(page: str, allowed: set[str]) -> str:
    """The Chinese left in the visible text, each with some context (empty when none)."""
    text = visible_main(page)
    for name in sorted(allowed | set(HALLS_PENDING), key=len, reverse=True):
        text = text.replace(name, " ")
    text = re.sub(r"\s+", " ", text)
    return "\n".join(
        sorted({text[max(m.start() - 30, 0) : m.end() + 30] for m in CJK.finditer(text)})
    )


def english(client: Any, url: str) -> str:
    from flask import g

    g.pop("_flask_babel", None)
    resp = client.get(url + ("&" if "?" in url else "?") + "lang=en")
    assert resp.status_code == 200, resp.get_data(as_text=True)[:2000]
    return resp.get_data(as_text=True)


@pytest.fixture
def dash_world(db: Any, world: Any) -> dict[str, Any]:
    return build_dash_world(db, world)


def test_dashboard_pages_in_english(db, world, dash_world, login):
    client = login(world.users["county_a_admin"])
    allowed = data_names(db)
    page = english(client, f"/dashboard/r/{world.county_a.id}?period=2025-09")
    assert "Compliance dashboard" in page and "Scores by" in page and "Score" in page
    assert not (left := chinese_left(page, allowed)), left
    village = english(client, f"/dashboard/r/{world.village_a1a.id}?period=2025-09")
    assert "Meetings held" in village and "How it is calculated" in village
    assert not (left := chinese_left(village, allowed)), left
