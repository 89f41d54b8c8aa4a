"""The programme view checked against a hand-computed fixture, and the pages around it.

Fixture (March 2026 has no public holiday; a report is due 2 working days after Sunday):

- S1 镇甲一 town_village from 3/2; reports for weeks 3/2 (on time), 3/9 (late), 3/16
- S2 村甲一甲 petition from 3/9; report for week 3/9 only
- S4 镇甲二 town_village 3/2–3/20, all three weeks filed, graded 不称职 at the end, promoted? no:
  outcome 提拔任用 decided 3/20 (the fixture only needs a count)
- S3 镇乙一 (county B): the same data must never show in county A

With today = 3/25 and the period 3/1–3/31:
scheduled weeks: S1 4 (due 3/10, 3/17, 3/24, 3/31), S2 3, S4 3 → 10; received 7, on time 6;
last week (3/16, due 3/24) missing for S2 → 1; assessments due: S4's 2026-Q1 → 1 (its end
window is graded); visits 2 (one absent) by 第一考核组; open complaints 1; solved 2, reported 1,
suggestions 0; outcomes: promoted 1.
"""

from __future__ import annotations

from datetime import date
from io import BytesIO

import pytest
from openpyxl import load_workbook

from tracker.extensions import db as sqla
from tracker.secondment.figures import programme
from tracker.secondment.models import (
    Grade,
    GroupKind,
    Outcome,
    PostType,
    ResultKind,
    Secondment,
    WeeklyReport,
)
from tracker.secondment.services import (
    SecondmentInput,
    add_group,
    add_result,
    close_complaint,
    complete_selection,
    create_batch,
    create_secondment,
    end_secondment,
    file_complaint,
    propose_candidate,
    record_assessment,
    record_checks,
    record_inspection,
    select_candidate,
)
from tracker.workdays import WorkCalendar

TODAY = date(2026, 3, 25)
START, END = date(2026, 3, 1), date(2026, 3, 31)


def _second(batch, name, region, post_type, start):
    c = propose_candidate(batch, name, "副科级", "县直单位", post_type)
    record_checks(c, date(2026, 2, 1), "县纪委", date(2026, 2, 1), "县司法局")
    select_candidate(c)
    return c, lambda: create_secondment(
        c,
        region,
        SecondmentInput("接收单位", "挂职岗位", post_type, start, date(2027, 3, 1)),
    )


def _report(s, monday, on_time=True):
    sqla.session.add(
        WeeklyReport(
            secondment_id=s.id,
            region_id=s.region_id,
            week_start=monday,
            work_done="工作",
            on_time=on_time,
            public_fields=["work_done"],
        )
    )


@pytest.fixture
def fixture(world, db):
    batch = create_batch(world.county_a, 2026, "2026年挂职")
    makers = [
        _second(batch, "甲", world.town_a1, PostType.town_village, date(2026, 3, 2))[1],
        _second(batch, "乙", world.village_a1a, PostType.petition, date(2026, 3, 9))[1],
        _second(batch, "丁", world.town_a2, PostType.town_village, date(2026, 3, 2))[1],
    ]
    complete_selection(batch, date(2026, 3, 1))
    s1, s2, s4 = (make() for make in makers)
    batch_b = create_batch(world.county_b, 2026, "乙县挂职")
    make_b = _second(batch_b, "丙", world.town_b1, PostType.project, date(2026, 3, 2))[1]
    complete_selection(batch_b, date(2026, 3, 1))
    s3 = make_b()
    end_secondment(s4, date(2026, 3, 20), Outcome.promoted, "县委常委会议", date(2026, 3, 20))
    for monday, on_time in (
        (date(2026, 3, 2), True),
        (date(2026, 3, 9), False),
        (date(2026, 3, 16), True),
    ):
        _report(s1, monday, on_time)
    _report(s2, date(2026, 3, 9))
    for monday in (date(2026, 3, 2), date(2026, 3, 9), date(2026, 3, 16)):
        _report(s4, monday)
        _report(s3, monday)
    record_assessment(s4, "end", date(2026, 3, 21), Grade.unfit, "考核组")
    group = add_group(batch, GroupKind.assessment, "第一考核组", [("李", "组长", None)])
    record_inspection(s1, group, date(2026, 3, 12), "镇政府", True)
    record_inspection(
        s2, group, date(2026, 3, 18), "村部", False, "不在岗", "说明", date(2026, 3, 30)
    )
    record_inspection(s1, None, date(2026, 4, 2), "镇政府", True)  # outside the period
    record_inspection(s3, None, date(2026, 3, 12), "乙镇", True)
    file_complaint(s1, "反映一")
    close_complaint(file_complaint(s2, "反映二"), "已核查", "已答复", date(2026, 3, 20))
    file_complaint(s3, "乙县反映")
    add_result(s1, ResultKind.solved, date(2026, 3, 5), "修路")
    add_result(s1, ResultKind.solved, date(2026, 3, 20), "饮水")
    add_result(s2, ResultKind.reported, date(2026, 3, 11), "上访诉求")
    add_result(s1, ResultKind.suggestion, date(2026, 4, 1), "四月的建议")
    add_result(s3, ResultKind.solved, date(2026, 3, 5), "乙县")
    sqla.session.flush()
    return {"s1": s1, "s2": s2, "s3": s3, "s4": s4}


