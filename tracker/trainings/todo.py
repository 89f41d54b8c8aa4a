"""Home to-do: villages in scope with no training yet in the current window."""

from __future__ import annotations

from datetime import timedelta

from flask import url_for
from sqlalchemy import select

from tracker import clock
from tracker.extensions import db
from tracker.home import TodoItem
from tracker.models import Branch, Region, RegionLevel, User
from tracker.periods import Period
from tracker.scope import Scope
from tracker.trainings.services import figures_for_branches, frequency


def trainings_due(scope: Scope, user: User) -> list[TodoItem]:
    """Windows ending within 15 days (or just ended) with no training, for writers."""
    if not scope.can_write:
        return []
    freq = frequency()
    today = clock.today()
    windows = [w for w in freq.windows(Period.containing(today, "month")) if w.contains(today)]
    if not windows:
        return []
    window = windows[0]
    if window.end - today > timedelta(days=15):
        return []
    branches = db.session.execute(
        scope.filter(
            select(Branch.id, Region.name).join(Region, Branch.region_id == Region.id), Branch
        ).where(Region.level == RegionLevel.village)
    ).all()
    figures = figures_for_branches([b for b, _ in branches], window, today)
    names = [name for bid, name in branches if figures[bid].count == 0]
    if not names:
        return []
    shown = "、".join(names[:5]) + ("等" if len(names) > 5 else "")
    return [
        TodoItem(
            severity=1,
            title="培训尚未开展",
            detail=f"{window.label}结束前须开展培训：{shown}",
            url=url_for("trainings.index"),
            count=len(names),
        )
    ]


def concentrated_due(scope: Scope, user: User) -> list[TodoItem]:
    """Township and village organizations whose concentrated-training window ends within
    60 days (or ended last window) short of the required hours (每年集中培训)."""
    from flask_babel import gettext

    from tracker.trainings.concentrated import ORG_LEVELS, concentrated_figures

    if not scope.can_write:
        return []
    today = clock.today()
    orgs = db.session.execute(
        scope.filter(select(Region.id, Region.name), Region).where(Region.level.in_(ORG_LEVELS))
    ).all()
    if not orgs:
        return []
    ids = [rid for rid, _ in orgs]
    years = [concentrated_figures(ids, Period.of_year(today.year), today)]
    if today.month <= 2:  # a yearly window that ended lately stays on the list a while
        years.append(concentrated_figures(ids, Period.of_year(today.year - 1), today))
    short = []
    for rid, name in orgs:
        for w in (w for figures in years for w in figures[rid].windows):
            ends = Period.parse(w.key).end
            if w.status == "missing" and (today - ends).days <= 60:
                short.append(name)
                break
            if w.status == "due" and (ends - today).days <= 60:
                short.append(name)
                break
    if not short:
        return []
    shown = "、".join(short[:5]) + (gettext("等") if len(short) > 5 else "")
    return [
        TodoItem(
            severity=1,
            title=gettext("集中培训学时不足"),
            detail=gettext("以下党组织的集中培训未达到规定学时：%(list)s", list=shown),
            url=url_for("trainings.concentrated"),
            count=len(short),
        )
    ]
