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
