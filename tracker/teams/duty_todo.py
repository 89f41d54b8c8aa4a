"""Home to-do: overdue half-year reviews of posts, unrated pledges, household contacts."""

from __future__ import annotations

from flask import url_for
from flask_babel import gettext
from sqlalchemy import select

from tracker import clock
from tracker.calendar_service import load_calendar
from tracker.extensions import db
from tracker.home import TodoItem
from tracker.models import Region, RegionLevel, User
from tracker.scope import Scope
from tracker.teams.figures import open_obligations


def duty_overdue(scope: Scope, user: User) -> list[TodoItem]:
    """One item per kind (评议, 评诺, 联户联系) naming the villages that owe it."""
    if not scope.can_write:
        return []
    villages = dict(
        db.session.execute(
            scope.filter(select(Region.id, Region.name), Region).where(
                Region.level == RegionLevel.village
            )
        ).all()
    )
    obligations = open_obligations(list(villages), clock.today(), load_calendar())
    kinds = (
        ("reviews", gettext("设岗定责半年评议未录入"), 1),
        ("pledges", gettext("承诺年终未评诺"), 1),
        ("contacts", gettext("联户联系逾期"), 0),
    )
    items = []
    for attr, title, severity in kinds:
        owing = [
            (vid, len(getattr(ob, attr))) for vid, ob in obligations.items() if getattr(ob, attr)
        ]
        if not owing:
            continue
        shown = "、".join(gettext("%(v)s %(n)s 项", v=villages[vid], n=n) for vid, n in owing[:5])
        if len(owing) > 5:
            shown += gettext("等")
        items.append(
            TodoItem(
                severity=severity,
                title=title,
                detail=shown,
                url=url_for("teams.duty.village", region_id=owing[0][0]),
                count=sum(n for _vid, n in owing),
            )
        )
    return items
