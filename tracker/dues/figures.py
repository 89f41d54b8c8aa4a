"""The figures of 党费收缴, defined once (docs/figures.md #dues).

* :func:`month_summaries` — a branch's monthly collection (应交人数, 应交金额, 已交,
  欠交, 本月实收) for any number of branches;
* :func:`arrears` — each member's unpaid months, amount, run of consecutive unpaid
  months up to the last ended month, and the six-months flag (需谈话).

Pages, print view, Excel, API, the home to-do and the reminders job call these.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from tracker.config import current_settings
from tracker.dues import rules
from tracker.dues.services import MemberLedger, ledgers


@dataclass
class MemberMonth:
    """One member in one month: due, paid, and where they stand overall."""

    ledger: MemberLedger
    due_fen: int | None  # None: no base in force (未核定)
    paid_fen: int | None  # None: the month is not covered by a payment
    owes: bool  # on the roster that month (owes dues, possibly 0 when exempt)


@dataclass
class MonthSummary:
    """党费收缴月汇总 of one branch."""

    month: date
    members: int = 0  # on the roster on some day of the month
    no_base: int = 0  # of which without a base in force
    due_members: int = 0  # with an amount due (> 0)
    due_fen: int = 0
    paid_members: int = 0
    paid_fen: int = 0
    arrears_members: int = 0
    arrears_fen: int = 0
    collected_fen: int = 0  # payments received in the month (any months covered)
    flagged: int = 0  # members flagged as of the end of the month
    rows: list[MemberMonth] = field(default_factory=list)

    @property
    def paid_rate(self) -> float | None:
        return self.paid_members / self.due_members if self.due_members else None


@dataclass(frozen=True)
class Arrears:
    """A member's unpaid dues up to ``last`` (the last month that has ended)."""

    months: tuple[date, ...]  # owed and unpaid
    amount_fen: int
    run: int  # consecutive unpaid months ending at ``last``
    excused: bool
    flagged: bool  # run ≥ [dues] arrears_flag_months and no reason recorded
    no_base: int  # months on the roster without a base


# How far back a month's figures and the flag read payments: enough for any run that
# decides the flag (``arrears_flag_months`` ≤ 60) and to show runs up to two years.
WINDOW_MONTHS = 24


def window_start(month: date) -> date:
    """The first month read for the figures of ``month`` (see :data:`WINDOW_MONTHS`)."""
    span = max(WINDOW_MONTHS, current_settings().dues.arrears_flag_months)
    return rules.add_months(rules.month_of(month), -(span - 1))


def last_ended_month(day: date) -> date:
    """The last month that has ended by ``day`` (dues of a month are payable during it)."""
    return rules.add_months(rules.month_of(day), -1)


def member_arrears(lg: MemberLedger, as_of: date) -> Arrears:
    """One member's :class:`Arrears` as of ``as_of`` (months before its month)."""
    last = last_ended_month(as_of)
    first = min((b.effective_month for b in lg.bases), default=None)
    if first is None or first > last:  # nothing owed yet: no base in force before this month
        return Arrears((), 0, 0, False, False, 0)
    months = lg.months(first, last)
    unpaid = months.unpaid()
    run = rules.unpaid_run(months, last)
    excused = lg.excused(last) is not None
    threshold = current_settings().dues.arrears_flag_months
    return Arrears(
        months=tuple(unpaid),
        amount_fen=months.arrears_fen(),
        run=run,
        excused=excused,
        flagged=rules.flagged(run, threshold, excused),
        no_base=len(months.no_base),
    )


def arrears(
    branch_ids: Sequence[int], as_of: date, recent: bool = False
) -> dict[int, dict[int, Arrears]]:
    """``{branch_id: {member_id: Arrears}}`` of the members with something unpaid or flagged.

    ``recent``: read only the :data:`WINDOW_MONTHS` before ``as_of`` — the flag and the
    run are exact, the unpaid months and amount those of the window (the home to-do).
    """
    out: dict[int, dict[int, Arrears]] = {}
    since = window_start(last_ended_month(as_of)) if recent else None
    for branch_id, books in ledgers(branch_ids, since).items():
        out[branch_id] = {}
        for lg in books:
            a = member_arrears(lg, as_of)
            if a.months or a.flagged:
                out[branch_id][lg.member.id] = a
    return out


def summarize(books: Sequence[MemberLedger], month: date) -> MonthSummary:
    """The :class:`MonthSummary` of one branch's ledgers in ``month``."""
    month = rules.month_of(month)
    s = MonthSummary(month=month)
    threshold = current_settings().dues.arrears_flag_months
    end = rules.month_end(month)
    for lg in books:
        s.collected_fen += sum(p.amount_fen for p in lg.payments if month <= p.paid_on <= end)
        if not lg.on_roster(month):
            continue
        s.members += 1
        base = lg.base_in(month)
        paid = lg.paid_by_month().get(month)
        s.rows.append(MemberMonth(lg, base.monthly_fen if base else None, paid, True))
        if base is None:
            s.no_base += 1
            continue
        if base.monthly_fen > 0:
            s.due_members += 1
            s.due_fen += base.monthly_fen
            if paid is None:
                s.arrears_members += 1
                s.arrears_fen += base.monthly_fen
        if paid is not None:
            s.paid_members += 1 if base.monthly_fen > 0 else 0
            s.paid_fen += paid
        months = lg.months(min(b.effective_month for b in lg.bases), month)
        if rules.flagged(rules.unpaid_run(months, month), threshold, lg.excused(month) is not None):
            s.flagged += 1
    return s


def month_summaries(branch_ids: Sequence[int], month: date) -> dict[int, MonthSummary]:
    """``{branch_id: MonthSummary}`` for ``month`` (five SELECTs for any number of branches;
    payments of :data:`WINDOW_MONTHS` months only, whatever the years behind them)."""
    since = window_start(month)
    return {b: summarize(books, month) for b, books in ledgers(branch_ids, since).items()}
