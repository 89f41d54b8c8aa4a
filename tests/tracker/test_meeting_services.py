"""Recording, editing and deleting meetings: the rules the services enforce."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from tests import files
from tests.tracker.test_meeting_helpers import at, meeting_input
from tracker.meetings import services
from tracker.meetings.models import Meeting, MeetingVersion
from tracker.meetings.obligations import (
    branch_obligations,
    late_entry_counts,
    obligations_for_branches,
    obligations_for_region,
    summaries,
)
from tracker.meetings.rules import Period
from tracker.meetings.services import MeetingError, record_meeting, update_meeting
from tracker.models import Member
from tracker.workdays import WorkCalendar

CAL = WorkCalendar()


def record(world, village, start, now=None, **kw):
    branch = world.branch(village)
    data = meeting_input(world, village, start, **kw)
    return record_meeting(branch, data, None, CAL, now=now or start + timedelta(hours=3), **{})


def test_a_meeting_keeps_server_entry_time_and_attendance(world, db):
    m = record(world, world.village_a1a, at(2026, 3, 2))
    assert m.entered_at == at(2026, 3, 2, 12).astimezone(UTC)
    assert len(m.attendance) == 6 and all(a.present for a in m.attendance)
    assert m.version == 1 and not m.late
    assert m.quorum_met is None  # committee: no quorum rule


def test_entered_more_than_three_working_days_later_is_late(world, db):
    m = record(world, world.village_a1a, at(2026, 3, 2), now=at(2026, 3, 6, 10))
    assert m.late and m.late_working_days == 4
    on_time = record(world, world.village_a1a, at(2026, 3, 9), now=at(2026, 3, 12, 10))
    assert not on_time.late


def test_general_meeting_quorum_counts_full_members_only(world, db):
    members = world.members[world.village_a1a.id]
    # 5 full members + 1 probationary; 2 full + the probationary present → no quorum.
    present = {members[0].id, members[1].id, members[5].id}
    m = record(
        world, world.village_a1a, at(2026, 3, 2), kind="branch_general_meeting", present_ids=present
    )
    assert (m.full_members, m.full_present, m.quorum_met) == (5, 2, False)
    present = {members[0].id, members[1].id, members[2].id}
    ok = record(
        world, world.village_a1a, at(2026, 3, 3), kind="branch_general_meeting", present_ids=present
    )
    assert ok.quorum_met is True


def test_meeting_without_quorum_leaves_the_quarter_missing(world, db):
    members = world.members[world.village_a1a.id]
    m = record(
        world,
        world.village_a1a,
        at(2026, 2, 2),
        kind="branch_general_meeting",
        present_ids={members[0].id},
    )
    statuses = branch_obligations(
        world.branch(world.village_a1a), Period.parse("2026-Q1"), date(2026, 4, 5)
    )
    general = [s for s in statuses if s.kind == "branch_general_meeting"][0]
    assert general.status == "missing" and general.other_record_ids == (m.id,)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"started_at": datetime.now(UTC) + timedelta(days=1)}, "started_at"),
        ({"ended_at": at(2026, 3, 2, 8)}, "ended_at"),
        ({"place": "  "}, "place"),
        ({"kind": "no_such_kind"}, "kind"),
        ({"kind": "party_lecture"}, "lecturer"),
        ({"kind": "party_group_meeting"}, "group_id"),
    ],
)
def test_bad_meetings_are_refused_with_a_field(world, db, change, field):
    start = change.pop("started_at", at(2026, 3, 2))
    with pytest.raises(MeetingError) as err:
        record(world, world.village_a1a, start, now=datetime.now(UTC), **change)
    assert err.value.field == field


def test_host_and_attendees_must_be_on_this_branchs_roster(world, db):
    stranger = world.members[world.village_b1a.id][0]
    with pytest.raises(MeetingError, match="主持人") as err:
        record(world, world.village_a1a, at(2026, 3, 2), host_id=stranger.id)
    assert err.value.field == "host_id"
    mine = {m.id for m in world.members[world.village_a1a.id]}
    with pytest.raises(MeetingError, match="名册") as err:
        record(world, world.village_a1a, at(2026, 3, 2), present_ids=mine | {stranger.id})
    assert err.value.field == "attendance"


def test_member_who_left_is_not_on_the_roster_of_a_later_meeting(world, db):
    leaver = world.members[world.village_a1a.id][2]
    leaver.left_on = date(2026, 1, 1)
    db.session.flush()
    with pytest.raises(MeetingError):
        record(world, world.village_a1a, at(2026, 3, 2), host_id=leaver.id)


def test_group_meeting_roster_is_the_groups_members(world, db):
    group = world.groups[world.village_a1a.id][0]
    members = [m for m in world.members[world.village_a1a.id] if m.group_id == group.id]
    m = record(
        world,
        world.village_a1a,
        at(2026, 3, 2),
        kind="party_group_meeting",
        group_id=group.id,
        host_id=members[0].id,
        present_ids={members[0].id},
        absence_reasons={members[1].id: "外出务工"},
    )
    assert {a.member_id for a in m.attendance} == {x.id for x in members}
    absent = [a for a in m.attendance if not a.present]
    assert any(a.absence_reason == "外出务工" for a in absent)


def test_edit_creates_a_new_version_with_a_diff_and_keeps_entry_time(world, db):
    m = record(world, world.village_a1a, at(2026, 3, 2), now=at(2026, 3, 2, 12))
    entered = m.entered_at
    data = meeting_input(world, world.village_a1a, at(2026, 3, 2), place="村委会会议室")
    update_meeting(m, data, None, CAL, expected_version=1, now=at(2026, 3, 3))
    assert m.version == 2 and m.entered_at == entered
    versions = services.history(m)
    assert [v.version for v in versions] == [2, 1]
    assert versions[0].diff["place"] == ["村党员活动室", "村委会会议室"]
    assert versions[0].prev_hash == versions[1].hash


def test_edit_with_a_stale_version_is_refused(world, db):
    m = record(world, world.village_a1a, at(2026, 3, 2))
    data = meeting_input(world, world.village_a1a, at(2026, 3, 2), place="别处")
    with pytest.raises(MeetingError) as err:
        update_meeting(m, data, None, CAL, expected_version=0)
    assert err.value.status == 409


def test_unchanged_save_makes_no_new_version(world, db):
    m = record(world, world.village_a1a, at(2026, 3, 2))
    update_meeting(
        m,
        meeting_input(world, world.village_a1a, at(2026, 3, 2)),
        None,
        CAL,
        expected_version=1,
        now=at(2026, 3, 3),
    )
    assert m.version == 1


def test_old_records_need_an_admin_and_a_reason(world, db, app):
    old = datetime.now(UTC) - timedelta(days=200)
    m = record(world, world.village_a1a, old, now=old + timedelta(hours=2))
    data = meeting_input(world, world.village_a1a, old, place="改过")
    with pytest.raises(MeetingError) as err:
        update_meeting(m, data, None, CAL, expected_version=1)
    assert err.value.status == 403
    with pytest.raises(MeetingError) as err:
        update_meeting(m, data, None, CAL, expected_version=1, is_admin=True)
    assert err.value.field == "reason"
    update_meeting(m, data, None, CAL, expected_version=1, is_admin=True, reason="核对原始记录")
    assert services.history(m)[0].reason == "核对原始记录"


def test_soft_delete_keeps_the_record_and_stops_it_counting(world, db):
    m = record(world, world.village_a1a, at(2026, 3, 2), kind="theme_party_day")
    with pytest.raises(MeetingError):
        services.delete_meeting(m, None, "", now=at(2026, 3, 5))
    services.delete_meeting(m, None, "重复录入", now=at(2026, 3, 5))
    assert db.session.get(Meeting, m.id).deleted_reason == "重复录入"
    assert services.history(m)[0].action == "delete"
    status = [
        s
        for s in branch_obligations(
            world.branch(world.village_a1a), Period.parse("2026-03"), date(2026, 4, 2)
        )
        if s.kind == "theme_party_day"
    ][0]
    assert status.status == "missing"


def test_client_uuid_finds_the_first_submit(world, db):
    branch = world.branch(world.village_a1a)
    data = meeting_input(world, world.village_a1a, at(2026, 3, 2))
    m = record_meeting(branch, data, None, CAL, client_uuid="abc-123", now=at(2026, 3, 2, 12))
    assert services.find_by_client_uuid("abc-123") is m
    assert services.find_by_client_uuid("other") is None


def test_attachment_is_stored_by_sha256_and_type_checked(world, db, app):
    m = record(world, world.village_a1a, at(2026, 3, 2))
    jpeg = files.jpeg(b"x" * 100)
    att = services.add_attachment(m, "签到表.jpg", jpeg, None)
    assert services.attachment_path(att.sha256).read_bytes() == jpeg
    assert m.version == 2
    with pytest.raises(MeetingError) as err:
        services.add_attachment(m, "x.exe", b"MZ\x90\x00", None)
    assert err.value.status == 415
    with pytest.raises(MeetingError) as err:
        services.add_attachment(m, "big.pdf", files.pdf(b"0" * 2000), None, max_bytes=1000)
    assert err.value.status == 413


def test_bulk_obligations_use_one_query_per_table(world, db, app):
    from sqlalchemy import event

    record(world, world.village_a1a, at(2026, 3, 2), kind="theme_party_day")
    record(world, world.village_a1b, at(2026, 3, 20), now=at(2026, 4, 20), kind="theme_party_day")
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    ids = [b.id for b in world.branches.values()]
    event.listen(db.engine, "before_cursor_execute", count)
    try:
        out = obligations_for_branches(ids, Period.parse("2026-03"), date(2026, 4, 25))
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len(statements) <= 6  # branches, groups, meetings, overrides, kinds (rules + list)
    sums = summaries(out)
    a1a, a1b = world.branch(world.village_a1a).id, world.branch(world.village_a1b).id
    assert sums[a1a].met >= 1 and sums[a1b].met_late == 1
    late = late_entry_counts(ids, Period.parse("2026"))
    assert late[a1b] == (1, 1)
    assert set(
        obligations_for_region(world.county_a.path, Period.parse("2026-03"), date(2026, 4, 25))
    ) == {world.branch(v).id for v in (world.village_a1a, world.village_a1b, world.village_a2a)}


def test_county_override_applies_to_its_villages(world, db, app):
    services.set_rule_override(world.county_a, "party_lecture", "monthly")
    a = branch_obligations(
        world.branch(world.village_a1a), Period.parse("2026-Q1"), date(2026, 4, 5)
    )
    b = branch_obligations(
        world.branch(world.village_b1a), Period.parse("2026-Q1"), date(2026, 4, 5)
    )
    assert len([s for s in a if s.kind == "party_lecture"]) == 3
    assert len([s for s in b if s.kind == "party_lecture"]) == 1
    with pytest.raises(MeetingError):
        services.set_rule_override(world.county_a, "party_lecture", "weekly")
    with pytest.raises(MeetingError):
        services.set_rule_override(world.town_a1, "party_lecture", "monthly")


def test_configured_kind_gets_an_obligation(world, db, app):
    services.add_kind("safety_meeting", "安全生产会", "quarterly")
    statuses = branch_obligations(
        world.branch(world.village_a1a), Period.parse("2026-Q1"), date(2026, 4, 5)
    )
    assert [s.status for s in statuses if s.kind == "safety_meeting"] == ["missing"]
    with pytest.raises(MeetingError):
        services.add_kind("safety_meeting", "重复", "none")


def test_plan_vs_held_matches_by_kind_and_nearest_date(world, db, app):
    branch = world.branch(world.village_a1a)
    plan = services.file_plan(
        branch, 2026, 1, "theme_party_day", date(2026, 3, 5), "重温入党誓词", None
    )
    services.file_plan(branch, 2026, 1, "branch_committee_meeting", date(2026, 2, 10), "", None)
    held = record(world, world.village_a1a, at(2026, 3, 6), kind="theme_party_day")
    lines, unplanned = services.plan_vs_held(branch, 2026, 1)
    by_kind = {line.plan.kind: line.held for line in lines}
    assert by_kind["theme_party_day"] is held and by_kind["branch_committee_meeting"] is None
    assert plan.topic == "重温入党誓词" and unplanned == []
    with pytest.raises(MeetingError):
        services.file_plan(branch, 2026, 1, "theme_party_day", date(2026, 5, 5), "", None)


def test_probationary_member_is_recorded_without_a_vote(world, db):
    m = record(world, world.village_a1a, at(2026, 3, 2), kind="branch_general_meeting")
    prob = world.members[world.village_a1a.id][5]
    row = [a for a in m.attendance if a.member_id == prob.id][0]
    assert row.present and not row.voting
    assert db.session.scalar(select(Member.status).where(Member.id == prob.id)) == "probationary"
    assert (
        db.session.scalar(select(MeetingVersion.version).where(MeetingVersion.meeting_id == m.id))
        == 1
    )


def test_same_kind_at_the_same_start_is_refused_as_a_duplicate(world, db):
    record(world, world.village_a1a, at(2026, 3, 2))
    with pytest.raises(MeetingError, match="重复") as err:
        record(world, world.village_a1a, at(2026, 3, 2))
    assert err.value.field == "started_at"
    record(world, world.village_a1a, at(2026, 3, 2), kind="theme_party_day")


def test_who_could_vote_is_fixed_on_the_meeting_day_not_re_derived_on_edit(world, db):
    """4 of 9 full members present (+ 2 probationary): not quorate, and it stays so after the
    two probationary members are made full and a typo in the record is corrected."""
    from tracker.models import MemberStatus
    from tracker.org.services import add_member

    village = world.village_a1a
    branch = world.branch(village)
    members = world.members[village.id]  # 5 full + 1 probationary
    for i in range(4):
        members.append(add_member(branch, f"加党员{i}", joined_on=date(2020, 1, 1)))
    members.append(
        add_member(branch, "加预备", status=MemberStatus.probationary, joined_on=date(2020, 1, 1))
    )
    db.session.flush()
    full = [m for m in members if m.status == MemberStatus.full]
    probationary = [m for m in members if m.status == MemberStatus.probationary]
    assert (len(full), len(probationary)) == (9, 2)
    present = {m.id for m in full[:4]} | {m.id for m in probationary}
    start = at(2026, 3, 2)
    m = record(world, village, start, kind="branch_general_meeting", present_ids=present)
    assert (m.full_members, m.full_present, m.quorum_met) == (9, 4, False)

    for p in probationary:  # 转正 after the meeting
        p.status = MemberStatus.full
    db.session.flush()
    data = meeting_input(
        world,
        village,
        start,
        kind="branch_general_meeting",
        present_ids=present,
        topics="研究本季度工作",
    )
    update_meeting(m, data, None, CAL, expected_version=1, now=at(2026, 3, 3))
    assert m.version == 2
    assert (m.full_members, m.full_present, m.quorum_met) == (9, 4, False)
    assert {a.member_id for a in m.attendance if a.voting} == {x.id for x in full}
