"""Operations on the region tree and the party organisation.

Plain functions: they change objects and ``flush()``; the caller (a view, a
CLI command, the API decorator) owns the commit.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from tracker.extensions import db
from tracker.models import (
    Branch,
    Member,
    MemberStatus,
    PartyGroup,
    Region,
    RegionLevel,
    Role,
    User,
)
from tracker.security import hash_password


class OrgError(ValueError):
    """A rule of the organisation was broken; the message is for the user."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def create_region(
    name: str, level: RegionLevel, parent: Region | None = None, code: str | None = None
) -> Region:
    """Add a node under ``parent`` and give it its materialized path."""
    if parent is None and level != RegionLevel.city:
        raise OrgError("只有市级可以没有上级", "parent")
    if parent is not None and parent.level.child != level:
        raise OrgError(f"{parent.name} 之下应为 {parent.level.child} 级", "level")
    if code is not None and (len(code) != 12 or not code.isdigit()):
        raise OrgError("统计用区划代码应为 12 位数字", "code")
    region = Region(name=name.strip(), level=level, parent=parent, code=code)
    db.session.add(region)
    db.session.flush()
    region.path = (parent.path if parent else "/") + f"{region.id}/"
    db.session.flush()
    return region


def create_branch(
    village: Region, name: str | None = None, founded_on: date | None = None
) -> Branch:
    """The village's party branch (党支部)."""
    if village.level != RegionLevel.village:
        raise OrgError("党支部应建在村（社区）", "region_id")
    branch = Branch(
        region_id=village.id,
        name=name or f"{village.name}党支部",
        founded_on=founded_on,
        tracked_from=founded_on,
    )
    db.session.add(branch)
    db.session.flush()
    return branch


def branch_of(village_id: int) -> Branch | None:
    return db.session.scalar(select(Branch).where(Branch.region_id == village_id).limit(1))


def create_group(branch: Branch, name: str, created_on: date | None = None) -> PartyGroup:
    group = PartyGroup(
        branch_id=branch.id, region_id=branch.region_id, name=name.strip(), created_on=created_on
    )
    db.session.add(group)
    db.session.flush()
    return group


def add_member(
    branch: Branch,
    name: str,
    status: MemberStatus = MemberStatus.full,
    group: PartyGroup | None = None,
    **fields: object,
) -> Member:
    if group is not None and group.branch_id != branch.id:
        raise OrgError("党小组不属于该支部", "group_id")
    member = Member(
        branch_id=branch.id,
        region_id=branch.region_id,
        group_id=group.id if group else None,
        name=name.strip(),
        status=status,
        **fields,
    )
    db.session.add(member)
    db.session.flush()
    return member


def create_user(
    username: str, password: str, role: Role, region: Region, display_name: str | None = None
) -> User:
    username = username.strip()
    if db.session.scalar(select(User.id).where(User.username == username)) is not None:
        raise OrgError("用户名已被使用", "username")
    if len(password) < 8:
        raise OrgError("密码至少 8 位", "password")
    user = User(
        username=username,
        display_name=display_name or username,
        password_hash=hash_password(password),
        role=role,
        region_id=region.id,
    )
    db.session.add(user)
    db.session.flush()
    return user


def roster(branch_id: int, on: date | None = None) -> list[Member]:
    """The active roster of a branch on a day (today by default)."""
    day = on or date.today()
    members = db.session.scalars(
        select(Member).where(Member.branch_id == branch_id).order_by(Member.name)
    ).all()
    return [m for m in members if m.active_on(day)]
