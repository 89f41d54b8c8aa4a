"""An upload over the size limit comes back to the form it came from, the message beside
its file field — roster import, catalog import, meeting import, meeting attachments, the
reserve-cadre import — never a bare 413 page. The templates' 示例 rows are never imported."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from openpyxl import load_workbook

from tests.tracker.test_meeting_helpers import meeting_input, recent
from tracker import xlsx
from tracker.meetings import excel as meeting_excel
from tracker.meetings import services as meeting_services
from tracker.org import excel as org_excel
from tracker.workdays import WorkCalendar

MESSAGE = "文件过大（最大 1 MB），没有上传"
INLINE = re.compile(r'invalid-feedback[^"]*">' + re.escape(MESSAGE))


@pytest.fixture
def small(app_factory: Any, world: Any, db: Any) -> Any:
    """A client of an app that accepts 1 MiB per request, signed in as the county admin."""
    from flask_login.utils import _create_identifier

    from tracker.auth.services import start_session

    db.session.commit()
    app = app_factory(MAX_CONTENT_LENGTH=1024 * 1024)
    client = app.test_client()
    with app.test_request_context(environ_base=client.environ_base):
        ident = _create_identifier()
    with client.session_transaction() as sess:
        sess.update(
            {
                "_user_id": start_session(world.users["county_a_admin"], False, 12, 14),
                "_fresh": True,
                "_id": ident,
            }
        )
    return client


BIG = b"x" * (1024 * 1024 + 10)


def _refused(client: Any, page: str, post: str, field: str) -> str:
    """Post a too-large file from ``page`` to ``post``: 303 back to ``page``, message beside it."""
    assert client.get(page).status_code == 200
    resp = client.post(
        post,
        data={field: (io.BytesIO(BIG), "big.xlsx")},
        content_type="multipart/form-data",
        headers={"Referer": f"http://tracker.test{page}"},
    )
    assert resp.status_code == 303, resp.status_code
    assert resp.headers["Location"].endswith(page)
    back = client.get(page)
    html = back.get_data(as_text=True)
    assert back.status_code in (200, 422)  # 422 where the page marks a form with errors
    assert INLINE.search(html) and "is-invalid" in html  # beside the file field
    # Shown once: the next visit is clean.
    assert not INLINE.search(client.get(page).get_data(as_text=True))
    return html


def test_roster_import_too_large(small, world):
    page = f"/org/villages/{world.village_a1a.id}/import"
    _refused(small, page, page, "file")


def test_catalog_import_too_large(small):
    _refused(small, "/matters/catalog/import", "/matters/catalog/import", "file")


def test_meeting_import_too_large(small, world):
    page = f"/meetings/v/{world.village_a1a.id}/import"
    _refused(small, page, page, "file")


def test_meeting_attachment_too_large(small, world, db):
    branch = world.branch(world.village_a1a)
    meeting = meeting_services.record_meeting(
        branch, meeting_input(world, world.village_a1a, recent(2)), None, WorkCalendar()
    )
    db.session.commit()
    _refused(small, f"/meetings/{meeting.id}", f"/meetings/{meeting.id}/attachments", "attachments")


def test_a_new_meeting_with_too_large_attachments_comes_back_to_the_form(small, world):
    page = f"/meetings/v/{world.village_a1a.id}/new"
    _refused(small, page, page, "attachments")


def test_without_a_referrer_the_posted_page_is_shown_again(small, world):
    page = f"/org/villages/{world.village_a1a.id}/import"
    resp = small.post(
        page, data={"file": (io.BytesIO(BIG), "big.xlsx")}, content_type="multipart/form-data"
    )
    assert resp.status_code == 303 and resp.headers["Location"].endswith(page)


def test_the_api_still_answers_413_json(small):
    resp = small.post("/api/v1/meetings", data=BIG, content_type="application/json")
    assert resp.status_code == 413 and resp.is_json


def test_the_page_script_knows_the_limit(small):
    html = small.get("/").get_data(as_text=True)
    assert f'data-max-upload="{1024 * 1024}"' in html and MESSAGE in html


# ------------------------------------------------------------- 示例 rows


def test_roster_template_example_row_is_marked_and_never_imported(world, db):
    data = org_excel.template_workbook()
    ws = load_workbook(io.BytesIO(data)).active
    example = [c.value for c in ws[2]]
    assert example[0] == "示例" and ws.cell(2, 1).font.italic
    # A village fills in its members below the example and uploads the file as it is.
    ws.append([1, "刘备", "男", 1961, "正式党员", "", "1990-07-01", "13800000009", ""])
    buf = io.BytesIO()
    ws.parent.save(buf)
    sheet = org_excel.read_roster(buf.getvalue(), "名册.xlsx", world.branch(world.village_a1a))
    assert not sheet.errors
    assert [r.data.name for r in sheet.rows] == ["刘备"]


def test_roster_template_alone_has_no_members(world, db):
    sheet = org_excel.read_roster(
        org_excel.template_workbook(), "名册.xlsx", world.branch(world.village_a1a)
    )
    assert not sheet.rows and any("没有党员数据" in e.message for e in sheet.errors)


def test_meeting_template_example_row_is_marked_and_never_imported(world, db):
    data = meeting_excel.template_workbook()
    ws = load_workbook(io.BytesIO(data)).active
    assert str(ws.cell(2, 1).value).startswith("示例")
    assert xlsx.is_example(ws.cell(2, 1).value)
    members = world.members[world.village_a1a.id]
    row = dict.fromkeys(meeting_excel.COLUMNS, "")
    row.update(
        {
            "会议类型": "支部委员会",
            "日期": "2025-03-05",
            "开始时间": "09:00",
            "结束时间": "10:30",
            "地点": "村党员活动室",
            "主持人": members[0].name,
            "记录人": "老王",
            "议题": "研究春耕生产",
        }
    )
    ws.append([row[c] for c in meeting_excel.COLUMNS])
    buf = io.BytesIO()
    ws.parent.save(buf)
    rows = meeting_excel.read_rows(world.branch(world.village_a1a), buf.getvalue())
    assert [r.row for r in rows] == [3] and not rows[0].errors


def test_reserve_cadre_import_too_large(small, world):
    page = f"/teams/reserves/v/{world.village_a1a.id}"
    _refused(small, page, f"{page}/import", "file")


def test_a_refused_reserve_import_shows_its_reason_beside_the_file_field(world, db, login):
    db.session.commit()
    client = login(world.users["town_a1_editor"])
    resp = client.post(
        f"/teams/reserves/v/{world.village_a1a.id}/import",
        data={"file": (io.BytesIO(b"not a workbook"), "r.xlsx")},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    beside = re.findall(r'invalid-feedback d-block">([^<]+)<', html)
    assert beside and all(m.startswith("Excel 文件") or "xlsx" in m for m in beside), beside
    assert 'class="alert alert-danger' not in html  # not flashed at the top
