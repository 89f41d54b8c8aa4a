"""Pure uptime rules: opening hours, state intervals, 在线率 / 完好率 — hand-computed seconds."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from tracker.halls.rules import (
    DEFAULT_WEEKLY_HOURS,
    DayKind,
    HoursError,
    Interval,
    StateEvent,
    build_intervals,
    coverage_windows,
    day_kind,
    hours_for_day,
    local_window,
    mask_stream_url,
    opening_windows_by_day,
    parse_ranges_text,
    uptime,
    validate_weekly_hours,
)
from tracker.workdays import WorkCalendar


def bj(day: str, hm: str) -> datetime:
    """A Beijing wall-clock time as an aware UTC datetime."""
    local = datetime.fromisoformat(f"{day}T{hm}:00+08:00")
    return local.astimezone(UTC)


def opening(day: str, *ranges: tuple[str, str]) -> list[tuple[datetime, datetime]]:
    return [(bj(day, a), bj(day, b)) for a, b in ranges]


DAY = "2026-11-26"  # a Thursday
HOURS = opening(DAY, ("08:30", "12:00"), ("13:30", "17:30"))  # 3.5 h + 4 h = 27,000 s


def test_up_all_day_counts_only_opening_time():
    ivs = build_intervals(
        [StateEvent(bj(DAY, "00:00"), "up")], None, bj(DAY, "00:00"), bj("2026-11-27", "00:00")
    )
    t = uptime(ivs, HOURS)
    assert (t.open_s, t.up_s, t.unknown_s) == (27000, 27000, 0)
    assert t.online_rate == 1.0 and t.intact_rate == 1.0


def test_outage_crossing_opening_time_counts_only_inside_hours():
    # down 07:00–09:00 (only 08:30–09:00 is opening time), down 11:30–14:00 (11:30–12:00 + 13:30–14:00)
    events = [
        StateEvent(bj(DAY, "00:00"), "up"),
        StateEvent(bj(DAY, "07:00"), "down", "unreachable"),
        StateEvent(bj(DAY, "09:00"), "up"),
        StateEvent(bj(DAY, "11:30"), "down", "unreachable"),
        StateEvent(bj(DAY, "14:00"), "up"),
    ]
    ivs = build_intervals(events, None, bj(DAY, "00:00"), bj("2026-11-27", "00:00"))
    t = uptime(ivs, HOURS)
    assert t.down_online_s == 30 * 60 + 30 * 60 + 30 * 60
    assert t.up_s == 27000 - 5400
    assert t.online_rate == pytest.approx(21600 / 27000)


def test_picture_fault_counts_against_intact_rate_only():
    events = [
        StateEvent(bj(DAY, "08:00"), "up"),
        StateEvent(bj(DAY, "10:00"), "down", "frozen"),
        StateEvent(bj(DAY, "11:00"), "up"),
    ]
    t = uptime(build_intervals(events, None, bj(DAY, "00:00"), bj(DAY, "23:59")), HOURS)
    assert t.down_picture_s == 3600 and t.down_online_s == 0
    assert t.online_rate == 1.0
    assert t.intact_rate == pytest.approx(23400 / 27000)


def test_events_are_ordered_by_time_not_arrival():
    late_first = [
        StateEvent(bj(DAY, "14:00"), "up"),
        StateEvent(bj(DAY, "08:00"), "up"),
        StateEvent(bj(DAY, "13:00"), "down", "black"),
    ]
    ivs = build_intervals(late_first, None, bj(DAY, "08:00"), bj(DAY, "18:00"))
    assert [(iv.state, iv.cause) for iv in ivs] == [("up", None), ("down", "black"), ("up", None)]
    assert ivs[1].seconds == 3600


def test_time_outside_heartbeats_is_unknown_not_down():
    events = [StateEvent(bj(DAY, "08:00"), "down", "unreachable")]
    # heartbeats every 60 s from 08:00 to 10:00 (last one at 09:59 covers until 10:01:30)
    beats = [(bj(DAY, "08:00") + timedelta(minutes=m), 60) for m in range(120)]
    ivs = build_intervals(events, coverage_windows(beats), bj(DAY, "08:00"), bj(DAY, "18:00"))
    t = uptime(ivs, HOURS)
    assert t.down_online_s == (bj(DAY, "10:01") - bj(DAY, "08:30")).total_seconds() + 30
    assert t.unknown_s == 27000 - t.down_online_s
    assert t.online_rate == 0.0


def test_before_first_event_is_unknown():
    ivs = build_intervals(
        [StateEvent(bj(DAY, "09:30"), "up")], None, bj(DAY, "00:00"), bj(DAY, "23:00")
    )
    t = uptime(ivs, HOURS)
    assert t.unknown_s == 3600 and t.up_s == 27000 - 3600
    assert t.online_rate == 1.0  # unknown is not in the denominator


def test_interval_crossing_midnight_splits_between_days():
    night = {str(d): [["20:00", "24:00"], ["00:00", "02:00"]] for d in range(7)}
    cal = WorkCalendar()
    wins = opening_windows_by_day(
        date(2026, 11, 26),
        date(2026, 11, 27),
        lambda d: hours_for_day(d, day_kind(d, cal.is_workday(d)), night),
    )
    events = [
        StateEvent(bj(DAY, "20:00"), "up"),
        StateEvent(bj(DAY, "23:00"), "down", "no_video"),
        StateEvent(bj("2026-11-27", "01:00"), "up"),
    ]
    ivs = build_intervals(events, None, bj(DAY, "00:00"), bj("2026-11-28", "00:00"))
    d1 = uptime(ivs, wins[date(2026, 11, 26)])
    d2 = uptime(ivs, wins[date(2026, 11, 27)])
    assert (d1.down_online_s, d1.up_s) == (3600, 3 * 3600 + 3600 * 0)
    assert d1.unknown_s == 2 * 3600  # 00:00–02:00 of the 26th: before the first event
    assert (d2.down_online_s, d2.up_s) == (3600, 3600 + 4 * 3600)


def test_holiday_is_closed_and_make_up_workday_is_open():
    cal = WorkCalendar()
    national_day = date(2026, 10, 1)  # Thursday, 国庆节
    make_up = date(2026, 10, 10)  # Saturday, 调休上班
    assert day_kind(national_day, cal.is_workday(national_day)) == DayKind.holiday
    assert hours_for_day(national_day, DayKind.holiday, DEFAULT_WEEKLY_HOURS) == []
    kind = day_kind(make_up, cal.is_workday(make_up))
    assert kind == DayKind.makeup
    assert len(hours_for_day(make_up, kind, DEFAULT_WEEKLY_HOURS)) == 2
    plain_saturday = date(2026, 11, 28)
    assert (
        hours_for_day(plain_saturday, day_kind(plain_saturday, False), DEFAULT_WEEKLY_HOURS) == []
    )


def test_weekend_day_of_a_holiday_is_closed_even_if_the_hall_opens_saturdays():
    weekly = {**DEFAULT_WEEKLY_HOURS, "5": [["09:00", "12:00"]]}
    sat = date(2026, 10, 3)
    assert hours_for_day(sat, day_kind(sat, False, is_named_holiday=True), weekly) == []
    assert len(hours_for_day(date(2026, 11, 28), DayKind.weekend, weekly)) == 1


def test_exception_overrides_calendar():
    exc = {date(2026, 11, 26): [], date(2026, 10, 1): [["09:00", "11:00"]]}
    assert hours_for_day(date(2026, 11, 26), DayKind.workday, DEFAULT_WEEKLY_HOURS, exc) == []
    assert len(hours_for_day(date(2026, 10, 1), DayKind.holiday, DEFAULT_WEEKLY_HOURS, exc)) == 1


def test_excused_down_time_is_left_out_of_the_compliance_figure_only():
    events = [
        StateEvent(bj(DAY, "08:00"), "up"),
        StateEvent(bj(DAY, "09:30"), "down", "unreachable"),
        StateEvent(bj(DAY, "11:30"), "up"),
    ]
    ivs = build_intervals(events, None, bj(DAY, "00:00"), bj(DAY, "23:00"))
    excuse = [(bj(DAY, "09:00"), bj(DAY, "10:30"))]  # covers one of the two down hours
    t = uptime(ivs, HOURS, excuse)
    assert t.down_online_s == 7200 and t.excused_online_s == 3600
    assert t.online_rate == pytest.approx(19800 / 27000)
    assert t.compliance_online_rate == pytest.approx(19800 / 23400)


def test_no_known_time_gives_no_rate():
    t = uptime([], HOURS)
    assert t.unknown_s == 27000 and t.online_rate is None and t.intact_rate is None


def test_local_window_is_utc():
    s, e = local_window(date(2026, 11, 26), (datetime(2026, 1, 1, 8, 30).time(), None))
    assert s == datetime(2026, 11, 26, 0, 30, tzinfo=UTC)
    assert e == datetime(2026, 11, 26, 16, 0, tzinfo=UTC)


def test_hours_validation_messages():
    assert parse_ranges_text("08:30-12:00，13:30-17:30") == [["08:30", "12:00"], ["13:30", "17:30"]]
    assert parse_ranges_text("") == []
    with pytest.raises(HoursError, match="晚于"):
        parse_ranges_text("12:00-08:00")
    with pytest.raises(HoursError, match="重叠"):
        parse_ranges_text("08:00-12:00, 11:00-13:00")
    with pytest.raises(HoursError, match="周三"):
        validate_weekly_hours({"2": [["25:00", "26:00"]]})


def test_stream_url_masking():
    assert (
        mask_stream_url("rtsp://admin:s3cret@10.0.0.8:554/ch1") == "rtsp://***:***@10.0.0.8:554/ch1"
    )
    assert mask_stream_url("http://10.0.0.8/v.mjpg?user=a&password=b&ch=1") == (
        "http://10.0.0.8/v.mjpg?user=***&password=***&ch=1"
    )
    assert mask_stream_url("rtsp://10.0.0.8/ch1") == "rtsp://10.0.0.8/ch1"


def test_adjacent_equal_intervals_merge():
    events = [StateEvent(bj(DAY, "08:00"), "up"), StateEvent(bj(DAY, "09:00"), "up")]
    ivs = build_intervals(events, None, bj(DAY, "08:00"), bj(DAY, "10:00"))
    assert ivs == [Interval(bj(DAY, "08:00"), bj(DAY, "10:00"), "up")]
