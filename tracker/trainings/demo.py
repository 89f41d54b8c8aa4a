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
from tracker.trainings.models import Training, TrainingAttendee, TrainingKind
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
                    entered = entry_time(held, ended, delay, rng, calendar, now)
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
                    db.session.add(training)
            month = quarter_start.month + 3
            quarter_start = date(quarter_start.year + (month > 12), (month - 1) % 12 + 1, 1)
