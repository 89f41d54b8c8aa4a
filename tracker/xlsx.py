"""Every Excel workbook in and out of the tracker goes through here (openpyxl).

**Writing.** :func:`append` (and :func:`header`, :func:`title`) put a row in a
sheet with every text made safe: a text a user typed that begins with ``=``,
``+``, ``-``, ``@``, a tab or a carriage return is stored as *text* with
Excel's quote prefix, never as a formula (``=HYPERLINK(...)`` typed into a
member's note stays those characters), and characters Excel cannot store are
replaced by U+FFFD instead of failing the whole export. :func:`response`
answers the download with the Chinese file name (RFC 6266 / RFC 5987
``filename*``) and an ASCII fallback.

**Reading.** :func:`read_sheet` refuses, with one Chinese message and before
any row is parsed, a file that is not an .xlsx, whose uncompressed size
passes :data:`MAX_UNCOMPRESSED` (a zip bomb), whose first sheet declares more
rows than allowed, or whose header lacks a required column; then it streams
the rows (read-only mode) and stops past the row limit even when the sheet
lies about its size. XML is parsed with defusedxml (openpyxl uses it when it
is installed; this module refuses to load otherwise). Every cell holding a
control character or a date outside the sane range comes with its error, so
imports refuse them like forms do (:mod:`tracker.validation`).
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import quote

import openpyxl.xml
from flask import Response
from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from tracker import validation

if not openpyxl.xml.DEFUSEDXML:  # pragma: no cover - an install or environment error
    raise RuntimeError("openpyxl must parse with defusedxml (install it; OPENPYXL_DEFUSEDXML)")

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Characters that make a spreadsheet program read a text as a formula (CSV/DDE injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# A 5,000-row roster unpacks to about 2 MB; 20 MiB leaves room and bounds the parse time.
MAX_UNCOMPRESSED = 20 * 1024 * 1024
MAX_ENTRIES = 1000
# Imports read at most this many columns of a row (the widest has 14).
MAX_COLUMNS = 64
HEADER_FILL = PatternFill("solid", fgColor="F0F1F3")
BOLD = Font(bold=True)


# ---------------------------------------------------------------- writing


def _needs_quote(text: str) -> bool:
    return text.startswith(FORMULA_PREFIXES) or text in ERROR_CODES


def safe_value(value: Any) -> Any:
    """``value`` as a cell can hold it: texts without characters Excel refuses."""
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)
    return value


def append(ws: Worksheet, values: Iterable[Any]) -> None:
    """Append one row; texts that would be formulas are written as quoted text."""
    row = [safe_value(v) for v in values]
    ws.append(row)
    r = ws.max_row
    for i, value in enumerate(row, start=1):
        if isinstance(value, str) and _needs_quote(value):
            cell = ws.cell(row=r, column=i)
            cell.value = value
            cell.data_type = "s"
            cell.quotePrefix = True


EXAMPLE = "示例"
EXAMPLE_FONT = Font(italic=True, color="808080")


def example(ws: Worksheet, values: Iterable[Any]) -> None:
    """Append a template's example row: its first cell starts with 示例, grey italics.

    Readers skip it (:func:`is_example`), so a template filled in below its
    example never imports 张三.
    """
    row = list(values)
    first = str(row[0]) if row and row[0] not in (None, "") else ""
    row[0] = first if first.startswith(EXAMPLE) else f"{EXAMPLE}：{first}" if first else EXAMPLE
    append(ws, row)
    for cell in ws[ws.max_row]:
        cell.font = EXAMPLE_FONT


def is_example(first_cell: Any) -> bool:
    """Whether a row whose first cell holds ``first_cell`` is a template's example row."""
    return isinstance(first_cell, str) and first_cell.strip().startswith(EXAMPLE)


def header(ws: Worksheet, titles: Iterable[str], fill: PatternFill | None = HEADER_FILL) -> None:
    """Append a bold, centred column-title row."""
    append(ws, titles)
    for cell in ws[ws.max_row]:
        cell.font = BOLD
        cell.alignment = Alignment(horizontal="center")
        if fill is not None:
            cell.fill = fill


def title(ws: Worksheet, text: str, span: int = 0) -> None:
    """Append a large bold title row (merged over ``span`` columns when given)."""
    append(ws, [text])
    r = ws.max_row
    ws.cell(row=r, column=1).font = Font(bold=True, size=14)
    if span > 1:
        ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=span)
        ws.cell(row=r, column=1).alignment = Alignment(horizontal="center")


