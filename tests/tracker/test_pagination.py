"""HTML lists page through Flask-SQLAlchemy's pagination, and the page links keep the filters."""

from __future__ import annotations

import re

import pytest


@pytest.fixture
def two_per_page(app, monkeypatch):
    monkeypatch.setattr(app.config["SETTINGS"].tracker, "per_page", 2)


def _links(html: str) -> list[str]:
    return [h.replace("&amp;", "&") for h in re.findall(r'class="page-link" href="([^"]+)"', html)]


def test_meetings_index_pages_the_villages_and_keeps_the_region(world, login, two_per_page):
    client = login(world.users["county_a_viewer"])
    url = f"/meetings/?region_id={world.county_a.id}"
    first = client.get(url).get_data(as_text=True)
    second = client.get(url + "&page=2").get_data(as_text=True)
    villages = [world.village_a1a.name, world.village_a1b.name, world.village_a2a.name]
    shown = [[v for v in villages if f">{v}</a>" in html] for html in (first, second)]
    assert len(shown[0]) == 2 and len(shown[1]) == 1
    assert set(shown[0]) | set(shown[1]) == set(villages)
    assert any(f"region_id={world.county_a.id}" in h and "page=2" in h for h in _links(first))


def test_a_page_past_the_end_is_empty_not_an_error(world, login, two_per_page):
    client = login(world.users["county_a_viewer"])
    resp = client.get(f"/meetings/?region_id={world.county_a.id}&page=99")
    assert resp.status_code == 200 and "没有村党支部" in resp.get_data(as_text=True)
    assert client.get(f"/meetings/?region_id={world.county_a.id}&page=x").status_code == 200


def test_audit_log_pages_keep_the_entity_filter(world, login, two_per_page):
    client = login(world.users["county_a_admin"])
    html = client.get("/org/audit?entity=member").get_data(as_text=True)
    links = _links(html)
    assert links and all("entity=member" in h for h in links)
    assert any("page=2" in h for h in links)
