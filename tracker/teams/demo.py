"""Demo reserve cadres: every village meets "2+5" except the overstretched new committee
of 五四村 (:data:`tracker.demo.STORY`: ``few_reserves``), which has one candidate for
secretary and three for committee posts; a few candidates were appointed or withdrew."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tracker.config import current_settings
from tracker.demo import DemoWorld, story
from tracker.extensions import db
from tracker.models import Member, VillageCadre
from tracker.teams.duty_demo import seed_duty
from tracker.teams.models import (
    CadreAssessment,
    Grade,
    ReserveAssessment,
    ReserveCadre,
    ReserveSource,
    ReserveStatus,
    ReserveTrack,
    VacancyCause,
)
from tracker.teams.recall import open_case
from tracker.workdays import WorkCalendar

NAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = "宇航子轩浩然欣怡梓涵思远佳琪晨阳雨桐博文"
MENTORS = ["村党支部书记", "驻村第一书记", "村委会主任", "镇包村干部"]
PLANS = [
    "参加镇级后备干部培训班；协助村务监督委员会开展工作；每季度走访联系户。",
    "跟班学习村“两委”日常工作；负责村电商服务点；年内完成一次专题调研。",
]


def seed_teams(world: DemoWorld) -> None:
    seed_reserves(world)
    seed_assessments(world)
    seed_vacancies(world)
    seed_duty(world)


def seed_vacancies(world: DemoWorld) -> None:
    """Post vacancies (岗位空缺): in 五四村 (``few_reserves``) a committee member resigned 70 days
    ago and the post is still vacant, past its deadline; in the first village without a
    story a committee member moved away, a reserve cadre took the post in time and a new
    candidate entered the reserve list."""
    from tracker.teams.posts import fill_vacancy, reserves_available, vacate_post

    calendar = WorkCalendar()
    quiet = next((v for v in world.villages if not story(v)), None)
    for village in world.villages:
        weak = "few_reserves" in story(village)
        if not weak and village is not quiet:
            continue
        cadre = db.session.scalars(
            select(VillageCadre)
            .where(
                VillageCadre.region_id == village.id,
                VillageCadre.until.is_(None),
                VillageCadre.reserve.is_(False),
            )
            .order_by(VillageCadre.id.desc())
        ).first()
        if cadre is None:
            continue
        on = world.today - timedelta(days=70 if weak else 40)
        if cadre.since and cadre.since > on:
            cadre.since = on - timedelta(days=365)
        vacancy = vacate_post(
            cadre,
            on,
            VacancyCause.resigned if weak else VacancyCause.transferred,
            "本人因家庭原因辞去职务" if weak else "随家人迁居县城",
            calendar,
        )
        if not weak:
            reserve = next((r for r in reserves_available(village.id) if r.entered_on <= on), None)
            if reserve is not None:
                fill_vacancy(vacancy, on + timedelta(days=14), reserve=reserve)
                # the list is topped up again ("2+5" stays met)
                db.session.add(
                    ReserveCadre(
                        region_id=village.id,
                        name=world.rng.choice(NAMES) + world.rng.choice(GIVEN) * 2,
                        source=ReserveSource.migrant,
                        track=reserve.track,
                        entered_on=on + timedelta(days=20),
                        mentor=MENTORS[0],
                        plan=PLANS[0],
                    )
                )


def seed_reserves(world: DemoWorld) -> None:
    rng = world.rng
    settings = current_settings().teams
    for village in world.villages:
        short = "few_reserves" in story(village)
        wanted = {
            ReserveTrack.secretary: 1 if short else settings.reserve_secretary_target,
            ReserveTrack.committee: 3 if short else settings.reserve_committee_target,
        }
        members = db.session.scalars(select(Member).where(Member.region_id == village.id)).all()
        for track, count in wanted.items():
            for i in range(count + (0 if short else rng.choice([0, 0, 1]))):
                entered = world.today - timedelta(days=rng.randint(120, 700))
                member = members[rng.randrange(len(members))] if members and i == 0 else None
                name = (
                    member.name
                    if member
                    else rng.choice(NAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)
                )
                reserve = ReserveCadre(
                    region_id=village.id,
                    member_id=member.id if member else None,
                    name=name,
                    source=rng.choice(list(ReserveSource)),
                    track=track,
                    entered_on=entered,
                    mentor=rng.choice(MENTORS),
                    plan=rng.choice(PLANS),
                )
                reserve.assessments = [
                    ReserveAssessment(
                        region_id=village.id,
                        assessed_on=entered + timedelta(days=90 * k),
                        assessor="镇党委组织委员",
                        result=rng.choice(["表现良好，群众认可度高", "积极主动，需加强政策学习"]),
                    )
                    for k in range(1, 4)
                    if entered + timedelta(days=90 * k) < world.today
                ]
                if i >= count:  # one beyond target: appointed or withdrew since
                    reserve.status = rng.choice([ReserveStatus.appointed, ReserveStatus.withdrawn])
                    reserve.status_on = world.today - timedelta(days=rng.randint(5, 100))
                    reserve.status_reason = (
                        "任村委会委员" if reserve.status == ReserveStatus.appointed else "外出务工"
                    )
                db.session.add(reserve)


def seed_assessments(world: DemoWorld) -> None:
    """Last year's grades for every serving cadre: 称职 or better, except one 委员 of
    五四村 (``few_reserves``), graded 不称职 in January, whose recall talk was held but whose
    education and training is past its deadline."""
    rng = world.rng
    calendar = WorkCalendar()
    year = world.today.year - 1
    decided = world.today - timedelta(days=60)
    for village in world.villages:
        cadres = db.session.scalars(
            select(VillageCadre)
            .where(VillageCadre.region_id == village.id, VillageCadre.until.is_(None))
            .order_by(VillageCadre.id)
        ).all()
        weak = "few_reserves" in story(village)
        for i, cadre in enumerate(cadres):
            grade = (
                Grade.incompetent
                if weak and i == len(cadres) - 1
                else rng.choice([Grade.excellent, Grade.competent, Grade.competent])
            )
            a = CadreAssessment(
                region_id=village.id,
                cadre_id=cadre.id,
                year=year,
                grade=grade,
                decided_by="镇党委",
                decided_on=decided,
                note="群众满意度测评不足 60%，村务工作推进缓慢"
                if grade == Grade.incompetent
                else "",
            )
            db.session.add(a)
            db.session.flush()
            if grade == Grade.incompetent:
                case = open_case(a, calendar)
                case.steps[0].done_on = min(case.steps[0].due_on, world.today)
                case.steps[0].note = "镇党委书记谈话，本人表示接受召回"
