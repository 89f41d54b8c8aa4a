"""The post, pledge and household registers as Excel sheets in the paper columns, and back.

Written and read through :mod:`tracker.xlsx` only. Imports take the first columns of
the export (what a township types in); every row is entered or none
(the first broken row names itself).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from tracker import xlsx
from tracker.formatting import excel_formats
from tracker.models import Region
from tracker.teams.duty_models import HouseholdLink, Pledge, PostAssignment
from tracker.teams.duty_rules import HALF_LABELS
from tracker.teams.pledges import shown_address, shown_phone
from tracker.teams.services import TeamError

MAX_ROWS = 5000

POST_COLUMNS = [
    "序号",
    "姓名",
    "岗位",
    "设岗日期",
    "岗位职责",
    "岗位类别",
    "责任书签订日期",
    "评议情况",
    "结束日期",
]
PLEDGE_COLUMNS = [
    "序号",
    "姓名",
    "年度",
    "亮诺日期",
    "承诺内容",
    "践诺情况",
    "评诺等次",
    "评诺日期",
    "评诺组织",
]
LINK_COLUMNS = [
    "序号",
    "联户党员",
    "户主",
    "住址",
    "联系电话",
    "联户日期",
    "联系记录",
    "帮扶情况",
    "结束日期",
]


def _book(
    sheet: str, heading: str, columns: list[str], rows: list[list[Any]], widths: list[int]
) -> bytes:
    wb, ws = xlsx.new_workbook(sheet)
    xlsx.title(ws, heading, span=len(columns))
    xlsx.header(ws, columns)
    for row in rows:
        xlsx.append(ws, row)
    excel_formats(ws.iter_rows(min_row=3))
    xlsx.widths(ws, widths)
    return xlsx.to_bytes(wb)


def posts_workbook(village: Region, items: Sequence[PostAssignment]) -> bytes:
    rows = [
        [
            i,
            a.member.name,
            a.post.name,
            a.started_on,
            a.duties,
            a.post.category,
            a.letter_signed_on,
            "；".join(
                f"{r.year}年{HALF_LABELS[r.half]} {r.grade_label}（{r.reviewer} {r.reviewed_on:%Y-%m-%d}）"
                for r in a.reviews
            ),
            a.ended_on,
        ]
        for i, a in enumerate(items, start=1)
    ]
    return _book(
        "设岗定责台账",
        f"{village.name} 无职党员设岗定责台账",
        POST_COLUMNS,
        rows,
        [6, 10, 16, 12, 40, 12, 14, 40, 12],
    )


def pledges_workbook(village: Region, items: Sequence[Pledge]) -> bytes:
    rows = [
        [
            i,
            p.name,
            p.year,
            p.made_on,
            p.content,
            "；".join(f"{e.on:%Y-%m-%d} {e.note}" for e in p.progress),
            p.rating_label,
            p.rated_on,
            p.rated_by,
        ]
        for i, p in enumerate(items, start=1)
    ]
    return _book(
        "承诺践诺台账",
        f"{village.name} 党员承诺践诺台账（亮诺·践诺·评诺）",
        PLEDGE_COLUMNS,
        rows,
        [6, 10, 8, 12, 40, 40, 10, 12, 14],
    )


def links_workbook(village: Region, items: Sequence[HouseholdLink], full: bool) -> bytes:
    """Phones and addresses are masked unless ``full`` (a writer of this village)."""
    rows = [
        [
            i,
            link.member.name,
            link.head,
            shown_address(link.address, full),
            shown_phone(link.phone, full),
            link.since,
            "；".join(f"{c.on:%Y-%m-%d} {c.kind_label} {c.note}".strip() for c in link.contacts),
            "；".join(f"{h.on:%Y-%m-%d} {h.category_label}：{h.what}" for h in link.helps),
            link.until,
        ]
        for i, link in enumerate(items, start=1)
    ]
    return _book(
        "联户台账",
        f"{village.name} 党员联系户台账",
        LINK_COLUMNS,
        rows,
        [6, 10, 10, 24, 14, 12, 40, 40, 12],
    )


def _day(value: object, row: int, what: str, required: bool = True) -> date | None:
    if value in (None, ""):
        if required:
            raise TeamError(f"第 {row} 行：请填写{what}", "file")
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError as exc:
        raise TeamError(f"第 {row} 行：{what}应为日期，如 2026-03-05", "file") from exc


def _text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value if value is not None else "").strip()


def read_rows(data: bytes, columns: list[str], need: int) -> list[tuple[int, dict[str, Any]]]:
    """The data rows of a sheet whose header holds ``columns[1:need]``, with row numbers."""
    try:
        sheet = xlsx.read_sheet(data, required=columns[1:need], max_rows=MAX_ROWS, header_within=5)
        rows = list(sheet.rows)
    except xlsx.BadWorkbook as exc:
        raise TeamError(str(exc), "file") from exc
    out = []
    for row in rows:
        if row.errors:
            title, message = next(iter(row.errors.items()))
            raise TeamError(f"第 {row.number} 行「{title}」：{message}", "file")
        if not any(_text(row.cells.get(c)) for c in columns[1:need]):
            continue
        out.append((row.number, row.cells))
    if not out:
        raise TeamError("表格中没有数据行", "file")
    return out


def _member(village: Region, name: str, row: int) -> int:
    from sqlalchemy import select

    from tracker.extensions import db
    from tracker.models import Member

    ids = db.session.scalars(
        select(Member.id).where(Member.region_id == village.id, Member.name == name)
    ).all()
    if len(ids) != 1:
        what = "本村党员名册中没有" if not ids else "本村党员名册中有多名"
        raise TeamError(f"第 {row} 行：{what}“{name}”", "file")
    return ids[0]


def _each(rows: list[tuple[int, dict[str, Any]]], enter: Any) -> int:
    n = 0
    for number, cells in rows:
        try:
            enter(number, cells)
        except TeamError as exc:
            if exc.message.startswith("第 "):
                raise
            raise TeamError(f"第 {number} 行：{exc.message}", "file") from exc
        n += 1
    return n


def import_posts(village: Region, data: bytes) -> int:
    """Assignments in :data:`POST_COLUMNS` (姓名, 岗位 of the county catalog, 设岗日期, 职责)."""
    from tracker.teams.duty_posts import AssignmentInput, assign, catalog, county_of

    posts = {p.name: p.id for p in catalog(county_of(village))}
    c = POST_COLUMNS

    def enter(n: int, cells: dict[str, Any]) -> None:
        post = _text(cells.get(c[2]))
        if post not in posts:
            raise TeamError(f"第 {n} 行：本县岗位目录中没有“{post}”", "file")
        started = _day(cells.get(c[3]), n, "设岗日期")
        assert started is not None
        assign(
            village,
            AssignmentInput(
                member_id=_member(village, _text(cells.get(c[1])), n),
                post_id=posts[post],
                started_on=started,
                duties=_text(cells.get(c[4])),
                letter_signed_on=_day(cells.get(c[6]), n, "责任书签订日期", required=False),
            ),
        )

    return _each(read_rows(data, c, 5), enter)


def import_pledges(village: Region, data: bytes) -> int:
    """Pledges in :data:`PLEDGE_COLUMNS` (姓名 of a member or serving cadre, 年度, 亮诺日期, 内容)."""
    from sqlalchemy import select

    from tracker.extensions import db
    from tracker.models import VillageCadre
    from tracker.teams.pledges import PledgeInput, make_pledge

    c = PLEDGE_COLUMNS

    def enter(n: int, cells: dict[str, Any]) -> None:
        name = _text(cells.get(c[1]))
        cadre = db.session.scalar(
            select(VillageCadre.id).where(
                VillageCadre.region_id == village.id,
                VillageCadre.name == name,
                VillageCadre.until.is_(None),
            )
        )
        year_text = _text(cells.get(c[2]))
        if not year_text.isdigit():
            raise TeamError(f"第 {n} 行：年度应为数字，如 2026", "file")
        made = _day(cells.get(c[3]), n, "亮诺日期")
        assert made is not None
        make_pledge(
            village,
            PledgeInput(
                year=int(year_text),
                content=_text(cells.get(c[4])),
                made_on=made,
                cadre_id=cadre,
                member_id=None if cadre else _member(village, name, n),
            ),
        )

    return _each(read_rows(data, c, 5), enter)


def import_links(village: Region, data: bytes) -> int:
    """Household links in :data:`LINK_COLUMNS` (联户党员, 户主, 住址, 联系电话, 联户日期)."""
    from tracker.teams.pledges import LinkInput, link_household

    c = LINK_COLUMNS

    def enter(n: int, cells: dict[str, Any]) -> None:
        since = _day(cells.get(c[5]), n, "联户日期")
        assert since is not None
        if "*" in _text(cells.get(c[4])) or "*" in _text(cells.get(c[3])):
            raise TeamError(f"第 {n} 行：联系电话或住址是打码后的内容，请填写完整信息", "file")
        link_household(
            village,
            LinkInput(
                member_id=_member(village, _text(cells.get(c[1])), n),
                head=_text(cells.get(c[2])),
                address=_text(cells.get(c[3])),
                phone=_text(cells.get(c[4])),
                since=since,
            ),
        )

    return _each(read_rows(data, c, 6), enter)
