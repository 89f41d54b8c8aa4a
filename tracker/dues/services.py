"""Operations of 党费收缴: set a base, record a payment or a reason, read the ledger in bulk.

Plain functions that change objects and ``flush()`` — never ``commit()``. A broken
rule raises :class:`DuesError` with a Chinese message naming the field. The ledger
(:func:`ledgers`) reads the members, their dated facts, bases, payments and reasons
of any number of branches in five statements and folds them with ``tracker.dues.rules``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from tracker import clock
from tracker.config import current_settings
from tracker.dues import rules
from tracker.dues.models import DuesBase, DuesExcuse, DuesPayment
from tracker.dues.rules import Bands, BaseAt, DuesCategory, PayMethod, yuan
from tracker.errors import DomainError
from tracker.extensions import db
from tracker.models import Member
from tracker.org import history
from tracker.org.models import MemberFact


class DuesError(DomainError):
    """A broken dues rule; the message is Chinese, for the user."""

    code = "dues_rule"


def _label(month: date) -> str:
    return f"{month.year}年{month.month}月"


def bands() -> Bands:
    return Bands.of(current_settings().dues)


# ---------------------------------------------------------------- roster months


def roster_intervals(facts: Sequence[MemberFact]) -> list[tuple[date, date | None]]:
    """``[(first day on the roster, first day off or None)]`` from a member's dated facts.

    Follows :func:`tracker.org.history.fold` (a fact holds from its day on); a fact
    without a day (held since before the records) opens the roster at 1900-01-01.
    """
    ordered = sorted(facts, key=lambda f: (f.on or date.min, f.id or 0))
    days = sorted({f.on or date(1900, 1, 1) for f in ordered})
    out: list[tuple[date, date | None]] = []
    start: date | None = None
    for day in days:
        on = history.fold(ordered, day).on_roster
        if on and start is None:
            start = day
        elif not on and start is not None:
            out.append((start, day))
            start = None
    if start is not None:
        out.append((start, None))
    return out


# ---------------------------------------------------------------- the ledger


@dataclass
class MemberLedger:
    """One member's dues: bases, payments, reasons and the months folded from them."""

    member: Member
    bases: list[DuesBase]
    payments: list[DuesPayment]
    excuses: list[DuesExcuse]
    intervals: list[tuple[date, date | None]]
    # Payments and reasons were read from this month on only (None: all of them), so the
    # months before it are unknown here: :meth:`months` never answers for them.
    since: date | None = None

    def base_in(self, month: date) -> DuesBase | None:
        found = None
        for b in self.bases:
            if b.effective_month <= month:
                found = b
        return found

    def paid_by_month(self) -> dict[date, int]:
        paid: dict[date, int] = {}
        for p in self.payments:
            paid.update(
                rules.allocate(p.amount_fen, rules.months_between(p.first_month, p.last_month))
            )
        return paid

    def months(self, first: date, last: date) -> rules.MemberMonths:
        if self.since is not None:
            first = max(first, self.since)
        on = rules.roster_months(self.intervals, first, last)
        bases = [BaseAt(b.effective_month, b.monthly_fen) for b in self.bases]
        paid = {m: v for m, v in self.paid_by_month().items() if first <= m <= last}
        return rules.member_months(on, bases, paid)

    def excused(self, month: date) -> DuesExcuse | None:
        for e in self.excuses:
            if e.from_month <= month and (e.until_month is None or e.until_month >= month):
                return e
        return None

    def on_roster(self, month: date) -> bool:
        return bool(rules.roster_months(self.intervals, month, month))


