"""The public 公示 page, the rectification form, the exports of every list, the API's
child records and the lists' query budgets."""

from __future__ import annotations

from datetime import date
from io import BytesIO

import pytest
from openpyxl import load_workbook

from tests.tracker.secondment_helpers import seconded
from tracker import clock
from tracker.extensions import db as sqla
from tracker.secondment.models import Grade, Inspection, PostType, ResultKind, WeeklyReport
from tracker.secondment.services import (
    add_result,
    create_batch,
    file_complaint,
    file_report,
    propose_candidate,
    record_assessment,
    record_checks,
    record_inspection,
    veto,
)
from tracker.workdays import WorkCalendar

TODAY = date(2026, 4, 15)
MONDAY = date(2026, 4, 6)


@pytest.fixture
def cadre(world, db):
    with clock.frozen(TODAY):
        s = seconded(world)
        file_report(
            s,
            MONDAY,
            "走访农户",
            "内部问题不公开",
            "下周入户",
            ["work_done", "next_plan"],
            WorkCalendar.from_rows(()),
        )
        file_complaint(s, "举报内容不得公示", "举报人甲", "13800000000")
    return s


def _sheet(resp):
    assert resp.status_code == 200
    ws = load_workbook(BytesIO(resp.data)).active
    return [[c.value for c in row] for row in ws.iter_rows()]


# --- the public 公示 page ------------------------------------------------------------------


def test_the_public_publication_needs_no_login_and_shows_only_public_fields(cadre, client):
    with clock.frozen(TODAY):
        resp = client.get(f"/secondment/gs/{cadre.public_token}?week={MONDAY.isoformat()}")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "走访农户" in html and "下周入户" in html and cadre.cadre_name in html
    # the field not marked public, the complaint and its complainant never show
    for hidden in ("内部问题不公开", "举报内容不得公示", "举报人甲", "13800000000"):
        assert hidden not in html
    # no link into the programme's other pages
    assert f"/secondment/{cadre.id}" not in html and "/secondment/complaints" not in html


def test_the_public_publication_shows_only_the_units_own_cadres(cadre, world, client):
    with clock.frozen(TODAY):
        other = seconded(world, world.town_a2, name="李挂职")
        file_report(
            other, MONDAY, "另一乡镇的周报", "", "", ["work_done"], WorkCalendar.from_rows(())
        )
        html = client.get(
            f"/secondment/gs/{cadre.public_token}?week={MONDAY.isoformat()}"
        ).get_data(as_text=True)
    assert "走访农户" in html and "另一乡镇的周报" not in html


def test_the_public_publication_refuses_floods_and_unknown_tokens(cadre, app, client):
    limit = app.config["SETTINGS"].rules.secondment_publication_per_10_minutes
    with clock.frozen(TODAY):
        assert client.get("/secondment/gs/no-such-token").status_code == 404
        for _ in range(limit - 1):
            assert client.get(f"/secondment/gs/{cadre.public_token}").status_code == 200
        flood = client.get(f"/secondment/gs/{cadre.public_token}")
    assert flood.status_code == 429 and "频繁" in flood.get_data(as_text=True)
    assert "走访农户" not in flood.get_data(as_text=True)


def test_the_public_publication_in_english(cadre, client):
    with clock.frozen(TODAY):
        html = client.get(
            f"/secondment/gs/{cadre.public_token}?week={MONDAY.isoformat()}&lang=en"
        ).get_data(as_text=True)
    assert "Work this week" in html and "Previous week" in html


# --- rectification ------------------------------------------------------------------------


@pytest.fixture
def visit(cadre):
    with clock.frozen(TODAY):
        v = record_inspection(
            cadre, None, date(2026, 4, 1), "镇政府", True, "台账不全", "补齐台账", date(2026, 4, 10)
        )
    sqla.session.flush()
    return v


@pytest.mark.parametrize(
    ("day", "message"),
    [("2026-03-31", "不能早于督查日期"), ("2026-04-16", "不能晚于今天"), ("", "请填写日期")],
)
def test_a_bad_rectification_date_is_refused_beside_the_field(visit, world, login, day, message):
    client = login(world.users["town_a1_editor"])
    with clock.frozen(TODAY):
        resp = client.post(
            f"/secondment/inspections/{visit.id}/rectified",
            data={"rectified_on": day, "rectified_note": "已补齐"},
        )
    assert resp.status_code == 422 and message in resp.get_data(as_text=True)
    sqla.session.refresh(visit)
    assert visit.rectified_on is None and visit.rectified_note == ""


