"""党员名册 Excel: preview with per-row errors, all-or-nothing commit, no double import, export round-trip."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from tracker import xlsx
from tracker.models import Member, MemberStatus, PartyGroup
from tracker.org import excel
from tracker.org.excel import COLUMNS, ImportRefused
from tracker.org.models import MemberImport
from tracker.org.services import member_leaves


@pytest.fixture(autouse=True)
def _cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2 at its production cost takes most of a second per user; tests need no such cost."""
    from argon2 import PasswordHasher

    from tracker import security

    monkeypatch.setattr(
        security, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )


def workbook(
    rows: list[list[Any]], header: list[str] | None = None, title: str | None = None
) -> bytes:
    wb = Workbook()
    ws = wb.active
    if title:
        ws.append([title])
    ws.append(header or COLUMNS)
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


GOOD = [
    [1, "张三", "男", 1968, "正式党员", "第一党小组", "1995-07-01", "13800000001", ""],
    [2, "李梅", "女", 1990, "预备党员", "新建小组", date(2025, 12, 1), "13800000002", "外出务工"],
    [3, "王五", "", "", "", "", "", "", ""],
]


def count_members(db, branch) -> int:
    return db.session.scalar(select(func.count(Member.id)).where(Member.branch_id == branch.id))


def test_a_good_sheet_previews_every_row_and_the_new_groups(world):
    branch = world.branch(world.village_a1a)
    sheet = excel.read_roster(workbook(GOOD), "名册.xlsx", branch)
    assert sheet.ok
    assert [r.data.name for r in sheet.rows] == ["张三", "李梅", "王五"]
    assert sheet.rows[1].data.status == MemberStatus.probationary
    assert sheet.rows[1].data.joined_on == date(2025, 12, 1)
    assert sheet.new_groups == ["新建小组"]


def test_preview_changes_nothing(world, db):
    branch = world.branch(world.village_a1a)
    before = count_members(db, branch)
    excel.read_roster(workbook(GOOD), "名册.xlsx", branch)
    assert count_members(db, branch) == before


def test_errors_name_row_column_and_problem_in_chinese(world):
    rows = [
        [1, "", "男", 1968, "正式党员", "", "", "", ""],
        [2, "赵六", "未知", "一九六八", "党员", "", "2099-01-01", "电话", ""],
    ]
    sheet = excel.read_roster(workbook(rows), "x.xlsx", world.branch(world.village_a1a))
    found = {(e.row, e.column) for e in sheet.errors}
    assert (2, "姓名") in found
    assert {
        (3, "性别"),
        (3, "出生年份"),
        (3, "党员类别"),
        (3, "入党日期"),
        (3, "联系电话"),
    } <= found
    assert not sheet.ok
    assert any("男" in e.message and "女" in e.message for e in sheet.errors)


def test_duplicates_in_the_file_and_on_the_roster_are_errors(world):
    existing = world.members[world.village_a1a.id][0]
    rows = [
        [1, "甲", "", 1970, "", "", "", "", ""],
        [2, "甲", "", 1970, "", "", "", "", ""],
        [3, existing.name, "", None, "", "", "", "", ""],
    ]
    sheet = excel.read_roster(workbook(rows), "x.xlsx", world.branch(world.village_a1a))
    messages = {(e.row, e.message) for e in sheet.errors}
    assert (3, "与第 2 行重复") in messages
    assert any(row == 4 and "已有" in msg for row, msg in messages)


def test_header_may_sit_below_a_title_row_and_columns_in_any_order(world):
    header = ["姓名", "联系电话", "序号"]
    data = workbook([["孙七", "13900000000", 1]], header=header, title="某村党员名册")
    sheet = excel.read_roster(data, "x.xlsx", world.branch(world.village_a1a))
    assert sheet.ok and sheet.rows[0].data.phone == "13900000000"


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"", "a.xlsx", "空"),
        (b"name,phone\n", "a.csv", ".xlsx"),
        (b"not a zip at all", "a.xlsx", "不是有效"),
        (b"PK\x03\x04broken", "a.xlsx", "不是有效"),
    ],
)
def test_files_that_are_not_xlsx_are_refused(world, data, name, message):
    with pytest.raises(ImportRefused, match=message):
        excel.read_roster(data, name, world.branch(world.village_a1a))