def ledgers(branch_ids: Sequence[int], since: date | None = None) -> dict[int, list[MemberLedger]]:
    """``{branch_id: [MemberLedger]}`` of every member ever on these branches (five SELECTs).

    With ``since`` (a month) only the payments covering or paid in a month from it on,
    and the reasons still in force then, are read — what a month's figures and the
    six-months flag need, whatever the years of history behind them.
    """
    out: dict[int, list[MemberLedger]] = {b: [] for b in branch_ids}
    if not branch_ids:
        return out
    ids = list(branch_ids)
    members = db.session.scalars(
        select(Member).where(Member.branch_id.in_(ids)).order_by(Member.group_id, Member.name)
    ).all()
    of_branches = select(Member.id).where(Member.branch_id.in_(ids))
    facts: dict[int, list[MemberFact]] = {}
    for f in db.session.scalars(select(MemberFact).where(MemberFact.member_id.in_(of_branches))):
        facts.setdefault(f.member_id, []).append(f)
    bases: dict[int, list[DuesBase]] = {}
    for b in db.session.scalars(
        select(DuesBase)
        .where(DuesBase.member_id.in_(of_branches))
        .order_by(DuesBase.effective_month)
    ):
        bases.setdefault(b.member_id, []).append(b)
    pay_stmt = select(DuesPayment).where(DuesPayment.member_id.in_(of_branches))
    excuse_stmt = select(DuesExcuse).where(DuesExcuse.member_id.in_(of_branches))
    if since is not None:
        pay_stmt = pay_stmt.where(
            (DuesPayment.last_month >= since) | (DuesPayment.paid_on >= since)
        )
        excuse_stmt = excuse_stmt.where(
            DuesExcuse.until_month.is_(None) | (DuesExcuse.until_month >= since)
        )
    payments: dict[int, list[DuesPayment]] = {}
    for p in db.session.scalars(pay_stmt.order_by(DuesPayment.first_month, DuesPayment.id)):
        payments.setdefault(p.member_id, []).append(p)
    excuses: dict[int, list[DuesExcuse]] = {}
    for e in db.session.scalars(excuse_stmt.order_by(DuesExcuse.from_month)):
        excuses.setdefault(e.member_id, []).append(e)
    for m in members:
        out[m.branch_id].append(
            MemberLedger(
                member=m,
                bases=bases.get(m.id, []),
                payments=payments.get(m.id, []),
                excuses=excuses.get(m.id, []),
                intervals=roster_intervals(facts.get(m.id, [])),
                since=since,
            )
        )
    return out


def ledger_of(member: Member) -> MemberLedger:
    """One member's ledger."""
    found = next(
        lg for lg in ledgers([member.branch_id])[member.branch_id] if lg.member.id == member.id
    )
    return found


# ---------------------------------------------------------------- writes


def _check_month(month: date | None, field: str) -> date:
    if month is None:
        raise DuesError("请填写月份，如 2026-03", field)
    return rules.month_of(month)


def set_base(
    member: Member,
    effective_month: date | None,
    category: DuesCategory,
    income_fen: int | None = None,
    note: str = "",
    actor_id: int | None = None,
) -> DuesBase:
    """核定党费基数: the member's base from ``effective_month`` on (a second one for the
    same month corrects it). Earlier months keep the base they had."""
    month = _check_month(effective_month, "effective_month")
    if month > rules.add_months(rules.month_of(clock.today()), 12):
        raise DuesError("起用月份不能晚于一年以后", "effective_month")
    category = DuesCategory(category)
    if category == DuesCategory.income:
        if income_fen is None:
            raise DuesError("按收入比例交纳须填写税后月收入", "income")
        if income_fen < 0 or income_fen > 100_000_000:
            raise DuesError("税后月收入应在 0 至 1000000 元之间", "income")
    else:
        income_fen = None
    note = (note or "").strip()
    if len(note) > 200:
        raise DuesError("备注不能超过 200 字", "note")
    monthly, rate = rules.monthly_fen(category, income_fen, bands())
    base = db.session.scalar(
        select(DuesBase).where(DuesBase.member_id == member.id, DuesBase.effective_month == month)
    )
    if base is None:
        base = DuesBase(member_id=member.id, region_id=member.region_id, effective_month=month)
        db.session.add(base)
    base.category = category
    base.income_fen = income_fen
    base.rate_bp = rate
    base.monthly_fen = monthly
    base.note = note
    base.entered_by_id = actor_id
    db.session.flush()
    return base


@dataclass(frozen=True)
class PaymentInput:
    """A payment as entered on the form, the API or a sheet row."""

    first_month: date | None
    last_month: date | None
    amount_fen: int | None
    paid_on: date | None
    method: PayMethod
    collector: str
    note: str = ""