def test_overdue_rectification_is_an_obligation_until_it_is_recorded(visit, world, login):
    client = login(world.users["town_a1_editor"])
    with clock.frozen(TODAY):
        home = client.get("/").get_data(as_text=True)
        assert "督查整改逾期" in home
        overdue = client.get("/secondment/inspections?overdue=1").get_data(as_text=True)
        assert "补齐" in overdue or "台账不全" in overdue
        assert _count(client.get("/secondment/").get_data(as_text=True), "fig-rect-overdue") == 1
        resp = client.post(
            f"/secondment/inspections/{visit.id}/rectified",
            data={"rectified_on": "2026-04-12", "rectified_note": "台账已补齐"},
        )
        assert resp.status_code == 302
        sqla.session.refresh(visit)
        assert (visit.rectified_on, visit.rectified_note) == (date(2026, 4, 12), "台账已补齐")
        assert "督查整改逾期" not in client.get("/").get_data(as_text=True)
        assert _count(client.get("/secondment/").get_data(as_text=True), "fig-rect-overdue") == 0
        sheet = _sheet(client.get("/secondment/inspections.xlsx?from=2026-04-01&to=2026-04-15"))
    assert sheet[2][-2:] == [sheet[2][-2], "台账已补齐"] and sheet[2][-2] is not None


def test_a_visit_without_a_rectification_demand_cannot_be_rectified(cadre, world, login):
    with clock.frozen(TODAY):
        v = record_inspection(cadre, None, date(2026, 4, 1), "镇政府", True)
        sqla.session.flush()
        client = login(world.users["town_a1_editor"])
        resp = client.post(
            f"/secondment/inspections/{v.id}/rectified", data={"rectified_on": "2026-04-02"}
        )
    assert resp.status_code == 422 and "未提出整改要求" in resp.get_data(as_text=True)


def test_the_api_records_a_rectification_and_refuses_a_future_day(visit, world, login):
    client = login(world.users["town_a1_editor"])
    with clock.frozen(TODAY):
        bad = client.post(
            f"/api/v1/secondment/inspections/{visit.id}/rectified",
            json={"rectified_on": "2026-05-01"},
        )
        assert bad.status_code == 422 and "rectified_on" in bad.get_json()["error"]["fields"]
        ok = client.post(
            f"/api/v1/secondment/inspections/{visit.id}/rectified",
            json={"rectified_on": "2026-04-09", "rectified_note": "完成"},
        )
    assert ok.status_code == 200
    assert sqla.session.get(Inspection, visit.id).rectified_on == date(2026, 4, 9)


def _count(html: str, tile: str) -> int:
    return int(html.split(f'id="{tile}"')[1].split("data-count>")[1].split("<")[0])


# --- the API's child records (one factory) ----------------------------------------------------


def test_the_child_endpoints_share_one_shape(cadre, world, login):
    client = login(world.users["town_a1_editor"])
    base = f"/api/v1/secondments/{cadre.id}"
    with clock.frozen(TODAY):
        log = client.post(f"{base}/log", json={"day": "2026-04-14", "what": "入户走访"})
        result = client.post(
            f"{base}/results", json={"kind": "solved", "day": "2026-04-14", "title": "修路"}
        )
        complaint = client.post(f"{base}/complaints", json={"content": "电话反映"})
        again = client.post(
            f"{base}/reports", json={"week_start": MONDAY.isoformat(), "work_done": "改一版"}
        )
        future = client.post(f"{base}/log", json={"day": "2026-04-16", "what": "未来"})
    assert [r.status_code for r in (log, result, complaint)] == [201, 201, 201]
    assert again.status_code == 200  # an edit of the week's report, kept as a version
    assert sqla.session.get(WeeklyReport, again.get_json()["id"]).version == 2
    assert future.status_code == 422 and "day" in future.get_json()["error"]["fields"]
    page = client.get("/api/v1/secondments?per_page=1").get_json()
    assert page["total"] == 1 and page["items"][0]["id"] == cadre.id and page["next"] is None


# --- exports of every list --------------------------------------------------------------------


