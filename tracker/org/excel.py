"""党员名册 Excel import and export, in the columns villages already use.

Columns: 序号 姓名 性别 出生年份 党员类别 所在党小组 入党日期 联系电话 备注.

Import is two steps. :func:`read_roster` parses the workbook into a
:class:`RosterSheet` — every row checked, every problem reported as
(row number, column, Chinese message) — and changes nothing. The preview page
shows it; :func:`commit_roster` then adds every row or none. The workbook's
SHA-256 is recorded in :class:`~tracker.org.models.MemberImport`, so posting
the same file again (double click, back button, CLI re-run) is refused
instead of adding everyone twice.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from tracker import xlsx
from tracker.extensions import db
from tracker.formatting import mask_id_number
from tracker.models import Branch, Gender, Member, MemberStatus
from tracker.org import history
from tracker.org.models import MemberImport
from tracker.org.services import (
    GENDER_LABELS,
    STATUS_LABELS,
    MemberData,
    OrgError,
    add_member,
    check_birth_year,
    check_past_date,
    clean_id_number,
    clean_phone,
    create_group,
    groups_of,
)

# The information base (党员信息库): title → MemberData field, text columns.
PROFILE_TEXT = {
    "民族": "ethnicity",
    "学历": "education",
    "家庭住址": "address",
    "职业": "occupation",
    "党内外职务": "posts",
    "帮扶情况": "hardship_help",
    "奖励情况": "awards",
    "处分情况": "discipline",
}
# The longest text each profile column may hold (the database column, the member form).
PROFILE_MAX = {
    "民族": 16,
    "学历": 16,
    "家庭住址": 200,
    "职业": 64,
    "党内外职务": 200,
    "帮扶情况": 500,
    "奖励情况": 2000,
    "处分情况": 2000,
}
PROFILE_COLUMNS = [
    "民族",
    "学历",
    "身份证号",
    "出生日期",
    "家庭住址",
    "职业",
    "党内外职务",
    "困难党员",
    "帮扶情况",
    "奖励情况",
    "处分情况",
]
YES_WORDS = {"是": True, "否": False, "": False}

COLUMNS = [
    "序号",
    "姓名",
    "性别",
    "出生年份",
    "党员类别",
    "所在党小组",
    "入党日期",
    "联系电话",
    "备注",
    "转正日期",  # a full member's 转正 day: becomes a dated fact (empty: full since joining)
    *PROFILE_COLUMNS,
]
REQUIRED = {"姓名"}
MAX_ROWS = 5000

GENDER_WORDS = {
    "男": Gender.male,
    "女": Gender.female,
    "male": Gender.male,
    "female": Gender.female,
}
STATUS_WORDS = {
    "正式党员": MemberStatus.full,
    "正式": MemberStatus.full,
    "预备党员": MemberStatus.probationary,
    "预备": MemberStatus.probationary,
}
DATE_RE = re.compile(r"^(\d{4})\s*[-./年]\s*(\d{1,2})\s*(?:[-./月]\s*(\d{1,2})\s*日?)?\s*$")


@dataclass(frozen=True)
class RowError:
    """One problem of the sheet: Excel row number, column title, message."""

    row: int
    column: str
    message: str


@dataclass
class RosterRow:
    """A parsed row, ready to become a member."""

    row: int
    data: MemberData
    group_name: str | None


@dataclass
class RosterSheet:
    """The parsed workbook: its rows, its errors, its fingerprint."""

    sha256: str
    filename: str
    rows: list[RosterRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    new_groups: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.rows)


class ImportRefused(OrgError):
    """The file cannot be read or committed at all (not a per-row problem)."""


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _parse_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value)
    m = DATE_RE.match(text)
    if not m:
        raise ValueError("日期格式应为 2010-07-01")
    year, month, day = int(m.group(1)), int(m.group(2)), int(m.group(3) or 1)
    try:
        return date(year, month, day)
    except ValueError as exc:
        raise ValueError("不是有效的日期") from exc


def _parse_year(value: Any) -> int:
    if isinstance(value, datetime | date):
        return value.year
    text = _text(value).removesuffix("年")
    if not text.isdigit() or len(text) != 4:
        raise ValueError("出生年份应为四位数字，如 1968")
    return int(text)


def read_roster(data: bytes, filename: str, branch: Branch) -> RosterSheet:
    """Parse and check a roster workbook against ``branch``; changes nothing."""
    try:
        return _read_roster(data, filename, branch)
    except xlsx.BadWorkbook as exc:
        raise ImportRefused(str(exc), "file") from exc


def _read_roster(data: bytes, filename: str, branch: Branch) -> RosterSheet:
    sheet = RosterSheet(sha256=sha256_of(data), filename=filename[:255])
    ws = xlsx.read_sheet(
        data, required=REQUIRED, max_rows=MAX_ROWS, filename=filename, header_within=10
    )
    existing = {
        (m.name, m.birth_year)
        for m in db.session.scalars(
            select(Member).where(Member.branch_id == branch.id, Member.left_on.is_(None))
        )
    }
    group_names = {g.name for g in groups_of(branch.id)}
    seen: dict[tuple[str, int | None], int] = {}
    count = 0
    for row in ws.rows:
        number = row.number
        cells = {title: row.cells.get(title) for title in COLUMNS if title in row.cells}
        if all(_text(v) == "" for v in cells.values()) or xlsx.is_example(cells.get("序号")):
            continue  # empty, or the template's 示例 row
        count += 1
        if row.errors:
            sheet.errors.extend(RowError(number, t, m) for t, m in row.errors.items())
            continue
        parsed = _read_row(number, cells, sheet.errors)
        if parsed is None:
            continue
        key = (parsed.data.name, parsed.data.birth_year)
        if key in existing:
            sheet.errors.append(RowError(number, "姓名", "名册中已有同名同出生年份的党员"))
            continue
        if key in seen:
            sheet.errors.append(RowError(number, "姓名", f"与第 {seen[key]} 行重复"))
            continue
        seen[key] = number
        if (
            parsed.group_name
            and parsed.group_name not in group_names
            and parsed.group_name not in sheet.new_groups
        ):
            sheet.new_groups.append(parsed.group_name)
        sheet.rows.append(parsed)
    if count == 0:
        sheet.errors.append(RowError(ws.header_row + 1, "姓名", "表中没有党员数据"))
    return sheet


def _read_row(number: int, cells: dict[str, Any], errors: list[RowError]) -> RosterRow | None:
    before = len(errors)

    def bad(column: str, message: str) -> None:
        errors.append(RowError(number, column, message))

    name = _text(cells.get("姓名"))
    if not name:
        bad("姓名", "姓名不能为空")
    elif len(name) > 32:
        bad("姓名", "姓名太长（最多 32 个字符）")
    gender = None
    if g := _text(cells.get("性别")):
        gender = GENDER_WORDS.get(g)
        if gender is None:
            bad("性别", "性别应为“男”或“女”")
    birth_year = None
    if _text(cells.get("出生年份")):
        try:
            birth_year = check_birth_year(_parse_year(cells.get("出生年份")))
        except (ValueError, OrgError) as exc:
            bad("出生年份", str(exc))
    status = MemberStatus.full
    if s := _text(cells.get("党员类别")):
        found = STATUS_WORDS.get(s)
        if found is None:
            bad("党员类别", "党员类别应为“正式党员”或“预备党员”")
        else:
            status = found
    group_name = _text(cells.get("所在党小组")) or None
    if group_name and len(group_name) > 64:
        bad("所在党小组", "党小组名称太长（最多 64 个字符）")
    joined_on = None
    if _text(cells.get("入党日期")):
        try:
            joined_on = _parse_date(cells.get("入党日期"))
            check_past_date(joined_on, "joined_on", "入党日期")
        except (ValueError, OrgError) as exc:
            bad("入党日期", str(exc))
    full_on = None
    if _text(cells.get("转正日期")):
        try:
            full_on = _parse_date(cells.get("转正日期"))
            check_past_date(full_on, "full_on", "转正日期")
        except (ValueError, OrgError) as exc:
            bad("转正日期", str(exc))
        else:
            if status != MemberStatus.full:
                bad("转正日期", "预备党员不应填写转正日期")
            elif joined_on and full_on < joined_on:
                bad("转正日期", "转正日期不能早于入党日期")
    phone = None
    try:
        phone = clean_phone(_text(cells.get("联系电话")))
    except OrgError as exc:
        bad("联系电话", str(exc))
    note = _text(cells.get("备注")) or None
    if note and len(note) > 500:
        bad("备注", "备注太长（最多 500 个字符）")
    profile: dict[str, Any] = {
        attr: _text(cells.get(title)) or None for title, attr in PROFILE_TEXT.items()
    }
    for title, attr in PROFILE_TEXT.items():
        value = profile[attr]
        if value and len(value) > PROFILE_MAX[title]:
            # Refused here, named by row and column, not truncated or left to the database.
            bad(title, f"{title}太长（{len(value)} 个字符，最多 {PROFILE_MAX[title]} 个字符）")
    try:
        id_text = _text(cells.get("身份证号"))
        # A masked number (from an export by someone not allowed to see it) is no number.
        profile["id_number"] = None if "*" in id_text else clean_id_number(id_text)
    except OrgError as exc:
        bad("身份证号", str(exc))
    if _text(cells.get("出生日期")):
        try:
            profile["birth_date"] = _parse_date(cells.get("出生日期"))
            check_past_date(profile["birth_date"], "birth_date", "出生日期")
        except (ValueError, OrgError) as exc:
            bad("出生日期", str(exc))
    hardship = YES_WORDS.get(_text(cells.get("困难党员")))
    if hardship is None:
        bad("困难党员", "困难党员一栏应填“是”或“否”")
    profile["hardship"] = bool(hardship)
    if len(errors) > before:
        return None
    data = MemberData(
        **profile,
        name=name,
        status=status,
        gender=gender,
        birth_year=birth_year,
        phone=phone,
        joined_on=joined_on,
        note=note,
        full_on=full_on,
    )
    return RosterRow(number, data, group_name)


def already_imported(branch: Branch, sha256: str) -> MemberImport | None:
    return db.session.scalar(
        select(MemberImport).where(
            MemberImport.branch_id == branch.id, MemberImport.sha256 == sha256
        )
    )


def commit_roster(sheet: RosterSheet, branch: Branch, actor_id: int | None) -> list[Member]:
    """Add every row of a checked sheet, or nothing.

    Refuses a sheet with errors and a file already imported into this branch.
    Missing party groups named in the sheet are created.
    """
    if sheet.errors:
        raise ImportRefused(f"表中有 {len(sheet.errors)} 处错误，请改正后重新上传", "file")
    if not sheet.rows:
        raise ImportRefused("表中没有党员数据", "file")
    previous = already_imported(branch, sheet.sha256)
    if previous is not None:
        raise ImportRefused(
            f"该文件已于 {previous.created_at:%Y-%m-%d %H:%M}（UTC）导入过，未重复导入", "file"
        )
    groups = {g.name: g for g in groups_of(branch.id)}
    members: list[Member] = []
    for row in sheet.rows:
        if row.group_name:
            if row.group_name not in groups:
                groups[row.group_name] = create_group(branch, row.group_name)
            row.data.group_id = groups[row.group_name].id
        members.append(add_member(branch, row.data))
    db.session.add(
        MemberImport(
            branch_id=branch.id,
            region_id=branch.region_id,
            sha256=sheet.sha256,
            filename=sheet.filename,
            rows=len(members),
            actor_id=actor_id,
        )
    )
    db.session.flush()
    return members


def export_roster(
    branch: Branch,
    members: list[Member],
    statuses: Mapping[int, MemberStatus] | None = None,
    as_of: date | None = None,
    show_ids: bool = False,
) -> bytes:
    """The roster as an .xlsx in the villages' columns, ready to print or re-import.

    With ``as_of`` (截至日期) the title names the day and ``statuses`` gives each
    member's status on it (``services.statuses_as_of``).
    """
    wb, ws = xlsx.new_workbook("党员名册")
    title = f"{branch.name} 党员名册"
    xlsx.title(ws, f"{title}（截至 {as_of:%Y-%m-%d}）" if as_of else title, span=len(COLUMNS))
    xlsx.header(ws, COLUMNS)
    groups = {g.id: g.name for g in groups_of(branch.id)}
    full_on = history.full_dates([m.id for m in members], as_of)
    for i, m in enumerate(members, start=1):
        xlsx.append(
            ws,
            [
                i,
                m.name,
                GENDER_LABELS.get(m.gender, "") if m.gender else "",
                m.birth_year,
                STATUS_LABELS[MemberStatus((statuses or {}).get(m.id, m.status))],
                groups.get(m.group_id, "") if m.group_id else "",
                m.joined_on,
                m.phone or "",
                m.note or "",
                full_on.get(m.id),
                m.ethnicity or "",
                m.education or "",
                (m.id_number if show_ids else mask_id_number(m.id_number)) or "",
                m.birth_date,
                m.address or "",
                m.occupation or "",
                m.posts or "",
                "是" if m.hardship else "",
                m.hardship_help or "",
                m.awards or "",
                m.discipline or "",
            ],
        )
        ws.cell(row=ws.max_row, column=13).number_format = "@"
        ws.cell(row=ws.max_row, column=14).number_format = "yyyy-mm-dd"
        ws.cell(row=ws.max_row, column=7).number_format = "yyyy-mm-dd"
        ws.cell(row=ws.max_row, column=10).number_format = "yyyy-mm-dd"
        ws.cell(row=ws.max_row, column=8).number_format = "@"
    xlsx.widths(ws, [6, 10, 6, 10, 10, 14, 12, 15, 24, 12] + [10] * 11)
    ws.freeze_panes = "A3"
    return xlsx.to_bytes(wb)


def template_workbook() -> bytes:
    """An empty sheet with the header and one example row, for villages to fill in."""
    wb, ws = xlsx.new_workbook("党员名册")
    xlsx.header(ws, COLUMNS)
    xlsx.example(
        ws,
        [xlsx.EXAMPLE, "张三", "男", 1968, "正式党员", "第一党小组", "1995-07-01", "13800000000"]
        + ["示例行不会导入，可删除"],
    )
    return xlsx.to_bytes(wb)
