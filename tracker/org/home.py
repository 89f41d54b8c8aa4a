"""Home-page todo items of the organisation, for admins (see :mod:`tracker.home`).

An admin keeps the accounts and the rosters of its subtree in order, so it is
told about: villages without a party branch, branches with an empty roster,
and accounts that were created but never used.
"""

from __future__ import annotations

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from tracker.extensions import db
from tracker.home import TodoItem
from tracker.models import Branch, Member, Region, RegionLevel, User
from tracker.scope import Scope


def villages_without_branch(scope: Scope) -> list[Region]:
    """Villages in scope that have no party branch (党支部)."""
    stmt = (
        scope.filter(select(Region), Region)
        .where(Region.level == RegionLevel.village)
        .where(~select(Branch.id).where(Branch.region_id == Region.id).exists())
        .order_by(Region.path)
    )
    return list(db.session.scalars(stmt).all())


def villages_with_empty_roster(scope: Scope) -> list[Region]:
    """Villages in scope whose branch has no active member."""
    active = (
        select(Member.id).where(Member.branch_id == Branch.id, Member.left_on.is_(None)).exists()
    )
    stmt = (
        scope.filter(select(Region), Region)
        .join(Branch, Branch.region_id == Region.id)
        .where(~active)
        .order_by(Region.path)
    )
    return list(db.session.scalars(stmt).all())


def users_never_logged_in(scope: Scope) -> int:
    stmt = scope.filter(select(User), User).where(
        User.active.is_(True), User.last_login_at.is_(None)
    )
    return int(db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)


def org_todo(scope: Scope, user: User) -> list[TodoItem]:
    """What an admin should fix in its subtree's organisation data."""
    if not scope.is_admin:
        return []
    items: list[TodoItem] = []
    missing = villages_without_branch(scope)
    if missing:
        names = "、".join(r.name for r in missing[:5]) + ("…" if len(missing) > 5 else "")
        items.append(
            TodoItem(
                1,
                _("有村尚未建立党支部"),
                names,
                url_for("org.branch_edit", region_id=missing[0].id),
                len(missing),
            )
        )
    empty = villages_with_empty_roster(scope)
    if empty:
        names = "、".join(r.name for r in empty[:5]) + ("…" if len(empty) > 5 else "")
        items.append(
            TodoItem(
                1,
                _("有村党员名册为空"),
                names + " — " + _("可导入 Excel 名册"),
                url_for("org.member_import", region_id=empty[0].id),
                len(empty),
            )
        )
    idle = users_never_logged_in(scope)
    if idle:
        items.append(
            TodoItem(
                2,
                _("有账号从未登录"),
                _("请确认这些同事已收到账号和初始密码"),
                url_for("org.users", never="1"),
                idle,
            )
        )
    return items