def test_the_candidate_list_exports_with_checks_and_veto(world, db, login):
    with clock.frozen(TODAY):
        batch = create_batch(world.county_a, 2026, "2026年第二批挂职")
        ok = propose_candidate(batch, "赵审查", "副科级", "县水利局", PostType.project)
        record_checks(ok, date(2026, 4, 1), "县纪委监委", date(2026, 4, 2), "县司法局")
        vetoed = propose_candidate(batch, "王否决", "", "县农业局", PostType.petition)
        veto(vetoed, "党内警告处分", "县纪委监委", date(2025, 6, 1))
        sqla.session.flush()
    client = login(world.users["county_a_admin"])
    assert "candidates-xlsx" in client.get(f"/secondment/batches/{batch.id}").get_data(as_text=True)
    rows = _sheet(client.get(f"/secondment/batches/{batch.id}/candidates.xlsx"))
    assert rows[0][0] == "2026年第二批挂职人选名册"
    assert rows[1][:4] == ["序号", "姓名", "职级", "派出单位"]
    names = {r[1]: r for r in rows[2:]}
    assert names["赵审查"][5] is not None and names["赵审查"][6] == "县纪委监委"
    assert names["赵审查"][9] == "审查中"
    assert names["王否决"][9:12] == ["一票否决", "党内警告处分", "县纪委监委"]


def test_the_batch_list_exports(cadre, world, login):
    client = login(world.users["county_a_admin"])
    rows = _sheet(client.get("/secondment/batches.xlsx"))
    assert rows[2][1:3] == [2026, cadre.batch.name]
    # a township sees no batch of its county (batches belong to the county node)
    town = login(world.users["town_a1_editor"])
    assert len(_sheet(town.get("/secondment/batches.xlsx"))) == 2


@pytest.mark.parametrize(
    "name", ["cadres", "inspections", "complaints", "results", "assessments", "reports"]
)
def test_every_list_page_has_its_excel_twin(cadre, world, login, name):
    client = login(world.users["county_a_admin"])
    page = client.get(f"/secondment/{name}?from=2026-01-01&to=2026-12-31")
    assert page.status_code == 200 and f"/secondment/{name}.xlsx" in page.get_data(as_text=True)
    rows = _sheet(client.get(f"/secondment/{name}.xlsx?from=2026-01-01&to=2026-12-31"))
    assert rows[1][0] == "序号"


def test_the_complaint_export_hides_the_complainant_from_admins_outside_the_office(
    cadre, world, login
):
    client = login(world.users["county_a_admin"])
    rows = _sheet(client.get("/secondment/complaints.xlsx"))
    assert rows[2][5] == "（仅考核办可见）" and "举报人甲" not in str(rows)


# --- query budgets ----------------------------------------------------------------------------


def _grow(world, n):
    """``n`` more cadres, each with a filed report, a result, an assessment, a visit and a
    complaint: every list at two sizes."""
    with clock.frozen(TODAY):
        for i in range(n):
            s = seconded(world, name=f"干部{i}")
            file_report(s, MONDAY, "工作", "", "", ["work_done"], WorkCalendar.from_rows(()))
            add_result(s, ResultKind.solved, date(2026, 4, 1), f"事项{i}")
            record_assessment(s, "2026-Q1", date(2026, 4, 2), Grade.competent, "考核组")
            record_inspection(s, None, date(2026, 4, 1), f"地点{i}", True, "问题", "整改", TODAY)
            file_complaint(s, f"反映{i}")
    sqla.session.flush()


@pytest.mark.parametrize("size", [1, 12])
@pytest.mark.parametrize(
    "url",
    [
        "/secondment/inspections?from=2026-01-01&to=2026-12-31",
        "/secondment/inspections.xlsx?from=2026-01-01&to=2026-12-31",
        "/secondment/complaints",
        "/secondment/complaints.xlsx",
        "/secondment/cadres",
        "/secondment/cadres.xlsx",
        "/secondment/cadres?flag=missing",
        "/secondment/results",
        "/secondment/assessments.xlsx",
        "/secondment/reports?from=2026-04-01&to=2026-04-30",
    ],
)
def test_the_lists_run_the_same_queries_at_two_sizes(
    cadre, world, login, assert_max_queries, url, size
):
    _grow(world, size)
    client = login(world.users["county_a_admin"])
    client.get(url)  # warm the session's first-request work
    with clock.frozen(TODAY), assert_max_queries(17):
        assert client.get(url).status_code == 200


# --- English --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "english"),
    [
        ("/secondment/", "Cadres in post"),
        ("/secondment/{id}", "Work log"),
        ("/secondment/{id}/dossier", "File of a cadre seconded to the grass roots"),
        ("/secondment/batches/{batch}", "Candidates (1)"),
        ("/secondment/inspections", "On-site inspections"),
    ],
)
def test_the_pages_in_english(cadre, world, login, url, english):
    client = login(world.users["county_a_admin"])
    with clock.frozen(TODAY):
        html = client.get(url.format(id=cadre.id, batch=cadre.batch_id) + "?lang=en").get_data(
            as_text=True
        )
    assert english in html
    if url == "/secondment/{id}":  # a label table's value, translated at render time
        assert "Townships, villages" in html and "乡镇、村" not in html
