"""The member information base (党员信息库): profile fields, the masked 身份证号, export, import."""

from __future__ import annotations

import io
import json
import logging
from datetime import date

from openpyxl import Workbook, load_workbook
from sqlalchemy import select

from tracker.models import Member
from tracker.models.audit import AuditLog
from tracker.org import excel

ID = "11010519491231002X"
MASKED = "1101**********002X"


def _post_profile(client, member, **extra):
    data = {
        "name": member.name,
        "status": "full",
        "group_id": str(member.group_id or 0),
        "joined_on": "2010-01-01",
        "birth_year": "1949",
        "ethnicity": "汉族",
        "education": "高中",
        "id_number": ID.lower(),
        "birth_date": "1949-12-31",
        "address": "吉林省白城市某村 3 组",
        "occupation": "农民",
        "posts": "村民小组长",
        "hardship": "y",
        "hardship_help": "2026 年春节慰问 500 元",
        "awards": "2021 年优秀共产党员",
        "discipline": "",
    }
    data.update(extra)
    return client.post(f"/org/members/{member.id}/edit", data=data)


def test_profile_is_saved_and_the_id_number_is_masked_except_to_the_county_admin(
    world, db, login, caplog
):
    member = world.members[world.village_a1a.id][0]
    editor = login(world.users["town_a1_editor"])
    with caplog.at_level(logging.DEBUG):
        resp = _post_profile(editor, member)
    assert resp.status_code == 302, resp.get_data(as_text=True)
    assert (member.id_number, member.education, member.hardship) == (ID, "高中", True)
    assert member.birth_date == date(1949, 12, 31)
    assert ID not in caplog.text
    # Never in the audit log.
    rows = db.session.scalars(select(AuditLog).where(AuditLog.entity == "member")).all()
    assert rows and all(ID not in json.dumps([r.before, r.after]) for r in rows)

    html = editor.get(f"/org/members/{member.id}/edit").get_data(as_text=True)
    assert MASKED in html and ID not in html
    # Saving the form with the masked number shown back keeps the number.
    assert _post_profile(editor, member, id_number=MASKED).status_code == 302
    assert member.id_number == ID
    assert editor.get(f"/api/v1/members/{member.id}").get_json()["id_number"] == MASKED

    def exported(client):
        data = client.get(f"/org/villages/{world.village_a1a.id}/export.xlsx").data
        ws = load_workbook(io.BytesIO(data)).active
        head = [c.value for c in ws[2]]
        row = next(r for r in ws.iter_rows(min_row=3, values_only=True) if r[1] == member.name)
        return dict(zip(head, row, strict=True))

    assert exported(editor)["身份证号"] == MASKED

    admin = login(world.users["county_a_admin"])  # (the same test client, signed in anew)
    assert ID in admin.get(f"/org/members/{member.id}/edit").get_data(as_text=True)
    body = admin.get(f"/api/v1/members/{member.id}").get_json()
    assert body["id_number"] == ID and body["hardship_help"] == "2026 年春节慰问 500 元"

    mine = exported(admin)
    assert mine["身份证号"] == ID and mine["民族"] == "汉族" and mine["困难党员"] == "是"


def test_bad_profile_values_are_refused_beside_the_field(world, db, login):
    member = world.members[world.village_a1a.id][0]
    editor = login(world.users["town_a1_editor"])
    resp = _post_profile(editor, member, id_number="110105194912310021")
    assert resp.status_code == 422 and "校验位" in resp.get_data(as_text=True)
    resp = _post_profile(editor, member, hardship="", hardship_help="慰问")
    assert resp.status_code == 422 and "请勾选困难党员" in resp.get_data(as_text=True)
    resp = _post_profile(editor, member, birth_date="1950-01-01")
    assert resp.status_code == 422 and "出生年份不一致" in resp.get_data(as_text=True)
    db.session.refresh(member)
    assert member.id_number is None


def test_the_api_takes_the_profile_and_refuses_a_bad_id(world, db, login):
    client = login(world.users["town_a1_editor"])
    url = f"/api/v1/villages/{world.village_a1a.id}/members"
    resp = client.post(url, json={"name": "信息甲", "id_number": "123"})
    assert resp.status_code == 422 and "id_number" in resp.get_json()["error"]["fields"]
    resp = client.post(url, json={"name": "信息乙", "id_number": ID, "occupation": "个体"})
    assert resp.status_code == 201 and resp.get_json()["id_number"] == MASKED
    m = db.session.get(Member, resp.get_json()["id"])
    assert m.id_number == ID
    patched = client.patch(f"/api/v1/members/{m.id}", json={"posts": "支部委员"}).get_json()
    assert patched["posts"] == "支部委员" and m.id_number == ID and m.occupation == "个体"


def test_the_roster_import_reads_the_profile_columns(world, db):
    branch = world.branch(world.village_b1a)
    wb = Workbook()
    ws = wb.active
    ws.append(excel.COLUMNS)
    base = [1, "导入信息", "男", 1949, "正式党员", "", "1975-07-01", "", "", ""]
    ws.append(base + ["回族", "初中", ID, "1949-12-31", "某村", "农民", "", "是", "救助", "", ""])
    ws.append([2, "遮住的号", "", "", "", "", "", "", "", ""] + ["", "", MASKED])
    ws.append([3, "错号", "", "", "", "", "", "", "", ""] + ["", "", "110105194912310021"])
    buf = io.BytesIO()
    wb.save(buf)
    sheet = excel.read_roster(buf.getvalue(), "p.xlsx", branch)
    assert [(e.row, e.column) for e in sheet.errors] == [(4, "身份证号")]
    first, masked = sheet.rows[0].data, sheet.rows[1].data
    assert (first.ethnicity, first.id_number, first.hardship) == ("回族", ID, True)
    assert first.birth_date == date(1949, 12, 31)
    assert masked.id_number is None