def test_a_sheet_without_a_name_column_is_refused(world):
    with pytest.raises(ImportRefused, match="表头"):
        excel.read_roster(
            workbook([["x"]], header=["编号"]), "a.xlsx", world.branch(world.village_a1a)
        )


def test_commit_adds_all_rows_and_creates_missing_groups(world, db):
    branch = world.branch(world.village_a1a)
    before = count_members(db, branch)
    sheet = excel.read_roster(workbook(GOOD), "名册.xlsx", branch)
    members = excel.commit_roster(sheet, branch, world.users["town_a1_editor"].id)
    assert len(members) == 3
    assert count_members(db, branch) == before + 3
    group = db.session.scalar(select(PartyGroup).where(PartyGroup.name == "新建小组"))
    assert group is not None and members[1].group_id == group.id
    log = db.session.scalar(select(MemberImport).where(MemberImport.branch_id == branch.id))
    assert log.rows == 3 and log.sha256 == sheet.sha256


def test_a_sheet_with_errors_commits_nothing(world, db):
    branch = world.branch(world.village_a1a)
    before = count_members(db, branch)
    sheet = excel.read_roster(
        workbook(GOOD + [[4, "", "", "", "", "", "", "", ""]]), "a.xlsx", branch
    )
    with pytest.raises(ImportRefused):
        excel.commit_roster(sheet, branch, None)
    assert count_members(db, branch) == before


def test_the_same_file_is_never_imported_twice(world, db):
    branch = world.branch(world.village_a1a)
    data = workbook(GOOD)
    excel.commit_roster(excel.read_roster(data, "a.xlsx", branch), branch, None)
    after_first = count_members(db, branch)
    again = excel.read_roster(data, "a.xlsx", branch)  # rows now duplicate the roster
    with pytest.raises(ImportRefused):
        excel.commit_roster(again, branch, None)
    assert count_members(db, branch) == after_first


def test_export_has_the_village_columns_and_reimports_cleanly(world, db):
    branch = world.branch(world.village_a1a)
    members = world.members[world.village_a1a.id]
    members[0].birth_year = 1966
    data = excel.export_roster(branch, members)
    ws = load_workbook(io.BytesIO(data)).active
    assert [c.value for c in ws[2]] == COLUMNS
    assert ws.cell(row=3, column=2).value == members[0].name
    assert ws.cell(row=3, column=5).value == "正式党员"
    # Round trip into an empty branch of another village: same people, same details.
    target = world.branch(world.village_a2a)
    for m in world.members[world.village_a2a.id]:
        member_leaves(m, date(2026, 1, 1))
    sheet = excel.read_roster(data, "export.xlsx", target)
    assert sheet.ok, sheet.errors
    assert [r.data.name for r in sheet.rows] == [m.name for m in members]
    assert [r.data.status for r in sheet.rows] == [m.status for m in members]
    assert [r.data.joined_on for r in sheet.rows] == [m.joined_on for m in members]
    assert sheet.rows[0].data.birth_year == 1966
    assert [r.group_name for r in sheet.rows] == [m.group.name for m in members]


# ---------------------------------------------------------------- pages


