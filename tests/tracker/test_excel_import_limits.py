"""Every import refuses a hostile or oversized workbook quickly, with 422 and a Chinese message.

The three uploads (党员名册, 会议记录, 事项清单) read through :func:`tracker.xlsx.read_sheet`:
header and row count are checked before rows are read, the uncompressed size
is bounded (zip bomb), rows stream, and XML is parsed with defusedxml. No
upload may hold a worker for more than a few seconds.
"""

from __future__ import annotations

import io
import time
import zipfile
from collections.abc import Callable
from typing import Any

import openpyxl.xml
import pytest
from openpyxl import Workbook

from tracker import xlsx
from tracker.meetings import excel as meeting_excel
from tracker.org import excel as org_excel

# A worker must answer well within this (the machine running the tests is slow and shared).
SECONDS = 5.0


@pytest.fixture(autouse=True)
def _committed(world, db):
    db.session.commit()  # views roll back on a bad file


def _base(header: list[str]) -> bytes:
    wb = Workbook()
    wb.active.append(header)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _replace(data: bytes, name: str, content: bytes) -> bytes:
    """``data`` with the zip entry ``name`` replaced by ``content``."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, content if info.filename == name else src.read(info))
    return out.getvalue()


def _cell(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def _sheet_xml(header: list[str], rows: int, dimension: str | None, first: int = 2) -> bytes:
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    ]
    if dimension:
        parts.append(f'<dimension ref="{dimension}"/>')
    parts.append("<sheetData>")
    parts.append(
        '<row r="1">' + "".join(_cell(f"{letters[i]}1", t) for i, t in enumerate(header)) + "</row>"
    )
    for r in range(first, first + rows):
        parts.append(f'<row r="{r}">{_cell(f"A{r}", "1")}{_cell(f"B{r}", f"党员{r}")}</row>')
    parts.append("</sheetData></worksheet>")
    return "".join(parts).encode()


SHEET = "xl/worksheets/sheet1.xml"
ROSTER = list(org_excel.COLUMNS)
MEETINGS = list(meeting_excel.COLUMNS)
CATALOG = ["事项名称", "事项类别", "办件类型", "承诺时限", "法定时限", "所需材料", "办理层级"]


def hundred_thousand_rows(header: list[str], declared: bool) -> bytes:
    dim = f"A1:I{100_001}" if declared else None
    return _replace(_base(header), SHEET, _sheet_xml(header, 100_000, dim))


def one_far_row(header: list[str]) -> bytes:
    """A tiny file whose single data row is numbered 1,000,000,000 (no dimension)."""
    return _replace(_base(header), SHEET, _sheet_xml(header, 1, None, first=1_000_000_000))


def zip_bomb(header: list[str]) -> bytes:
    """A few hundred KB that unpack to 200 MB of XML whitespace."""
    xml = _sheet_xml(header, 1, None)
    pad = b" " * (200 * 1024 * 1024)
    bomb = xml.replace(b"<sheetData>", b"<sheetData>" + pad, 1)
    return _replace(_base(header), SHEET, bomb)


def entity_file(header: list[str]) -> bytes:
    """A sheet declaring DTD entities (billion-laughs style); defusedxml refuses any entity."""
    xml = _sheet_xml(header, 1, "A1:I2").decode()
    doctype = (
        '<!DOCTYPE worksheet [<!ENTITY lol "lol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
    )
    xml = xml.replace("?>", "?>" + doctype, 1).replace("党员2", "&lol2;")
    return _replace(_base(header), SHEET, xml.encode())


BAD_FILES: dict[str, Callable[[list[str]], bytes]] = {
    "100k rows, declared": lambda h: hundred_thousand_rows(h, True),
    "100k rows, undeclared": lambda h: hundred_thousand_rows(h, False),
    "one row numbered 10^9": one_far_row,
    "zip bomb": zip_bomb,
    "XML entities": entity_file,
    "not a zip": lambda h: b"hello, this is not a workbook",
    "missing header": lambda h: _base(["随便", "什么"]),
}


def _post(client: Any, world: Any, which: str, data: bytes) -> Any:
    v = world.village_a1a.id
    if which == "roster":
        return client.post(
            f"/org/villages/{v}/import", data={"file": (io.BytesIO(data), "名册.xlsx")}
        )
    if which == "meetings":
        return client.post(
            f"/meetings/v/{v}/import", data={"file": (io.BytesIO(data), "会议.xlsx")}
        )
    return client.post(
        "/matters/catalog/import",
        data={"region_id": world.county_a.id, "file": (io.BytesIO(data), "清单.xlsx")},
        content_type="multipart/form-data",
    )


HEADERS = {"roster": ROSTER, "meetings": MEETINGS, "catalog": CATALOG}
USERS = {"roster": "town_a1_editor", "meetings": "town_a1_editor", "catalog": "county_a_admin"}


def test_openpyxl_parses_with_defusedxml():
    assert openpyxl.xml.DEFUSEDXML is True


@pytest.mark.parametrize("which", sorted(HEADERS))
@pytest.mark.parametrize("bad", sorted(BAD_FILES))
def test_every_bad_file_is_a_quick_422_with_a_chinese_message(world, db, login, which, bad):
    data = BAD_FILES[bad](HEADERS[which])
    client = login(world.users[USERS[which]])
    start = time.monotonic()
    resp = _post(client, world, which, data)
    elapsed = time.monotonic() - start
    assert resp.status_code == 422, resp.get_data(as_text=True)[-2000:]
    assert elapsed < SECONDS, f"{which}/{bad} held the worker {elapsed:.1f} s"
    text = resp.get_data(as_text=True)
    messages = ("一次最多导入", "解压后超过", "无法读取该工作簿", "不是有效的 .xlsx", "表头")
    assert any(m in text for m in messages), text[-1500:]


def test_the_row_limit_is_checked_before_any_row_is_read(monkeypatch):
    data = hundred_thousand_rows(ROSTER, True)
    seen: list[int] = []
    original = xlsx._rows

    def spy(*args: Any, **kwargs: Any):
        for row in original(*args, **kwargs):
            seen.append(row.number)
            yield row

    monkeypatch.setattr(xlsx, "_rows", spy)
    with pytest.raises(xlsx.BadWorkbook, match="一次最多导入 5000 行"):
        xlsx.read_sheet(data, required=["姓名"], max_rows=5000)
    assert seen == []


def test_a_control_character_in_a_cell_is_an_error_of_that_row(world, db):
    wb = Workbook()
    ws = wb.active
    ws.append(ROSTER)
    ws.append([1, "张三", "男", 1968, "正式党员", "", "1995-07-01", "", ""])
    ws.append([2, "李_x0001_四", "男", 1970, "正式党员", "", "1995-07-01", "", ""])
    buf = io.BytesIO()
    wb.save(buf)
    sheet = org_excel.read_roster(buf.getvalue(), "名册.xlsx", world.branch(world.village_a1a))
    assert [r.data.name for r in sheet.rows] == ["张三"]
    assert [(e.row, e.column) for e in sheet.errors] == [(3, "姓名")]
    assert "控制字符" in sheet.errors[0].message
