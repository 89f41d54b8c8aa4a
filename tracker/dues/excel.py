"""党费收缴台账 in Excel: the year's ledger (one row per member, a column per month) with the
payments on a second sheet, and the payments sheet (交纳记录) that imports back.

Written and read through :mod:`tracker.xlsx` only. Amounts are written as numbers of
yuan with two decimals (``Decimal``, never float arithmetic) and read back as text.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

from openpyxl.worksheet.worksheet import Worksheet

from tracker import xlsx
from tracker.dues import rules
from tracker.dues.rules import CATEGORY_LABELS, METHOD_LABELS, PayMethod
from tracker.dues.services import DuesError, MemberLedger, PaymentInput
from tracker.formatting import excel_formats
from tracker.models import Region

PAYMENT_COLUMNS = [
    "序号",
    "姓名",
    "起始月份",
    "截止月份",
    "金额（元）",
    "交纳日期",
    "交纳方式",
    "收缴人",
    "备注",
]
PAYMENT_WIDTHS = [6, 10, 10, 10, 10, 12, 10, 10, 30]
MAX_ROWS = 5000  # a branch's year of payments is hundreds of rows


def _money(fen: int) -> Decimal:
    return Decimal(fen) / 100


def _month_text(month: date) -> str:
    return f"{month:%Y-%m}"


def ledger_workbook(village: Region, books: Sequence[MemberLedger], year: int) -> bytes:
    """党费收缴台账 of ``year``: per member its base, each month's amount paid, totals."""
    months = [date(year, m, 1) for m in range(1, 13)]
    wb, ws = xlsx.new_workbook("党费收缴台账")
    columns = [
        "序号",
        "姓名",
        "缴纳类别",
        "税后月收入（元）",
        "月交纳额（元）",
        *[f"{m.month}月" for m in months],
        "全年应交（元）",
        "全年已交（元）",
        "欠交（元）",
    ]
    xlsx.title(ws, f"{village.name} {year}年党费收缴台账", span=len(columns))
    xlsx.header(ws, columns)
    n = 0
    for lg in books:
        mm = lg.months(months[0], months[-1])
        if not (mm.owed or mm.no_base or mm.paid):
            continue
        n += 1
        base = lg.base_in(months[-1]) or lg.base_in(months[0])
        cells: list[object] = []
        for m in months:
            if m in mm.paid:
                cells.append(_money(mm.paid[m]))
            elif m in mm.owed:
                cells.append("欠")
            else:
                cells.append("")
        due = sum(mm.owed.values())
        xlsx.append(
            ws,
            [
                n,
                lg.member.name,
                CATEGORY_LABELS[base.category] if base else "未核定",
                _money(base.income_fen) if base and base.income_fen is not None else "",
                _money(base.monthly_fen) if base else "",
                *cells,
                _money(due),
                _money(sum(mm.paid.values())),
                _money(mm.arrears_fen()),
            ],
        )
    xlsx.widths(ws, [6, 10, 12, 12, 10, *[7] * 12, 12, 12, 10])
    ws2 = wb.create_sheet("交纳记录")
    _payments_sheet(ws2, village, books, year)
    return xlsx.to_bytes(wb)


def _payments_sheet(
    ws: Worksheet, village: Region, books: Sequence[MemberLedger], year: int | None
) -> None:
    title = f"{village.name} {year}年党费交纳记录" if year else f"{village.name} 党费交纳记录"
    xlsx.title(ws, title, span=len(PAYMENT_COLUMNS))
    xlsx.header(ws, PAYMENT_COLUMNS)
    rows = [
        (p, lg.member.name)
        for lg in books
        for p in lg.payments
        if year is None or p.first_month.year <= year <= p.last_month.year
    ]
    rows.sort(key=lambda pair: (pair[0].paid_on, pair[0].id))
    for i, (p, name) in enumerate(rows, start=1):
        xlsx.append(
            ws,
            [
                i,
                name,
                _month_text(p.first_month),
                _month_text(p.last_month),
                _money(p.amount_fen),
                p.paid_on,
                p.method_label,
                p.collector,
                p.note,
            ],
        )
    excel_formats(ws.iter_rows(min_row=3))
    xlsx.widths(ws, PAYMENT_WIDTHS)


