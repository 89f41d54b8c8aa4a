"""限时办结 figures: the example of docs/figures.md, and the backlog that never disappears.

November 2026 (cut-off 30 November) for village a1a:
A due 11-05 done 11-04 (on time) · B due 11-12 done 11-16 (late) · C due 11-20 still open ·
D due 2026-01-09 still open (the backlog, ~220 working days late) · E due 12-03 (not judged yet)
→ judged 4, on time 1, overdue open 2 (C, D), completed late 1 (B).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from tests.factories import World
from tracker.calendar_service import load_calendar
from tracker.matters import figures
from tracker.models import RegionLevel
from tracker.periods import Period

TODAY = date(2026, 12, 10)


def _at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 9, tzinfo=UTC) - timedelta(hours=8)


def add_matter(
    db: Any,
    world: World,
    serial: str,
    received: date,
    due: date | None,
    completed: date | None = None,
    village: Any = None,
    **kw: Any,
) -> Any:
    """A service matter written directly (the figures read columns, not the timeline)."""
    from tracker.matters.models import MatterKind, MatterType, ServiceMatter

    mtype = db.session.query(MatterType).filter_by(name="figures-低保").one_or_none()
    if mtype is None:
        mtype = MatterType(
            region_id=world.county_a.id,
            name="figures-低保",
            kind=MatterKind.promised,
            promised_days=5,
            handling_level="village",
            materials=[],
        )
        db.session.add(mtype)
        db.session.flush()
    m = ServiceMatter(
        region_id=(village or world.village_a1a).id,
        serial_no=serial,
        matter_type_id=mtype.id,
        applicant_name="张三",
        applicant_phone="13800001111",
        channel="in_person",
        received_at=_at(received),
        received_on=received,
        first_responder_id=world.users["town_a1_editor"].id,
        kind=MatterKind.promised,
        promised_days=5,
        status="completed" if completed else "accepted",
        due_on=due,
        completed_on=completed,
        on_time=None if completed is None else (due is not None and completed <= due),
        **kw,
    )
    db.session.add(m)
    db.session.flush()
    return m


def example(db: Any, world: World) -> dict[str, Any]:
    d = date
    return {
        "A": add_matter(db, world, "F-A", d(2026, 10, 29), d(2026, 11, 5), d(2026, 11, 4)),
        "B": add_matter(db, world, "F-B", d(2026, 11, 5), d(2026, 11, 12), d(2026, 11, 16)),
        "C": add_matter(db, world, "F-C", d(2026, 11, 13), d(2026, 11, 20)),
        "D": add_matter(db, world, "F-D", d(2026, 1, 2), d(2026, 1, 9)),
        "E": add_matter(db, world, "F-E", d(2026, 11, 26), d(2026, 12, 3)),
    }


def measures(period: str, today: date = TODAY, level: RegionLevel = RegionLevel.village) -> Any:
    p = Period.parse(period)
    return figures.matter_measures(level, p.start, p.end, today=today)


def test_the_documented_november_example(app, db, world):
    example(db, world)
    m = measures("2026-11")[world.village_a1a.id]
    assert (m.judged, m.on_time, m.overdue_open, m.completed_late) == (4, 1, 2, 1)
    assert m.on_time_rate == 0.25
    assert m.received == 3  # B, C, E were received in November


def test_an_open_overdue_matter_weighs_on_every_period_it_stays_open_in(db, world):
    example(db, world)
    for key in ("2026-02", "2026-06", "2026-Q3", "2026-10", "2026-12", "2026"):
        m = measures(key)[world.village_a1a.id]
        assert m.overdue_open >= 1, key
        assert m.judged > m.on_time, key
    # A period with nothing received still judges the backlog.
    august = measures("2026-08")[world.village_a1a.id]
    assert (august.received, august.judged, august.on_time, august.overdue_open) == (0, 1, 0, 1)


def test_overdue_is_judged_as_of_the_cut_off_not_today(db, world):
    m = add_matter(
        db, world, "F-L", date(2026, 10, 20), date(2026, 10, 27), completed=date(2026, 11, 20)
    )
    assert m.on_time is False
    october = measures("2026-10")[world.village_a1a.id]
    assert october.overdue_open == 1 and october.judged == 1  # open past due on 31 October
    november = measures("2026-11")[world.village_a1a.id]
    assert november.overdue_open == 0 and november.completed_late == 1  # the backlog, done late
    assert (november.judged, november.on_time) == (1, 0)


def test_a_matter_completed_a_month_before_its_due_date_is_judged_when_due(db, world):
    """Received and completed in October, due in November: judged (on time) in November."""
    early = add_matter(db, world, "F-Q", date(2026, 10, 26), date(2026, 11, 2), date(2026, 10, 28))
    early.on_time = True
    db.session.flush()
    m = measures("2026-11")[world.village_a1a.id]
    assert (m.judged, m.on_time) == (1, 1)
    october = measures("2026-10").get(world.village_a1a.id)
    assert october is None or october.judged == 0


def test_not_yet_due_and_paused_matters_are_not_judged(db, world):
    add_matter(db, world, "F-N", date(2026, 12, 1), date(2026, 12, 20))
    paused = add_matter(db, world, "F-P", date(2026, 11, 2), None)
    paused.status = "paused"
    db.session.flush()
    m = measures("2026-12").get(world.village_a1a.id)
    assert m is None or (m.judged, m.overdue_open) == (0, 0)


def test_the_overdue_list_and_the_backlog_are_the_same_rows(db, world, app):
    from tracker.scope import Scope

    rows = example(db, world)
    with app.test_request_context():
        scope = Scope.for_user(world.users["county_a_viewer"])
        listed = [m.id for m in db.session.scalars(figures.overdue_stmt(scope, TODAY))]
        total, lines = figures.overdue_backlog(world.county_a.path, TODAY, load_calendar())
    # the longest overdue first; E (due 3 December) is overdue on the 10th too
    assert listed == [rows["D"].id, rows["C"].id, rows["E"].id]
    assert total == 3 and [line.id for line in lines] == listed
    assert lines[0].working_days_overdue > 200  # D: since 9 January
    assert lines[1].working_days_overdue == load_calendar().working_days_between(
        date(2026, 11, 20), TODAY
    )


def test_the_backlog_as_of_a_past_day_counts_the_matters_completed_since(db, world, app):
    """The count reads the index in two halves (open, completed later): together they are
    exactly the rows ``overdue_on`` selects."""
    from sqlalchemy import func, select

    from tracker.matters.models import ServiceMatter
    from tracker.scope import Scope

    rows = example(db, world)
    day = date(2026, 11, 14)  # B (due 11-12) was overdue then and completed on 11-16
    with app.test_request_context():
        scope = Scope.for_user(world.users["county_a_viewer"])
        listed = [m.id for m in db.session.scalars(figures.overdue_stmt(scope, day))]
        total, lines = figures.overdue_backlog(world.county_a.path, day, load_calendar())
        plain = db.session.scalar(
            select(func.count(ServiceMatter.id)).where(figures.overdue_on(day))
        )
    assert listed == [rows["D"].id, rows["B"].id]
    assert total == plain == 2 and [line.id for line in lines] == listed


def test_township_and_county_figures_are_the_sums_of_their_villages(db, world):
    example(db, world)
    add_matter(db, world, "F-X", date(2026, 11, 2), date(2026, 11, 9), village=world.village_a2a)
    villages = measures("2026-11")
    towns = measures("2026-11", level=RegionLevel.township)
    county = measures("2026-11", level=RegionLevel.county)[world.county_a.id]
    assert county.judged == villages[world.village_a1a.id].judged + 1 == 5
    assert county.overdue_open == 3
    assert towns[world.town_a1.id].judged == 4 and towns[world.town_a2.id].judged == 1
