"""限时办结 arithmetic and the matter state machine, without a database."""

from datetime import date

import pytest

from tracker.matters.models import EventKind, MatterKind, MatterStatus, Rating
from tracker.matters.rules import (
    MatterState,
    TransitionError,
    allowed_events,
    callback_due,
    catalog_errors,
    check_event,
    due_date,
    id_number_error,
    is_due_soon,
    is_overdue,
    pauses_from,
    phone_error,
    working_days_taken,
)
from tracker.workdays import WorkCalendar

CAL = WorkCalendar()


# -- National Day 2026: Oct 1–7 off, Sun Sep 20 and Sat Oct 10 are make-up workdays --


def test_promised_matter_received_before_national_day_skips_the_holiday_and_counts_oct_10():
    # Oct 8 (1), Oct 9 (2), Sat Oct 10 make-up (3), Mon Oct 12 (4), Tue Oct 13 (5)
    result = due_date(CAL, date(2026, 9, 30), 5)
    assert result.due_on == date(2026, 10, 13)
    assert result.official is True


def test_one_day_matter_received_on_the_saturday_before_is_due_on_make_up_sunday_sep_20():
    assert due_date(CAL, date(2026, 9, 19), 1).due_on == date(2026, 9, 20)


def test_one_day_matter_received_on_oct_9_is_due_on_make_up_saturday_oct_10():
    assert due_date(CAL, date(2026, 10, 9), 1).due_on == date(2026, 10, 10)


def test_matter_received_during_national_day_counts_from_oct_8():
    assert due_date(CAL, date(2026, 10, 3), 1).due_on == date(2026, 10, 8)


def test_immediate_matter_is_due_the_day_it_was_received_even_on_a_holiday():
    assert due_date(CAL, date(2026, 10, 3), 0).due_on == date(2026, 10, 3)


# -- Spring Festival 2026: Feb 15–23 off, Sat Feb 14 and Sat Feb 28 are make-up workdays --


def test_matter_received_before_spring_festival_counts_make_up_saturday_feb_14():
    # Sat Feb 14 (1), holiday to Feb 23, Tue Feb 24 (2), Wed Feb 25 (3)
    assert due_date(CAL, date(2026, 2, 13), 3).due_on == date(2026, 2, 25)


def test_matter_received_after_spring_festival_counts_make_up_saturday_feb_28():
    # Fri Feb 27 (1), Sat Feb 28 make-up (2)
    assert due_date(CAL, date(2026, 2, 26), 2).due_on == date(2026, 2, 28)


def test_matter_received_on_new_years_eve_skips_spring_festival_week():
    # Received Feb 16 (holiday): Feb 24 (1) … Feb 27 (4), Sat Feb 28 (5)
    assert due_date(CAL, date(2026, 2, 16), 5).due_on == date(2026, 2, 28)


# -- pauses (补正) ---------------------------------------------------------------


def test_paused_days_do_not_count():
    # Mon Mar 2, 5 days; missing noticed Tue Mar 3, supplied Thu Mar 5.
    # Mar 3 (1); Mar 4–5 paused; Mar 6 (2), Mar 9 (3), Mar 10 (4), Mar 11 (5)
    assert due_date(CAL, date(2026, 3, 2), 5).due_on == date(2026, 3, 9)
    paused = due_date(CAL, date(2026, 3, 2), 5, [(date(2026, 3, 3), date(2026, 3, 5))])
    assert paused.due_on == date(2026, 3, 11)


def test_materials_missing_at_the_counter_start_the_clock_after_they_arrive():
    # Received and paused Mon Mar 2, supplied Wed Mar 4: Mar 5 (1), Mar 6 (2)
    pauses = [(date(2026, 3, 2), date(2026, 3, 4))]
    assert due_date(CAL, date(2026, 3, 2), 2, pauses).due_on == date(2026, 3, 6)


def test_an_open_pause_leaves_the_due_date_unknown_and_never_overdue():
    result = due_date(CAL, date(2026, 3, 2), 5, [(date(2026, 3, 3), None)])
    assert result.due_on is None
    assert not is_overdue(MatterStatus.paused, result.due_on, date(2026, 12, 1))


def test_a_pause_across_national_day():
    # Received Sep 28 (Mon), 5 days: Sep 29 (1), paused Sep 30 … Oct 9,
    # Sat Oct 10 (2), Oct 12 (3), Oct 13 (4), Oct 14 (5)
    pauses = [(date(2026, 9, 29), date(2026, 10, 9))]
    assert due_date(CAL, date(2026, 9, 28), 5, pauses).due_on == date(2026, 10, 14)


