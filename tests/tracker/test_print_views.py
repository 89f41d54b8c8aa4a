"""The A4 print views share templates/_print.html: one head whose ``lang`` follows the
locale, the sheet's stylesheet once, each page's own paper, margin and rules."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask, url_for

from tests.factories import World

# Print views of a village, by endpoint, with the @page size each one asks for.
VILLAGE_PRINTS = {
    "org.roster_print": "A4 landscape; margin: 12mm 10mm",
    "teams.print_view": "A4 landscape; margin: 14mm 12mm",
    "teams.duty.assignments_print": "A4 landscape; margin: 14mm 12mm",
    "teams.duty.pledges_print": "A4 landscape; margin: 14mm 12mm",
    "teams.duty.households_print": "A4 landscape; margin: 14mm 12mm",
    "trainings.print_farmers": "A4 landscape; margin: 14mm 12mm",
    "halls.print_residents": "A4 landscape; margin: 14mm 12mm",
    "dues.print_view": "A4 portrait; margin: 14mm 12mm",
}


def _url(app: Flask, endpoint: str, **args: Any) -> str:
    with app.test_request_context():
        return url_for(endpoint, **args)


@pytest.mark.parametrize("endpoint", sorted(VILLAGE_PRINTS))
def test_a_print_view_is_one_sheet_in_the_page_language(
    app: Flask, world: World, login: Any, endpoint: str
) -> None:
    client = login(world.users["town_a1_editor"])
    url = _url(app, endpoint, region_id=world.village_a1a.id)
    zh = client.get(url)
    assert zh.status_code == 200
    html = zh.get_data(as_text=True)
    assert html.startswith("<!doctype html>\n") and '<html lang="zh-CN">' in html
    assert f"@page {{ size: {VILLAGE_PRINTS[endpoint]}; }}" in html
    # The shared rules once, the style closed before the body, the print hook and script.
    assert html.count("@page") == 1 and html.count("box-shadow: 0 0 6px") == 1
    assert html.index("</style>") < html.index("<body>") < html.index('class="sheet"')
    assert "data-print" in html and html.count("js/app.js") == 1
    en = client.get(url, query_string={"lang": "en"}).get_data(as_text=True)
    assert '<html lang="en">' in en and ">Print</button>" in en


def test_the_sheet_is_as_wide_as_its_paper(app: Flask, world: World, login: Any) -> None:
    client = login(world.users["town_a1_editor"])
    wide = client.get(_url(app, "org.roster_print", region_id=world.village_a1a.id))
    tall = client.get(_url(app, "dues.print_view", region_id=world.village_a1a.id))
    assert ".sheet { width: 297mm; min-height: 210mm;" in wide.get_data(as_text=True)
    sheet = re.search(r"\.sheet \{[^}]*\}", tall.get_data(as_text=True))
    assert sheet is not None
    assert "width: 210mm; min-height: 297mm" in sheet.group(0)
    assert "padding: 14mm 12mm" in sheet.group(0)


def test_the_recalls_print_shows_its_table(app: Flask, world: World, login: Any) -> None:
    """It lacked ``</style>``: a browser read the whole page as a stylesheet (blank)."""
    client = login(world.users["county_a_admin"])
    html = client.get(_url(app, "teams.print_recalls")).get_data(as_text=True)
    assert html.count("<style>") == html.count("</style>") == 1
    assert html.index("</style>") < html.index("不胜任村干部召回台账</h1>")
