"""Rules of the secondment programme that need the database (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from tests.factories import make_user
from tests.tracker.secondment_helpers import PLANNED_END, START, assessment_group, seconded
from tracker import clock
from tracker.extensions import db as sqla
from tracker.models import Role
from tracker.secondment.models import (
    CandidateStatus,
    ComplaintStatus,
    Grade,
    GroupKind,
    Outcome,
    PostType,
    Secondment,
    WeeklyReport,
)
from tracker.secondment.rules import SecondmentError, week_start
from tracker.secondment.services import (
    SecondmentInput,
    add_group,
    add_log,
    close_complaint,
    complete_selection,
    create_batch,
    create_secondment,
    end_secondment,
    file_complaint,
    file_report,
    propose_candidate,
    record_assessment,
    record_checks,
    record_inspection,
    sees_identity,
    select_candidate,
    veto,
)
from tracker.workdays import WorkCalendar

CAL = WorkCalendar.from_rows(())


def _input(**kw) -> SecondmentInput:
    data = {
        "receiving_unit": "镇甲一党委",
        "post": "党委副书记",
        "post_type": PostType.town_village,
        "start_on": START,
        "planned_end_on": PLANNED_END,
    }
    data.update(kw)
    return SecondmentInput(**data)


def test_a_vetoed_candidate_cannot_be_seconded_and_keeps_the_reason(world, db):
    batch = create_batch(world.county_a, 2026, "批次")
    c = propose_candidate(batch, "王某", "副科级", "县财政局", PostType.petition)
    veto(c, "2023年受党内警告处分", "县纪委监委", date(2023, 5, 1))
    assert c.status == CandidateStatus.vetoed
    with pytest.raises(SecondmentError, match="一票否决"):
        select_candidate(c)
    complete_selection(batch, date(2026, 3, 1))
    with pytest.raises(SecondmentError, match="一票否决.*警告处分"):
        create_secondment(c, world.town_a1, _input())
    assert sqla.session.scalar(select(func.count(Secondment.id))) == 0


def test_selection_needs_both_checks(world, db):
    batch = create_batch(world.county_a, 2026, "批次")
    c = propose_candidate(batch, "王某", "", "县财政局", PostType.project)
    with pytest.raises(SecondmentError, match="纪检和法律审查"):
        select_candidate(c)
    record_checks(c, date(2026, 2, 1), "县纪委", None, "")
    with pytest.raises(SecondmentError):
        select_candidate(c)
    with pytest.raises(SecondmentError, match="未完成审查"):
        complete_selection(batch, date(2026, 3, 1))


def test_a_secondment_cannot_start_before_selection_is_complete(world, db):
    batch = create_batch(world.county_a, 2026, "批次")
    c = propose_candidate(batch, "王某", "", "县财政局", PostType.project)
    record_checks(c, date(2026, 2, 1), "县纪委", date(2026, 2, 1), "县司法局")
    select_candidate(c)
    with pytest.raises(SecondmentError, match="选拔尚未完成") as exc:
        create_secondment(c, world.town_a1, _input())
    assert exc.value.field == "start_on"
    complete_selection(batch, date(2026, 3, 5))
    with pytest.raises(SecondmentError, match="不能早于选拔完成日期"):
        create_secondment(c, world.town_a1, _input())
    s = create_secondment(c, world.town_a1, _input(start_on=date(2026, 3, 5)))
    assert s.region_id == world.town_a1.id and s.public_token


def test_the_same_cadre_cannot_hold_overlapping_secondments(world, db):
    first = seconded(world)
    batch2 = create_batch(world.county_a, 2026, "第二批")
    c = propose_candidate(batch2, first.cadre_name, "", first.sending_unit, PostType.project)
    record_checks(c, date(2026, 2, 1), "县纪委", date(2026, 2, 1), "县司法局")
    select_candidate(c)
    complete_selection(batch2, date(2026, 3, 1))
    with pytest.raises(SecondmentError, match="重叠"):
        create_secondment(c, world.town_a2, _input(start_on=date(2026, 9, 1)))
    later = create_secondment(
        c,
        world.town_a2,
        _input(start_on=PLANNED_END + timedelta(days=1), planned_end_on=date(2028, 3, 1)),
    )
    assert later.id != first.id


def test_the_receiving_unit_lies_in_the_batch_county(world, db):
    batch = create_batch(world.county_a, 2026, "批次")
    c = propose_candidate(batch, "王某", "", "县财政局", PostType.project)
    record_checks(c, date(2026, 2, 1), "县纪委", date(2026, 2, 1), "县司法局")
    select_candidate(c)
    complete_selection(batch, date(2026, 3, 1))
    with pytest.raises(SecondmentError, match="本县"):
        create_secondment(c, world.town_b1, _input())


def test_a_weekly_report_edit_makes_a_version_not_a_second_report(world, db):
    s = seconded(world)
    monday = START
    r, created = file_report(s, monday, "走访农户 12 户", "", "继续走访", ["work_done"], CAL)
    assert created and r.version == 1 and r.public_fields == ["work_done"]
    r2, created2 = file_report(
        s, monday, "走访农户 15 户", "道路待修", "", ["work_done", "problems"], CAL
    )
    assert not created2 and r2.id == r.id and r2.version == 2
    assert [v.work_done for v in r2.versions] == ["走访农户 12 户"]
    assert sqla.session.scalar(select(func.count(WeeklyReport.id))) == 1
    # filed long after the deadline: late
    assert r.on_time is False


def test_a_weekly_report_cannot_be_for_the_future(world, db):
    s = seconded(world)
    next_monday = week_start(clock.today()) + timedelta(days=7)
    with pytest.raises(SecondmentError, match="未来"):
        file_report(s, next_monday, "计划", "", "", [], CAL)


def test_public_fields_are_only_the_listed_ones(world, db):
    s = seconded(world)
    with pytest.raises(SecondmentError, match="公示"):
        file_report(s, START, "工作", "", "", ["complainant"], CAL)


def test_work_log_entries_lie_in_the_term_and_not_in_the_future(world, db):
    s = seconded(world)
    add_log(s, START, "入户走访", "村甲一甲", "村支书", "收集诉求 3 条")
    with pytest.raises(SecondmentError, match="挂职期"):
        add_log(s, START - timedelta(days=1), "报到前")
    with pytest.raises(SecondmentError, match="晚于今天"):
        add_log(s, clock.today() + timedelta(days=1), "明天")


def test_an_assessment_per_window_with_a_grade(world, db):
    s = seconded(world)
    a = record_assessment(s, "2026-Q1", date(2026, 4, 10), Grade.competent, "考核组 李组长")
    assert a.region_id == s.region_id
    with pytest.raises(SecondmentError, match="已考核"):
        record_assessment(s, "2026-Q1", date(2026, 4, 11), Grade.excellent, "李组长")
    with pytest.raises(SecondmentError, match="不在挂职期"):
        record_assessment(s, "2025-Q4", date(2026, 4, 11), Grade.excellent, "李组长")


def test_an_inspection_with_rectification_needs_a_deadline(world, db):
    s = seconded(world)
    group = assessment_group(world, s)
    with pytest.raises(SecondmentError, match="整改期限") as exc:
        record_inspection(s, group, date(2026, 5, 6), "镇甲一党委", False, "不在岗", "说明情况")
    assert exc.value.field == "rectify_by"
    v = record_inspection(
        s, group, date(2026, 5, 6), "镇甲一党委", False, "不在岗", "说明情况", date(2026, 5, 20)
    )
    assert v.group_id == group.id and v.present is False
    office = add_group(s.batch, GroupKind.office, "办公室", [])
    with pytest.raises(SecondmentError, match="考核组"):
        record_inspection(s, office, date(2026, 5, 6), "镇甲一", True)


def test_the_public_form_refuses_floods(world, db, app):
    s = seconded(world)
    limit = app.config["SETTINGS"].rules.secondment_complaints_per_hour
    for i in range(limit):
        file_complaint(s, f"反映 {i}", channel="public", source_hash="abc")
    with pytest.raises(SecondmentError, match="频繁") as exc:
        file_complaint(s, "再一次", channel="public", source_hash="abc")
    assert exc.value.status == 429
    file_complaint(s, "另一人", channel="public", source_hash="other")


def test_a_complaint_is_closed_with_outcome_and_reply(world, db):
    s = seconded(world)
    c = file_complaint(s, "经常不在岗", "赵某", "13900000000")
    assert c.due_on > clock.today() and c.status == ComplaintStatus.open
    close_complaint(c, "经核查属实，已约谈", "已核查处理，感谢监督", clock.today())
    assert c.status == ComplaintStatus.closed
    with pytest.raises(SecondmentError, match="已办结"):
        close_complaint(c, "x", "y", clock.today())


def test_only_the_assessment_office_sees_who_complained(world, db):
    s = seconded(world)
    officer = make_user(Role.editor, world.county_a)
    add_group(s.batch, GroupKind.assessment_office, "考核办", [("周主任", "主任", officer.id)])
    c = file_complaint(s, "经常不在岗", "赵某", "13900000000")
    assert sees_identity(officer, c)
    assert not sees_identity(world.users["county_a_admin"], c)
    assert not sees_identity(world.users["town_a1_editor"], c)


def test_an_outcome_needs_its_decision_and_date(world, db):
    s = seconded(world)
    with pytest.raises(SecondmentError, match="使用决定"):
        end_secondment(s, date(2026, 11, 30), Outcome.promoted)
    end_secondment(
        s, date(2026, 11, 30), Outcome.promoted, "县委常委会 2026-12", date(2026, 11, 30)
    )
    assert s.outcome == Outcome.promoted and s.end_on == date(2026, 11, 30)
