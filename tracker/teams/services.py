"""Operations on the reserve-cadre register (村级后备干部, "2+5") and its figures.

Plain functions: they validate, change objects and ``flush()``; the caller commits.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select

from tracker import clock
from tracker.config import current_settings
from tracker.errors import DomainError
from tracker.extensions import db
from tracker.models import Member, Region, utcnow
from tracker.teams.models import (
    ReserveAssessment,
    ReserveCadre,
    ReserveSource,
    ReserveStatus,
    ReserveTrack,
)

EARLIEST = date(1990, 1, 1)


class TeamError(DomainError):
    """A broken rule of the team registers; ``field`` names the form field."""


@dataclass
class ReserveInput:
    """What a user enters for a reserve cadre (form, API or Excel row)."""

    name: str
    source: ReserveSource
    track: ReserveTrack
    entered_on: date
    member_id: int | None = None
    mentor: str = ""
    plan: str = ""


def _check_day(day: date, field: str, what: str) -> None:
    if day > clock.today():
        raise TeamError(f"{what}不能晚于今天", field)
    if day < EARLIEST:
        raise TeamError(f"{what}不合理（早于 1990 年）", field)


def _validate(village: Region, data: ReserveInput) -> tuple[str, Member | None]:
    name = (data.name or "").strip()
    member = None
    if data.member_id:
        member = db.session.get(Member, data.member_id)
        if member is None or member.region_id != village.id:
            raise TeamError("所选党员不在本村党员名册中", "member_id")
        name = name or member.name
    if not name:
        raise TeamError("请填写姓名", "name")
    if len(name) > 32:
        raise TeamError("姓名最多 32 字", "name")
    _check_day(data.entered_on, "entered_on", "入库日期")
    if len((data.mentor or "").strip()) > 64:
        raise TeamError("结对培养人最多 64 字", "mentor")
    return name, member


def create_reserve(village: Region, data: ReserveInput) -> ReserveCadre:
    """Enter a reserve cadre. One already appointed (已任用) in this village cannot re-enter."""
    name, member = _validate(village, data)
    same = select(ReserveCadre).where(
        ReserveCadre.region_id == village.id, ReserveCadre.status != ReserveStatus.withdrawn
    )
    same = same.where(
        ReserveCadre.member_id == member.id
        if member is not None
        else (ReserveCadre.name == name) & ReserveCadre.member_id.is_(None)
    )
    for other in db.session.scalars(same):
        if other.status == ReserveStatus.appointed:
            raise TeamError(f"{name}已任用，不能再次列为后备干部", "name")
        raise TeamError(f"{name}已在后备干部库中（培养中）", "name")
    reserve = ReserveCadre(
        region_id=village.id,
        member_id=member.id if member else None,
        name=name,
        source=data.source,
        track=data.track,
        entered_on=data.entered_on,
        mentor=(data.mentor or "").strip(),
        plan=(data.plan or "").strip(),
        status=ReserveStatus.cultivating,
        entered_at=utcnow(),
    )
    db.session.add(reserve)
    db.session.flush()
    return reserve


def update_reserve(reserve: ReserveCadre, data: ReserveInput) -> None:
    village = db.session.get(Region, reserve.region_id)
    assert village is not None
    name, member = _validate(village, data)
    first = min((a.assessed_on for a in reserve.assessments), default=None)
    if first is not None and data.entered_on > first:
        raise TeamError("入库日期不能晚于已有的考察日期", "entered_on")
    reserve.name = name
    reserve.member_id = member.id if member else None
    reserve.source = data.source
    reserve.track = data.track
    reserve.entered_on = data.entered_on
    reserve.mentor = (data.mentor or "").strip()
    reserve.plan = (data.plan or "").strip()
    reserve.updated_at = utcnow()
    db.session.flush()


def add_assessment(
    reserve: ReserveCadre, assessed_on: date, assessor: str, result: str
) -> ReserveAssessment:
    """Record an assessment; it cannot predate the entry nor lie in the future."""
    _check_day(assessed_on, "assessed_on", "考察日期")
    if assessed_on < reserve.entered_on:
        raise TeamError("考察日期不能早于入库日期", "assessed_on")
    if not (assessor or "").strip():
        raise TeamError("请填写考察人或考察单位", "assessor")
    if not (result or "").strip():
        raise TeamError("请填写考察情况", "result")
    assessment = ReserveAssessment(
        region_id=reserve.region_id,
        assessed_on=assessed_on,
        assessor=assessor.strip()[:64],
        result=result.strip()[:500],
    )
    reserve.assessments.append(assessment)
    db.session.flush()
    return assessment


def change_status(reserve: ReserveCadre, status: ReserveStatus, on: date, reason: str) -> None:
    """培养中 → 已任用 / 已退出, with the date and the reason (post taken, or why left)."""
    if reserve.status != ReserveStatus.cultivating:
        raise TeamError(f"该后备干部已{reserve.status_label}，状态不能再变更", "status")
    if status == ReserveStatus.cultivating:
        raise TeamError("请选择已任用或已退出", "status")
    _check_day(on, "status_on", "日期")
    if on < reserve.entered_on:
        raise TeamError("日期不能早于入库日期", "status_on")
    reason = (reason or "").strip()
    if not reason:
        what = "任用职务" if status == ReserveStatus.appointed else "退出原因"
        raise TeamError(f"请填写{what}", "status_reason")
    reserve.status = status
    reserve.status_on = on
    reserve.status_reason = reason[:200]
    reserve.updated_at = utcnow()
    db.session.flush()


@dataclass(frozen=True)
class ReserveFigures:
    """Reserve cadres in cultivation in one village against the "2+5" targets."""

    secretary: int
    committee: int
    secretary_target: int
    committee_target: int

    @property
    def short(self) -> int:
        """How many candidates are missing to meet both targets."""
        return max(0, self.secretary_target - self.secretary) + max(
            0, self.committee_target - self.committee
        )

    @property
    def met(self) -> bool:
        return self.short == 0


def reserve_figures(village_ids: Iterable[int]) -> Mapping[int, ReserveFigures]:
    """Target vs actual for many villages with ONE query (lists, to-do, API)."""
    ids = list(village_ids)
    settings = current_settings().teams
    counts: dict[tuple[int, ReserveTrack], int] = {}
    if ids:
        for region_id, track, n in db.session.execute(
            select(ReserveCadre.region_id, ReserveCadre.track, func.count())
            .where(
                ReserveCadre.region_id.in_(ids),
                ReserveCadre.status == ReserveStatus.cultivating,
            )
            .group_by(ReserveCadre.region_id, ReserveCadre.track)
        ):
            counts[(region_id, track)] = n
    return {
        vid: ReserveFigures(
            secretary=counts.get((vid, ReserveTrack.secretary), 0),
            committee=counts.get((vid, ReserveTrack.committee), 0),
            secretary_target=settings.reserve_secretary_target,
            committee_target=settings.reserve_committee_target,
        )
        for vid in ids
    }


def import_reserves(village: Region, rows: Iterable[tuple[int, ReserveInput]]) -> int:
    """Enter every row of an Excel sheet, or none: the first broken row names itself."""
    n = 0
    for row, data in rows:
        try:
            create_reserve(village, data)
        except TeamError as exc:
            raise TeamError(f"第 {row} 行：{exc.message}", "file") from exc
        n += 1
    return n
