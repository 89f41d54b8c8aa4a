"""The service ledger against a real database: registration, the timeline, referrals,
ratings, the due date with the admin calendar, and the bulk measures."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tracker.calendar_service import load_calendar
from tracker.matters import commands, services
from tracker.matters.commands import Complete
from tracker.matters.models import (
    Channel,
    EventKind,
    HandlingLevel,
    MatterKind,
    MatterStatus,
    Rating,
)
from tracker.matters.rules import MatterError, TransitionError
from tracker.models import CalendarOverride, RegionLevel, Role
from tracker.org.services import create_user

CST = ZoneInfo("Asia/Shanghai")


def at(y: int, m: int, d: int, hh: int = 9, mm: int = 0) -> datetime:
    """A local (Beijing) time as an aware datetime."""
    return datetime(y, m, d, hh, mm, tzinfo=CST)


def catalog(
    world, promised: int = 5, kind: MatterKind = MatterKind.promised, name=None, statutory=20
):
    return services.save_matter_type(
        world.county_a,
        name=name or f"低保申请{promised}{kind.value}",
        kind=kind,
        promised_days=promised if kind == MatterKind.promised else 0,
        statutory_days=statutory,
        category="民政",
        materials=["身份证", "户口簿", "收入证明"],
        handling_level=HandlingLevel.township,
    )


def register(world, matter_type=None, received=None, responder=None, **kw):
    responder = responder or world.users["village_a1a_editor"]
    matter, _ = services.register_matter(
        village=kw.pop("village", world.village_a1a),
        matter_type=matter_type or catalog(world),
        applicant_name=kw.pop("applicant_name", "王秀英"),
        applicant_phone=kw.pop("applicant_phone", "13812345678"),
        applicant_id_number=kw.pop("applicant_id_number", "11010519491231002X"),
        channel=Channel.in_person,
        received_at=received or at(2026, 9, 30),
        first_responder=responder,
        actor=responder,
        calendar=load_calendar(),
        **kw,
    )
    # Commit (a savepoint of the test transaction): a view's rollback must not undo the setup.
    from tracker.extensions import db

    db.session.commit()
    return matter


def event(matter, kind, actor, when, **kw):
    ev, _ = services.record_event(
        matter, commands.build(kind, at=when, **kw), actor, calendar=load_calendar()
    )
    return ev


# -- registration ---------------------------------------------------------------


def test_registration_numbers_the_matter_and_sets_the_due_date(world, db):
    matter = register(world)
    assert matter.serial_no == "村甲一甲-2026-0001"
    assert matter.status == MatterStatus.accepted
    assert matter.due_on == date(2026, 10, 13)  # across National Day and Sat Oct 10
    assert matter.calendar_official is True
    assert [e.kind for e in matter.events] == [EventKind.accepted]
    assert register(world, matter_type=matter.matter_type).serial_no == "村甲一甲-2026-0002"


def test_numbers_are_readable_and_unique_across_the_county(world, db):
    from tracker.models import RegionLevel
    from tracker.org.services import create_region

    t = catalog(world)
    ping_an = create_region("平安村", RegionLevel.village, world.town_a1)
    ping_an_tun = create_region("平安屯", RegionLevel.village, world.town_a2)
    elsewhere = create_region("平安村", RegionLevel.village, world.town_b1)
    admin = world.users["county_a_admin"]
    ping_an_she = create_region("平安社区", RegionLevel.village, world.town_a1)
    first = register(world, matter_type=t, village=ping_an, responder=admin)
    second = register(world, matter_type=t, village=ping_an_tun, responder=admin)
    third = register(world, matter_type=t, village=ping_an_she, responder=admin)
    again = register(world, matter_type=t, village=ping_an, responder=admin)
    # The older village keeps the short name; the younger ones are told apart by their
    # township (镇甲二 → 镇甲), or numbered when the township is the same too.
    assert [m.serial_no for m in (first, second, third, again)] == [
        "平安-2026-0001",
        "镇甲平安-2026-0001",
        "平安2-2026-0001",
        "平安-2026-0002",
    ]
    assert {m.county_id for m in (first, second, third)} == {world.county_a.id}
    county_b_type = services.save_matter_type(
        world.county_b, name="低保申请", kind=MatterKind.promised, promised_days=5
    )
    in_county_b = register(
        world,
        matter_type=county_b_type,
        village=elsewhere,
        responder=world.users["town_b1_editor"],
    )
    assert in_county_b.serial_no == "平安-2026-0001"  # another county counts on its own


def test_a_new_village_with_the_same_name_leaves_the_older_prefix_alone(world, db):
    from tracker.models import RegionLevel
    from tracker.org.services import create_region

    t = catalog(world)
    admin = world.users["county_a_admin"]
    old = create_region("和平村", RegionLevel.village, world.town_a1)
    assert register(world, matter_type=t, village=old, responder=admin).serial_no == (
        "和平-2026-0001"
    )
    create_region("和平屯", RegionLevel.village, world.town_a2)
    assert services.village_serial_prefix(old) == "和平"
    assert register(world, matter_type=t, village=old, responder=admin).serial_no == (
        "和平-2026-0002"
    )


def test_the_counter_reads_numbers_past_9999_numerically(world, db):
    first = register(world)
    first.serial_no = "村甲一甲-2026-10000"
    db.session.flush()
    assert register(world, matter_type=first.matter_type).serial_no == "村甲一甲-2026-10001"


def test_two_villages_cannot_hold_one_number_of_the_county(world, db, monkeypatch):
    """The known collision: two villages whose numbers share a prefix, registered at the
    same moment, each took the county's next number — the per-village unique index let
    both in. The county-wide index refuses the second and registration takes the next."""
    from tracker.models import RegionLevel
    from tracker.org.services import create_region

    t = catalog(world)
    admin = world.users["county_a_admin"]
    a = create_region("平安村", RegionLevel.village, world.town_a1)
    b = create_region("平安屯", RegionLevel.village, world.town_a2)
    first = register(world, matter_type=t, village=a, responder=admin)
    # As the old code did: both villages number under one prefix, and the second
    # registration read the counter before the first was committed.
    monkeypatch.setattr(services, "village_serial_prefix", lambda village, county=None: "平安")
    real = services._next_serial
    calls: list[int] = []

    def stale(village, year):
        calls.append(1)
        return first.serial_no if len(calls) == 1 else real(village, year)

    monkeypatch.setattr(services, "_next_serial", stale)
    second = register(world, matter_type=t, village=b, responder=admin)
    assert first.serial_no == "平安-2026-0001" and second.serial_no == "平安-2026-0002"
    assert len(calls) == 2


def test_the_database_refuses_a_county_number_twice(world, db):
    import sqlalchemy.exc

    from tracker.models import RegionLevel
    from tracker.org.services import create_region

    t = catalog(world)
    admin = world.users["county_a_admin"]
    a = create_region("平安村", RegionLevel.village, world.town_a1)
    b = create_region("平安屯", RegionLevel.village, world.town_a2)
    first = register(world, matter_type=t, village=a, responder=admin)
    second = register(world, matter_type=t, village=b, responder=admin)
    second.serial_no = first.serial_no
    with pytest.raises(sqlalchemy.exc.IntegrityError), db.session.begin_nested():
        db.session.flush()


def test_spring_festival_due_date_through_the_service(world, db):
    matter = register(world, matter_type=catalog(world, 3), received=at(2026, 2, 13, 16))
    assert matter.due_on == date(2026, 2, 25)


def test_immediate_matter_is_due_the_same_day(world, db):
    t = catalog(world, kind=MatterKind.immediate, name="开具证明")
    assert register(world, matter_type=t, received=at(2026, 10, 9, 10)).due_on == date(2026, 10, 9)


def test_the_local_date_of_receipt_counts_not_the_utc_date(world, db):
    # 07:30 in Beijing on Oct 9 is still Oct 8 in UTC.
    matter = register(world, matter_type=catalog(world, 1), received=at(2026, 10, 9, 7, 30))
    assert matter.received_on == date(2026, 10, 9)
    assert matter.due_on == date(2026, 10, 10)


def test_a_resubmitted_registration_is_harmless(world, db):
    a = register(world, client_token="tok-1")
    b, created = services.register_matter(
        village=world.village_a1a,
        matter_type=a.matter_type,
        applicant_name="王秀英",
        applicant_phone="13812345678",
        channel=Channel.in_person,
        received_at=at(2026, 9, 30),
        first_responder=world.users["village_a1a_editor"],
        actor=world.users["village_a1a_editor"],
        calendar=load_calendar(),
        client_token="tok-1",
    )
    assert b.id == a.id and created is False


@pytest.mark.parametrize(
    ("field", "kw", "message"),
    [
        ("applicant_phone", {"applicant_phone": "12"}, "电话"),
        ("applicant_id_number", {"applicant_id_number": "110105194912310021"}, "校验位"),
        ("applicant_name", {"applicant_name": "  "}, "姓名"),
    ],
)
def test_bad_registration_input_is_refused_naming_the_field(world, db, field, kw, message):
    with pytest.raises(MatterError, match=message) as info:
        register(world, **kw)
    assert info.value.field == field


def test_missing_materials_at_the_counter_need_a_one_time_notice(world, db):
    with pytest.raises(MatterError) as info:
        register(world, materials_missing=["收入证明"])
    assert info.value.field == "one_time_notice"


def test_a_matter_type_of_another_county_is_refused(world, db):
    other = services.save_matter_type(
        world.county_b, name="乙县事项", kind=MatterKind.promised, promised_days=3
    )
    with pytest.raises(MatterError) as info:
        register(world, matter_type=other)
    assert info.value.field == "matter_type_id"


def test_a_first_responder_from_another_township_is_refused(world, db):
    with pytest.raises(MatterError) as info:
        register(world, responder=world.users["town_a2_editor"])
    assert info.value.field == "first_responder_id"


# -- pauses ----------------------------------------------------------------------


def test_missing_materials_pause_the_clock_and_supplying_them_resumes_it(world, db):
    clerk = world.users["village_a1a_editor"]
    matter = register(world, received=at(2026, 3, 2))
    assert matter.due_on == date(2026, 3, 9)
    event(
        matter,
        EventKind.materials_missing,
        clerk,
        at(2026, 3, 3),
        missing=["收入证明"],
        notice="已一次性告知补齐收入证明",
    )
    assert matter.status == MatterStatus.paused
    assert matter.due_on is None
    event(matter, EventKind.materials_supplied, clerk, at(2026, 3, 5, 15))
    assert matter.status == MatterStatus.accepted
    assert matter.due_on == date(2026, 3, 11)
    assert "收入证明" in matter.materials_received


def test_registered_with_missing_materials_starts_paused(world, db):
    matter = register(
        world, received=at(2026, 3, 2), materials_missing=["户口簿"], one_time_notice="请补户口簿"
    )
    assert matter.status == MatterStatus.paused and matter.due_on is None
    event(matter, EventKind.materials_supplied, world.users["village_a1a_editor"], at(2026, 3, 4))
    assert matter.due_on == date(2026, 3, 11)  # Mar 5, 6, 9, 10, 11


def test_a_paused_matter_cannot_be_completed(world, db):
    clerk = world.users["village_a1a_editor"]
    matter = register(world, received=at(2026, 3, 2))
    event(matter, EventKind.materials_missing, clerk, at(2026, 3, 3), missing=["x"], notice="n")
    with pytest.raises(TransitionError):
        event(matter, EventKind.completed, clerk, at(2026, 3, 4), note="办完")


def test_completion_measures_working_days_without_the_pause(world, db):
    clerk = world.users["village_a1a_editor"]
    matter = register(world, received=at(2026, 3, 2))
    event(matter, EventKind.materials_missing, clerk, at(2026, 3, 3), missing=["x"], notice="n")
    event(matter, EventKind.materials_supplied, clerk, at(2026, 3, 5))
    event(matter, EventKind.completed, clerk, at(2026, 3, 11, 17), note="已发放")
    assert matter.on_time is True
    assert matter.working_days_used == 5


def test_completing_after_the_due_day_is_late(world, db):
    matter = register(world)
    event(
        matter,
        EventKind.completed,
        world.users["village_a1a_editor"],
        at(2026, 10, 14),
        note="已办",
    )
    assert matter.on_time is False


# -- 2027: a year the package does not cover ------------------------------------------


def test_2027_without_overrides_falls_back_to_monday_to_friday_unofficial(world, db):
    # Fri Nov 20 2026 + 30 working days: Dec 31 is the 29th, Fri Jan 1 2027 (Mon–Fri) the 30th
    t = catalog(world, 30, statutory=None)
    matter = register(world, matter_type=t, received=at(2026, 11, 20))
    assert matter.due_on == date(2027, 1, 1)
    assert matter.calendar_official is False


def test_2027_with_admin_overrides_is_official(world, db):
    for d in (1, 2, 3):
        db.session.add(CalendarOverride(day=date(2027, 1, d), is_workday=False, note="元旦"))
    db.session.flush()
    t = catalog(world, 30, statutory=None)
    matter = register(world, matter_type=t, received=at(2026, 11, 20))
    assert matter.due_on == date(2027, 1, 4)
    assert matter.calendar_official is True


# -- referral: 首问负责 --------------------------------------------------------------


def test_a_referral_chain_keeps_the_first_responder_accountable(world, db):
    clerk = world.users["village_a1a_editor"]
    town = world.users["town_a1_editor"]
    county = world.users["county_a_admin"]
    matter = register(world)
    event(
        matter, EventKind.referred, clerk, at(2026, 9, 30, 10), to_user_id=town.id, note="需镇审核"
    )
    event(
        matter,
        EventKind.referred,
        town,
        at(2026, 10, 8, 10),
        to_user_id=county.id,
        to_unit="县民政局",
        to_level=HandlingLevel.county,
    )
    assert matter.first_responder_id == clerk.id
    assert matter.handler_id == county.id
    assert matter.handler_unit == "县民政局"
    assert matter.referred is True

    from tracker.scope import Scope

    def mine(user):
        return db.session.scalars(services.matters_stmt(Scope.for_user(user), mine=user)).all()

    assert matter in mine(clerk)  # the first responder still sees it
    assert matter in mine(county)  # the current handler sees it
    assert matter not in mine(town)  # passed on: no longer theirs


def test_referral_to_someone_outside_the_village_chain_is_refused(world, db):
    matter = register(world)
    with pytest.raises(MatterError) as info:
        event(
            matter,
            EventKind.referred,
            world.users["village_a1a_editor"],
            at(2026, 9, 30, 10),
            to_user_id=world.users["town_b1_editor"].id,
        )
    assert info.value.field == "to_user_id"


# -- extension ---------------------------------------------------------------------


def test_an_extension_needs_an_approver_a_reason_and_the_applicant_notice(world, db):
    clerk = world.users["village_a1a_editor"]
    matter = register(world)
    with pytest.raises(MatterError) as info:
        event(
            matter,
            EventKind.extended,
            clerk,
            at(2026, 10, 8),
            days=3,
            note="需实地核查",
            notice="已电话告知",
        )
    assert info.value.field == "approver"
    event(
        matter,
        EventKind.extended,
        clerk,
        at(2026, 10, 8),
        days=3,
        note="需实地核查",
        approver="李镇长",
        notice="已电话告知申请人",
    )
    assert matter.due_on == date(2026, 10, 16)  # Oct 13 + 3 working days
    assert matter.events[-1].data == {"notice": "已电话告知申请人"}


# -- ratings and call-backs --------------------------------------------------------------


def test_the_first_responder_cannot_rate_their_own_matter(world, db):
    clerk = world.users["village_a1a_editor"]
    matter = register(world)
    event(matter, EventKind.completed, clerk, at(2026, 10, 9), note="已办")
    with pytest.raises(TransitionError, match="首问"):
        event(matter, EventKind.rated, clerk, at(2026, 10, 9, 10), rating=Rating.satisfied)


def test_whoever_completed_the_matter_cannot_rate_it(world, db):
    clerk = world.users["village_a1a_editor"]
    town = world.users["town_a1_editor"]
    matter = register(world)
    event(matter, EventKind.completed, town, at(2026, 10, 9), note="已办")
    with pytest.raises(TransitionError, match="自评"):
        event(matter, EventKind.rated, town, at(2026, 10, 9, 10), rating=Rating.satisfied)
    assert clerk.id == matter.first_responder_id


def test_a_bad_rating_needs_a_call_back_within_five_working_days(world, db):
    clerk = world.users["village_a1a_editor"]
    other = create_user("hall_clerk2", "password-123", Role.editor, world.village_a1a)
    matter = register(world)
    event(matter, EventKind.completed, clerk, at(2026, 9, 30, 16), note="已办")
    event(matter, EventKind.rated, other, at(2026, 9, 30, 17), rating=Rating.dissatisfied)
    assert matter.callback_due_on == date(2026, 10, 13)
    with pytest.raises(TransitionError, match="回访"):
        event(matter, EventKind.archived, clerk, at(2026, 10, 9))
    event(matter, EventKind.called_back, clerk, at(2026, 10, 12), note="电话回访，已解释政策")
    assert matter.callback_on_time is True
    event(matter, EventKind.archived, clerk, at(2026, 10, 12, 10))
    assert matter.status == MatterStatus.archived
    with pytest.raises(TransitionError, match="归档"):
        event(matter, EventKind.appealed, clerk, at(2026, 10, 12, 11), note="x")


def test_an_upheld_appeal_voids_the_rating(world, db):
    clerk = world.users["village_a1a_editor"]
    other = create_user("hall_clerk3", "password-123", Role.editor, world.village_a1a)
    matter = register(world)
    event(matter, EventKind.completed, clerk, at(2026, 9, 30, 16), note="已办")
    event(matter, EventKind.rated, other, at(2026, 9, 30, 17), rating=Rating.very_dissatisfied)
    event(matter, EventKind.appealed, clerk, at(2026, 10, 8), note="申请人误评")
    with pytest.raises(MatterError, match="管理员"):
        event(matter, EventKind.appeal_decided, other, at(2026, 10, 8, 10), upheld=True, note="x")
    event(
        matter,
        EventKind.appeal_decided,
        world.users["county_a_admin"],
        at(2026, 10, 8, 11),
        upheld=True,
        note="核实为误评",
    )
    assert matter.rating_void is True
    event(matter, EventKind.archived, clerk, at(2026, 10, 9))


def test_events_cannot_go_back_in_time_or_into_the_future(world, db):
    clerk = world.users["village_a1a_editor"]
    matter = register(world)
    with pytest.raises(MatterError, match="早于"):
        event(matter, EventKind.completed, clerk, at(2026, 9, 29), note="x")
    with pytest.raises(MatterError, match="晚于"):
        event(matter, EventKind.completed, clerk, services.utcnow() + timedelta(days=1), note="x")


def test_a_resubmitted_event_is_recorded_once(world, db):
    clerk = world.users["village_a1a_editor"]
    matter = register(world)
    a = event(matter, EventKind.completed, clerk, at(2026, 10, 9), note="已办", client_token="e1")
    b, created = services.record_event(
        matter, Complete(note="已办", client_token="e1"), clerk, calendar=load_calendar()
    )
    assert a.id == b.id and created is False
    assert [e.kind for e in matter.events].count(EventKind.completed) == 1


# -- measures ---------------------------------------------------------------------------


def test_measures_roll_up_to_village_township_and_county_in_one_query(world, db):
    clerk = world.users["village_a1a_editor"]
    rater = create_user("hall_rater", "password-123", Role.editor, world.village_a1a)
    t = catalog(world)
    on_time = register(world, matter_type=t)
    event(on_time, EventKind.completed, clerk, at(2026, 10, 9), note="ok")
    event(on_time, EventKind.rated, rater, at(2026, 10, 9, 10), rating=Rating.satisfied)
    late = register(world, matter_type=t)
    event(late, EventKind.referred, clerk, at(2026, 9, 30, 10), to_unit="镇民政办")
    event(late, EventKind.completed, clerk, at(2026, 10, 14), note="ok")
    event(late, EventKind.rated, rater, at(2026, 10, 14, 10), rating=Rating.very_dissatisfied)
    event(late, EventKind.called_back, clerk, at(2026, 10, 15), note="回访")
    town_a1, town_a2 = world.users["town_a1_editor"], world.users["town_a2_editor"]
    register(world, t, at(2026, 10, 9), town_a1, village=world.village_a1b)
    register(world, t, at(2026, 10, 9), town_a2, village=world.village_a2a)

    start, end, today = date(2026, 1, 1), date(2026, 12, 31), date(2026, 11, 26)
    villages = services.matter_measures(RegionLevel.village, start, end, today=today)
    a1a = villages[world.village_a1a.id]
    assert (a1a.received, a1a.completed, a1a.judged, a1a.on_time) == (2, 2, 2, 1)
    assert a1a.completed_late == 1 and a1a.overdue_open == 0 and a1a.on_time_rate == 0.5
    assert a1a.avg_working_days == (2 + 6) / 2  # Oct 8–9; Oct 8–14 with the Saturday
    assert a1a.referral_rate == 0.5
    assert a1a.satisfaction_rate == 0.5
    assert (a1a.bad, a1a.bad_called_back_on_time) == (1, 1)
    assert villages[world.village_a1b.id].overdue_open == 1

    towns = services.matter_measures(RegionLevel.township, start, end, today=today)
    assert towns[world.town_a1.id].received == 3
    assert (towns[world.town_a1.id].judged, towns[world.town_a1.id].on_time) == (3, 1)
    assert towns[world.town_a1.id].overdue_open == 1
    assert towns[world.town_a2.id].received == 1
    counties = services.matter_measures(RegionLevel.county, start, end, today=today)
    assert counties[world.county_a.id].received == 4
    assert world.county_b.id not in counties
    only = services.matter_measures(
        RegionLevel.township, start, end, today=today, under=world.town_a2
    )
    assert set(only) == {world.town_a2.id}


def test_a_serial_number_taken_concurrently_is_skipped_not_a_crash(world, db, monkeypatch):
    first = register(world)
    real = services._next_serial
    calls = []

    def stale(village, year):  # the first call answers as if `first` did not exist yet
        calls.append(1)
        return first.serial_no if len(calls) == 1 else real(village, year)

    monkeypatch.setattr(services, "_next_serial", stale)
    second = register(world, matter_type=first.matter_type)
    assert second.serial_no == "村甲一甲-2026-0002"
    assert len(second.events) == 1


def test_the_timeline_is_append_only(world, db):
    matter = register(world)
    first = matter.events[0]
    first.note = "改写"
    with pytest.raises(ValueError, match="只能追加"):
        db.session.flush()
    db.session.rollback()
    with pytest.raises(ValueError, match="只能追加"):
        db.session.delete(db.session.merge(first))
        db.session.flush()


def test_tab_counts_are_the_rows_of_each_list(world, db):
    """The counts beside the list tabs (one statement) agree with the lists themselves."""
    from tracker.matters.models import Rating
    from tracker.scope import Scope

    kinds = [catalog(world, promised=n) for n in (1, 3, 5)]
    matters = [
        register(
            world,
            matter_type=kinds[i % 3],
            received=at(2026, 9, 21 + i),
            village=v,
            responder=world.users["county_a_admin"],
        )
        for i, v in enumerate([world.village_a1a, world.village_a1b, world.village_a2a] * 2)
    ]
    matters[0].rating, matters[0].rating_void = Rating.dissatisfied, False
    matters[1].rating, matters[1].rating_void = Rating.very_dissatisfied, True  # void on appeal
    matters[2].rating, matters[2].called_back_on = Rating.dissatisfied, date(2026, 10, 20)
    matters[3].rating = Rating.satisfied
    matters[4].status, matters[4].due_on = MatterStatus.paused, None
    db.session.flush()
    cal = load_calendar()
    seen = set()
    for region in (world.county_a, world.town_a1, world.village_a1a, world.county_b):
        scope = Scope(None, region.id, region.path, Role.editor)
        for today in (date(2026, 9, 25), date(2026, 9, 30), date(2026, 10, 9), date(2026, 11, 2)):
            counts = services.tab_counts(scope, today, cal)
            expected = (
                services.count_of(services.overdue_stmt(scope, today)),
                services.count_of(services.due_soon_stmt(scope, today, cal)),
                services.count_of(services.callbacks_due_stmt(scope)),
            )
            assert (counts.overdue, counts.due_soon, counts.callbacks) == expected
            seen.add(expected)
    assert len(seen) > 3 and any(all(e) for e in seen)  # the cases are not all zero
