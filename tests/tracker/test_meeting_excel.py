"""Excel export of a branch's year and all-or-nothing import of historic records."""

import io
from datetime import datetime

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from tests.tracker.test_meeting_helpers import meeting_input, recent
from tracker.meetings import excel, services
from tracker.meetings.models import Meeting
from tracker.workdays import WorkCalendar

HEADER = excel.COLUMNS


@pytest.fixture(autouse=True)
def _committed(world, db):
    """Views roll back on bad input: commit the world (the test's outer transaction still ends it)."""
    db.session.commit()


@pytest.fixture
def login(login):
    from flask import g

    def do(user):
        g.pop("scope", None)
        g.pop("_login_user", None)
        return login(user)

    return do


def workbook(rows):
    wb = Workbook()
    ws = wb.active
    ws.append(HEADER)
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def row(world, **kw):
    members = world.members[world.village_a1a.id]
    values = {
        "会议类型": "支部委员会",
        "党小组": "",
        "日期": "2025-03-05",
        "开始时间": "09:00",
        "结束时间": "10:30",
        "地点": "村党员活动室",
        "主持人": members[0].name,
        "记录人": "老王",
        "授课人": "",
        "议题": "研究春耕生产",
        "会议内容": "",
        "决议": "",
        "缺席人员": f"{members[1].name}（外出务工）",
        "请假人员": "",
        "列席人员": "",
    }
    values.update(kw)
    return [values[c] for c in HEADER]


def count(db, village):
    return db.session.scalar(select(func.count(Meeting.id)).where(Meeting.region_id == village.id))


def test_export_has_a_row_per_record_with_late_and_quorum(world, db, app):
    branch = world.branch(world.village_a1a)
    start = recent(5)
    services.record_meeting(
        branch,
        meeting_input(world, world.village_a1a, start, kind="branch_general_meeting"),
        None,
        WorkCalendar(),
    )
    data = excel.export_year(branch, start.year)
    ws = load_workbook(io.BytesIO(data)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][: len(HEADER)] == tuple(HEADER)
    assert rows[1][0] == "支部党员大会" and rows[1][17] == "是"
    # Dates and times are real Excel cells, in local time, without seconds.
    assert rows[1][3] == start.time().replace(tzinfo=None)
    entered = rows[1][18]
    assert isinstance(entered, datetime) and entered.microsecond == 0
    assert ws.cell(row=2, column=19).number_format == "yyyy-mm-dd hh:mm"


def test_preview_lists_per_row_errors_and_saves_nothing(world, login, db):
    client = login(world.users["town_a1_editor"])
    v = world.village_a1a
    content = workbook(
        [
            row(world),
            row(world, 主持人="不存在的人"),
            row(world, 日期="2025-02-30"),
            row(world, 会议类型="开会"),
        ]
    )
    resp = client.post(
        f"/meetings/v/{v.id}/import", data={"file": (io.BytesIO(content), "历史.xlsx")}
    )
    page = resp.get_data(as_text=True)
    assert "不存在的人" in page and "日期格式" in page and "不认识" in page
    assert "确认导入 " not in page
    assert count(db, v) == 0


def test_rule_errors_from_the_services_show_per_row(world, login, db):
    client = login(world.users["town_a1_editor"])
    v = world.village_a1a
    content = workbook([row(world), row(world, 结束时间="08:00", 日期="2025-03-06")])
    page = client.post(
        f"/meetings/v/{v.id}/import", data={"file": (io.BytesIO(content), "x.xlsx")}
    ).get_data(as_text=True)
    assert "结束时间应晚于开始时间" in page
    assert count(db, v) == 0


def test_confirmed_import_commits_all_rows_marked_imported_and_late(world, login, db):
    client = login(world.users["town_a1_editor"])
    v = world.village_a1a
    content = workbook([row(world), row(world, 日期="2025-04-08", 会议类型="主题党日")])
    preview = client.post(
        f"/meetings/v/{v.id}/import", data={"file": (io.BytesIO(content), "x.xlsx")}
    ).get_data(as_text=True)
    assert "确认导入 2 条记录" in preview
    token = preview.split('name="token" value="')[1].split('"')[0]
    resp = client.post(f"/meetings/v/{v.id}/import", data={"token": token, "confirm": "1"})
    assert resp.status_code == 302
    meetings = db.session.scalars(select(Meeting).where(Meeting.region_id == v.id)).all()
    assert len(meetings) == 2
    assert all(m.imported and m.imported_at is not None and m.late for m in meetings)
    absent = [a for m in meetings for a in m.attendance if not a.present]
    assert {a.absence_reason for a in absent} == {"外出务工"}
    # Importing the same file again is refused as duplicates.
    again = client.post(
        f"/meetings/v/{v.id}/import", data={"file": (io.BytesIO(content), "x.xlsx")}
    ).get_data(as_text=True)
    assert "重复" in again
    assert count(db, v) == 2


def test_not_an_excel_file_is_a_clear_error(world, login, db):
    client = login(world.users["town_a1_editor"])
    v = world.village_a1a
    page = client.post(
        f"/meetings/v/{v.id}/import", data={"file": (io.BytesIO(b"hello"), "x.xlsx")}
    ).get_data(as_text=True)
    assert "不是有效的 .xlsx 工作簿" in page


def test_export_download_and_template(world, login, db):
    client = login(world.users["town_a1_editor"])
    resp = client.get(f"/meetings/v/{world.village_a1a.id}/export.xlsx?year=2026")
    assert resp.status_code == 200 and resp.data[:2] == b"PK"
    assert client.get("/meetings/import-template.xlsx").data[:2] == b"PK"
