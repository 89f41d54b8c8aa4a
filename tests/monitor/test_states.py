"""Hysteresis both ways, causes, and the monitor's own blindness (unknown, never down)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from monitor.states import DOWN, UNKNOWN, UP, CameraState, ClockWatch

T0 = datetime(2026, 11, 26, 1, 0, tzinfo=UTC)


def feed(st: CameraState, verdicts: str, down_after: int = 3, up_after: int = 2) -> list:
    """Feed space-separated verdicts one minute apart; return the changes."""
    changes = []
    for i, v in enumerate(verdicts.split()):
        c = st.observe(v, T0 + timedelta(minutes=len(changes) * 0 + i), down_after, up_after)
        if c is not None:
            changes.append(c)
    return changes


def test_a_new_camera_comes_up_after_up_after_good_checks() -> None:
    st = CameraState(1)
    changes = feed(st, "online online online")
    assert [(c.state, c.at) for c in changes] == [(UP, T0)]


def test_one_bad_check_does_not_bring_a_camera_down() -> None:
    st = CameraState(1, state=UP)
    assert feed(st, "frozen online frozen frozen online") == []
    assert st.state == UP


def test_down_after_n_bad_checks_dated_at_the_first_of_the_streak() -> None:
    st = CameraState(1, state=UP)
    changes = feed(st, "online unreachable unreachable unreachable unreachable")
    assert len(changes) == 1
    assert (changes[0].state, changes[0].cause) == (DOWN, "unreachable")
    assert changes[0].at == T0 + timedelta(minutes=1)


def test_up_again_only_after_m_good_checks() -> None:
    st = CameraState(1, state=DOWN, cause="black")
    changes = feed(st, "online black online online", up_after=2)
    assert [(c.state, c.at) for c in changes] == [(UP, T0 + timedelta(minutes=2))]


def test_a_flapping_camera_raises_no_alerts() -> None:
    st = CameraState(1, state=UP)
    assert feed(st, "online frozen online frozen online frozen online") == []


def test_a_changed_cause_while_down_is_a_new_down_item() -> None:
    st = CameraState(1, state=UP)
    changes = feed(st, "frozen frozen frozen unreachable unreachable unreachable")
    assert [(c.state, c.cause) for c in changes] == [(DOWN, "frozen"), (DOWN, "unreachable")]
    assert changes[1].at == T0 + timedelta(minutes=3)


def test_mixed_bad_verdicts_still_confirm_down_with_the_latest_cause() -> None:
    st = CameraState(1, state=UP)
    changes = feed(st, "no_video unreachable unreachable")
    assert [(c.state, c.cause, c.at) for c in changes] == [(DOWN, "unreachable", T0)]


def test_thresholds_are_per_camera() -> None:
    fast = CameraState(1, state=UP)
    assert feed(fast, "black", down_after=1)[0].state == DOWN


def test_blindness_is_unknown_and_restarts_the_streaks() -> None:
    st = CameraState(1, state=UP)
    feed(st, "black black")
    change = st.blind(T0 + timedelta(minutes=5))
    assert change is not None and (change.state, change.cause) == (UNKNOWN, None)
    assert st.bad_streak == 0
    # one more bad check is not enough after blindness: the streak starts afresh
    assert st.observe("black", T0 + timedelta(minutes=6), 3, 2) is None
    assert st.blind(T0 + timedelta(minutes=7)) is None  # already unknown: no duplicate item


def test_state_round_trips_through_json() -> None:
    st = CameraState(4, state=UP)
    feed(st, "frozen frozen")
    again = CameraState.from_dict(st.to_dict())
    assert again == st
    assert again.observe("frozen", T0 + timedelta(minutes=9), 3, 2) is not None


def test_change_possible_tells_when_a_snapshot_is_worth_taking() -> None:
    st = CameraState(1, state=UP)
    assert not st.change_possible(3, 2)
    feed(st, "black black")
    assert st.change_possible(3, 2)


def test_clock_watch_detects_a_jump_but_not_normal_time() -> None:
    wall = [1000.0]
    mono = [50.0]
    watch = ClockWatch(tolerance_s=30, wall=lambda: wall[0], mono=lambda: mono[0])
    wall[0] += 10
    mono[0] += 10
    assert watch.jumped() is None
    wall[0] += 3600  # someone set the clock an hour ahead
    mono[0] += 5
    jump = watch.jumped()
    assert jump is not None and 3590 < jump < 3600
    assert watch.jumped() is None
