"""Home-page to-do items of the meeting ledgers (see :mod:`tracker.home`)."""

from __future__ import annotations

from flask import url_for
from flask_babel import gettext

from tracker import clock
from tracker.home import TodoItem
from tracker.meetings import rules
from tracker.meetings.obligations import obligations_for_region
from tracker.meetings.services import kinds
from tracker.models import User, utcnow
from tracker.scope import Scope


def meeting_todos(scope: Scope, user: User) -> list[TodoItem]:
    """Missing meetings of last month, and this month's obligations ending soon, in the user's scope."""
    today = clock.local_date(utcnow())
    this_month = rules.Period.containing(today, "month")
    prev_day = this_month.start.replace(day=1)
    from datetime import timedelta

    last_month = rules.Period.containing(prev_day - timedelta(days=1), "month")
    now = obligations_for_region(scope.region_path, this_month, today)
    before = obligations_for_region(scope.region_path, last_month, today)
    names = kinds(include_inactive=True)
    missing = [
        s
        for items in before.values()
        for s in items
        if s.status == "missing" and s.window.end == last_month.end
    ]
    soon = [s for items in now.values() for s in items if s.due_soon]
    due = [
        s for items in now.values() for s in items if s.status == "due" and s.window == this_month
    ]
    url = url_for("meetings.index")
    if user.region.level == "village":
        url = url_for("meetings.grid", region_id=user.region_id)
    out = []
    if missing:
        kinds_text = "、".join(
            sorted({gettext(names[s.kind].name) for s in missing if s.kind in names})
        )
        out.append(
            TodoItem(
                0,
                gettext("%(period)s有会议未开", period=last_month.label),
                gettext("%(n)s 项缺开：%(kinds)s", n=len(missing), kinds=kinds_text),
                url,
                len(missing),
            )
        )
    if soon:
        kinds_text = "、".join(
            sorted({gettext(names[s.kind].name) for s in soon if s.kind in names})
        )
        out.append(
            TodoItem(
                1,
                gettext("会议即将到期"),
                gettext(
                    "%(n)s 项在 %(day)s 前须召开：%(kinds)s",
                    n=len(soon),
                    day=soon[0].window.end.isoformat(),
                    kinds=kinds_text,
                ),
                url,
                len(soon),
            )
        )
    elif due:
        out.append(
            TodoItem(
                2,
                gettext("%(period)s待开会议", period=this_month.label),
                gettext("本月还有 %(n)s 项会议待召开", n=len(due)),
                url,
                len(due),
            )
        )
    return out
