"""Every download is named in Chinese after the region and the period (RFC 5987 ``filename*``)."""

from __future__ import annotations

import re
from urllib.parse import unquote

import pytest

from tests.tracker.test_dashboard_scores import build_dash_world


def downloaded_name(resp) -> str:
    disposition = resp.headers["Content-Disposition"]
    assert disposition.startswith("attachment;"), disposition
    match = re.search(r"filename\*=UTF-8''([^;]+)", disposition)
    assert match, disposition
    return unquote(match.group(1))


@pytest.fixture
def dash_world(db, world):
    return build_dash_world(db, world)


def test_every_export_is_named_after_its_region_and_period(world, dash_world, login):
    client = login(world.users["county_a_admin"])
    village, county = world.village_a1a, world.county_a
    cases = [
        (f"/dashboard/r/{county.id}/export.xlsx?period=2025-09", county.name, "2025年9月"),
        (f"/meetings/v/{village.id}/export.xlsx?year=2025", village.name, "2025年"),
        (f"/matters/register.xlsx?village_id={village.id}&year=2025", village.name, "2025年"),
        (f"/org/villages/{village.id}/export.xlsx", village.name, "党员名册"),
    ]
    for url, region, period in cases:
        resp = client.get(url)
        assert resp.status_code == 200, url
        name = downloaded_name(resp)
        assert name.endswith(".xlsx") and region in name and period in name, (url, name)
        # What is left once the region, the period and the dates are taken out is words.
        rest = re.sub(r"\d{4}(年(\d{1,2}月)?|\d{4})?", "", name.replace(region, ""))
        assert not re.search(r"\d", rest), (url, name)


def test_templates_are_named_in_chinese(world, login):
    client = login(world.users["county_a_admin"])
    for url, word in (
        ("/meetings/import-template.xlsx", "会议记录导入模板"),
        ("/org/import-template.xlsx", "党员名册导入模板"),
    ):
        assert word in downloaded_name(client.get(url))
