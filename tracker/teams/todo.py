"""Home to-do: villages in scope below the reserve-cadre targets ("2+5")."""

from __future__ import annotations

from flask import url_for
from flask_babel import gettext
from sqlalchemy import select

from tracker import clock
from tracker.extensions import db
from tracker.home import TodoItem
from tracker.models import Region, RegionLevel, User
from tracker.scope import Scope
from tracker.teams.recall import overdue_steps
from tracker.teams.services import reserve_figures


def reserves_short(scope: Scope, user: User) -> list[TodoItem]:
    """One item naming the villages whose reserve cadres in cultivation fall short of target."""
    if not scope.can_write:
        return []
    villages = db.session.execute(
        scope.filter(select(Region.id, Region.name), Region).where(
            Region.level == RegionLevel.village
        )
    ).all()
    figures = reserve_figures([vid for vid, _ in villages])
    short = [(name, figures[vid]) for vid, name in villages if not figures[vid].met]
    if not short:
        return []
    f0 = short[0][1]
    shown = "、".join(gettext("%(v)s缺%(n)s名", v=name, n=f.short) for name, f in short[:5])
    if len(short) > 5:
        shown += gettext("等")
    return [
        TodoItem(
            severity=1,
            title=gettext("后备干部未达“2+5”目标"),
            detail=gettext(
                "每村应有书记后备 %(s)s 名、两委委员后备 %(c)s 名：%(list)s",
                s=f0.secretary_target,
                c=f0.committee_target,
                list=shown,
            ),
            url=url_for("teams.index"),
            count=len(short),
        )
    ]


def recall_steps_overdue(scope: Scope, user: User) -> list[TodoItem]:
    """Recall cases (召回) whose next step is past its deadline."""
    if not scope.can_write:
        return []
    steps = overdue_steps(scope, clock.today())
    if not steps:
        return []
    shown = "、".join(f"{s.case.assessment.cadre.name}（{gettext(s.label)}）" for s in steps[:5])
    return [
        TodoItem(
            severity=0,
            title=gettext("召回步骤逾期"),
            detail=gettext("以下村干部的召回步骤已超过期限：%(list)s", list=shown),
            url=url_for("teams.recall_case", case_id=steps[0].case_id),
            count=len(steps),
        )
    ]


def vacancies_overdue(scope: Scope, user: User) -> list[TodoItem]:
    """Vacant village posts not filled within ``[teams] vacancy_fill_working_days``."""
    from tracker.teams.posts import overdue_vacancies

    if not scope.can_write:
        return []
    rows = overdue_vacancies(scope.region_ids(), clock.today())
    if not rows:
        return []
    names = dict(
        db.session.execute(
            select(Region.id, Region.name).where(Region.id.in_({v.region_id for v in rows}))
        ).all()
    )
    shown = "、".join(f"{names.get(v.region_id, '')}{v.post}" for v in rows[:5])
    if len(rows) > 5:
        shown += gettext("等")
    return [
        TodoItem(
            severity=0,
            title=gettext("村干部岗位逾期未补齐"),
            detail=gettext("以下岗位空缺已超过补缺期限：%(list)s", list=shown),
            url=url_for("teams.vacancies", open=1),
            count=len(rows),
        )
    ]