def upload(client, village_id: int, data: bytes, name: str = "名册.xlsx"):
    return client.post(
        f"/org/villages/{village_id}/import",
        data={"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def test_upload_shows_a_preview_and_commit_imports(world, db, login):
    client = login(world.users["town_a1_editor"])
    branch = world.branch(world.village_a1a)
    before = count_members(db, branch)
    resp = upload(client, world.village_a1a.id, workbook(GOOD))
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "确认导入 3 名党员" in page and "李梅" in page
    assert count_members(db, branch) == before
    sha = excel.sha256_of(workbook(GOOD))
    sheet_sha = page.split('name="sha256" type="hidden" value="')[1][:64]
    resp = client.post(
        f"/org/villages/{world.village_a1a.id}/import/commit", data={"sha256": sheet_sha}
    )
    assert resp.status_code == 302
    assert count_members(db, branch) == before + 3
    # Posting the commit again (back button, double click) adds nobody.
    resp = client.post(
        f"/org/villages/{world.village_a1a.id}/import/commit",
        data={"sha256": sheet_sha},
        follow_redirects=True,
    )
    assert count_members(db, branch) == before + 3
    assert sha  # the fingerprint is of the file's bytes


def test_upload_with_errors_lists_them_and_offers_no_commit(world, login):
    client = login(world.users["town_a1_editor"])
    resp = upload(client, world.village_a1a.id, workbook([[1, "", "男", 1960, "", "", "", "", ""]]))
    page = resp.get_data(as_text=True)
    assert "第 2 行" in page and "姓名不能为空" in page
    assert "确认导入" not in page


def test_upload_of_a_non_xlsx_file_shows_the_error_beside_the_field(world, login):
    client = login(world.users["town_a1_editor"])
    resp = upload(client, world.village_a1a.id, b"a,b\n", "roster.csv")
    assert resp.status_code == 422
    assert "只能导入 .xlsx" in resp.get_data(as_text=True)


def test_upload_larger_than_the_limit_comes_back_to_the_form(world, app_factory, db):
    small = app_factory(MAX_CONTENT_LENGTH=1024)
    client = small.test_client()
    from flask_login.utils import _create_identifier

    from tracker.auth.services import start_session

    with small.test_request_context(environ_base=client.environ_base):
        ident = _create_identifier()
    with client.session_transaction() as sess:
        sess.update(
            {
                "_user_id": start_session(world.users["town_a1_editor"], False, 12, 14),
                "_fresh": True,
                "_id": ident,
            }
        )
    resp = upload(client, world.village_a1a.id, b"x" * 4096)
    assert resp.status_code == 303  # back to the form, the message beside the file field
    assert "文件过大" in client.get(resp.headers["Location"]).get_data(as_text=True)


def test_export_download_is_an_xlsx_of_the_filtered_roster(world, login):
    client = login(world.users["county_a_viewer"])
    resp = client.get(f"/org/villages/{world.village_a1a.id}/export.xlsx?status=probationary")
    assert resp.status_code == 200
    assert resp.mimetype == xlsx.XLSX_MIME
    ws = load_workbook(io.BytesIO(resp.data)).active
    assert ws.max_row == 3  # title, header, the one probationary member


def test_cli_import_members_dry_run_then_real(world, db, app, tmp_path):
    from click.testing import CliRunner

    from tracker.cli import cli

    path = tmp_path / "roster.xlsx"
    path.write_bytes(workbook(GOOD))
    branch = world.branch(world.village_a1a)
    db.session.commit()
    before = count_members(db, branch)
    runner = CliRunner()
    env = {"TRACKER_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"]}
    result = runner.invoke(
        cli,
        ["import-members", str(path), "--village", str(world.village_a1a.id), "--dry-run"],
        env=env,
    )
    assert result.exit_code == 0, result.output
    assert "试运行" in result.output
    assert count_members(db, branch) == before
    result = runner.invoke(
        cli, ["import-members", str(path), "--village", str(world.village_a1a.id)], env=env
    )
    assert result.exit_code == 0, result.output
    assert count_members(db, branch) == before + 3
    result = runner.invoke(
        cli, ["import-members", str(path), "--village", str(world.village_a1a.id)], env=env
    )
    assert result.exit_code == 1
    assert count_members(db, branch) == before + 3
    result = runner.invoke(cli, ["import-members", str(path), "--village", "没有这个村"], env=env)
    assert result.exit_code == 2
    assert "没有找到" in result.output
