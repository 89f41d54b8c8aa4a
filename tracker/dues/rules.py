"""The rules of 党费 (membership dues), pure: bands, months owed, arrears.

No database and no Flask: values in, values out. Money is integer fen (分)
throughout; a rate is in basis points (1 bp = 0.01 %). The bands are those of
《关于中国共产党党费收缴、使用和管理的规定》 (2008), read from ``[dues]``:

* monthly income after tax ≤ 3000 元 → 0.5 %; 3000–5000 元 (inclusive) → 1 %;
  5000–10000 元 (inclusive) → 1.5 %; above 10000 元 → 2 %;
* 农民党员 a fixed small amount (0.2 元 by default), as do members on subsistence
  allowance or in hardship (低保 / 生活困难) and students; 免交 (approved exemption) 0.

A month is owed by a member who was on the branch's roster on any day of it
(the dated facts, ``tracker.org.history``) and whose dues base had taken effect
by then. A member who left several months unpaid in a row, up to the last month
that has ended, without a recorded reason, is flagged after
``arrears_flag_months`` (six): the regulation treats six months unpaid without a
reason as leaving the Party of one's own accord, after a talk.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tracker.config import DuesSettings


class DuesCategory(enum.StrEnum):
    """How a member's dues are set (缴纳类别)."""

    income = "income"  # 按月工资收入（税后）比例交纳
    farmer = "farmer"  # 农民党员
    hardship = "hardship"  # 享受低保 / 生活困难党员
    student = "student"  # 学生党员
    exempt = "exempt"  # 经批准免交


CATEGORY_LABELS = {
    DuesCategory.income: "按收入比例",
    DuesCategory.farmer: "农民党员",
    DuesCategory.hardship: "低保/生活困难",
    DuesCategory.student: "学生党员",
    DuesCategory.exempt: "经批准免交",
}


class PayMethod(enum.StrEnum):
    """How dues were paid (交纳方式)."""

    cash = "cash"
    wechat = "wechat"
    alipay = "alipay"
    transfer = "transfer"
    other = "other"


METHOD_LABELS = {
    PayMethod.cash: "现金",
    PayMethod.wechat: "微信",
    PayMethod.alipay: "支付宝",
    PayMethod.transfer: "转账",
    PayMethod.other: "其他",
}


@dataclass(frozen=True)
class Bands:
    """The configured bands and fixed amounts (``[dues]`` of config.toml)."""

    bounds_yuan: tuple[int, int, int] = (3000, 5000, 10000)
    rates_bp: tuple[int, int, int, int] = (50, 100, 150, 200)
    farmer_fen: int = 20
    hardship_fen: int = 20
    student_fen: int = 20

    @classmethod
    def of(cls, cfg: DuesSettings) -> Bands:
        """From the ``[dues]`` section."""
        return cls(
            bounds_yuan=(cfg.band1_upto_yuan, cfg.band2_upto_yuan, cfg.band3_upto_yuan),
            rates_bp=(cfg.band1_rate_bp, cfg.band2_rate_bp, cfg.band3_rate_bp, cfg.rate_top_bp),
            farmer_fen=cfg.farmer_fen,
            hardship_fen=cfg.hardship_fen,
            student_fen=cfg.student_fen,
        )


def rate_bp(income_fen: int, bands: Bands) -> int:
    """The rate (basis points) of a monthly income after tax, bounds inclusive."""
    for bound, rate in zip(bands.bounds_yuan, bands.rates_bp, strict=False):
        if income_fen <= bound * 100:
            return rate
    return bands.rates_bp[-1]


def monthly_fen(
    category: DuesCategory, income_fen: int | None, bands: Bands
) -> tuple[int, int | None]:
    """``(monthly dues in fen, rate in bp or None for a fixed amount)`` for a base.

    Income × rate is rounded half up to the fen (3456.78 元 × 1 % = 34.57 元).
    """
    if category == DuesCategory.income:
        if income_fen is None or income_fen < 0:
            raise ValueError("income base required")
        rate = rate_bp(income_fen, bands)
        amount = (Decimal(income_fen) * rate / Decimal(10_000)).quantize(
            Decimal(1), rounding=ROUND_HALF_UP
        )
        return int(amount), rate
    fixed = {
        DuesCategory.farmer: bands.farmer_fen,
        DuesCategory.hardship: bands.hardship_fen,
        DuesCategory.student: bands.student_fen,
        DuesCategory.exempt: 0,
    }
    return fixed[category], None