def test_immediate_matter_paused_is_due_the_day_materials_arrive():
    pauses = [(date(2026, 3, 2), date(2026, 3, 4))]
    assert due_date(CAL, date(2026, 3, 2), 0, pauses).due_on == date(2026, 3, 4)


def test_pauses_come_from_the_timeline():
    events = [
        (EventKind.accepted, date(2026, 3, 2)),
        (EventKind.materials_missing, date(2026, 3, 3)),
        (EventKind.materials_supplied, date(2026, 3, 5)),
        (EventKind.materials_missing, date(2026, 3, 9)),
    ]
    assert pauses_from(events, date(2026, 3, 2)) == [
        (date(2026, 3, 3), date(2026, 3, 5)),
        (date(2026, 3, 9), None),
    ]


def test_working_days_taken_excludes_pauses_and_holidays():
    assert working_days_taken(CAL, date(2026, 9, 30), date(2026, 10, 13)) == 5
    assert working_days_taken(CAL, date(2026, 3, 2), date(2026, 3, 2)) == 0
    pauses = [(date(2026, 3, 3), date(2026, 3, 5))]
    assert working_days_taken(CAL, date(2026, 3, 2), date(2026, 3, 11), pauses) == 5


# -- years the package does not cover (2027) -------------------------------------


def test_a_year_nobody_published_falls_back_to_monday_to_friday_flagged_unofficial():
    # Thu Dec 31 2026, 3 days: Fri Jan 1 2027 counts under Mon–Fri (1), Jan 4 (2), Jan 5 (3)
    result = due_date(CAL, date(2026, 12, 31), 3)
    assert result.due_on == date(2027, 1, 5)
    assert result.official is False


def test_admin_overrides_make_2027_official():
    cal = WorkCalendar.from_rows(
        [(date(2027, 1, 1), False), (date(2027, 1, 2), False), (date(2027, 1, 3), False)]
    )
    result = due_date(cal, date(2026, 12, 31), 3)
    assert result.due_on == date(2027, 1, 6)  # Jan 4, 5, 6
    assert result.official is True


def test_an_override_make_up_saturday_counts_in_2027():
    cal = WorkCalendar.from_rows([(date(2027, 1, 1), False), (date(2027, 1, 9), True)])
    # Fri Jan 8 + 2: Sat Jan 9 (override workday) (1), Mon Jan 11 (2)
    assert due_date(cal, date(2027, 1, 8), 2).due_on == date(2027, 1, 11)
    assert due_date(cal, date(2027, 1, 8), 1).due_on == date(2027, 1, 9)


def test_an_uncovered_year_never_raises_even_far_ahead():
    result = due_date(CAL, date(2031, 6, 30), 20)
    assert result.due_on is not None and result.official is False


def test_callback_is_due_five_working_days_after_the_bad_rating():
    # Rated Wed Sep 30: Oct 8, 9, 10 (make-up), 12, 13
    assert callback_due(CAL, date(2026, 9, 30), 5).due_on == date(2026, 10, 13)


# -- overdue / due soon ------------------------------------------------------------


def test_overdue_only_after_the_due_day_and_only_while_open():
    due = date(2026, 10, 13)
    assert not is_overdue(MatterStatus.accepted, due, date(2026, 10, 13))
    assert is_overdue(MatterStatus.accepted, due, date(2026, 10, 14))
    assert not is_overdue(MatterStatus.completed, due, date(2026, 10, 14))


def test_due_soon_means_today_or_the_next_working_day():
    # Fri Oct 9 → next working day is the make-up Saturday Oct 10
    assert is_due_soon(CAL, MatterStatus.accepted, date(2026, 10, 10), date(2026, 10, 9))
    assert not is_due_soon(CAL, MatterStatus.accepted, date(2026, 10, 12), date(2026, 10, 9))


# -- the state machine ---------------------------------------------------------------


def state(**kw):
    base = {"status": MatterStatus.accepted, "first_responder_id": 1}
    base.update(kw)
    return MatterState(**base)


def test_a_paused_matter_cannot_be_completed():
    with pytest.raises(TransitionError, match="补正"):
        check_event(state(status=MatterStatus.paused), EventKind.completed, 2)


def test_a_completed_matter_cannot_be_completed_again_or_referred():
    done = state(status=MatterStatus.completed)
    with pytest.raises(TransitionError, match="重复办结"):
        check_event(done, EventKind.completed, 2)
    with pytest.raises(TransitionError, match="不能再转办"):
        check_event(done, EventKind.referred, 2)


def test_rating_needs_completion_and_happens_once():
    with pytest.raises(TransitionError, match="办结后"):
        check_event(state(), EventKind.rated, 2)
    with pytest.raises(TransitionError, match="已有评价"):
        check_event(
            state(status=MatterStatus.completed, rating=Rating.satisfied), EventKind.rated, 2
        )


