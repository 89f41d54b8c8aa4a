"""工作日: official working days with 调休, admin overrides, and the Mon–Fri fallback."""

from datetime import date, timedelta

import pytest

from tracker.workdays import WorkCalendar, package_covers

CAL = WorkCalendar()


def test_spring_festival_2026_days_are_off():
    assert not CAL.is_workday(date(2026, 2, 17))  # 春节
    assert not CAL.is_workday(date(2026, 2, 23))


def test_make_up_saturday_is_a_working_day():
    assert CAL.is_workday(date(2026, 2, 14))  # 调休 Saturday before 春节
    assert CAL.is_workday(date(2026, 10, 10))  # 调休 Saturday after 国庆


def test_add_working_days_counts_from_the_next_day():
    # Monday + 1 working day = Tuesday.
    assert CAL.add_working_days(date(2026, 3, 2), 1) == (date(2026, 3, 3), True)


def test_zero_working_days_is_the_same_day():
    assert CAL.add_working_days(date(2026, 3, 2), 0) == (date(2026, 3, 2), True)


def test_add_working_days_across_national_day_uses_make_up_saturday():
    # Received Wed 30 Sep 2026; 1 Oct–7 Oct off; Thu 8, Fri 9, Sat 10 (调休) work.
    assert CAL.add_working_days(date(2026, 9, 30), 3) == (date(2026, 10, 10), True)


def test_add_working_days_across_spring_festival():
    # Received Fri 13 Feb; Sat 14 works (调休); 15–23 off; Tue 24 is the 2nd working day.
    assert CAL.add_working_days(date(2026, 2, 13), 2) == (date(2026, 2, 24), True)


def test_uncovered_year_falls_back_to_monday_to_friday_unofficially():
    assert not package_covers(2031)
    day, official = CAL.add_working_days(date(2031, 1, 3), 1)  # Friday
    assert day == date(2031, 1, 6)  # Monday
    assert official is False


def test_admin_overrides_make_an_uncovered_year_official():
    cal = WorkCalendar({date(2031, 1, 6): False})  # an admin-entered holiday
    day, official = cal.add_working_days(date(2031, 1, 3), 1)
    assert day == date(2031, 1, 7)
    assert official is True


def test_package_wins_over_overrides_for_covered_years():
    cal = WorkCalendar({date(2026, 10, 1): True})
    assert not cal.is_workday(date(2026, 10, 1))


def test_working_days_between_counts_after_start_up_to_end():
    assert CAL.working_days_between(date(2026, 9, 30), date(2026, 10, 10)) == 3
    assert CAL.working_days_between(date(2026, 3, 3), date(2026, 3, 3)) == 0


def test_negative_days_are_refused():
    with pytest.raises(ValueError):
        CAL.add_working_days(date(2026, 3, 2), -1)


def test_working_days_between_counts_like_walking_the_days():
    """The running counts give the same answer as checking every day (years crossed,
    overrides, an uncovered year's Mon–Fri fallback)."""
    import random

    cal = WorkCalendar(overrides={date(2031, 1, 2): False, date(2031, 1, 4): True})

    def walked(start: date, end: date) -> int:
        n, day = 0, start
        while day < end:
            day += timedelta(days=1)
            n += cal.is_workday(day)
        return n

    rng = random.Random(7)
    for _ in range(300):
        start = date(2023, 1, 1) + timedelta(days=rng.randrange(3650))
        end = start + timedelta(days=rng.randrange(-30, 900))
        assert cal.working_days_between(start, end) == walked(start, end), (start, end)
    # 1 Jan (Mon–Fri fallback), 3 Jan; 2 Jan overridden off, Saturday 4 Jan on
    assert cal.working_days_between(date(2030, 12, 31), date(2031, 1, 4)) == 3
