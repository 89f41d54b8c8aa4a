"""Demo data of the service ledger: county catalogs and a year of matters per village.

Matters go through the real services (so due dates, pauses, ratings and
call-backs are computed exactly as in production), every step in office hours
and recorded as it happened: mostly on time, some paused for materials, some
referred to the township, bad ratings called back. The villages of
:data:`tracker.demo.STORY` add what the county should find: matters left open
months past their due date, call-backs owed, completions late and entered
days afterwards (补录).
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select, update

from tracker import clock
from tracker.calendar_service import load_calendar
from tracker.demo import SURNAMES, DemoWorld, office_time, story
from tracker.extensions import db
from tracker.matters import commands, services
from tracker.matters.models import (
    Channel,
    EventKind,
    HandlingLevel,
    MatterEvent,
    MatterKind,
    Rating,
    ServiceMatter,
)
from tracker.models import Region, Role, User
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
    villages_by_id = {v.id: v for v in world.villages}
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
        promised_types = [t for t in types if t.promised_days]
        clerk = clerks[village.id]
        town_user = town_staff.get(village.parent_id or 0)
        problems = story(village)
        # The story's stuck matters: received long ago, never completed.
        # Anchored to last month (what the dashboard shows first), whatever today is.
        last_month = (world.today.replace(day=1) - timedelta(days=1)).replace(day=1)
        before = (world.today - last_month).days
        stuck = [before + d for d in (270, 150, 90, 12)] if "overdue_matters" in problems else []
        plan: list[tuple[int, str]] = [(d, "open") for d in stuck]
        if "one_overdue" in problems:  # due last month: one still open, two closed late
            plan += [(before - 10, "open_short"), (before - 12, "late"), (before - 16, "late")]
        if "late_matters" in problems:  # last month's matters, most of them closed late
            plan += [(before - d, "late") for d in (1, 4, 7, 10)]
        plan += [(rng.randint(0, 360), "") for _ in range(rng.randint(12, 20))]
        for days_ago, mode in plan:
            leave_open = mode.startswith("open")
            day = world.today - timedelta(days=days_ago)
            while not calendar.is_workday(day):  # the hall is open on working days
                day -= timedelta(days=1)
            received = (
                datetime.combine(day, time(8, 30), clock.zone())
                + timedelta(minutes=rng.randint(0, 480))
            ).astimezone(UTC)
            while received > now - timedelta(hours=2):  # not in the future: a working day before
                day -= timedelta(days=1)
                while not calendar.is_workday(day):
                    day -= timedelta(days=1)
                received = received.replace(year=day.year, month=day.month, day=day.day)
            short = [t for t in promised_types if t.promised_days <= 7]
            t = rng.choice(
                short if mode in ("late", "open_short") else promised_types if mode else types
            )
            missing = [m for m in t.materials[1:] if not leave_open and rng.random() < 0.12]
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
            if leave_open:
                continue
            _life(matter, received, now, clerk, town_user, rater, calendar, rng, problems, mode)
    # Counter staff record each step as it happens: the timeline is not back-filled (补录),
    # except in the village whose completions were entered days later. (The seed writes
    # the history after the fact, so it sets the entry times itself, in one statement.)
    # An ORM bulk UPDATE by primary key: a Core UPDATE would leave the events still in the
    # session with their old entry time, for whichever of them the garbage collector had
    # not freed yet (the demo-story test saw them or not by the tests run before it).
    times = [
        {"id": eid, "recorded_at": min(at + _entry_delay(villages_by_id[rid], kind, rng), now)}
        for eid, rid, kind, at in db.session.execute(
            select(MatterEvent.id, MatterEvent.region_id, MatterEvent.kind, MatterEvent.at)
        )
    ]
    if times:
        db.session.execute(update(MatterEvent), times)
    # The inboxes show what the jobs process would have sent this morning.
    from tracker.matters.jobs import send_reminders

    send_reminders(world.today, calendar)


def _entry_delay(village: Region, kind: EventKind, rng: random.Random) -> timedelta:
    """How long after a step its clerk typed it in: minutes, or days for the completions of
    the village that enters them late."""
    if "late_matters" in story(village) and kind == EventKind.completed:
        return timedelta(days=3, hours=2)
    return timedelta(minutes=rng.randint(1, 20))


def _life(
    matter: ServiceMatter,
    received: datetime,
    now: datetime,
    clerk: User,
    town_user: User | None,
    rater: User | None,
    calendar: WorkCalendar,
    rng: random.Random,
    problems: frozenset[str],
    mode: str = "",
) -> None:
    """Play a plausible timeline for a matter up to ``now``, every step in office hours."""
    t = received

    def local_day(value: datetime) -> date:
        return clock.local_date(value)

    def later(working_days: int, minutes: int = 30) -> datetime:
        day, _ = calendar.add_working_days(local_day(t), working_days)
        return office_time(day, rng, calendar, not_before=t + timedelta(minutes=minutes))

    def rec(kind: EventKind, actor: User, when: datetime, **kw: Any) -> bool:
        nonlocal t
        if when >= now:
            return False
        services.record_event(matter, commands.build(kind, at=when, **kw), actor, calendar=calendar)
        t = when
        return True

    if matter.materials_missing and not rec(
        EventKind.materials_supplied, clerk, later(rng.randint(1, 4)), note="申请人已补齐材料"
    ):
        return
    clock_from = local_day(t)  # the time limit counts from the receipt (or the materials)
    handler = clerk
    if town_user and matter.promised_days and rng.random() < 0.3:
        if not rec(
            EventKind.referred, clerk, later(0, 60), to_user_id=town_user.id, note="需乡镇审核"
        ):
            return
        handler = town_user
    if matter.promised_days == 0:  # 即办件: done the same day, before the hall closes
        closing = datetime.combine(local_day(t), time(17, 25), clock.zone()).astimezone(UTC)
        done = min(t + timedelta(minutes=rng.randint(10, 150)), closing)
    else:
        # a village with matters left open far past due finishes the others late too
        late = (
            mode == "late"
            or "overdue_matters" in problems
            or ("late_matters" in problems and rng.random() < 0.6)
        )
        promised = matter.promised_days + matter.extension_days
        k = promised + rng.randint(1, 4) if late else rng.randint(max(1, promised // 3), promised)
        day, _ = calendar.add_working_days(clock_from, k)
        done = office_time(day, rng, calendar, not_before=t + timedelta(minutes=30))
    if not rec(EventKind.completed, handler, done, note="已按规定办结，结果已告知申请人"):
        return
    if rater is None or rng.random() < 0.25:
        return
    grade = rng.choices(list(Rating), weights=[45, 35, 10, 7, 3])[0]
    if not rec(EventKind.rated, rater, later(rng.randint(0, 3)), rating=grade):
        return
    if grade in (Rating.dissatisfied, Rating.very_dissatisfied):
        if problems and rng.random() < 0.5:
            return  # a call-back still owed (or already late)
        if not rec(
            EventKind.called_back, clerk, later(rng.randint(1, 3)), note="电话回访，已解释办理政策"
        ):
            return
    rec(EventKind.archived, clerk, later(rng.randint(2, 10)))
