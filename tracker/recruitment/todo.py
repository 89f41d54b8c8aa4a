"""Home to-do: recruitment steps past their deadline (发展党员), one item per obligation."""

from __future__ import annotations

from flask import url_for
from flask_babel import gettext
from sqlalchemy import select

from tracker import clock
from tracker.extensions import db
from tracker.home import TodoItem
from tracker.models import Region, RegionLevel, User
from tracker.recruitment.figures import overdue_cases
from tracker.recruitment.rules import OBLIGATION_LABELS, Obligation
from tracker.scope import Scope

SEVERITY = {
    Obligation.probation: 0,
    Obligation.approval: 0,
    Obligation.talk: 1,
    Obligation.review: 1,
}


def village_ids(scope: Scope) -> list[int]:
    return list(
        db.session.scalars(
            scope.filter(select(Region.id), Region).where(Region.level == RegionLevel.village)
        )
    )


def recruitment_overdue(scope: Scope, user: User) -> list[TodoItem]:
    """预备期满未转正, 上级党委审批逾期, 入党申请谈话逾期, 积极分子考察逾期 — for writers."""
    if not scope.can_write:
        return []
    pairs = overdue_cases(village_ids(scope), clock.today())
    items = []
    for code, label in OBLIGATION_LABELS.items():
        cases = [case for case, due in pairs if due.obligation == code]
        if not cases:
            continue
        shown = "、".join(c.name for c in cases[:5]) + (gettext("等") if len(cases) > 5 else "")
        items.append(
            TodoItem(
                severity=SEVERITY[code],
                title=gettext(label),
                detail=gettext("发展党员：%(list)s", list=shown),
                url=url_for("recruitment.detail", recruit_case_id=cases[0].id)
                if len(cases) == 1
                else url_for("recruitment.index", overdue=code),
                count=len(cases),
            )
        )
    return items