def payments_workbook(village: Region, books: Sequence[MemberLedger], year: int | None) -> bytes:
    """The payments (交纳记录) alone, in the columns the import reads."""
    wb, ws = xlsx.new_workbook("交纳记录")
    _payments_sheet(ws, village, books, year)
    return xlsx.to_bytes(wb)


def _month(value: object, row: int, what: str) -> date:
    if isinstance(value, datetime):
        return value.date().replace(day=1)
    if isinstance(value, date):
        return value.replace(day=1)
    text = str(value or "").strip().replace("年", "-").replace("月", "").replace("/", "-")
    try:
        y, m = text.split("-")[:2]
        return date(int(y), int(m), 1)
    except ValueError as exc:
        raise DuesError(f"第 {row} 行「{what}」应为月份，如 2026-03", "file") from exc


def _day(value: object, row: int) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value or "").strip())
    except ValueError as exc:
        raise DuesError(f"第 {row} 行「交纳日期」应为日期，如 2026-03-05", "file") from exc


def _amount(value: object, row: int) -> int:
    try:
        if isinstance(value, bool):
            raise ValueError(value)
        if isinstance(value, float):
            # A number cell: Excel stores binary floats; its shortest repr is the typed text.
            value = repr(value)
        return rules.parse_yuan(str(value))
    except (ValueError, ArithmeticError) as exc:
        raise DuesError(f"第 {row} 行「金额（元）」应为金额，如 12.50", "file") from exc


def _method(value: object, row: int) -> PayMethod:
    text = str(value or "").strip()
    for key, label in METHOD_LABELS.items():
        if text in (label, key.value):
            return key
    if text in ("银行转账", "对公转账"):
        return PayMethod.transfer
    raise DuesError(f"第 {row} 行：无法识别的交纳方式「{text}」", "file")


def read_payments(data: bytes) -> list[tuple[int, str, PaymentInput]]:
    """``[(row number, member name, PaymentInput)]`` of a sheet in :data:`PAYMENT_COLUMNS`."""
    try:
        sheet = xlsx.read_sheet(
            data, required=PAYMENT_COLUMNS[1:8], max_rows=MAX_ROWS, header_within=5
        )
        rows = list(sheet.rows)
    except xlsx.BadWorkbook as exc:
        raise DuesError(str(exc), "file") from exc
    out = []
    for row in rows:
        if row.errors:
            title, message = next(iter(row.errors.items()))
            raise DuesError(f"第 {row.number} 行「{title}」：{message}", "file")
        c = row.cells
        if not any(c.get(t) for t in PAYMENT_COLUMNS[1:8]):
            continue
        n = row.number
        name = str(c.get("姓名") or "").strip()
        if not name:
            raise DuesError(f"第 {n} 行：请填写姓名", "file")
        collector = str(c.get("收缴人") or "").strip()
        note = str(c.get("备注") or "").strip()
        if len(collector) > 32:
            raise DuesError(f"第 {n} 行「收缴人」不能超过 32 字", "file")
        if len(note) > 200:
            raise DuesError(f"第 {n} 行「备注」不能超过 200 字", "file")
        first = _month(c.get("起始月份"), n, "起始月份")
        last = _month(c.get("截止月份"), n, "截止月份") if c.get("截止月份") else first
        out.append(
            (
                n,
                name,
                PaymentInput(
                    first_month=first,
                    last_month=last,
                    amount_fen=_amount(c.get("金额（元）"), n),
                    paid_on=_day(c.get("交纳日期"), n),
                    method=_method(c.get("交纳方式"), n),
                    collector=collector,
                    note=note,
                ),
            )
        )
    if not out:
        raise DuesError("表格中没有数据行", "file")
    return out