def test_the_first_responder_cannot_rate_their_own_matter():
    with pytest.raises(TransitionError, match="首问责任人"):
        check_event(state(status=MatterStatus.completed), EventKind.rated, 1)


def test_a_handler_cannot_rate_a_matter_they_handled():
    done = state(status=MatterStatus.completed, handler_ids=frozenset({1, 7}))
    with pytest.raises(TransitionError, match="不得自评"):
        check_event(done, EventKind.rated, 7)
    check_event(done, EventKind.rated, 9)


def test_only_bad_ratings_get_a_call_back_and_only_one():
    good = state(status=MatterStatus.completed, rating=Rating.satisfied)
    with pytest.raises(TransitionError, match="差评"):
        check_event(good, EventKind.called_back, 2)
    bad = state(status=MatterStatus.completed, rating=Rating.dissatisfied, called_back=True)
    with pytest.raises(TransitionError, match="已回访"):
        check_event(bad, EventKind.called_back, 2)


def test_archive_refused_while_a_bad_rating_waits_for_its_call_back():
    bad = state(status=MatterStatus.completed, rating=Rating.very_dissatisfied)
    with pytest.raises(TransitionError, match="回访"):
        check_event(bad, EventKind.archived, 2)
    check_event(
        state(status=MatterStatus.completed, rating=Rating.very_dissatisfied, called_back=True),
        EventKind.archived,
        2,
    )


def test_nothing_happens_to_an_archived_matter():
    assert allowed_events(state(status=MatterStatus.archived), 2) == []


def test_an_open_matter_allows_the_working_steps():
    assert set(allowed_events(state(), 2)) == {
        EventKind.materials_missing,
        EventKind.referred,
        EventKind.extended,
        EventKind.completed,
    }


# -- validation -----------------------------------------------------------------


def test_phone_numbers():
    assert phone_error("13812345678") is None
    assert phone_error("0436-1234567") is None
    assert phone_error("12345") is not None
    assert phone_error("abc") is not None


def test_id_numbers_are_checked_with_their_check_digit():
    assert id_number_error("11010519491231002X") is None
    assert "校验位" in (id_number_error("110105194912310021") or "")
    assert "18 位" in (id_number_error("1234") or "")


def test_promised_days_may_not_exceed_the_statutory_limit():
    assert "法定时限" in catalog_errors("低保申请", MatterKind.promised, 30, 20)["promised_days"]
    assert catalog_errors("低保申请", MatterKind.promised, 15, 20) == {}
    assert "promised_days" in catalog_errors("开证明", MatterKind.immediate, 3, None)


# -- the clock shown in lists and on the detail page --------------------------------


def _clock(status, due, today, **kw):
    from tracker.matters.rules import clock

    return clock(status, due, today, CAL, **kw)


def test_the_clock_counts_the_working_days_left_across_national_day():
    # Due Tue Oct 13; from Wed Sep 30: Oct 8, 9, make-up Sat Oct 10, Oct 12, 13 (Oct 1–7 off).
    c = _clock(MatterStatus.accepted, date(2026, 10, 13), date(2026, 9, 30))
    assert (c.text, c.band) == ("剩 5 个工作日", "green")
    assert _clock(MatterStatus.accepted, date(2026, 10, 13), date(2026, 10, 12)).band == "amber"
    assert _clock(MatterStatus.accepted, date(2026, 10, 13), date(2026, 10, 13)).text == "今日到期"


def test_an_overdue_clock_counts_working_days_late():
    c = _clock(MatterStatus.accepted, date(2026, 10, 13), date(2026, 10, 20))
    assert (c.text, c.band, c.days) == ("已逾期 5 个工作日", "red", 5)
    # Due Friday, looked at on Saturday: overdue, not yet a working day late.
    assert _clock(MatterStatus.accepted, date(2026, 10, 16), date(2026, 10, 17)).text == "已逾期"


def test_a_paused_clock_says_how_much_is_used_of_the_total():
    c = _clock(MatterStatus.paused, None, date(2026, 10, 20), used=2, total=5)
    assert (c.text, c.band) == ("暂停计时（已用 2 / 共 5 个工作日）", "none")


def test_a_closed_matter_says_whether_it_was_on_time():
    assert (
        _clock(MatterStatus.completed, date(2026, 10, 13), date(2026, 11, 1), on_time=True).band
        == "green"
    )
    late = _clock(MatterStatus.archived, date(2026, 10, 13), date(2026, 11, 1), on_time=False)
    assert (late.text, late.band) == ("逾期办结", "red")
