"""党费 rules without a database: the national bands on their boundaries, fixed amounts,
months on the roster, the run of unpaid months and the six-months flag."""

from __future__ import annotations

from datetime import date

import pytest

from tracker.dues import rules
from tracker.dues.rules import Bands, BaseAt, DuesCategory

BANDS = Bands()


@pytest.mark.parametrize(
    ("income_yuan", "rate"),
    [
        ("0", 50),
        ("3000.00", 50),  # ≤ 3000 元 (inclusive): 0.5 %
        ("3000.01", 100),
        ("5000.00", 100),  # 3000–5000 元 (inclusive): 1 %
        ("5000.01", 150),
        ("10000.00", 150),  # 5000–10000 元 (inclusive): 1.5 %
        ("10000.01", 200),  # above 10000 元: 2 %
    ],
)
def test_the_rate_band_includes_its_upper_bound(income_yuan: str, rate: int) -> None:
    assert rules.rate_bp(rules.parse_yuan(income_yuan), BANDS) == rate


def test_income_times_rate_is_rounded_half_up_to_the_fen() -> None:
    assert rules.monthly_fen(DuesCategory.income, 3000_00, BANDS) == (15_00, 50)
    assert rules.monthly_fen(DuesCategory.income, 3456_78, BANDS) == (34_57, 100)  # 34.5678
    assert rules.monthly_fen(DuesCategory.income, 5000_50, BANDS) == (75_01, 150)  # 75.0075
    assert rules.monthly_fen(DuesCategory.income, 12000_00, BANDS) == (240_00, 200)


def test_farmers_hardship_and_students_pay_the_fixed_amount_and_exempt_nothing() -> None:
    assert rules.monthly_fen(DuesCategory.farmer, None, BANDS) == (20, None)
    assert rules.monthly_fen(DuesCategory.hardship, None, BANDS) == (20, None)
    assert rules.monthly_fen(DuesCategory.student, None, BANDS) == (20, None)
    assert rules.monthly_fen(DuesCategory.exempt, None, BANDS) == (0, None)
    assert rules.monthly_fen(DuesCategory.farmer, None, Bands(farmer_fen=100)) == (100, None)


def test_money_text_is_exact_and_refuses_fractions_of_a_fen() -> None:
    assert rules.parse_yuan("0.2") == 20
    assert rules.parse_yuan("12.50元") == 1250
    assert rules.yuan(1250) == "12.50"
    for bad in ("1.234", "-1", "abc", "NaN"):
        with pytest.raises((ValueError, ArithmeticError)):
            rules.parse_yuan(bad)


def test_a_base_holds_from_its_month_and_earlier_months_keep_theirs() -> None:
    bases = [BaseAt(date(2026, 1, 1), 15_00), BaseAt(date(2026, 7, 1), 90_00)]
    assert rules.due_in(bases, date(2025, 12, 1)) is None
    assert rules.due_in(bases, date(2026, 6, 1)) == 15_00
    assert rules.due_in(bases, date(2026, 7, 1)) == 90_00


def test_a_month_is_owed_for_any_day_on_the_roster() -> None:
    # On the roster from 15 June; off from 1 October (transferred out that day).
    months = rules.roster_months(
        [(date(2026, 6, 15), date(2026, 10, 1))], date(2026, 1, 1), date(2026, 12, 1)
    )
    assert sorted(months) == [date(2026, m, 1) for m in (6, 7, 8, 9)]


def _months(first_month: int, last_month: int, paid: set[int] = frozenset()) -> rules.MemberMonths:
    on = {date(2026, m, 1) for m in range(first_month, last_month + 1)}
    return rules.member_months(
        on, [BaseAt(date(2026, 1, 1), 20)], {date(2026, m, 1): 20 for m in paid}
    )


def test_six_unpaid_months_in_a_row_flag_and_five_do_not() -> None:
    assert rules.unpaid_run(_months(6, 11), date(2026, 11, 1)) == 6
    assert rules.flagged(6, 6, excused=False)
    assert rules.unpaid_run(_months(7, 11), date(2026, 11, 1)) == 5
    assert not rules.flagged(5, 6, excused=False)
    assert not rules.flagged(8, 6, excused=True)


def test_a_paid_month_ends_the_run() -> None:
    assert rules.unpaid_run(_months(1, 11, paid={8}), date(2026, 11, 1)) == 3


def test_a_payment_is_split_evenly_with_the_odd_fen_first() -> None:
    months = [date(2026, m, 1) for m in (1, 2, 3)]
    assert rules.allocate(100, months) == {months[0]: 34, months[1]: 33, months[2]: 33}