def widths(ws: Worksheet, values: Iterable[float]) -> None:
    """Column widths, from column A on."""
    for i, width in enumerate(values, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width


def wrap(ws: Worksheet, min_row: int) -> None:
    """Wrap text and align to the top from ``min_row`` down (long ledger texts)."""
    for row in ws.iter_rows(min_row=min_row):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")


def new_workbook(sheet_title: str) -> tuple[Workbook, Worksheet]:
    """A workbook and its first sheet, named ``sheet_title``."""
    wb = Workbook()
    ws = wb.active
    assert isinstance(ws, Worksheet)
    ws.title = sheet_title
    return wb, ws


def to_bytes(wb: Workbook) -> bytes:
    """The workbook as .xlsx bytes."""
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _ascii_fallback(filename: str) -> str:
    stem, dot, ext = filename.rpartition(".")
    base = unicodedata.normalize("NFKD", stem if dot else filename)
    ascii_stem = "".join(
        c for c in base.encode("ascii", "ignore").decode() if c.isalnum() or c in "-_"
    )
    return f"{ascii_stem or 'export'}.{ext if dot else 'xlsx'}"


def content_disposition(filename: str) -> str:
    """``attachment`` with an ASCII ``filename`` and the real one as RFC 5987 ``filename*``."""
    return (
        f'attachment; filename="{_ascii_fallback(filename)}"; '
        f"filename*=UTF-8''{quote(filename, safe='')}"
    )


def response(data: bytes, filename: str) -> Response:
    """A download of ``data`` named ``filename`` (Chinese names survive every browser)."""
    resp = Response(data, mimetype=XLSX_MIME)
    resp.headers["Content-Disposition"] = content_disposition(filename)
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp


# ---------------------------------------------------------------- reading


class BadWorkbook(ValueError):
    """The file cannot be imported at all; the message is for the user (field ``file``)."""

    field = "file"


@dataclass
class SheetRow:
    """A data row: its Excel row number, its cells by column title, its refused cells."""

    number: int
    cells: dict[str, Any]
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def blank(self) -> bool:
        return all(v is None or (isinstance(v, str) and not v.strip()) for v in self.cells.values())


@dataclass
class Sheet:
    """The first worksheet: where its header is, its column titles, its rows (streamed)."""

    header_row: int
    titles: list[str]
    rows: Iterator[SheetRow]


def _title(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


_ROW_TAG = re.compile(rb"<(?:\w+:)?row[\s/>]")
_DIMENSION_TAG = re.compile(rb"<(?:\w+:)?dimension[\s/>]")
_DATA_TAG = re.compile(rb"<(?:\w+:)?sheetData[\s/>]")
_CHUNK = 1024 * 1024


def _undeclared_rows(archive: zipfile.ZipFile, name: str, limit: int) -> int:
    """Rows of a worksheet without a leading ``<dimension>``, counted up to ``limit`` (else 0).

    openpyxl sizes such a sheet by parsing all of it while opening the
    workbook, so its rows are counted first on the raw XML (fast) and a sheet
    past the limit never reaches the parser.
    """
    count, tail, head = 0, b"", True
    with archive.open(name) as stream:
        while chunk := stream.read(_CHUNK):
            if head:
                head = False
                data_at = _DATA_TAG.search(chunk)
                dim_at = _DIMENSION_TAG.search(chunk)
                if dim_at and (data_at is None or dim_at.start() < data_at.start()):
                    return 0
            window = tail + chunk
            count += len(_ROW_TAG.findall(window)) - len(_ROW_TAG.findall(tail))
            if count > limit:
                break
            tail = window[-16:]
    return count


def _check_archive(data: bytes, filename: str | None, max_rows: int, header_within: int) -> None:
    row_limit = max_rows + header_within
    if filename is not None and not filename.lower().endswith(".xlsx"):
        raise BadWorkbook("只能导入 .xlsx 格式的 Excel 文件（可在 Excel 中另存为 .xlsx）")
    if not data:
        raise BadWorkbook("文件是空的")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
            if len(infos) > MAX_ENTRIES or sum(i.file_size for i in infos) > MAX_UNCOMPRESSED:
                raise BadWorkbook(
                    f"工作簿解压后超过 {MAX_UNCOMPRESSED // (1024 * 1024)} MB，"
                    "不像正常的台账表格，请只保留要导入的工作表后重新上传"
                )
            sheets = [
                i.filename
                for i in infos
                if i.filename.startswith("xl/worksheets/") and i.filename.endswith(".xml")
            ]
            if any(_undeclared_rows(archive, name, row_limit) > row_limit for name in sheets):
                raise BadWorkbook(
                    f"一次最多导入 {max_rows} 行（工作簿中有工作表超过此行数，"
                    "请只保留要导入的工作表）"
                )
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        if isinstance(exc, BadWorkbook):
            raise
        raise BadWorkbook("文件不是有效的 .xlsx 工作簿（可在 Excel 中另存为 .xlsx）") from exc


# Excel stores a control character as the escape _xHHHH_, which openpyxl hands over verbatim.
_ESCAPED_CONTROL = re.compile(r"_x00(?:0[0-8bBcCeEfF]|1[0-9a-fA-F])_")


def _cell_error(value: Any) -> str | None:
    if isinstance(value, str):
        escaped = _ESCAPED_CONTROL.search(value)
        if escaped is not None:
            return validation.CONTROL_MESSAGE.format(position=escaped.start() + 1)
        return validation.control_error(value)
    if isinstance(value, date) and not validation.sane_date(value):
        return validation.DATE_MESSAGE
    return None


def read_sheet(
    data: bytes,
    *,
    required: Iterable[str],
    max_rows: int,
    filename: str | None = None,
    header_within: int = 1,
) -> Sheet:
    """Open the first sheet of an .xlsx upload and find its header; rows stream lazily.

    Refuses (:class:`BadWorkbook`) a file that is not an .xlsx, unpacks past
    :data:`MAX_UNCOMPRESSED`, cannot be parsed, declares more than ``max_rows``
    data rows, or has no header row (within the first ``header_within`` rows)
    holding every ``required`` title. Iterating :attr:`Sheet.rows` refuses a
    sheet with more than ``max_rows`` non-blank data rows; blank rows are skipped.
    """
    required = list(required)
    _check_archive(data, filename, max_rows, header_within)
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        ws = wb.worksheets[0] if wb.worksheets else None
    except Exception as exc:  # openpyxl raises many kinds (zip, XML, key errors) for a broken file
        raise BadWorkbook("无法读取该工作簿，文件可能已损坏或不是 Excel 表格") from exc
    if ws is None:
        wb.close()
        raise BadWorkbook("工作簿中没有工作表")
    declared = ws.max_row
    header_row = 0
    titles: list[str] = []
    missing = required
    try:
        for number, values in enumerate(
            ws.iter_rows(max_row=header_within, max_col=MAX_COLUMNS, values_only=True), start=1
        ):
            found = [_title(v) for v in values]
            missing = [r for r in required if r not in found]
            if not missing:
                header_row, titles = number, found
                break
    except Exception as exc:
        wb.close()
        raise BadWorkbook("无法读取该工作簿，文件可能已损坏或不是 Excel 表格") from exc
    if not header_row or (declared is not None and declared - header_row > max_rows):
        wb.close()
    if not header_row and header_within == 1:
        raise BadWorkbook(f"第 1 行（表头）缺少列：{'、'.join(missing)}")
    if not header_row:
        raise BadWorkbook(f"前 {header_within} 行中没有找到表头（应包含：{'、'.join(required)}）")
    if declared is not None and declared - header_row > max_rows:
        raise BadWorkbook(f"一次最多导入 {max_rows} 行，该表有 {declared - header_row} 行")
    return Sheet(header_row, titles, _rows(ws, header_row, titles, max_rows))


def _rows(ws: Any, header_row: int, titles: list[str], max_rows: int) -> Iterator[SheetRow]:
    # Row numbers, not only data rows, are bounded: openpyxl yields a blank row
    # for every gap a sheet's row numbers leave, so a single
    # <row r="1000000000"> would otherwise keep this loop busy for minutes.
    last = header_row + 2 * max_rows + 1
    columns = [(t, i) for i, t in enumerate(titles) if t]
    count = 0
    try:
        for number, values in enumerate(
            ws.iter_rows(min_row=header_row + 1, max_col=MAX_COLUMNS, values_only=True),
            start=header_row + 1,
        ):
            if number > last:
                raise BadWorkbook(f"一次最多导入 {max_rows} 行（表格超过第 {last} 行）")
            cells = {t: values[i] if i < len(values) else None for t, i in columns}
            row = SheetRow(number, cells)
            if row.blank:
                continue
            count += 1
            if count > max_rows:
                raise BadWorkbook(f"一次最多导入 {max_rows} 行")
            for t, value in cells.items():
                message = _cell_error(value)
                if message is not None:
                    row.errors[t] = message
            yield row
    except BadWorkbook:
        raise
    except Exception as exc:
        raise BadWorkbook("无法读取该工作簿，文件可能已损坏或不是 Excel 表格") from exc
    finally:
        ws.parent.close()
