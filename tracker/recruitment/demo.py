"""Demo recruitment cases (发展党员): in the villages that keep their ledgers, a few people
at each stage — applicants, activists, candidates, probationary and full members — whose
admission and 转正 were decided at the branch's own quorate 支部党员大会 records. 五四村's
overstretched committee (:data:`tracker.demo.STORY`: ``talk_overdue``) has not talked to
an applicant within the month.

Every step goes through :func:`tracker.recruitment.services.record_step`, so the demo
keeps the rules it shows. Own random generator: the seeders before it are unchanged.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from tracker import clock
from tracker.calendar_service import load_calendar
from tracker.demo import DemoWorld, story
from tracker.extensions import db
from tracker.meetings.models import Meeting
from tracker.models import Branch, Gender
from tracker.recruitment.models import RecruitCase, StepKind
from tracker.recruitment.rules import add_months
from tracker.recruitment.services import (
    GENERAL_MEETING,
    CaseInput,
    StepInput,
    open_case,
    record_step,
)
from tracker.workdays import WorkCalendar

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = "宇航子轩浩然欣怡梓涵思远佳琪晨阳雨桐博文"
CONTACTS = ["王国华", "李建军", "张丽娟", "刘志强", "陈海燕", "杨明辉"]
OCCUPATIONS = ["农民", "个体经营", "村医", "返乡大学生", "合作社社员"]
TOWN_COMMITTEE = "镇党委"


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)


def _open(branch: Branch, applied: date, rng: random.Random) -> RecruitCase:
    return open_case(
        branch,
        CaseInput(
            name=_name(rng),
            applied_on=applied,
            gender=rng.choice([Gender.male, Gender.female]),
            birth_date=date(rng.randint(1985, 2000), rng.randint(1, 12), rng.randint(1, 28)),
            occupation=rng.choice(OCCUPATIONS),
            education=rng.choice(["高中", "大学专科", "初中"]),
        ),
    )


def _step(case: RecruitCase, cal: WorkCalendar, kind: StepKind, on: date, **fields: Any) -> None:
    record_step(case, StepInput(kind=kind, on=on, **fields), cal)


def _to_activist(case: RecruitCase, cal: WorkCalendar, activist: date, rng: random.Random) -> None:
    talk = min(case.applied_on + timedelta(days=rng.randint(7, 25)), activist)
    _step(
        case, cal, StepKind.talk, talk, person_a="党支部书记", result="了解入党动机，谈话记录已存档"
    )
    a, b = rng.sample(CONTACTS, 2)
    _step(case, cal, StepKind.activist, activist, body="党支部委员会", person_a=a, person_b=b)


def _reviews(case: RecruitCase, cal: WorkCalendar, start: date, until: date) -> None:
    day = add_months(start, 6)
    while day <= until:
        _step(case, cal, StepKind.review, day, body="培养联系人", result="表现良好，学习积极")
        day = add_months(day, 6)


def _workday(cal: WorkCalendar, day: date) -> date:
    while not cal.is_workday(day):
        day += timedelta(days=1)
    return day


def _to_admission(
    case: RecruitCase, cal: WorkCalendar, meeting: Meeting, rng: random.Random
) -> date:
    """Every step from the application to the admission at ``meeting``."""
    admitted = clock.local_date(meeting.started_at)
    pub_start = _workday(cal, admitted - timedelta(days=21))
    pub_until, _ = cal.add_working_days(pub_start, 6)
    training = admitted - timedelta(days=40)
    candidate = admitted - timedelta(days=60)
    activist = add_months(candidate, -13)
    _to_activist(case, cal, activist, rng)
    _reviews(case, cal, activist, candidate)
    _step(case, cal, StepKind.candidate, candidate, body="党支部委员会")
    _step(
        case,
        cal,
        StepKind.political,
        candidate + timedelta(days=10),
        body=TOWN_COMMITTEE,
        passed=True,
        result="政治审查合格",
    )
    _step(
        case,
        cal,
        StepKind.training,
        training,
        until=training + timedelta(days=2),
        hours=24,
        body="镇党校",
    )
    _step(
        case,
        cal,
        StepKind.publicity,
        pub_start,
        until=pub_until,
        body="村党务公开栏",
        result="公示期内无异议",
    )
    _step(case, cal, StepKind.admission, admitted, meeting_id=meeting.id, body="党支部党员大会")
    return admitted


def seed_recruitment(world: DemoWorld) -> None:
    rng = random.Random(14)
    cal = load_calendar()
    today = world.today
    keeping = [v for v in world.villages if not story(v)][:8]
    for i, village in enumerate(keeping):
        branch = world.branches[village.id]
        meetings = list(
            db.session.scalars(
                select(Meeting)
                .where(
                    Meeting.branch_id == branch.id,
                    Meeting.kind == GENERAL_MEETING,
                    Meeting.quorum_met.is_(True),
                    Meeting.deleted_at.is_(None),
                )
                .order_by(Meeting.started_at)
            )
        )
        # An applicant talked to in time, and one who just applied.
        case = _open(branch, today - timedelta(days=rng.randint(20, 60)), rng)
        _step(
            case,
            cal,
            StepKind.talk,
            case.applied_on + timedelta(days=rng.randint(5, 20)),
            person_a="党支部书记",
        )
        _open(branch, today - timedelta(days=rng.randint(1, 10)), rng)
        # An activist in the first year, with a review.
        case = _open(branch, today - timedelta(days=rng.randint(300, 330)), rng)
        _to_activist(case, cal, case.applied_on + timedelta(days=30), rng)
        _reviews(case, cal, case.applied_on + timedelta(days=30), today)
        if i % 2 == 0:
            # A candidate with the review, training and publicity done.
            case = _open(branch, today - timedelta(days=rng.randint(520, 560)), rng)
            activist = case.applied_on + timedelta(days=40)
            candidate = add_months(activist, 12) + timedelta(days=5)
            _to_activist(case, cal, activist, rng)
            _reviews(case, cal, activist, candidate)
            _step(case, cal, StepKind.candidate, candidate, body="党支部委员会")
            political = min(candidate + timedelta(days=15), today)
            _step(case, cal, StepKind.political, political, body=TOWN_COMMITTEE, passed=True)
        if not meetings:
            continue
        # A probationary member admitted at the latest quorate general meeting.
        latest = meetings[-1]
        case = _open(branch, add_months(clock.local_date(latest.started_at), -30), rng)
        admitted = _to_admission(case, cal, latest, rng)
        if admitted + timedelta(days=20) <= today:
            _step(case, cal, StepKind.approval, admitted + timedelta(days=20), body=TOWN_COMMITTEE)
        # A full member: admitted at a meeting a year or more before another one.
        first = meetings[0]
        start = clock.local_date(first.started_at)
        later = [m for m in meetings if clock.local_date(m.started_at) >= add_months(start, 12)]
        if later:
            case = _open(branch, add_months(start, -30), rng)
            _to_admission(case, cal, first, rng)
            _step(case, cal, StepKind.approval, start + timedelta(days=25), body=TOWN_COMMITTEE)
            full = later[0]
            _step(
                case,
                cal,
                StepKind.full,
                clock.local_date(full.started_at),
                meeting_id=full.id,
                body="党支部党员大会",
            )
    for village in world.villages:
        if "talk_overdue" in story(village):
            branch = world.branches[village.id]
            _open(branch, today - timedelta(days=50), rng)
    db.session.flush()


__all__ = ["seed_recruitment"]
