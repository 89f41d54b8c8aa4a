"""Home-page to-dos of the service ledger: overdue, due soon, call-backs owed."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext
from sqlalchemy import Select, func, select

from tracker import clock
from tracker.calendar_service import load_calendar
from tracker.extensions import db
from tracker.home import TodoItem
from tracker.matters import services
from tracker.models import User
from tracker.scope import Scope


def _count(stmt: Select[Any]) -> int:
    return int(db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)


def matter_todos(scope: Scope, user: User) -> list[TodoItem]:
    """Counts of the user's scope; each links to the matching list."""
    today = clock.today()
    items = []
    overdue = _count(services.overdue_stmt(scope, today))
    if overdue:
        items.append(
            TodoItem(
                0,
                gettext("服务事项已逾期"),
                gettext("超过承诺办结日期仍未办结"),
                "/matters/?view=overdue",
                overdue,
            )
        )
    soon = _count(services.due_soon_stmt(scope, today, load_calendar()))
    if soon:
        items.append(
            TodoItem(
                1,
                gettext("服务事项即将到期"),
                gettext("今天或下一个工作日到期"),
                "/matters/?view=due_soon",
                soon,
            )
        )
    callbacks = _count(services.callbacks_due_stmt(scope))
    if callbacks:
        items.append(
            TodoItem(
                1,
                gettext("差评待回访"),
                gettext("每条差评须在期限内回访"),
                "/matters/?view=callbacks",
                callbacks,
            )
        )
    return items
