"""Village posts over time: vacancies (岗位空缺) and their filling, and who held each post
when (任职历史).

A post falls vacant when its holder leaves it — by a recall case ending in 调整 or 免职
(:func:`tracker.teams.recall.record_step` calls :func:`vacate_post`), or otherwise
(辞职, 调离, 去世 …). It must be filled within ``[teams] vacancy_fill_working_days``
working days, from the reserve list when possible: a reserve cadre (培养中) of the village
takes the post and becomes 已任用; filling it with someone else while the village has
reserves in cultivation needs a reason. An open vacancy past its deadline is an
obligation (home to-do, vacancy list).

The holders of a post are the dated :class:`~tracker.models.VillageCadre` rows of the
village with that post (``since`` … ``until``): vacating ends the holder's term, filling
starts a new row, so the history is derived from those rows, never overwritten.

Plain functions: validate, change objects, ``flush()``; the caller commits.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload

from tracker.config import current_settings
from tracker.extensions import db
from tracker.models import Member, Region, VillageCadre, utcnow
from tracker.teams.models import (
    PostVacancy,
    RecallCase,
    ReserveCadre,
    ReserveStatus,
    VacancyCause,
)
from tracker.teams.services import TeamError, _check_day, change_status
from tracker.workdays import WorkCalendar


def vacate_post(
    cadre: VillageCadre,
    on: date,
    cause: VacancyCause,
    reason: str,
    cal: WorkCalendar,
    recall_case: RecallCase | None = None,
) -> PostVacancy:
    """End ``cadre``'s term on ``on`` and open the vacancy, due in working days."""
    if cadre.until is not None:
        raise TeamError(f"{cadre.name}已于 {cadre.until:%Y-%m-%d} 离任", "cadre_id")
    _check_day(on, "vacated_on", "空缺日期")
    if cadre.since and on < cadre.since:
        raise TeamError("空缺日期不能早于该村干部的任职日期", "vacated_on")
    reason = (reason or "").strip()
    if cause != VacancyCause.recall and not reason:
        raise TeamError("请填写空缺原因说明", "reason")
    cadre.until = on
    due, _official = cal.add_working_days(on, current_settings().teams.vacancy_fill_working_days)
    vacancy = PostVacancy(
        region_id=cadre.region_id,
        post=cadre.post,
        previous_cadre_id=cadre.id,
        cause=cause,
        reason=reason[:200],
        recall_case_id=recall_case.id if recall_case else None,
        vacated_on=on,
        due_on=due,
        entered_at=utcnow(),
    )
    db.session.add(vacancy)
    db.session.flush()
    return vacancy


def reserves_available(region_id: int) -> list[ReserveCadre]:
    """The village's reserve cadres in cultivation (培养中), secretary track first."""
    return list(
        db.session.scalars(
            select(ReserveCadre)
            .where(
                ReserveCadre.region_id == region_id,
                ReserveCadre.status == ReserveStatus.cultivating,
            )
            .order_by(ReserveCadre.track.desc(), ReserveCadre.entered_on, ReserveCadre.id)
        )
    )


def fill_vacancy(
    vacancy: PostVacancy,
    filled_on: date,
    *,
    reserve: ReserveCadre | None = None,
    name: str = "",
    member_id: int | None = None,
    note: str = "",
) -> VillageCadre:
    """Fill the post: from a reserve cadre of the village (who becomes 已任用), or with a
    named person — then, while reserves are in cultivation, with a reason."""
    if vacancy.filled_on is not None:
        raise TeamError("该岗位空缺已补齐", "filled_on")
    _check_day(filled_on, "filled_on", "补缺日期")
    if filled_on < vacancy.vacated_on:
        raise TeamError("补缺日期不能早于空缺日期", "filled_on")
    note = (note or "").strip()
    member = None
    if reserve is not None:
        if reserve.region_id != vacancy.region_id:
            raise TeamError("所选后备干部不在本村后备干部库中", "reserve_id")
        if reserve.status != ReserveStatus.cultivating:
            raise TeamError(f"{reserve.name}已{reserve.status_label}，不能任用", "reserve_id")
        if filled_on < reserve.entered_on:
            raise TeamError("补缺日期不能早于该后备干部的入库日期", "filled_on")
        change_status(reserve, ReserveStatus.appointed, filled_on, f"任{vacancy.post}")
        name = reserve.name
        member_id = reserve.member_id
    else:
        name = (name or "").strip()
        if not name:
            raise TeamError("请选择后备干部或填写新任人员姓名", "name")
        if len(name) > 32:
            raise TeamError("姓名最多 32 字", "name")
        if member_id:
            member = db.session.get(Member, member_id)
            if member is None or member.region_id != vacancy.region_id:
                raise TeamError("所选党员不在本村党员名册中", "name")
        if reserves_available(vacancy.region_id) and not note:
            raise TeamError("本村有培养中的后备干部，未从后备干部中任用须说明原因", "fill_note")
    cadre = VillageCadre(
        region_id=vacancy.region_id,
        member_id=member_id or None,
        name=name,
        post=vacancy.post,
        since=filled_on,
    )
    db.session.add(cadre)
    db.session.flush()
    vacancy.filled_on = filled_on
    vacancy.new_cadre_id = cadre.id
    vacancy.reserve_id = reserve.id if reserve else None
    vacancy.fill_note = note[:200]
    db.session.flush()
    return cadre


