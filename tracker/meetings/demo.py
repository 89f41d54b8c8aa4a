"""Demo ledgers: plausible meetings since each branch is tracked, for every demo village.

Villages keep their ledgers and enter each record within a couple of working
days, in office hours — except the villages of :data:`tracker.demo.STORY`: a
secretary away (only the 主题党日 held for three months), a committee that
misses most of its monthly meetings (and a general meeting without quorum), a village
that wrote last month's records up in one go before the inspection (补录). Two
records were edited afterwards. Records are built in memory
and written in bulk, with the same snapshots and hash chain the services write
(``tracker verify-ledger`` passes on the demo), so the seed stays fast.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import insert, select

from tracker import clock
from tracker.calendar_service import load_calendar
from tracker.config import current_settings
from tracker.demo import DemoWorld, entry_time, office_time, story
from tracker.extensions import db
from tracker.meetings import rules
from tracker.meetings.models import Attendance, Meeting, MeetingPlan, MeetingVersion
from tracker.meetings.services import (
    GENESIS,
    MeetingInput,
    canonical,
    snapshot,
    update_meeting,
    version_hash,
)
from tracker.models import Branch, Member, MemberStatus, PartyGroup, utcnow

TOPICS = {
    "branch_general_meeting": [
        "传达学习上级会议精神",
        "讨论村级重大事项",
        "发展党员票决",
        "审议村集体经济发展计划",
    ],
    "branch_committee_meeting": [
        "研究本月党建工作安排",
        "研究春耕生产",
        "研究人居环境整治",
        "研究防汛工作",
        "研究秋收秋种",
    ],
    "party_group_meeting": ["学习党章党规", "交流学习心得", "收缴党费", "讨论为群众办实事"],
    "party_lecture": ["学习贯彻党的二十大精神", "乡村振兴战略专题党课", "党史学习教育专题党课"],
    "theme_party_day": ["重温入党誓词", "志愿服务进农户", "清洁家园义务劳动", "走访慰问困难群众"],
    "organizational_life_meeting": ["年度组织生活会：对照检查、批评与自我批评"],
    "democratic_appraisal": ["年度民主评议党员"],
    "heart_to_heart_talk": ["支部书记与党员谈心谈话"],
}
PLACES = ["村党员活动室", "村委会会议室", "村党群服务中心"]
REASONS = ["外出务工", "生病住院", "家中有事", "在外地照顾老人"]


def _months(start: date, end: date) -> list[tuple[int, int]]:
    out = []
    y, m = start.year, start.month
    while (y, m) <= (end.year, end.month):
        out.append((y, m))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _plan(
    branch: Branch,
    groups: list[PartyGroup],
    start: date,
    today: date,
    rng: random.Random,
    problems: frozenset[str],
) -> list[tuple[str, int | None, date]]:
    """(kind, group id, day) of every meeting the branch held."""
    out: list[tuple[str, int | None, date]] = []
    for y, m in _months(start, today):

        def day(lo: int = 3, hi: int = 26, y: int = y, m: int = m) -> date:
            # The back-filling village meets before the 22nd, so its write-up at the
            # month's end is late for every meeting, not for most (whatever today is).
            return date(y, m, rng.randint(lo, min(hi, 21) if "backfill" in problems else hi))

        out.append(("branch_committee_meeting", None, day()))
        out.append(("theme_party_day", None, day(1, 10)))
        for g in groups:
            out.append(("party_group_meeting", g.id, day(5, 24)))
        if m % 3 == 2:
            out.append(("branch_general_meeting", None, day()))
            out.append(("party_lecture", None, day()))
        if m == 6:
            out.append(("heart_to_heart_talk", None, day()))
        if m == 12:
            out.append(("organizational_life_meeting", None, day(10, 20)))
            out.append(("democratic_appraisal", None, day(21, 28)))
    out = [o for o in out if o[2] < today]
    month_start = today.replace(day=1)
    if "secretary_away" in problems:  # since three months before this one: 主题党日 only
        away = (month_start - timedelta(days=80)).replace(day=1)
        out = [o for o in out if o[2] < away or o[0] == "theme_party_day"]
    if "missed_meetings" in problems:  # the last four months: no monthly meeting at all
        since = (month_start - timedelta(days=110)).replace(day=1)
        missed = (
            "branch_committee_meeting",
            "party_group_meeting",
            "party_lecture",
            "theme_party_day",
        )
        out = [o for o in out if o[2] < since or o[0] not in missed]
    return sorted(out, key=lambda o: o[2])


def seed_meetings(world: DemoWorld) -> None:
    rng = world.rng
    cal = load_calendar()
    allowed = current_settings().calendar.late_entry_working_days
    now = utcnow()
    today = world.today
    users = list(world.users.values())
    editor_id = (
        world.users["town"].id if "town" in world.users else (users[0].id if users else None)
    )
    edits: list[Meeting] = []
    for idx, village in enumerate(world.villages):
        branch = world.branches[village.id]
        groups = list(
            db.session.scalars(select(PartyGroup).where(PartyGroup.branch_id == branch.id))
        )
        members = list(
            db.session.scalars(
                select(Member).where(Member.branch_id == branch.id).order_by(Member.id)
            )
        )
        problems = story(village)
        # 补录: last month's records (and the month before's) written up on one day.
        rush = office_time(today.replace(day=1) - timedelta(days=3), rng, cal)
        backfill_from = (today.replace(day=1) - timedelta(days=40)).replace(day=1)
        start = branch.tracked_from or date(today.year, 1, 1)
        meetings: list[Meeting] = []
        attendance: dict[int, list[dict[str, object]]] = {}
        no_quorum_done = False
        for kind, group_id, day in _plan(branch, groups, start, today, rng, problems):
            roster = [m for m in members if m.active_on(day)]
            if not roster:
                continue
            expected = [m for m in roster if group_id is None or m.group_id == group_id]
            hour = rng.choice([9, 14, 19])
            started = datetime.combine(day, time(hour, 0), clock.zone()).astimezone(UTC)
            ended = started + timedelta(minutes=rng.choice([60, 90, 120]))
            written_up = True
            if "backfill" in problems and backfill_from <= day and ended < rush:
                entered = max(rush, ended)
            else:  # within two working days, in office hours
                typed = entry_time(day, ended, rng.choice([0, 0, 1, 2]), rng, cal, now)
                # None: held last night, typed in this morning — not in the ledger yet. The
                # record is still drawn, so the other villages' random stream stays the same.
                written_up = typed is not None
                entered = typed or now - timedelta(minutes=5)
            entered = min(entered, now - timedelta(minutes=5))
            if entered < ended:
                entered = ended
            rate = 0.9
            if (
                kind == "branch_general_meeting"
                and "missed_meetings" in problems
                and not no_quorum_done
                and day >= today - timedelta(days=120)
            ):
                rate, no_quorum_done = 0.3, True
            host = next((m for m in expected if m.status == MemberStatus.full), roster[0])
            m = Meeting(
                branch_id=branch.id,
                region_id=branch.region_id,
                kind=kind,
                group_id=group_id,
                started_at=started,
                ended_at=ended,
                place=rng.choice(PLACES),
                host_id=host.id,
                recorder=roster[-1].name,
                lecturer=host.name if kind == "party_lecture" else None,
                topics=rng.choice(TOPICS[kind]),
                content="会议按议程进行，与会党员逐一发言，形成一致意见。",
                resolutions="按会议议定事项抓好落实。" if kind != "party_group_meeting" else "",
                guests="村务监督委员会成员" if kind == "branch_general_meeting" else "",
                entered_at=entered,
                entered_by_id=editor_id,
                updated_at=entered,
                version=1,
            )
            rows = []
            for member in expected:
                present = member.id == host.id or rng.random() < rate
                rows.append(
                    {
                        "region_id": branch.region_id,
                        "member_id": member.id,
                        "present": present,
                        "absence_reason": "" if present else rng.choice(REASONS),
                        "voting": member.status == MemberStatus.full,
                    }
                )
            # Written in bulk below; empty collections avoid a lazy load per record.
            m.attendance = []
            m.attachments = []
            attendance[id(m)] = rows
            full = [a for a in rows if a["voting"]]
            m.full_members = len(full)
            m.full_present = sum(1 for a in full if a["present"])
            m.quorum_met = (
                rules.quorum_met(m.full_members, m.full_present)
                if kind == "branch_general_meeting"
                else None
            )
            days = rules.working_days_after(day, entered.astimezone(clock.zone()).date(), cal)
            m.late_working_days = days
            m.late = days > allowed
            if written_up:
                meetings.append(m)
        db.session.add_all(meetings)
        db.session.flush()
        rows_all = []
        for m in meetings:
            for row in attendance[id(m)]:
                rows_all.append({**row, "meeting_id": m.id})
        if rows_all:
            db.session.execute(insert(Attendance), rows_all)
        prev = GENESIS
        versions = []
        for seq, m in enumerate(sorted(meetings, key=lambda x: (x.entered_at, x.id)), start=1):
            v = MeetingVersion(
                branch_id=branch.id,
                region_id=branch.region_id,
                meeting_id=m.id,
                seq=seq,
                version=1,
                action="create",
                at=m.entered_at,
                actor_id=editor_id,
                reason="",
                snapshot=_snapshot(m, attendance[id(m)]),
                diff={},
                prev_hash=prev,
            )
            v.hash = version_hash(v)
            prev = v.hash
            versions.append(v)
        db.session.add_all(versions)
        if idx in (1, 4) and meetings:
            edits.append(meetings[-3] if len(meetings) > 3 else meetings[-1])
        if idx < 6:
            _seed_plans(branch, groups, today, editor_id)
    db.session.flush()

    for m in edits:
        db.session.expire(m, ["attendance"])  # written in bulk: load the real rows
        data = MeetingInput(
            kind=m.kind,
            group_id=m.group_id,
            started_at=m.started_at,
            ended_at=m.ended_at + timedelta(minutes=30),
            place=m.place,
            host_id=m.host_id,
            recorder=m.recorder,
            lecturer=m.lecturer,
            topics=m.topics,
            content=m.content + "会后补充：已将会议决定张贴公示。",
            resolutions=m.resolutions,
            guests=m.guests,
            present_ids={a.member_id for a in m.attendance if a.present},
            absence_reasons={a.member_id: a.absence_reason for a in m.attendance if not a.present},
        )
        update_meeting(
            m,
            data,
            editor_id,
            cal,
            expected_version=m.version,
            is_admin=True,
            reason="补充会后公示情况",
        )


def _snapshot(m: Meeting, rows: list[dict[str, object]]) -> dict[str, object]:
    """The services' snapshot, with the attendance written in bulk."""
    snap = snapshot(m)
    snap["attendance"] = sorted(
        [r["member_id"], bool(r["present"]), r["absence_reason"] or "", bool(r["voting"])]
        for r in rows
    )
    data: dict[str, object] = json.loads(canonical(snap))
    return data


def _seed_plans(
    branch: Branch, groups: list[PartyGroup], today: date, actor_id: int | None
) -> None:
    q = (today.month - 1) // 3 + 1
    period = rules.Period.quarter(today.year, q)
    for month in range(period.first_month, period.first_month + 3):
        db.session.add(
            MeetingPlan(
                branch_id=branch.id,
                region_id=branch.region_id,
                year=today.year,
                quarter=q,
                kind="branch_committee_meeting",
                planned_on=date(today.year, month, 10),
                topic="研究本月工作",
                filed_by_id=actor_id,
            )
        )
        db.session.add(
            MeetingPlan(
                branch_id=branch.id,
                region_id=branch.region_id,
                year=today.year,
                quarter=q,
                kind="theme_party_day",
                planned_on=date(today.year, month, 5),
                topic="主题党日活动",
                filed_by_id=actor_id,
            )
        )
    db.session.add(
        MeetingPlan(
            branch_id=branch.id,
            region_id=branch.region_id,
            year=today.year,
            quarter=q,
            kind="branch_general_meeting",
            planned_on=date(today.year, period.first_month + 1, 15),
            topic="传达学习上级会议精神",
            filed_by_id=actor_id,
        )
    )
