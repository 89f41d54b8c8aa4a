"""Home to-do: members six months in arrears without a recorded reason (须谈话)."""

from __future__ import annotations

from flask import url_for
from flask_babel import gettext
from sqlalchemy import select

from tracker import clock
from tracker.dues.figures import arrears
from tracker.extensions import db
from tracker.home import TodoItem
from tracker.models import Branch, Region, User
from tracker.scope import Scope


def dues_arrears(scope: Scope, user: User) -> list[TodoItem]:
    """One item naming the members flagged by the six-months rule, for writers."""
    if not scope.can_write:
        return []
    branches = db.session.execute(
        scope.filter(select(Branch.id, Branch.region_id, Region.name), Branch).join(
            Region, Region.id == Branch.region_id
        )
    ).all()
    if not branches:
        return []
    found = arrears([b for b, _, _ in branches], clock.today(), recent=True)
    flagged = [
        (village_id, village, member_id, a)
        for branch_id, village_id, village in branches
        for member_id, a in found[branch_id].items()
        if a.flagged
    ]
    if not flagged:
        return []
    from tracker.models import Member

    names = dict(
        db.session.execute(
            select(Member.id, Member.name).where(Member.id.in_([f[2] for f in flagged[:5]]))
        ).all()
    )
    shown = "、".join(
        gettext("%(v)s%(m)s（%(n)s个月）", v=village, m=names.get(mid, ""), n=a.run)
        for _, village, mid, a in flagged[:5]
    )
    if len(flagged) > 5:
        shown += gettext("等")
    return [
        TodoItem(
            severity=0,
            title=gettext("党员连续6个月未交党费，须谈话"),
            detail=gettext(
                "无正当理由连续6个月不交纳党费按自行脱党处理，请支部先谈话并登记原因：%(list)s",
                list=shown,
            ),
            url=url_for("dues.member", member_id=flagged[0][2]),
            count=len(flagged),
        )
    ]