def vacate_for_recall(case: RecallCase, on: date) -> PostVacancy | None:
    """A recall case closed with 调整 or 免职 vacates the cadre's post (if still held)."""
    from tracker.calendar_service import load_calendar

    cadre = case.assessment.cadre
    if cadre.until is not None:
        return None
    reason = f"{case.assessment.year}年度考核不称职，召回后{case.outcome_label}"
    return vacate_post(cadre, on, VacancyCause.recall, reason, load_calendar(), recall_case=case)


def is_overdue(vacancy: PostVacancy, today: date) -> bool:
    return vacancy.filled_on is None and vacancy.due_on < today


def filled_late(vacancy: PostVacancy) -> bool:
    return vacancy.filled_on is not None and vacancy.filled_on > vacancy.due_on


@dataclass(frozen=True)
class Tenure:
    """One holder of a post (or a gap while it was vacant)."""

    name: str
    since: date | None
    until: date | None
    cadre_id: int | None
    vacancy: PostVacancy | None = None


def post_history(village: Region) -> dict[str, list[Tenure]]:
    """Each post of the village → its holders and vacancies, newest first (two queries)."""
    cadres = db.session.scalars(
        select(VillageCadre).where(VillageCadre.region_id == village.id)
    ).all()
    vacancies = db.session.scalars(
        select(PostVacancy).where(PostVacancy.region_id == village.id)
    ).all()
    by_post: dict[str, list[Tenure]] = defaultdict(list)
    for c in cadres:
        if c.reserve:
            continue
        by_post[c.post].append(Tenure(c.name, c.since, c.until, c.id))
    for v in vacancies:
        by_post[v.post].append(Tenure("", v.vacated_on, v.filled_on, None, vacancy=v))
    return {
        post: sorted(rows, key=lambda t: (t.since or date.min, t.vacancy is None), reverse=True)
        for post, rows in sorted(by_post.items())
    }


def vacancies_stmt(region_ids: Any, open_only: bool = False) -> Select[Any]:
    """Vacancies of these regions (ids or a subquery) with the cadres and reserve they name
    loaded in three more statements whatever the number of rows."""
    stmt = (
        select(PostVacancy)
        .where(PostVacancy.region_id.in_(region_ids))
        .options(
            selectinload(PostVacancy.previous_cadre),
            selectinload(PostVacancy.new_cadre),
            selectinload(PostVacancy.reserve),
        )
    )
    if open_only:
        stmt = stmt.where(PostVacancy.filled_on.is_(None))
    return stmt


def overdue_clause(today: date) -> Any:
    """An open vacancy past its deadline (an obligation): the one definition."""
    return PostVacancy.filled_on.is_(None) & (PostVacancy.due_on < today)


def overdue_vacancies(region_ids: Any, today: date) -> list[PostVacancy]:
    """Open vacancies past their deadline (an obligation)."""
    return list(
        db.session.scalars(
            vacancies_stmt(region_ids).where(overdue_clause(today)).order_by(PostVacancy.due_on)
        )
    )


__all__ = [
    "Tenure",
    "fill_vacancy",
    "filled_late",
    "is_overdue",
    "overdue_clause",
    "overdue_vacancies",
    "post_history",
    "reserves_available",
    "vacate_for_recall",
    "vacate_post",
]