def test_the_programme_figures_match_the_hand_computed_fixture(fixture, world):
    mine = [fixture[k] for k in ("s1", "s2", "s4")]
    p = programme(mine, START, END, TODAY, WorkCalendar.from_rows(()))
    assert (p.active, p.ended) == (2, 1)
    assert p.by_post_type == {"town_village": 1, "petition": 1}
    assert (p.reports_scheduled, p.reports_received, p.reports_on_time) == (10, 7, 6)
    assert (p.due_this_week, p.missing_this_week) == (0, 1)
    assert (p.assessments_due, p.assessments_done, p.unfit) == (1, 1, 1)
    assert (p.visits, p.absent, p.visits_by_group) == (2, 1, {"第一考核组": 2})
    assert p.open_complaints == 1
    assert (p.solved, p.reported, p.suggestions) == (2, 1, 0)
    assert p.outcomes == {"promoted": 1}


def _count(html: str, tile: str) -> int:
    part = html.split(f'id="{tile}"')[1]
    return int(part.split("data-count>")[1].split("<")[0])


def test_the_programme_view_counts_only_the_scope(fixture, world, login):
    client = login(world.users["county_a_admin"])
    html = client.get("/secondment/?from=2026-03-01&to=2026-03-31").get_data(as_text=True)
    assert _count(html, "fig-active") == 2 and _count(html, "fig-ended") == 1
    assert _count(html, "fig-scheduled") == 10 and _count(html, "fig-received") == 7
    assert _count(html, "fig-visits") == 2 and _count(html, "fig-solved") == 2
    assert _count(html, "fig-complaints") == 1
    town = login(world.users["town_a1_editor"])
    html = town.get("/secondment/?from=2026-03-01&to=2026-03-31").get_data(as_text=True)
    # 镇甲一 sees S1 and S2 (its village), not 镇甲二's S4
    assert _count(html, "fig-active") == 2 and _count(html, "fig-ended") == 0
    assert _count(html, "fig-scheduled") == 7


def test_each_number_links_to_its_records(fixture, world, login):
    client = login(world.users["county_a_admin"])
    html = client.get("/secondment/cadres?status=ended&from=2026-03-01&to=2026-03-31").get_data(
        as_text=True
    )
    assert "丁" in html and "甲</a>" not in html
    html = client.get("/secondment/inspections?absent=1&from=2026-03-01&to=2026-03-31").get_data(
        as_text=True
    )
    assert "村部" in html and "镇政府" not in html
    html = client.get("/secondment/results?kind=solved&from=2026-03-01&to=2026-03-31").get_data(
        as_text=True
    )
    assert "修路" in html and "饮水" in html and "乙县" not in html


