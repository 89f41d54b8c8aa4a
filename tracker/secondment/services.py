"""Operations of the secondment programme (its figures are in :mod:`tracker.secondment.figures`).

Plain functions: they check the rules, change objects and ``flush()``; the
caller (view, API, CLI, demo) commits. Broken rules raise
:class:`~tracker.secondment.rules.SecondmentError` with a Chinese message.

**Who sees a complainant's identity.** The assessment office (考核办) is a
:class:`~tracker.secondment.models.WorkGroup` of kind ``assessment_office`` in
the batch; its members linked to a user account (``GroupMember.user_id``) see
the complainant's name and contact, nobody else does — not admins, not the
receiving township (:func:`sees_identity`). Roles stay the tracker's three
(admin/editor/viewer); the office is a membership, so a county can change it
in the batch's groups without a new role.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select

from tracker import clock
from tracker.config import RulesSettings, current_settings
from tracker.extensions import db
from tracker.models import Region, RegionLevel, User
from tracker.secondment.models import (
    PUBLIC_FIELDS,
    Assessment,
    Batch,
    Candidate,
    CandidateStatus,
    Complaint,
    ComplaintStatus,
    Grade,
    GroupCoverage,
    GroupKind,
    GroupMember,
    Inspection,
    Outcome,
    PostType,
    ResultItem,
    ResultKind,
    Secondment,
    WeeklyReport,
    WeeklyReportVersion,
    WorkGroup,
    WorkLogEntry,
)
from tracker.secondment.rules import (
    SecondmentError,
    WeekState,
    assessment_windows,
    overlaps,
    report_due_on,
    scheduled_weeks,
    validate_report_week,
)
from tracker.workdays import WorkCalendar


def _rules() -> RulesSettings:
    return current_settings().rules


def _text(value: str | None, name: str, label: str, limit: int, required: bool = True) -> str:
    text = (value or "").strip()
    if required and not text:
        raise SecondmentError(f"请填写{label}", name)
    if len(text) > limit:
        raise SecondmentError(f"{label}最多 {limit} 字", name)
    return text


# --- the programme and its groups -------------------------------------------------


def create_batch(
    region: Region,
    year: int,
    name: str,
    purpose: str = "",
    rules_file: str | None = None,
) -> Batch:
    """A batch run by a county (or city) node."""
    if region.level not in (RegionLevel.city, RegionLevel.county):
        raise SecondmentError("挂职批次由县（市）委组织部建立", "region_id")
    if not 2000 <= year <= 2100:
        raise SecondmentError("年度应在 2000–2100 之间", "year")
    batch = Batch(
        region_id=region.id,
        year=year,
        name=_text(name, "name", "批次名称", 100),
        purpose=_text(purpose, "purpose", "目的", 5000, required=False),
        rules_file=rules_file,
    )
    db.session.add(batch)
    db.session.flush()
    return batch


def add_group(
    batch: Batch,
    kind: GroupKind,
    name: str,
    members: list[tuple[str, str, int | None]],
    covered: list[Region] = (),  # type: ignore[assignment]
) -> WorkGroup:
    """A leading group, office, assessment office or assessment group with its members."""
    group = WorkGroup(
        batch_id=batch.id,
        region_id=batch.region_id,
        kind=kind,
        name=_text(name, "name", "名称", 100),
    )
    for person, duty, user_id in members:
        group.members.append(
            GroupMember(name=_text(person, "members", "成员姓名", 64), duty=duty, user_id=user_id)
        )
    batch_region = db.session.get(Region, batch.region_id)
    assert batch_region is not None
    for region in covered:
        if not region.path.startswith(batch_region.path):
            raise SecondmentError("考核组只能负责本县的乡镇或单位", "covered")
        group.covers.append(GroupCoverage(covered_region_id=region.id))
    db.session.add(group)
    db.session.flush()
    return group


# --- selection ---------------------------------------------------------------------


def propose_candidate(
    batch: Batch, name: str, rank: str, sending_unit: str, post_type: PostType
) -> Candidate:
    """A cadre proposed by the organization department (党管干部)."""
    if batch.selection_completed_on is not None:
        raise SecondmentError("本批次选拔已完成，不能再提名")
    candidate = Candidate(
        batch_id=batch.id,
        region_id=batch.region_id,
        name=_text(name, "name", "姓名", 64),
        rank=_text(rank, "rank", "职级", 32, required=False),
        sending_unit=_text(sending_unit, "sending_unit", "派出单位", 100),
        wanted_post_type=post_type,
    )
    db.session.add(candidate)
    db.session.flush()
    return candidate


def record_checks(
    candidate: Candidate,
    discipline_on: date | None,
    discipline_by: str,
    legal_on: date | None,
    legal_by: str,
) -> None:
    """The discipline and legal checks (纪检、法律审查) by the relevant bodies."""
    today = clock.today()
    for day, name in ((discipline_on, "discipline_checked_on"), (legal_on, "legal_checked_on")):
        if day is not None and day > today:
            raise SecondmentError("审查日期不能晚于今天", name)
    candidate.discipline_checked_on = discipline_on
    candidate.discipline_checked_by = (discipline_by or "").strip()[:100]
    candidate.legal_checked_on = legal_on
    candidate.legal_checked_by = (legal_by or "").strip()[:100]
    db.session.flush()


def veto(candidate: Candidate, reason: str, source: str, on: date) -> None:
    """一票否决: a past Party or administrative sanction excludes the candidate for good."""
    if on > clock.today():
        raise SecondmentError("处分日期不能晚于今天", "veto_on")
    if db.session.scalar(select(Secondment.id).where(Secondment.candidate_id == candidate.id)):
        raise SecondmentError("该人员已派出挂职，请先终止挂职")
    candidate.veto_reason = _text(reason, "veto_reason", "否决原因（处分情况）", 300)
    candidate.veto_source = _text(source, "veto_source", "信息来源", 100)
    candidate.veto_on = on
    candidate.status = CandidateStatus.vetoed
    db.session.flush()


def select_candidate(candidate: Candidate) -> None:
    """Selected (选定) once both checks are recorded and no veto stands."""
    if candidate.status == CandidateStatus.vetoed:
        raise SecondmentError(f"已被一票否决：{candidate.veto_reason}")
    if candidate.discipline_checked_on is None or candidate.legal_checked_on is None:
        raise SecondmentError("须先完成纪检和法律审查")
    candidate.status = CandidateStatus.selected
    db.session.flush()


def complete_selection(batch: Batch, on: date) -> None:
    """Selection complete (选拔完成): secondments may start from ``on``."""
    pending = db.session.scalar(
        select(func.count(Candidate.id)).where(
            Candidate.batch_id == batch.id, Candidate.status == CandidateStatus.proposed
        )
    )
    if pending:
        raise SecondmentError(f"还有 {pending} 名人选未完成审查", "selection_completed_on")
    if on > clock.today():
        raise SecondmentError("选拔完成日期不能晚于今天", "selection_completed_on")
    batch.selection_completed_on = on
    db.session.flush()


# --- the secondment ----------------------------------------------------------------


@dataclass
class SecondmentInput:
    receiving_unit: str
    post: str
    post_type: PostType
    start_on: date
    planned_end_on: date
    rank: str = ""
    joint_management: str = ""
    guarantee_given: bool = False
    guarantee_on: date | None = None
    guarantee_note: str = ""
    user_id: int | None = None


def create_secondment(candidate: Candidate, region: Region, data: SecondmentInput) -> Secondment:
    """Second a selected candidate to ``region`` (the receiving township or village).

    Refused when the candidate was vetoed or not selected, before the batch's
    selection was complete, or when the cadre has another secondment overlapping.
    """
    if candidate.status == CandidateStatus.vetoed:
        raise SecondmentError(f"该人选已被一票否决，不能派出：{candidate.veto_reason}")
    if candidate.status != CandidateStatus.selected:
        raise SecondmentError("该人选尚未选定")
    batch = candidate.batch
    if batch.selection_completed_on is None:
        raise SecondmentError("本批次选拔尚未完成，不能开始挂职", "start_on")
    if data.start_on < batch.selection_completed_on:
        raise SecondmentError(
            f"挂职开始日期不能早于选拔完成日期 {batch.selection_completed_on:%Y-%m-%d}", "start_on"
        )
    if data.planned_end_on <= data.start_on:
        raise SecondmentError("计划结束日期应晚于开始日期", "planned_end_on")
    batch_region = db.session.get(Region, batch.region_id)
    assert batch_region is not None
    if region.level not in (
        RegionLevel.township,
        RegionLevel.village,
    ) or not region.path.startswith(batch_region.path):
        raise SecondmentError("接收单位应是本县的乡镇或村（社区）", "region_id")
    if data.guarantee_given and data.guarantee_on is None:
        raise SecondmentError("请填写派出单位保障承诺的日期", "guarantee_on")
    _check_overlap(candidate, data.start_on, data.planned_end_on, data.user_id, None)
    s = Secondment(
        batch_id=batch.id,
        candidate_id=candidate.id,
        region_id=region.id,
        user_id=data.user_id,
        cadre_name=candidate.name,
        rank=(data.rank or candidate.rank)[:32],
        sending_unit=candidate.sending_unit,
        receiving_unit=_text(data.receiving_unit, "receiving_unit", "接收单位", 100),
        post=_text(data.post, "post", "挂职岗位", 100),
        post_type=data.post_type,
        start_on=data.start_on,
        planned_end_on=data.planned_end_on,
        joint_management=(data.joint_management or "").strip(),
        guarantee_given=data.guarantee_given,
        guarantee_on=data.guarantee_on if data.guarantee_given else None,
        guarantee_note=(data.guarantee_note or "").strip()[:300],
        public_token=secrets.token_urlsafe(18)[:24],
    )
    db.session.add(s)
    db.session.flush()
    return s


def _check_overlap(
    candidate: Candidate, start: date, end: date, user_id: int | None, exclude: int | None
) -> None:
    """The same cadre (same name and sending unit, or the same account) serves one post at a time."""
    same = (Candidate.name == candidate.name) & (Candidate.sending_unit == candidate.sending_unit)
    stmt = select(Secondment).join(Candidate, Secondment.candidate_id == Candidate.id).where(same)
    others = list(db.session.scalars(stmt))
    if user_id is not None:
        others += list(db.session.scalars(select(Secondment).where(Secondment.user_id == user_id)))
    for other in others:
        if other.id == exclude:
            continue
        if overlaps(start, end, other.start_on, other.end_on):
            raise SecondmentError(
                f"与该干部在{other.receiving_unit}的挂职期"
                f"（{other.start_on:%Y-%m-%d} 至 {other.end_on:%Y-%m-%d}）重叠",
                "start_on",
            )


def end_secondment(
    s: Secondment,
    actual_end_on: date,
    outcome: Outcome | None,
    decision: str = "",
    decided_on: date | None = None,
) -> None:
    """End a term (期满或提前结束), with the outcome and the decision behind it."""
    if actual_end_on < s.start_on:
        raise SecondmentError("实际结束日期不能早于开始日期", "actual_end_on")
    if actual_end_on > clock.today():
        raise SecondmentError("实际结束日期不能晚于今天", "actual_end_on")
    if outcome is not None:
        if not (decision or "").strip():
            raise SecondmentError("请填写使用决定（文号或会议）", "outcome_decision")
        if decided_on is None:
            raise SecondmentError("请填写决定日期", "outcome_on")
    s.actual_end_on = actual_end_on
    s.outcome = outcome
    s.outcome_decision = (decision or "").strip()[:300] or None
    s.outcome_on = decided_on if outcome is not None else None
    db.session.flush()


def _within_term(s: Secondment, day: date, name: str) -> None:
    if day > clock.today():
        raise SecondmentError("日期不能晚于今天", name)
    if day < s.start_on or day > s.end_on:
        raise SecondmentError("日期不在挂职期内", name)


# --- the five systems ---------------------------------------------------------------


def add_log(
    s: Secondment, day: date, what: str, place: str = "", with_whom: str = "", outcome: str = ""
) -> WorkLogEntry:
    """工作记实: one entry (what, where, with whom, outcome)."""
    _within_term(s, day, "day")
    entry = WorkLogEntry(
        secondment_id=s.id,
        region_id=s.region_id,
        day=day,
        what=_text(what, "what", "工作内容", 2000),
        place=_text(place, "place", "地点", 100, required=False),
        with_whom=_text(with_whom, "with_whom", "参与人员", 200, required=False),
        outcome=_text(outcome, "outcome", "成效", 2000, required=False),
    )
    db.session.add(entry)
    db.session.flush()
    return entry


def file_report(
    s: Secondment,
    monday: date,
    work_done: str,
    problems: str,
    next_plan: str,
    public_fields: list[str],
    cal: WorkCalendar,
) -> tuple[WeeklyReport, bool]:
    """周报: file the week's report, or edit it (the old text becomes a version).

    Returns ``(report, created)``. Lateness is fixed by the first filing.
    """
    today = clock.today()
    validate_report_week(monday, today, s.start_on, s.end_on)
    texts = (
        _text(work_done, "work_done", "本周工作", 5000),
        _text(problems, "problems", "问题困难", 5000, required=False),
        _text(next_plan, "next_plan", "下周计划", 5000, required=False),
    )
    bad = [f for f in public_fields if f not in PUBLIC_FIELDS]
    if bad:
        raise SecondmentError("公示内容只能从本周工作、问题困难、下周计划中选择", "public_fields")
    report = db.session.scalar(
        select(WeeklyReport).where(
            WeeklyReport.secondment_id == s.id, WeeklyReport.week_start == monday
        )
    )
    created = report is None
    if report is None:
        due = report_due_on(monday, cal, _rules().secondment_report_working_days)
        report = WeeklyReport(
            secondment_id=s.id,
            region_id=s.region_id,
            week_start=monday,
            submitted_at=clock.now(),
            on_time=today <= due,
            version=1,
        )
        db.session.add(report)
    else:
        report.versions.append(
            WeeklyReportVersion(
                version=report.version,
                work_done=report.work_done,
                problems=report.problems,
                next_plan=report.next_plan,
                saved_at=report.updated_at or report.submitted_at,
            )
        )
        report.version += 1
        report.updated_at = clock.now()
    report.work_done, report.problems, report.next_plan = texts
    report.public_fields = [f for f in PUBLIC_FIELDS if f in public_fields]
    db.session.flush()
    return report, created


def week_states(s: Secondment, cal: WorkCalendar, today: date) -> list[WeekState]:
    """Every scheduled week up to this week, with its deadline and what was filed."""
    end = min(s.end_on, today)
    if end < s.start_on:
        return []
    filed = dict(
        db.session.execute(
            select(WeeklyReport.week_start, WeeklyReport.on_time).where(
                WeeklyReport.secondment_id == s.id
            )
        ).all()
    )
    n = _rules().secondment_report_working_days
    return [
        WeekState(m, report_due_on(m, cal, n), m in filed, bool(filed.get(m, False)))
        for m in scheduled_weeks(s.start_on, end)
    ]


def record_assessment(
    s: Secondment,
    window_key: str,
    assessed_on: date,
    grade: Grade,
    assessors: str,
    comment: str = "",
) -> Assessment:
    """定期考核: a grade for one window of the term."""
    keys = {w[0] for w in assessment_windows(_rules().secondment_assessment, s.start_on, s.end_on)}
    if window_key not in keys:
        raise SecondmentError("考核周期不在挂职期内", "window_key")
    if assessed_on > clock.today():
        raise SecondmentError("考核日期不能晚于今天", "assessed_on")
    if db.session.scalar(
        select(Assessment.id).where(
            Assessment.secondment_id == s.id, Assessment.window_key == window_key
        )
    ):
        raise SecondmentError("该周期已考核", "window_key")
    a = Assessment(
        secondment_id=s.id,
        region_id=s.region_id,
        window_key=window_key,
        assessed_on=assessed_on,
        grade=grade,
        assessors=_text(assessors, "assessors", "考核人员", 200),
        comment=_text(comment, "comment", "考核意见", 2000, required=False),
    )
    db.session.add(a)
    db.session.flush()
    return a


def record_inspection(
    s: Secondment,
    group: WorkGroup | None,
    day: date,
    place: str,
    present: bool,
    findings: str = "",
    rectification: str = "",
    rectify_by: date | None = None,
    user: User | None = None,
) -> Inspection:
    """现场督查: a visit; a rectification demand needs a deadline after the visit."""
    _within_term(s, day, "day")
    if group is not None and (group.batch_id != s.batch_id or group.kind != GroupKind.assessment):
        raise SecondmentError("督查组应是本批次的考核组", "group_id")
    rect = _text(rectification, "rectification", "整改要求", 2000, required=False)
    if rect and rectify_by is None:
        raise SecondmentError("提出整改要求须填写整改期限", "rectify_by")
    if rectify_by is not None and rectify_by < day:
        raise SecondmentError("整改期限不能早于督查日期", "rectify_by")
    visit = Inspection(
        secondment_id=s.id,
        region_id=s.region_id,
        group_id=group.id if group else None,
        day=day,
        place=_text(place, "place", "督查地点", 100),
        present=present,
        findings=_text(findings, "findings", "发现问题", 2000, required=False),
        rectification=rect,
        rectify_by=rectify_by if rect else None,
        entered_by_id=user.id if user else None,
    )
    db.session.add(visit)
    db.session.flush()
    return visit


def record_rectification(visit: Inspection, done_on: date, note: str = "") -> None:
    """整改完成: the day an inspection's finding was rectified, with a note.

    Only a visit that demanded rectification; the day cannot precede the visit
    nor lie in the future. Recorded again, it corrects the earlier entry (audited).
    """
    if not visit.rectification:
        raise SecondmentError("该次督查未提出整改要求", "rectified_on")
    if done_on < visit.day:
        raise SecondmentError(f"整改完成日期不能早于督查日期 {visit.day:%Y-%m-%d}", "rectified_on")
    if done_on > clock.today():
        raise SecondmentError("整改完成日期不能晚于今天", "rectified_on")
    visit.rectified_on = done_on
    visit.rectified_note = _text(note, "rectified_note", "整改情况", 2000, required=False)
    db.session.flush()


def overdue_rectifications(secondment_ids: list[int], today: date) -> list[Inspection]:
    """Rectifications past their deadline and not done (an obligation of the receiving unit)."""
    if not secondment_ids:
        return []
    return list(
        db.session.scalars(
            select(Inspection)
            .where(
                Inspection.secondment_id.in_(secondment_ids),
                Inspection.rectify_by < today,
                Inspection.rectified_on.is_(None),
            )
            .order_by(Inspection.rectify_by)
        )
    )


def file_complaint(
    s: Secondment,
    content: str,
    name: str = "",
    contact: str = "",
    channel: str = "staff",
    source_hash: str | None = None,
    cal: WorkCalendar | None = None,
) -> Complaint:
    """监督举报: a complaint from the public form (``source_hash`` limits floods) or staff."""
    if channel == "public" and source_hash:
        since = clock.now() - timedelta(hours=1)
        recent = db.session.scalar(
            select(func.count(Complaint.id)).where(
                Complaint.source_hash == source_hash, Complaint.received_at >= since
            )
        )
        if (recent or 0) >= _rules().secondment_complaints_per_hour:
            raise SecondmentError("提交过于频繁，请稍后再试", status=429)
    today = clock.today()
    days = _rules().secondment_complaint_working_days
    due = (cal or WorkCalendar.from_rows(())).add_working_days(today, days)[0]
    c = Complaint(
        secondment_id=s.id,
        region_id=s.region_id,
        channel=channel,
        content=_text(content, "content", "举报内容", 5000),
        complainant_name=_text(name, "name", "姓名", 64, required=False),
        complainant_contact=_text(contact, "contact", "联系方式", 64, required=False),
        due_on=due,
        source_hash=source_hash,
    )
    db.session.add(c)
    db.session.flush()
    return c


def close_complaint(c: Complaint, outcome: str, reply: str, on: date) -> None:
    """Handled: the outcome of the check and the reply to the complainant."""
    if c.status == ComplaintStatus.closed:
        raise SecondmentError("该举报已办结")
    if on > clock.today():
        raise SecondmentError("办结日期不能晚于今天", "closed_on")
    c.outcome = _text(outcome, "outcome", "核查结果", 5000)
    c.reply = _text(reply, "reply", "答复内容", 5000)
    c.closed_on = on
    c.status = ComplaintStatus.closed
    db.session.flush()


def publication(region_id: int, monday: date) -> list[tuple[WeeklyReport, Secondment]]:
    """The week's reports of the cadres received by one unit (the 公示; public fields only
    are shown by the page)."""
    rows = db.session.execute(
        select(WeeklyReport, Secondment)
        .join(Secondment, WeeklyReport.secondment_id == Secondment.id)
        .where(Secondment.region_id == region_id, WeeklyReport.week_start == monday)
        .order_by(Secondment.cadre_name, Secondment.id)
    )
    return [(r, s) for r, s in rows]


def office_batches(user: User | None) -> set[int]:
    """The batches in whose assessment office (考核办) ``user`` sits (one query for a list)."""
    if user is None or user.id is None:
        return set()
    return set(
        db.session.scalars(
            select(WorkGroup.batch_id)
            .join(GroupMember, GroupMember.group_id == WorkGroup.id)
            .where(WorkGroup.kind == GroupKind.assessment_office, GroupMember.user_id == user.id)
        )
    )


def sees_identity(user: User | None, c: Complaint) -> bool:
    """Only members of the batch's assessment office (考核办) see who complained."""
    if user is None:
        return False
    return bool(
        db.session.scalar(
            select(GroupMember.id)
            .join(WorkGroup, GroupMember.group_id == WorkGroup.id)
            .join(Secondment, Secondment.batch_id == WorkGroup.batch_id)
            .where(
                Secondment.id == c.secondment_id,
                WorkGroup.kind == GroupKind.assessment_office,
                GroupMember.user_id == user.id,
            )
            .limit(1)
        )
    )


def add_result(
    s: Secondment, kind: ResultKind, day: date, title: str, detail: str = ""
) -> ResultItem:
    """A problem solved, a problem reported upward, or a suggestion."""
    _within_term(s, day, "day")
    item = ResultItem(
        secondment_id=s.id,
        region_id=s.region_id,
        kind=kind,
        day=day,
        title=_text(title, "title", "事项", 200),
        detail=_text(detail, "detail", "详细情况", 5000, required=False),
    )
    db.session.add(item)
    db.session.flush()
    return item
