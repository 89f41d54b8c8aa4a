"""Dashboard pages, scope, exports and API: every number explained, out of scope is 404."""

from __future__ import annotations

import io
from typing import Any

import pytest
from openpyxl import load_workbook

from tests.tracker.test_dashboard_scores import build_dash_world, expected_a1a


@pytest.fixture
def dash_world(db: Any, world: Any) -> dict[str, Any]:
    return build_dash_world(db, world)


def _switch(login: Any, user: Any) -> Any:
    """Log in as another user; the test's app context keeps ``g`` across requests."""
    from flask import g

    g.pop("scope", None)
    g.pop("_login_user", None)
    return login(user)


def _get(client: Any, url: str) -> tuple[int, str]:
    resp = client.get(url)
    return resp.status_code, resp.get_data(as_text=True)


def test_county_overview_lists_townships_grid_and_problems(world, dash_world, login):
    client = login(world.users["county_a_admin"])
    status, html = _get(client, f"/dashboard/r/{world.county_a.id}?period=2025-09")
    assert status == 200, html
    assert "镇甲一" in html and "镇甲二" in html
    assert "各村分布" in html and 'class="vgrid"' in html
    assert "缺失最多的会议" in html and "党小组会" in html
    assert "数据截至" in html
    assert f"{round(expected_a1a() / 3, 1)}" in html


def test_township_table_sorts_by_score(world, dash_world, login):
    client = login(world.users["county_a_admin"])
    status, html = _get(
        client, f"/dashboard/r/{world.town_a1.id}?period=2025-09&sort=score&dir=desc"
    )
    assert status == 200
    table = html[html.index('id="child-table"') :]
    assert table.index("村甲一甲") < table.index("村甲一乙")


def test_village_page_explains_every_component(world, dash_world, login):
    client = login(world.users["town_a1_editor"])
    status, html = _get(client, f"/dashboard/r/{world.village_a1a.id}?period=2025-09")
    assert status == 200, html
    assert f"{expected_a1a()}" in html
    for text in ("会议履职", "按时录入", "限时办结", "差评回访", "监控完好", "培训开展"):
        assert text in html
    assert "缺失" in html and "党课" in html  # the missing obligations
    assert "补录" in html and "修改 1 次" in html  # late and edited records
    assert "2025-0003" in html and "逾期" in html  # the overdue matter
    assert "差评未按时回访" in html
    assert "大厅全景" in html and "故障记录" in html  # the outage


def test_inspection_page_is_printable_and_complete(world, dash_world, login):
    client = login(world.users["county_a_viewer"])
    status, html = _get(client, f"/dashboard/r/{world.village_a1a.id}/inspect?period=2025-09")
    assert status == 200
    assert "督查" in html and "督查意见" in html and "data-print" in html
    assert "补录" in html and "修改 1 次" in html


def test_township_user_sees_only_its_villages(world, dash_world, login):
    client = login(world.users["town_a1_editor"])
    assert _get(client, f"/dashboard/r/{world.town_a1.id}?period=2025-09")[0] == 200
    assert _get(client, f"/dashboard/r/{world.town_a2.id}?period=2025-09")[0] == 404
    assert _get(client, f"/dashboard/r/{world.village_a2a.id}?period=2025-09")[0] == 404
    assert _get(client, f"/dashboard/r/{world.county_a.id}?period=2025-09")[0] == 404
    assert _get(client, f"/dashboard/r/{world.village_a1a.id}/inspect")[0] == 200
    assert _get(client, f"/dashboard/r/{world.town_b1.id}/export.xlsx")[0] == 404


def test_bad_period_is_a_clear_message_not_a_500(world, login):
    client = login(world.users["county_a_admin"])
    status, html = _get(client, f"/dashboard/r/{world.county_a.id}?period=2025-13")
    assert status == 400 and "月份应为" in html
    status, html = _get(client, f"/dashboard/r/{world.county_a.id}?period=abc")
    assert status == 400 and "期间格式" in html
    status, html = _get(client, f"/dashboard/r/{world.county_a.id}?period=2999")
    assert status == 400 and "尚未开始" in html
    assert _get(client, "/dashboard/r/999999")[0] == 404


def test_excel_export_opens_with_summary_component_and_village_sheets(world, dash_world, login):
    client = login(world.users["county_a_admin"])
    resp = client.get(f"/dashboard/r/{world.county_a.id}/export.xlsx?period=2025-09")
    assert resp.status_code == 200
    wb = load_workbook(io.BytesIO(resp.data))
    assert wb.sheetnames[:2] == ["汇总", "各村得分"]
    for name in ("会议履职", "按时录入", "限时办结", "差评回访", "监控完好"):
        assert name in wb.sheetnames
    villages = {row[1]: row[2] for row in wb["各村得分"].iter_rows(min_row=2, values_only=True)}
    assert villages["村甲一甲"] == expected_a1a()
    assert len(villages) == 3
    meetings = {r[1]: r[:4] for r in wb["会议履职"].iter_rows(min_row=2, values_only=True)}
    assert meetings["村甲一甲"] == ("镇甲一", "村甲一甲", 5, 7)
    # The data cut-off is a real Excel date/time; camera figures are in hours, labelled so.
    from datetime import datetime

    cut = wb["汇总"]["B3"].value
    assert isinstance(cut, datetime) and cut.microsecond == 0
    cams = {r[1]: r for r in wb["监控完好"].iter_rows(min_row=2, values_only=True)}
    assert next(wb["监控完好"].iter_rows(max_row=1, values_only=True))[2:4] == (
        "完好时长（时）",
        "应计时长（时）",
    )
    assert cams["村甲一甲"][2:4] == (12.0, 14.0)