def record_payment(
    member: Member,
    data: PaymentInput,
    actor_id: int | None = None,
    ledger: MemberLedger | None = None,
) -> DuesPayment:
    """登记交纳: the months covered must be months the member owes (on the roster, base
    set), none already paid, not beyond ``[dues] prepay_months`` ahead; the amount at
    least what those months are due."""
    today = clock.today()
    first = _check_month(data.first_month, "first_month")
    last = _check_month(data.last_month or data.first_month, "last_month")
    if last < first:
        raise DuesError("截止月份不能早于起始月份", "last_month")
    limit = rules.add_months(rules.month_of(today), current_settings().dues.prepay_months)
    if last > limit:
        raise DuesError(f"最多预交到 {_label(limit)}", "last_month")
    if data.paid_on is None:
        raise DuesError("请填写交纳日期", "paid_on")
    if data.paid_on > today:
        raise DuesError("交纳日期不能晚于今天", "paid_on")
    if data.amount_fen is None or data.amount_fen <= 0:
        raise DuesError("请填写交纳金额（元），如 12.50", "amount")
    if data.amount_fen > 100_000_000:
        raise DuesError("交纳金额过大", "amount")
    collector = (data.collector or "").strip()
    if not collector:
        raise DuesError("请填写收缴人", "collector")
    if len(collector) > 32:
        raise DuesError("收缴人不能超过 32 字", "collector")
    note = (data.note or "").strip()
    if len(note) > 200:
        raise DuesError("备注不能超过 200 字", "note")
    lg = ledger or ledger_of(member)
    covered = rules.months_between(first, last)
    paid = lg.paid_by_month()
    due = 0
    for m in covered:
        if not lg.on_roster(m):
            raise DuesError(f"该党员 {_label(m)} 不在本支部名册中，不需交纳", "first_month")
        base = lg.base_in(m)
        if base is None:
            raise DuesError(f"请先核定该党员 {_label(m)} 起的党费基数", "first_month")
        if m in paid:
            raise DuesError(f"{_label(m)} 的党费已登记交纳", "first_month")
        due += base.monthly_fen
    if data.amount_fen < due:
        raise DuesError(
            f"交纳金额 {yuan(data.amount_fen)} 元少于所交月份应交的 {yuan(due)} 元", "amount"
        )
    payment = DuesPayment(
        member_id=member.id,
        region_id=member.region_id,
        first_month=first,
        last_month=last,
        amount_fen=data.amount_fen,
        paid_on=data.paid_on,
        method=PayMethod(data.method),
        collector=collector,
        note=note,
        entered_by_id=actor_id,
    )
    db.session.add(payment)
    lg.payments.append(payment)
    db.session.flush()
    return payment


def delete_payment(payment: DuesPayment) -> None:
    """Remove a payment entered by mistake (the audit log keeps it)."""
    db.session.delete(payment)
    db.session.flush()


def record_excuse(
    member: Member,
    from_month: date | None,
    until_month: date | None,
    reason: str,
    actor_id: int | None = None,
) -> DuesExcuse:
    """登记未交原因 (e.g. 外出务工失联，已电话联系; 经谈话，承诺补交)."""
    first = _check_month(from_month, "from_month")
    until = rules.month_of(until_month) if until_month else None
    if until is not None and until < first:
        raise DuesError("截止月份不能早于起始月份", "until_month")
    reason = (reason or "").strip()
    if not reason:
        raise DuesError("请填写未交原因或谈话情况", "reason")
    if len(reason) > 200:
        raise DuesError("原因不能超过 200 字", "reason")
    excuse = DuesExcuse(
        member_id=member.id,
        region_id=member.region_id,
        from_month=first,
        until_month=until,
        reason=reason,
        entered_by_id=actor_id,
    )
    db.session.add(excuse)
    db.session.flush()
    return excuse


def import_payments(
    branch_members: Sequence[Member],
    rows: Sequence[tuple[int, str, PaymentInput]],
    actor_id: int | None = None,
) -> int:
    """Enter the rows of a 交纳记录 sheet — all or none (a bad row names its number)."""
    by_name: dict[str, list[Member]] = {}
    for m in branch_members:
        by_name.setdefault(m.name, []).append(m)
    branch_ids = {m.branch_id for m in branch_members}
    books = {lg.member.id: lg for b in branch_ids for lg in ledgers([b])[b]}
    for number, name, data in rows:
        found = by_name.get(name, [])
        if not found:
            raise DuesError(f"第 {number} 行：本支部名册中没有「{name}」", "file")
        if len(found) > 1:
            raise DuesError(f"第 {number} 行：本支部有多名「{name}」，请在页面上逐条登记", "file")
        try:
            record_payment(found[0], data, actor_id, books[found[0].id])
        except DuesError as exc:
            raise DuesError(f"第 {number} 行：{exc.message}", "file") from exc
    return len(rows)
