"""Demo data of the service ledger: county catalogs and a year of matters per village.

Matters go through the real services (so due dates, pauses, ratings and
call-backs are computed exactly as in production): mostly on time, some
paused for materials, some referred to the township, a few overdue, some bad
ratings called back and a few still waiting for their call-back.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, time, timedelta
from typing import Any

from tracker import clock
from tracker.calendar_service import load_calendar
from tracker.demo import SURNAMES, DemoWorld
from tracker.extensions import db
from tracker.matters import services
from tracker.matters.models import (
    Channel,
    EventKind,
    HandlingLevel,
    MatterKind,
    Rating,
    ServiceMatter,
)
from tracker.models import Role, User
from tracker.security import hash_password
from tracker.workdays import WorkCalendar

CATALOG = [
    # name, category, kind, promised, statutory, materials, level
    ("开具居住证明", "综合", MatterKind.immediate, 0, None, ["身份证"], HandlingLevel.village),
    (
        "城乡居民医保参保登记",
        "医保",
        MatterKind.immediate,
        0,
        None,
        ["身份证", "户口簿"],
        HandlingLevel.village,
    ),
    (
        "最低生活保障申请",
        "民政",
        MatterKind.promised,
        15,
        30,
        ["身份证", "户口簿", "家庭收入证明", "申请书"],
        HandlingLevel.township,
    ),
    (
        "临时救助申请",
        "民政",
        MatterKind.promised,
        5,
        10,
        ["身份证", "困难情况说明"],
        HandlingLevel.township,
    ),
    (
        "残疾人两项补贴申请",
        "残联",
        MatterKind.promised,
        10,
        20,
        ["身份证", "残疾人证"],
        HandlingLevel.township,
    ),
    (
        "城乡居民养老保险待遇申领",
        "社保",
        MatterKind.promised,
        7,
        15,
        ["身份证", "银行卡"],
        HandlingLevel.county,
    ),
    (
        "农村宅基地申请",
        "自然资源",
        MatterKind.promised,
        20,
        30,
        ["身份证", "户口簿", "宅基地申请表", "村民会议决议"],
        HandlingLevel.county,
    ),
    (
        "农村危房改造申请",
        "住建",
        MatterKind.promised,
        15,
        20,
        ["身份证", "房屋照片"],
        HandlingLevel.township,
    ),
]
GIVEN = "秀兰桂英淑华玉珍凤霞德福振国永贵长海宝林春生"


def _clerks(world: DemoWorld) -> dict[int, User]:
    """One 窗口工作人员 per village (the first responder at the counter)."""
    shared_hash = hash_password("demo-2026!")  # one hash: the seed must stay fast
    clerks: dict[int, User] = {}
    for i, village in enumerate(world.villages, start=1):
        if village.id == world.villages[0].id and "village" in world.users:
            clerks[village.id] = world.users["village"]
            continue
        user = User(
            username=f"clerk{i:02d}",
            display_name=f"{village.name}窗口",
            password_hash=shared_hash,
            role=Role.editor,
            region_id=village.id,
        )
        db.session.add(user)
        clerks[village.id] = user
    db.session.flush()
    return clerks


def seed_matters(world: DemoWorld) -> None:
    """Catalog per county, 12–20 matters per village over the past year."""
    rng = world.rng
    calendar = load_calendar()
    catalogs = {}
    for county in world.counties:
        catalogs[county.id] = [
            services.save_matter_type(
                county,
                name=name,
                category=cat,
                kind=kind,
                promised_days=promised,
                statutory_days=statutory,
                materials=materials,
                handling_level=level,
            )
            for name, cat, kind, promised, statutory, materials, level in CATALOG
        ]
    clerks = _clerks(world)
    town_staff = {u.region_id: u for key, u in world.users.items() if key in ("town", "town2")}
    rater = world.users.get("admin")  # ratings arrive through the 好差评 platform
    now = clock.now() - timedelta(minutes=5)
    for village in world.villages:
        county_id = village.ancestor_ids[1]
        types = catalogs[county_id]
        clerk = clerks[village.id]
        town_user = town_staff.get(village.parent_id or 0)
        for _ in range(rng.randint(12, 20)):
            days_ago = rng.randint(0, 360)
            day = world.today - timedelta(days=days_ago)
            if day.weekday() >= 5 and rng.random() < 0.8:
                day -= timedelta(days=day.weekday() - 4)
            received = datetime.combine(
                day, time(rng.randint(8, 16), rng.randint(0, 59)), clock.zone()
            )
            received = min(received.astimezone(UTC), now - timedelta(hours=2))
            t = rng.choice(types)
            missing = [m for m in t.materials[1:] if rng.random() < 0.12]
            matter, _ = services.register_matter(
                village=village,
                matter_type=t,
                applicant_name=rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, 2)),
                applicant_phone="1" + rng.choice("3589") + f"{rng.randint(0, 999999999):09d}",
                applicant_id_number=None,
                channel=rng.choice([Channel.in_person] * 6 + [Channel.phone, Channel.online]),
                received_at=received,
                first_responder=clerk,
                actor=clerk,
                calendar=calendar,
                materials_received=[m for m in t.materials if m not in missing],
                materials_missing=missing,
                one_time_notice=(
                    f"请补齐：{'、'.join(missing)}。材料补齐后次日起计算办理时限。"
                    if missing
                    else None
                ),
            )
            _life(matter, received, now, clerk, town_user, rater, calendar, rng)
    # The inboxes show what the jobs process would have sent this morning.
    from tracker.matters.jobs import send_reminders

    send_reminders(world.today, calendar)


def _life(
    matter: ServiceMatter,
    received: datetime,
    now: datetime,
    clerk: User,
    town_user: User | None,
    rater: User | None,
    calendar: WorkCalendar,
    rng: random.Random,
) -> None:
    """Play a plausible timeline for a matter up to ``now``."""
    t = received

    def step(hours: float) -> datetime | None:
        nonlocal t
        t = t + timedelta(hours=hours)
        return t if t < now else None

    def rec(kind: EventKind, actor: User, hours: float, **kw: Any) -> bool:
        when = step(hours)
        if when is None:
            return False
        services.record_event(matter, kind, actor, calendar=calendar, at=when, **kw)
        return True

    if matter.materials_missing and not rec(
        EventKind.materials_supplied, clerk, rng.uniform(20, 100), note="申请人已补齐材料"
    ):
        return
    handler = clerk
    if town_user and matter.promised_days and rng.random() < 0.3:
        if not rec(EventKind.referred, clerk, 2, to_user=town_user, note="需乡镇审核"):
            return
        handler = town_user
    if matter.promised_days == 0:
        hours = rng.uniform(0.2, 3)
    else:
        budget = (matter.promised_days + 2) * 24
        hours = rng.uniform(4, budget * (1.7 if rng.random() < 0.1 else 0.9))
    overdue_by = now - received - timedelta(days=(matter.promised_days + 4) * 7 / 5)
    if matter.promised_days and overdue_by > timedelta(days=3) and rng.random() < 0.04:
        return  # left open past its due date: shows up as overdue
    if rng.random() < 0.02:
        return  # still open
    if not rec(EventKind.completed, handler, hours, note="已按规定办结，结果已告知申请人"):
        return
    if rater is None or rng.random() < 0.25:
        return
    grade = rng.choices(list(Rating), weights=[45, 35, 10, 7, 3])[0]
    if not rec(EventKind.rated, rater, rng.uniform(1, 30), rating=grade):
        return
    if grade in (Rating.dissatisfied, Rating.very_dissatisfied):
        if rng.random() < 0.2:
            return  # a call-back still owed (or already late)
        if not rec(
            EventKind.called_back, clerk, rng.uniform(20, 160), note="电话回访，已解释办理政策"
        ):
            return
    rec(EventKind.archived, clerk, rng.uniform(24, 200))