def test_printable_report_renders(world, dash_world, login):
    client = login(world.users["county_a_admin"])
    status, html = _get(client, f"/dashboard/r/{world.county_a.id}/report?period=2025-Q3")
    assert status == 200 and "合规报告" in html


def test_monthly_report_is_kept_for_download(app, db, world, dash_world, login):
    from tracker.dashboard.exports import store_monthly_report
    from tracker.periods import Period

    with app.test_request_context():
        rep = store_monthly_report(world.county_a, Period.parse("2025-09"))
    client = login(world.users["county_a_admin"])
    status, html = _get(client, f"/dashboard/r/{world.county_a.id}?period=2025-09")
    assert rep.filename in html
    resp = client.get(f"/dashboard/reports/{rep.id}")
    assert resp.status_code == 200
    assert load_workbook(io.BytesIO(resp.data))["汇总"]["A1"].value.startswith("县甲")
    other = _switch(login, world.users["town_b1_editor"])
    assert other.get(f"/dashboard/reports/{rep.id}").status_code == 404


def test_api_gives_score_components_and_children(world, dash_world, login):
    client = login(world.users["county_a_viewer"])
    resp = client.get(f"/api/v1/dashboard/regions/{world.town_a1.id}/score?period=2025-09")
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["score"] == round(expected_a1a() / 2, 1)
    assert {c["key"] for c in body["components"]} >= {"meetings", "camera_uptime"}
    child = {c["name"]: c for c in body["children"]}
    assert child["村甲一甲"]["score"] == expected_a1a()
    bad = client.get(f"/api/v1/dashboard/regions/{world.town_a1.id}/score?period=x")
    assert bad.status_code == 422 and "period" in bad.get_json()["error"]["fields"]
    other = _switch(login, world.users["town_b1_editor"])
    assert other.get(f"/api/v1/dashboard/regions/{world.town_a1.id}/score").status_code == 404


def test_red_villages_appear_in_the_todo_list(app, db, world, login):
    from tracker import clock
    from tracker.dashboard.services import compute_period
    from tracker.periods import Period, PeriodKind

    last_month = Period.containing(clock.today(), PeriodKind.month).previous()
    with app.test_request_context():
        compute_period(last_month, world.city.path)
    client = login(world.users["county_a_admin"])
    status, html = _get(client, "/")
    assert status == 200
    assert "合规得分落后" in html and "合规看板" in html


def test_rollup_job_refreshes_current_and_previous_periods(app, db, world):
    from tracker import clock
    from tracker.dashboard.jobs import rollup
    from tracker.dashboard.models import VillageScore
    from tracker.dashboard.services import periods_to_refresh

    with app.test_request_context():
        rollup()
    keys = {p.key for p in periods_to_refresh(clock.today())}
    got = {
        r.period for r in db.session.query(VillageScore).filter_by(region_id=world.village_a1a.id)
    }
    assert keys <= got


def test_rollup_command_backfills_months_quarters_and_years(app, db, world):
    from tracker.dashboard.cli import rollup_cmd
    from tracker.dashboard.models import VillageScore

    result = app.test_cli_runner().invoke(rollup_cmd, ["--from", "2025-11", "--to", "2026-01"])
    assert result.exit_code == 0, result.output
    got = {
        r.period for r in db.session.query(VillageScore).filter_by(region_id=world.village_a1a.id)
    }
    assert {"2025-11", "2025-12", "2026-01", "2025-Q4", "2026-Q1", "2025", "2026"} <= got
    bad = app.test_cli_runner().invoke(rollup_cmd, ["--from", "2025-Q1"])
    assert bad.exit_code != 0 and "月份" in bad.output


def test_monthly_report_job_keeps_last_month_for_the_city_and_counties(app, db, world):
    from tracker import clock
    from tracker.dashboard.jobs import monthly_report
    from tracker.dashboard.models import DashboardReport
    from tracker.periods import Period, PeriodKind

    with app.test_request_context():
        monthly_report()
    last = Period.containing(clock.today(), PeriodKind.month).previous().key
    kept = {
        r.region_id
        for r in db.session.query(DashboardReport).filter(DashboardReport.period == last)
    }
    assert {world.city.id, world.county_a.id, world.county_b.id} <= kept
