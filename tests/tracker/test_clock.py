"""One clock: now, today and local dates come from tracker.clock, and tests freeze it there."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from tracker import clock
from tracker.models import utcnow
from tracker.org.services import OrgError, check_past_date

TRACKER = Path(__file__).resolve().parents[2] / "tracker"


def test_frozen_time_is_what_every_module_sees():
    with clock.frozen(datetime(2026, 3, 4, 17, 30, tzinfo=UTC)):
        assert utcnow() == datetime(2026, 3, 4, 17, 30, tzinfo=UTC)  # stored times
        assert clock.today() == date(2026, 3, 5)  # 01:30 in Asia/Shanghai
        with pytest.raises(OrgError):
            check_past_date(date(2026, 3, 6), "joined_on", "入党日期")
        check_past_date(date(2026, 3, 5), "joined_on", "入党日期")
    assert clock.now() > datetime(2026, 3, 5, tzinfo=UTC)


def test_freezing_a_date_means_local_noon():
    with clock.frozen(date(2026, 10, 1)):
        assert clock.local_now().hour == 12 and clock.today() == date(2026, 10, 1)


def test_local_dates_follow_the_configured_zone():
    instant = datetime(2026, 3, 4, 17, 30, tzinfo=UTC)
    try:
        clock.configure("UTC")
        assert clock.local_date(instant) == date(2026, 3, 4)
        clock.configure("Asia/Shanghai")
        assert clock.local_date(instant) == date(2026, 3, 5)
        assert clock.local_date(instant.replace(tzinfo=None)) == date(2026, 3, 5)  # naive = UTC
    finally:
        clock.configure("Asia/Shanghai")


def test_create_app_sets_the_zone_from_the_settings(app_factory):
    try:
        app_factory(BABEL_DEFAULT_TIMEZONE="Asia/Urumqi")
        assert clock.zone().key == "Asia/Urumqi"
    finally:
        clock.configure("Asia/Shanghai")


def test_no_module_but_the_clock_reads_the_system_clock_or_names_a_zone():
    pattern = re.compile(r"datetime\.now\(|date\.today\(|datetime\.utcnow\(|ZoneInfo\(\"")
    offenders = [
        f"{path.relative_to(TRACKER)}:{n}"
        for path in TRACKER.rglob("*.py")
        if path.name not in ("clock.py",)
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if pattern.search(line)
    ]
    assert offenders == []


def test_local_dates_are_the_local_date_of_each_instant():
    from datetime import UTC, datetime

    from tracker import clock

    values = [
        datetime(2026, 3, 1, 15, 59, tzinfo=UTC),  # 23:59 in Shanghai
        datetime(2026, 3, 1, 16, 0, tzinfo=UTC),  # the next day there
        datetime(2026, 3, 1, 16, 0),  # naive = UTC
    ]
    assert clock.local_dates(values) == [clock.local_date(v) for v in values]


@pytest.mark.parametrize(
    "zone",
    [
        "Asia/Shanghai",  # DST 1986–1991
        "America/New_York",
        "Europe/London",
        "Asia/Kolkata",  # +05:30
        "Australia/Lord_Howe",  # a half-hour DST
        "Asia/Kathmandu",  # +05:45, changed from +05:30 in 1986
        "Pacific/Apia",  # skipped 30 December 2011
        "Africa/Casablanca",  # DST suspended every Ramadan
    ],
)
def test_local_dates_agree_with_the_zone_around_every_change(zone):
    import random
    from datetime import timedelta

    rng = random.Random(zone)
    instants = [
        datetime(1970, 1, 1) + timedelta(seconds=rng.randrange(0, 70 * 366 * 86400))
        for _ in range(2000)
    ]
    try:
        clock.configure(zone)
        # each change of offset from 1970 to 2040, and the instants just around it
        changes = [
            start
            for year in range(1970, 2041)
            for start, _ in clock._offsets_of_year(clock.zone(), year)[1:]
        ]
        around = (-3600_000_000, -1, 0, 1, 3600_000_000)
        instants += [c + timedelta(microseconds=d) for c in changes for d in around]
        expected = [clock.local_date(v) for v in instants]
        assert clock.local_dates(instants) == expected
        aware = [v.replace(tzinfo=UTC) for v in instants[:500]]
        assert clock.local_dates(aware) == expected[:500]
        # a change is where the offset changes: the microsecond before has the old one
        for c in changes:
            before = c - timedelta(microseconds=1)
            assert clock.local(c).utcoffset() != clock.local(before).utcoffset()
        if zone != "Asia/Kolkata":
            assert changes  # the sample zones all changed offset since 1970
    finally:
        clock.configure("Asia/Shanghai")
