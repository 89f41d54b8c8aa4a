"""Demo trainings: two years of plausible sessions, entered within two working days in office
hours; the villages of :data:`tracker.demo.STORY` with missed meetings skip quarters too, the
back-filling one enters its sessions weeks late (补录)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import select

from tracker import clock
from tracker.config import current_settings
from tracker.demo import DemoWorld, entry_time, story
from tracker.extensions import db
from tracker.models import Member
from tracker.trainings.models import (
    ConcentratedTraining,
    FarmerTrainee,
    FarmerTraining,
    Training,
    TrainingAttendee,
    TrainingKind,
)
from tracker.workdays import WorkCalendar

TOPICS = [
    (TrainingKind.party_education, "学习贯彻党的二十届四中全会精神"),
    (TrainingKind.party_education, "《中国共产党农村基层组织工作条例》专题学习"),
    (TrainingKind.cadre, "村级财务管理与“四议两公开”实务"),
    (TrainingKind.reserve_cadre, "后备干部履职能力培训"),
    (TrainingKind.skills, "庭院经济与杂粮杂豆种植技术"),
    (TrainingKind.skills, "电商直播助农实务"),
]


def seed_trainings(world: DemoWorld) -> None:
    seed_register(world)
    seed_farmer_and_concentrated(world)


def seed_register(world: DemoWorld) -> None:
    rng = world.rng
    calendar = WorkCalendar()
    allowed = current_settings().calendar.late_entry_working_days
    for village in world.villages:
        branch = world.branches[village.id]
        members = db.session.scalars(select(Member).where(Member.branch_id == branch.id)).all()
        problems = story(village)
        weak = bool(problems & {"secretary_away", "missed_meetings"})
        start = branch.tracked_from or date(world.today.year - 1, 1, 1)
        quarter_start = date(start.year, 1, 1)
        while quarter_start <= world.today:
            if not (weak and rng.random() < 0.5):
                held = quarter_start + timedelta(days=rng.randint(5, 80))
                if held < world.today:
                    kind, title = rng.choice(TOPICS)
                    delay = 15 if "backfill" in problems else rng.choice([0, 0, 1, 2])
                    ended = datetime.combine(held, time(11, 0), clock.zone())
                    now = clock.now() - timedelta(minutes=5)
                    typed = entry_time(held, ended, delay, rng, calendar, now)
                    # None: not written up yet; still drawn, so the random stream stays the same.
                    entered = typed or now
                    days = calendar.working_days_between(
                        held, entered.astimezone(clock.zone()).date()
                    )
                    training = Training(
                        branch_id=branch.id,
                        region_id=village.id,
                        kind=kind,
                        title=title,
                        held_on=held,
                        hours=Decimal(rng.choice(["2", "3", "4", "1.5"])),
                        place=f"{village.name}党员活动室",
                        organizer=rng.choice(["镇党委", "村党支部", "县委组织部"]),
                        lecturer=rng.choice(["镇党委副书记", "驻村第一书记", "县农业技术推广站"]),
                        content=f"{title}。",
                        entered_at=entered,
                        late=days > allowed,
                        late_working_days=days,
                        other_attendees=rng.randint(0, 12),
                    )
                    present = [m for m in members if m.active_on(held) and rng.random() < 0.85]
                    training.attendees = [TrainingAttendee(member_id=m.id) for m in present]
                    if typed is not None:
                        db.session.add(training)
            month = quarter_start.month + 3
            quarter_start = date(quarter_start.year + (month > 12), (month - 1) % 12 + 1, 1)


FARMER_TOPICS = [
    ("技能", "玉米高产栽培与病虫害防治"),
    ("电商", "农产品网店开设与直播带货"),
    ("政策", "耕地地力保护补贴政策解读"),
    ("种植养殖", "肉牛标准化养殖技术"),
    ("法律", "土地承包经营权流转法律常识"),
]
VILLAGER_SURNAMES = "王李张刘陈杨赵孙"
VILLAGER_GIVEN = "春秋山林桂兰玉凤国庆志强"


def seed_farmer_and_concentrated(world: DemoWorld) -> None:
    """Farmer training sessions in every village (two to four a year, some with named
    villagers), and the yearly concentrated training of every township and village
    organization — except last year's in the villages that missed meetings
    (:data:`tracker.demo.STORY` ``missed_meetings``), which held only half the hours."""
    rng = world.rng
    need = float(current_settings().trainings.concentrated_hours)
    topics = current_settings().trainings.farmer_topics
    for year in (world.today.year - 1, world.today.year):
        for org in [*world.townships, *world.villages]:
            held = date(year, rng.randint(3, 6), rng.randint(1, 28))
            if held >= world.today:
                continue
            weak = "missed_meetings" in story(org) and year < world.today.year
            db.session.add(
                ConcentratedTraining(
                    region_id=org.id,
                    title=f"{year}年度党组织书记和党员集中轮训",
                    held_on=held,
                    hours=Decimal(str(need / 2 if weak else need)),
                    place=f"{org.name}党群服务中心",
                    organizer="县委组织部" if org in world.townships else "镇党委",
                    participants=rng.randint(15, 60),
                    entered_at=clock.now() - timedelta(days=(world.today - held).days - 1),
                )
            )
        for village in world.villages:
            for _ in range(rng.randint(2, 4)):
                held = date(year, rng.randint(1, 12), rng.randint(1, 28))
                if held >= world.today:
                    continue
                topic, title = rng.choice(FARMER_TOPICS)
                training = FarmerTraining(
                    region_id=village.id,
                    topic=topic if topic in topics else topics[0],
                    title=title,
                    held_on=held,
                    hours=Decimal(rng.choice(["2", "3", "4"])),
                    place=f"{village.name}新时代文明实践站",
                    organizer=rng.choice(["县农业农村局", "镇农业站", "县商务局"]),
                    lecturer=rng.choice(["县农技推广站", "电商服务中心讲师"]),
                    trainee_count=rng.randint(10, 40),
                    content=f"{title}。",
                    entered_at=clock.now() - timedelta(days=max(0, (world.today - held).days - 1)),
                )
                training.trainees = [
                    FarmerTrainee(
                        region_id=village.id,
                        name=rng.choice(VILLAGER_SURNAMES) + rng.choice(VILLAGER_GIVEN) * 2,
                        phone="1"
                        + rng.choice("3589")
                        + "".join(rng.choice("0123456789") for _ in range(9)),
                    )
                    for _ in range(rng.randint(0, 4))
                ]
                db.session.add(training)