# ---------------------------------------------------------------- months


def month_of(day: date) -> date:
    """The first day of ``day``'s month (a month is always stored as its first day)."""
    return day.replace(day=1)


def add_months(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def month_end(month: date) -> date:
    return add_months(month, 1) - timedelta(days=1)


def months_between(first: date, last: date) -> list[date]:
    """Every month from ``first`` to ``last`` inclusive (first days)."""
    out = []
    m = month_of(first)
    while m <= last:
        out.append(m)
        m = add_months(m, 1)
    return out


def month_count(first: date, last: date) -> int:
    return (last.year - first.year) * 12 + last.month - first.month + 1


def yuan(fen: int) -> str:
    """``1234`` → ``"12.34"`` (display and Excel text; never a float)."""
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}{fen // 100}.{fen % 100:02d}"


def parse_yuan(text: str) -> int:
    """``"12.3"`` → ``1230`` fen; at most two decimals, not negative. ``ValueError`` otherwise."""
    value = Decimal(str(text).strip().replace("元", "").replace(",", ""))
    if not value.is_finite() or value < 0 or value != value.quantize(Decimal("0.01")):
        raise ValueError(text)
    return int(value * 100)


# ---------------------------------------------------------------- who owes what


@dataclass(frozen=True)
class BaseAt:
    """A dues base from its effective month on: monthly amount in fen."""

    effective: date  # first day of the month
    monthly_fen: int


def due_in(bases: Sequence[BaseAt], month: date) -> int | None:
    """The monthly amount of the base in force in ``month`` (None: no base yet)."""
    current: int | None = None
    for base in sorted(bases, key=lambda b: b.effective):
        if base.effective <= month:
            current = base.monthly_fen
    return current


def roster_months(
    intervals: Iterable[tuple[date, date | None]], first: date, last: date
) -> set[date]:
    """Months in ``first..last`` during which any roster interval ``[start, end)`` held a day."""
    months: set[date] = set()
    for start, end in intervals:
        lo = max(start, month_of(first))
        # ``end`` is the first day off the roster; the last day on it is end - 1.
        hi = month_end(last) if end is None else min(month_end(last), end - timedelta(days=1))
        if hi < lo:
            continue
        months.update(months_between(lo, hi))
    return months


@dataclass(frozen=True)
class MemberMonths:
    """What one member owes and paid, month by month, in a range of months."""

    owed: dict[date, int]  # month → due (fen) for the months owed (due > 0)
    paid: dict[date, int]  # month → amount allocated (fen) for the months a payment covers
    no_base: frozenset[date]  # months on the roster without a base in force

    def unpaid(self) -> list[date]:
        return sorted(m for m in self.owed if m not in self.paid)

    def arrears_fen(self) -> int:
        return sum(self.owed[m] for m in self.unpaid())


def member_months(
    on_roster: set[date],
    bases: Sequence[BaseAt],
    paid: dict[date, int],
) -> MemberMonths:
    """Fold a member's roster months, bases and payments into :class:`MemberMonths`."""
    owed: dict[date, int] = {}
    no_base: set[date] = set()
    for m in on_roster:
        due = due_in(bases, m)
        if due is None:
            no_base.add(m)
        elif due > 0:
            owed[m] = due
    return MemberMonths(owed=owed, paid=dict(paid), no_base=frozenset(no_base))


def unpaid_run(months: MemberMonths, last: date) -> int:
    """Consecutive months owed and unpaid ending at ``last`` (连续未交月数).

    A paid month or a month not owed (off the roster, exempt) ends the run.
    """
    run = 0
    m = last
    while m in months.owed and m not in months.paid:
        run += 1
        m = add_months(m, -1)
    return run


def allocate(amount_fen: int, months: Sequence[date]) -> dict[date, int]:
    """Split a payment over the months it covers, evenly; the remainder fen to the first."""
    if not months:
        return {}
    share, rest = divmod(amount_fen, len(months))
    return {m: share + (rest if i == 0 else 0) for i, m in enumerate(months)}


def flagged(run: int, threshold: int, excused: bool) -> bool:
    """Six (``threshold``) months unpaid in a row and no recorded reason → talk required."""
    return run >= threshold and not excused
