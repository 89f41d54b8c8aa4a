"""The roll-up of a running period recomputes only what changed since its snapshots
(``tracker dashboard-rollup`` and the jobs' ``dashboard.rollup``), and what it leaves
is exactly a from-scratch compute ("one truth", docs/figures.md).

The clock is frozen on a working day after the fixtures were written: 2027-03-10
(a Wednesday), snapshots at 10:00, the next run at 15:00 the same day. Villages a1a
(township A1) and a2a (township A2) have a hall with one camera each, watched since
08:00; the camera days before today are partly rolled up, partly computed live.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, select

from tracker import clock
from tracker.dashboard import services
from tracker.dashboard.models import RegionAggregate, VillageScore
from tracker.dashboard.services import changed_villages, compute_period, refresh_changed
from tracker.dashboard.sources import camera_figures
from tracker.periods import Period, PeriodKind

DAY = date(2027, 3, 10)
PERIODS = [
    Period.containing(DAY, k) for k in (PeriodKind.month, PeriodKind.quarter, PeriodKind.year)
]


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC) - timedelta(hours=8)


@pytest.fixture
def cams(app, db, world) -> dict[int, Any]:
    """A hall and a camera in a1a and in a2a, heartbeats every 30 min from 08:00."""
    from tracker.halls import rules as hall_rules
    from tracker.halls.models import (
        Camera,
        CameraDailyRollup,
        CameraStateChange,
        ServiceHall,
        Station,
        StationHeartbeat,
    )

    station = Station(
        region_id=world.county_a.id,
        name=f"机房{uuid.uuid4().hex[:8]}",
        token_hash=uuid.uuid4().hex * 2,
        token_prefix="x",
    )
    db.session.add(station)
    db.session.flush()
    out = {}
    for v in (world.village_a1a, world.village_a2a):
        hall = ServiceHall(
            region_id=v.id, name=f"{v.name}大厅", weekly_hours=hall_rules.DEFAULT_WEEKLY_HOURS
        )
        db.session.add(hall)
        db.session.flush()
        cam = Camera(
            hall_id=hall.id,
            region_id=v.id,
            station_id=station.id,
            name="大厅全景",
            stream_url_encrypted="-",
            stream_url_masked="rtsp://***@h/1",
            thresholds={},
            created_at=local(date(2026, 12, 1), 8),
        )
        db.session.add(cam)
        db.session.flush()
        out[v.id] = cam
        db.session.add_all(
            [
                # Two finished days rolled up, the others (and today) computed live.
                CameraDailyRollup(
                    camera_id=cam.id, day=date(2027, 3, 8), region_id=v.id, open_s=27000, up_s=20000
                ),
                CameraDailyRollup(
                    camera_id=cam.id, day=date(2027, 3, 9), region_id=v.id, open_s=27000, up_s=27000
                ),
                CameraStateChange(
                    uuid=str(uuid.uuid4()),
                    camera_id=cam.id,
                    station_id=station.id,
                    at=local(DAY, 8),
                    state="up",
                ),
            ]
        )
    for i in range(16):  # 08:00 – 15:30
        db.session.add(
            StationHeartbeat(
                uuid=str(uuid.uuid4()),
                station_id=station.id,
                at=local(DAY, 8) + timedelta(minutes=30 * i),
                interval_s=1800,
            )
        )
    db.session.flush()
    out["station"] = station
    return out


SKIP = {"id", "computed_at"}


def state(period: Period) -> tuple[dict[int, dict[str, Any]], dict[int, dict[str, Any]]]:
    """Every VillageScore column (but id and time) by village, every RegionAggregate
    column by region: what the pages read."""
    from tracker.extensions import db

    def cols(obj: Any) -> dict[str, Any]:
        return {c.key: getattr(obj, c.key) for c in obj.__table__.columns if c.key not in SKIP}

    db.session.expire_all()
    villages = {
        r.region_id: cols(r)
        for r in db.session.scalars(select(VillageScore).where(VillageScore.period == period.key))
    }
    regions = {
        r.region_id: cols(r)
        for r in db.session.scalars(
            select(RegionAggregate).where(RegionAggregate.period == period.key)
        )
    }
    return villages, regions


def from_scratch(period: Period) -> tuple[dict[int, dict[str, Any]], dict[int, dict[str, Any]]]:
    compute_period(period, "/")
    return state(period)


def camera_down(db: Any, cams: dict[int, Any], village_id: int, at: datetime) -> None:
    """A report of the monitor (not a ledger write): the camera went offline."""
    from tracker.halls.models import CameraStateChange

    db.session.add(
        CameraStateChange(
            uuid=str(uuid.uuid4()),
            camera_id=cams[village_id].id,
            station_id=cams["station"].id,
            at=at,
            state="down",
            cause="unreachable",
        )
    )
    db.session.flush()


@pytest.fixture
def snapshots(app, db, world, cams) -> None:
    """Every running period snapshotted at 10:00."""
    with app.test_request_context(), clock.frozen(local(DAY, 10)):
        for p in PERIODS:
            compute_period(p, "/")


@pytest.mark.usefixtures("snapshots")
@pytest.mark.parametrize(
    ("share", "recomputed"),
    [
        # Townships A1 (a1a, a1b) and B1 (b1a) recomputed; a2a only brought up to now.
        (0.75, 3),
        # A1 is half of county A's townships: county A is recomputed as one subtree
        # (a1a, a1b, a2a), and B1 (b1a).
        (0.25, 4),
    ],
)
def test_a_run_later_that_day_equals_a_full_recompute_after_writes_in_several_ledgers(
    app, db, world, cams, monkeypatch, share, recomputed
):
    from tracker.meetings.models import Meeting

    monkeypatch.setattr(services, "WHOLE_SHARE", share)
    from tracker.teams.duty_models import HouseholdLink

    with app.test_request_context(), clock.frozen(local(DAY, 13)):
        a1b, b1a = world.village_a1b, world.village_b1a
        # a meeting recorded in b1a (township B1) ...
        meeting = Meeting(
            branch_id=world.branch(b1a).id,
            region_id=b1a.id,
            kind="branch_committee",
            started_at=local(date(2027, 3, 2), 9),
            ended_at=local(date(2027, 3, 2), 11),
            place="村部",
            host_id=world.members[b1a.id][0].id,
            recorder="记录员",
            topics="议题",
        )
        db.session.add(meeting)
        # ... a group of a1b dissolved (org history), a household linked in a1b (teams) ...
        world.groups[a1b.id][1].dissolved_on = date(2027, 2, 1)
        db.session.add(
            HouseholdLink(
                region_id=a1b.id,
                member_id=world.members[a1b.id][0].id,
                head="户主",
                since=date(2027, 1, 1),
            )
        )
        db.session.flush()
        assert changed_villages(PERIODS[0]) == {a1b.id, b1a.id}
    with app.test_request_context(), clock.frozen(local(DAY, 14)):
        # ... and a row deleted: the meeting again (a deletion leaves its time too).
        db.session.delete(meeting)
        db.session.flush()
        assert b1a.id in changed_villages(PERIODS[0])
        camera_down(db, cams, world.village_a1a.id, local(DAY, 14, 30))
    with app.test_request_context(), clock.frozen(local(DAY, 15)):
        live: dict[str, Any] = {}  # one read of today's cameras for the three periods
        for p in PERIODS:
            assert refresh_changed(p, live=live) == recomputed, p.key
            incremental = state(p)
            full = from_scratch(p)
            assert incremental == full, p.key
            # ... and its camera seconds are the halls' one figure of the whole period.
            whole = camera_figures("/", p)
            for vid, f in whole.items():
                row = full[0][vid]
                assert (row["cameras"], row["cam_open_s"], row["cam_up_s"]) == (
                    f.cameras,
                    f.open_s,
                    f.up_s,
                ), p.key
                assert (row["cam_live_s"], row["cam_unknown_s"], row["cam_excused_s"]) == (
                    f.live_s,
                    f.unknown_s,
                    f.excused_s,
                ), p.key
        a1a = incremental[0][world.village_a1a.id]
        assert a1a["cam_open_s"] > a1a["cam_up_s"]  # the outage at 14:30 counts


@pytest.mark.usefixtures("snapshots")
def test_without_ledger_writes_only_the_live_camera_part_moves(app, db, world, cams, monkeypatch):
    with app.test_request_context(), clock.frozen(local(DAY, 15)):
        camera_down(db, cams, world.village_a2a.id, local(DAY, 14))
        before = {p.key: state(p)[0] for p in PERIODS}
        expected = {}
        for p in PERIODS:
            expected[p.key] = from_scratch(p)
        # Reset to the 10:00 snapshots, then run incrementally with no full compute allowed.
        with clock.frozen(local(DAY, 10)):
            for p in PERIODS:
                compute_period(p, "/")

        def no_full(*_a: Any, **_k: Any) -> None:
            raise AssertionError("a village without ledger writes was recomputed")

        monkeypatch.setattr(services, "meeting_figures", no_full)
        for p in PERIODS:
            assert changed_villages(p) == set()
            assert refresh_changed(p) == 0
            got = state(p)
            assert got == expected[p.key], p.key
            a2a = got[0][world.village_a2a.id]
            assert a2a["cam_up_s"] < before[p.key][world.village_a2a.id]["cam_up_s"] + 5 * 3600
            assert a2a["cam_open_s"] - a2a["cam_up_s"] >= 3600  # 14:00–15:00 down
        stamps = set(
            db.session.scalars(
                select(VillageScore.computed_at).where(VillageScore.period == PERIODS[0].key)
            )
        )
    assert stamps == {local(DAY, 15)}  # every snapshot is now as of 15:00


@pytest.mark.usefixtures("snapshots")
def test_the_next_local_day_recomputes_every_village(app, db, world):
    calls: list[int] = []
    real = services.meeting_figures

    def counting(villages: Any, *a: Any, **k: Any) -> Any:
        villages = list(villages)
        calls.append(len(villages))
        return real(villages, *a, **k)

    with app.test_request_context(), clock.frozen(local(DAY + timedelta(days=1), 0, 5)):
        services.meeting_figures = counting  # type: ignore[assignment]
        try:
            assert refresh_changed(PERIODS[0]) == 4
        finally:
            services.meeting_figures = real  # type: ignore[assignment]
    assert sum(calls) == 4


@pytest.mark.usefixtures("snapshots")
def test_changed_villages_sees_writes_of_every_kind(app, db, world, cams):
    """Org history, county rules, the calendar, a camera day invalidated: each marks
    the villages whose figures it can move, and only those."""
    from tracker.halls.models import CameraDailyRollup
    from tracker.halls.services import invalidate_rollups
    from tracker.matters.models import HandlingLevel, MatterKind, MatterType
    from tracker.meetings.models import MeetingKind
    from tracker.models import CalendarOverride

    month = PERIODS[0]
    a1a, a1b, a2a, b1a = (
        world.village_a1a,
        world.village_a1b,
        world.village_a2a,
        world.village_b1a,
    )
    with app.test_request_context(), clock.frozen(local(DAY, 10, 30)):
        # Today's invalidations move only the live part: not a change; nor is a roll-up
        # stored for a finished day (a cache of the figures read live until then).
        invalidate_rollups([cams[a2a.id].id], DAY, None)
        db.session.add(
            CameraDailyRollup(
                camera_id=cams[a2a.id].id, day=date(2027, 3, 7), region_id=a2a.id, open_s=1
            )
        )
        db.session.flush()
        assert changed_villages(month) == set()
    with app.test_request_context(), clock.frozen(local(DAY, 11)):
        world.members[a2a.id][2].left_on = date(2027, 3, 1)  # member facts
        db.session.flush()
        assert changed_villages(month) == {a2a.id}
    with app.test_request_context(), clock.frozen(local(DAY, 11, 30)):
        # A camera's finished day invalidated (a late report): its village.
        invalidate_rollups([cams[a1a.id].id], date(2027, 3, 9), None)
        assert changed_villages(month) == {a1a.id, a2a.id}
    with app.test_request_context(), clock.frozen(local(DAY, 12)):
        # A county's row (a matter type of 县乙): every village of the county.
        db.session.add(
            MatterType(
                region_id=world.county_b.id,
                name="县乙事项",
                kind=list(MatterKind)[0],
                handling_level=list(HandlingLevel)[0],
            )
        )
        db.session.flush()
        assert b1a.id in changed_villages(month)
        assert a1b.id not in changed_villages(month)
    with app.test_request_context(), clock.frozen(local(DAY, 12, 30)):
        db.session.add(
            MeetingKind(code=f"k{uuid.uuid4().hex[:6]}", name="新会", frequency="monthly")
        )
        db.session.flush()
        assert changed_villages(month) == {a1a.id, a1b.id, a2a.id, b1a.id}
    assert (
        CalendarOverride.__name__
        in __import__("tracker.dashboard.writes", fromlist=["EVERYWHERE"]).EVERYWHERE
    )


def test_a_rolled_back_write_is_not_noted(app, db, world):
    from tracker.dashboard.writes import _PENDING

    world.members[world.village_a1a.id][0].name = "改名"
    db.session.flush()
    assert world.village_a1a.id in db.session.info[_PENDING]
    nested = db.session.begin_nested()
    nested.rollback()
    db.session.rollback()
    assert _PENDING not in db.session.info


def test_no_snapshot_means_every_village(app, db, world):
    p = Period.containing(DAY, PeriodKind.month)
    db.session.execute(delete(VillageScore).where(VillageScore.period == p.key))
    with app.test_request_context(), clock.frozen(local(DAY, 10)):
        assert refresh_changed(p) == 4