def test_the_cadre_list_exports_to_excel(fixture, world, login):
    client = login(world.users["county_a_admin"])
    resp = client.get("/secondment/cadres.xlsx")
    assert resp.status_code == 200
    ws = load_workbook(BytesIO(resp.data)).active
    names = [row[1] for row in ws.iter_rows(min_row=3, values_only=True)]
    assert sorted(names) == ["丁", "乙", "甲"]
    for url in (
        "/secondment/inspections.xlsx",
        "/secondment/complaints.xlsx",
        "/secondment/results.xlsx",
    ):
        assert client.get(url).status_code == 200


def test_complaints_export_hides_the_complainant_outside_the_office(fixture, world, login):
    file_complaint(fixture["s1"], "有人名", "赵某", "13900000000")
    client = login(world.users["county_a_admin"])
    resp = client.get("/secondment/complaints.xlsx")
    text = " ".join(str(c) for row in load_workbook(BytesIO(resp.data)).active.values for c in row)
    assert "赵某" not in text and "仅考核办可见" in text


def test_the_dossier_prints_the_whole_file(fixture, world, login):
    client = login(world.users["county_a_admin"])
    s1 = fixture["s1"]
    html = client.get(f"/secondment/{s1.id}/dossier").get_data(as_text=True)
    assert "size: A4" in html and "修路" in html and "镇政府" in html and "反映一" in html


def test_a_township_cannot_open_another_townships_cadre(fixture, world, login):
    client = login(world.users["town_a1_editor"])
    assert client.get(f"/secondment/{fixture['s4'].id}").status_code == 404
    assert client.get(f"/secondment/{fixture['s2'].id}").status_code == 200


def test_the_publication_shows_only_the_chosen_fields(fixture, world, login):
    s1 = fixture["s1"]
    report = sqla.session.query(WeeklyReport).filter_by(secondment_id=s1.id).first()
    report.problems = "内部问题不公开"
    sqla.session.flush()
    client = login(world.users["town_a1_editor"])
    html = client.get(
        f"/secondment/units/{s1.region_id}/publication?week={report.week_start.isoformat()}"
    ).get_data(as_text=True)
    assert "工作" in html and "内部问题不公开" not in html


def test_the_public_form_files_a_complaint_and_shows_no_other(fixture, world, app, client):
    s1: Secondment = fixture["s1"]
    page = client.get(f"/secondment/p/{s1.public_token}")
    assert page.status_code == 200 and "反映一" not in page.get_data(as_text=True)
    resp = client.post(f"/secondment/p/{s1.public_token}", data={"content": "经常不在岗"})
    assert resp.status_code == 302
    assert (
        client.get(f"/secondment/p/{s1.public_token}?sent=1").get_data(as_text=True).count("已收到")
        == 1
    )
    limit = app.config["SETTINGS"].rules.secondment_complaints_per_hour
    for _ in range(limit - 1):
        client.post(f"/secondment/p/{s1.public_token}", data={"content": "再反映"})
    flood = client.post(f"/secondment/p/{s1.public_token}", data={"content": "刷屏"})
    assert flood.status_code == 429 and "频繁" in flood.get_data(as_text=True)
    assert client.get("/secondment/p/not-a-token").status_code == 404


def test_a_bad_weekly_report_is_refused_beside_the_field(fixture, world, login):
    client = login(world.users["town_a1_editor"])
    s1 = fixture["s1"]
    resp = client.post(
        f"/secondment/{s1.id}/report", data={"week_start": "2026-03-04", "work_done": "x"}
    )
    assert resp.status_code == 422 and "星期一" in resp.get_data(as_text=True)


def test_reports_and_assessments_behind_the_counts(fixture, world, login):
    client = login(world.users["county_a_admin"])
    html = client.get("/secondment/reports?from=2026-03-01&to=2026-03-31").get_data(as_text=True)
    assert html.count("secondment/") >= 7 and "逾期" in html
    # S1, S2 and S4 filed 7 reports with a deadline in March; county B's are not listed
    body = html.split("<tbody>")[1].split("</tbody>")[0]
    assert body.count("<tr>") == 7 and "丙" not in body
    html = client.get("/secondment/assessments?grade=unfit&from=2026-03-01&to=2026-03-31").get_data(
        as_text=True
    )
    assert "丁" in html and "不称职" in html
    for url in ("/secondment/reports.xlsx", "/secondment/assessments.xlsx"):
        assert client.get(url).status_code == 200
