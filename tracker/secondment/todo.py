"""Home to-do of the secondment programme: missing weekly reports and assessments due."""

from __future__ import annotations

from flask import url_for
from flask_babel import gettext as _

from tracker import clock
from tracker.calendar_service import load_calendar
from tracker.extensions import db
from tracker.home import TodoItem
from tracker.models import User
from tracker.scope import Scope
from tracker.secondment.figures import programme
from tracker.secondment.models import Secondment


def secondment_due(scope: Scope, user: User) -> list[TodoItem]:
    """Last week's reports not filed and assessment windows ended without a grade (in scope)."""
    if not scope.can_write:
        return []
    today = clock.today()
    rows = list(
        db.session.scalars(
            scope.select(Secondment).where(
                Secondment.start_on <= today,
                (Secondment.actual_end_on.is_(None)) | (Secondment.actual_end_on >= today),
            )
        )
    )
    if user.id is not None:
        own = [s for s in rows if s.user_id == user.id]
        rows = own or rows
    if not rows:
        return []
    p = programme(rows, today, today, today, load_calendar())
    items = []
    if p.missing_this_week or p.due_this_week:
        n = p.missing_this_week + p.due_this_week
        items.append(
            TodoItem(
                severity=2 if p.missing_this_week else 1,
                title=_("挂职干部周报"),
                detail=_(
                    "上周周报：%(missing)s 份逾期未交，%(due)s 份待交",
                    missing=p.missing_this_week,
                    due=p.due_this_week,
                ),
                url=url_for("secondment.index", show="weekly"),
                count=n,
            )
        )
    if p.assessments_due:
        items.append(
            TodoItem(
                severity=1,
                title=_("挂职干部定期考核"),
                detail=_("%(n)s 个考核周期已结束但尚未考核", n=p.assessments_due),
                url=url_for("secondment.index", show="assessments"),
                count=p.assessments_due,
            )
        )
    if p.rectifications_overdue:
        items.append(
            TodoItem(
                severity=2,
                title=_("督查整改逾期"),
                detail=_("%(n)s 项督查整改已过期限仍未完成", n=p.rectifications_overdue),
                url=url_for("secondment.inspections", overdue=1),
                count=p.rectifications_overdue,
            )
        )
    return items
