"""Operations on the region tree and the party organisation.

Plain functions: they check the rules, change objects and ``flush()``; the
caller (a view, a CLI command, the API decorator) owns the commit. A broken
rule raises :class:`OrgError` with a Chinese message for the user and the
name of the field it belongs to, so a form can show it beside that field and
the API can answer ``{"fields": {field: message}}``.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import gettext
from sqlalchemy import Select, bindparam, func, select

from tracker import clock
from tracker.errors import DomainError
from tracker.extensions import db
from tracker.models import (
    Branch,
    Gender,
    Member,
    MemberStatus,
    PartyGroup,
    Region,
    RegionLevel,
    Role,
    User,
    VillageCadre,
)
from tracker.org import history
from tracker.org.models import FactKind, MemberFact
from tracker.scope import Scope
from tracker.security import hash_password

MIN_PASSWORD_LENGTH = 8
PHONE_RE = re.compile(r"^[0-9][0-9\- ]{4,18}[0-9]$")
CODE_RE = re.compile(r"^\d{12}$")
USERNAME_RE = re.compile(r"^[A-Za-z0-9_.\-]{3,64}$")

GENDER_LABELS = {Gender.male: "男", Gender.female: "女"}
STATUS_LABELS = {MemberStatus.full: "正式党员", MemberStatus.probationary: "预备党员"}


class OrgError(DomainError):
    """A rule of the organisation was broken; the message is for the user."""


# ---------------------------------------------------------------- validation


def clean_name(value: str | None, field: str, max_length: int, what: str = "名称") -> str:
    """A trimmed, non-empty name of at most ``max_length`` characters."""
    name = (value or "").strip()
    if not name:
        raise OrgError(gettext("请填写%(what)s", what=gettext(what)), field)
    if len(name) > max_length:
        raise OrgError(
            gettext("%(what)s太长（最多 %(n)s 个字符）", what=gettext(what), n=max_length), field
        )
    return name


def clean_phone(value: str | None, field: str = "phone") -> str | None:
    """A phone number of digits (dashes and spaces allowed), or None when empty."""
    phone = (value or "").strip()
    if not phone:
        return None
    if not PHONE_RE.match(phone):
        raise OrgError(gettext("电话号码应为 6–20 位数字"), field)
    return phone


def check_birth_year(year: int | None, today: date | None = None) -> int | None:
    """Birth years from 1900 up to 16 years ago (the minimum age to apply is 18)."""
    if year is None:
        return None
    this_year = (today or clock.today()).year
    if not 1900 <= year <= this_year - 16:
        raise OrgError(gettext("出生年份应在 1900–%(n)s 之间", n=this_year - 16), "birth_year")
    return year


def check_past_date(day: date | None, field: str, what: str, today: date | None = None) -> None:
    if day is not None and day > (today or clock.today()):
        raise OrgError(gettext("%(what)s不能晚于今天", what=gettext(what)), field)


# ---------------------------------------------------------------- regions


def _check_code(code: str | None, region: Region | None = None) -> str | None:
    code = (code or "").strip() or None
    if code is None:
        return None
    if not CODE_RE.match(code):
        raise OrgError(gettext("统计用区划代码应为 12 位数字"), "code")
    clash = db.session.scalar(select(Region).where(Region.code == code))
    if clash is not None and clash is not region:
        raise OrgError(gettext("该区划代码已被其他单位使用"), "code")
    return code


def _check_sibling_name(name: str, parent: Region | None, region: Region | None = None) -> None:
    stmt = select(Region).where(Region.name == name)
    stmt = stmt.where(
        Region.parent_id == parent.id if parent is not None else Region.parent_id.is_(None)
    )
    clash = db.session.scalar(stmt)
    if clash is not None and clash is not region:
        raise OrgError(gettext("同一上级下已有同名单位"), "name")


def create_region(
    name: str, level: RegionLevel, parent: Region | None = None, code: str | None = None
) -> Region:
    """Add a node under ``parent`` and give it its materialized path."""
    if parent is None and level != RegionLevel.city:
        raise OrgError(gettext("只有市级可以没有上级"), "parent")
    if parent is not None and parent.level.child != level:
        raise OrgError(gettext("下级单位的级别不对"), "level")
    name = clean_name(name, "name", 64)
    _check_sibling_name(name, parent)
    region = Region(name=name, level=level, parent=parent, code=_check_code(code))
    db.session.add(region)
    db.session.flush()
    region.path = (parent.path if parent else "/") + f"{region.id}/"
    db.session.flush()
    return region


def create_child_region(parent: Region, name: str, code: str | None = None) -> Region:
    """A node one level below ``parent`` (township under county, village under township)."""
    level = parent.level.child
    if level is None:
        raise OrgError(gettext("村（社区）之下不能再设下级单位"), "parent")
    return create_region(name, level, parent, code)


def update_region(region: Region, name: str, code: str | None) -> Region:
    """Rename a node or set its statistical code; the tree itself never moves."""
    name = clean_name(name, "name", 64)
    _check_sibling_name(name, region.parent, region)
    region.name = name
    region.code = _check_code(code, region)
    db.session.flush()
    return region


def regions_in_scope(scope: Scope) -> list[Region]:
    """Every node the scope covers, ordered as a tree (by path)."""
    return list(
        db.session.scalars(scope.filter(select(Region), Region).order_by(Region.path)).all()
    )


def region_label(region: Region, scope_root_depth: int = 0) -> str:
    """``"　　平安村"``: the name indented by depth for a select list."""
    depth = max(len(region.ancestor_ids) - 1 - scope_root_depth, 0)
    return "　" * depth + region.name


# ---------------------------------------------------------------- branches and groups


def create_branch(
    village: Region, name: str | None = None, founded_on: date | None = None
) -> Branch:
    """The village's party branch (党支部); one per village."""
    if village.level != RegionLevel.village:
        raise OrgError(gettext("党支部应建在村（社区）"), "region_id")
    if branch_of(village.id) is not None:
        raise OrgError(gettext("该村已有党支部"), "name")
    name = clean_name(name or f"{village.name}党支部", "name", 100)
    check_past_date(founded_on, "founded_on", "成立日期")
    branch = Branch(region_id=village.id, name=name, founded_on=founded_on, tracked_from=founded_on)
    db.session.add(branch)
    db.session.flush()
    return branch


def update_branch(
    branch: Branch, name: str, founded_on: date | None, tracked_from: date | None
) -> Branch:
    """Rename the branch or change the dates it was founded and is tracked from."""
    branch.name = clean_name(name, "name", 100)
    check_past_date(founded_on, "founded_on", "成立日期")
    if founded_on and tracked_from and tracked_from < founded_on:
        raise OrgError(gettext("台账起始日期不能早于成立日期"), "tracked_from")
    branch.founded_on = founded_on
    branch.tracked_from = tracked_from
    db.session.flush()
    return branch


@functools.cache
def _branch_of_stmt() -> Select[Branch]:
    # Statements every village page runs are built once per process (building one
    # costs more than running it); the ids are bound parameters.
    return (
        select(Branch)
        .where(Branch.region_id == bindparam("village_id"))
        .order_by(Branch.id)
        .limit(1)
    )


def branch_of(village_id: int) -> Branch | None:
    """The branch of a village, if it has one."""
    return db.session.scalar(_branch_of_stmt(), {"village_id": village_id})


def _check_group_name(branch: Branch, name: str, group: PartyGroup | None = None) -> str:
    name = clean_name(name, "name", 64, "党小组名称")
    clash = db.session.scalar(
        select(PartyGroup).where(PartyGroup.branch_id == branch.id, PartyGroup.name == name)
    )
    if clash is not None and clash is not group:
        raise OrgError(gettext("本支部已有同名党小组"), "name")
    return name


def create_group(branch: Branch, name: str, created_on: date | None = None) -> PartyGroup:
    """A party group (党小组) in ``branch``."""
    group = PartyGroup(
        branch_id=branch.id,
        region_id=branch.region_id,
        name=_check_group_name(branch, name),
        created_on=created_on,
    )
    db.session.add(group)
    db.session.flush()
    return group


def update_group(group: PartyGroup, name: str, dissolved_on: date | None = None) -> PartyGroup:
    """Rename a group or mark it dissolved (its members keep their history)."""
    group.name = _check_group_name(group.branch, name, group)
    if dissolved_on and group.created_on and dissolved_on < group.created_on:
        raise OrgError(gettext("撤销日期不能早于成立日期"), "dissolved_on")
    group.dissolved_on = dissolved_on
    db.session.flush()
    return group


def groups_of(branch_id: int) -> list[PartyGroup]:
    """A branch's groups in natural order (第一, 第二, … 第十, 第十一)."""
    from tracker.formatting import natural_key

    rows = db.session.scalars(_groups_stmt(), {"branch_id": branch_id}).all()
    return sorted(rows, key=lambda g: natural_key(g.name))


@functools.cache
def _groups_stmt() -> Select[PartyGroup]:
    return select(PartyGroup).where(PartyGroup.branch_id == bindparam("branch_id"))


# ---------------------------------------------------------------- members


@dataclass
class MemberData:
    """What a form, the API or an import row says about a member."""

    name: str
    status: MemberStatus = MemberStatus.full
    gender: Gender | None = None
    birth_year: int | None = None
    phone: str | None = None
    joined_on: date | None = None
    group_id: int | None = None
    note: str | None = None
    # 转正日期: when a full member became full (a fact; empty: full since joining).
    full_on: date | None = None
    # The information base (党员信息库).
    ethnicity: str | None = None
    education: str | None = None
    id_number: str | None = None
    birth_date: date | None = None
    address: str | None = None
    occupation: str | None = None
    posts: str | None = None
    hardship: bool = False
    hardship_help: str | None = None
    awards: str | None = None
    discipline: str | None = None


EDUCATIONS = ("研究生", "大学本科", "大学专科", "中专", "高中", "初中", "小学及以下")
ID_RE = re.compile(r"^\d{17}[\dX]$")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def clean_id_number(value: str | None, field: str = "id_number") -> str | None:
    """A 18-digit 身份证号 with a valid check digit (a lower-case x is accepted)."""
    text = (value or "").strip().upper()
    if not text:
        return None
    if not ID_RE.match(text):
        raise OrgError(gettext("身份证号应为 18 位（最后一位可为 X）"), field)
    total = sum(int(c) * w for c, w in zip(text[:17], _ID_WEIGHTS, strict=True))
    if "10X98765432"[total % 11] != text[17]:
        raise OrgError(gettext("身份证号校验位不对，请核对"), field)
    return text


def can_see_id(scope: Scope, member: Member) -> bool:
    """The whole 身份证号 only for admins of the member's county (or above it)."""
    if not scope.is_admin or not scope.contains_region_id(member.region_id):
        return False
    root = db.session.get(Region, scope.region_id)
    return root is not None and root.level in (RegionLevel.city, RegionLevel.county)


def _group_for(branch: Branch, group_id: int | None) -> PartyGroup | None:
    if group_id is None:
        return None
    group = db.session.get(PartyGroup, group_id)
    if group is None or group.branch_id != branch.id:
        raise OrgError(gettext("党小组不属于该支部"), "group_id")
    return group


def _apply_member(member: Member, branch: Branch, data: MemberData) -> None:
    member.name = clean_name(data.name, "name", 32, "姓名")
    member.gender = Gender(data.gender) if data.gender else None
    member.birth_year = check_birth_year(data.birth_year)
    member.phone = clean_phone(data.phone)
    check_past_date(data.joined_on, "joined_on", "入党日期")
    member.joined_on = data.joined_on
    group = _group_for(branch, data.group_id)
    member.group_id = group.id if group else None
    note = (data.note or "").strip() or None
    if note and len(note) > 500:
        raise OrgError(gettext("备注太长（最多 500 个字符）"), "note")
    member.note = note
    member.ethnicity = _text(data.ethnicity, "ethnicity", 16, "民族")
    education = _text(data.education, "education", 16, "学历")
    if education and education not in EDUCATIONS:
        raise OrgError(
            gettext("学历应为：%(list)s", list="、".join(gettext(e) for e in EDUCATIONS)),
            "education",
        )
    member.education = education
    member.id_number = clean_id_number(data.id_number)
    check_past_date(data.birth_date, "birth_date", "出生日期")
    member.birth_date = data.birth_date
    if data.birth_date is not None and member.birth_year is None:
        member.birth_year = data.birth_date.year
    if data.birth_date is not None and data.birth_date.year != member.birth_year:
        raise OrgError(gettext("出生日期与出生年份不一致"), "birth_date")
    member.address = _text(data.address, "address", 200, "家庭住址")
    member.occupation = _text(data.occupation, "occupation", 64, "职业")
    member.posts = _text(data.posts, "posts", 200, "党内外职务")
    member.hardship = bool(data.hardship)
    member.hardship_help = _text(data.hardship_help, "hardship_help", 500, "帮扶情况")
    if member.hardship_help and not member.hardship:
        raise OrgError(gettext("填写帮扶情况时请勾选困难党员"), "hardship")
    member.awards = _text(data.awards, "awards", 2000, "奖励情况")
    member.discipline = _text(data.discipline, "discipline", 2000, "处分情况")


def add_member(
    branch: Branch,
    name: str | MemberData,
    status: MemberStatus = MemberStatus.full,
    group: PartyGroup | None = None,
    **fields: Any,
) -> Member:
    """Put a member (党员) on the branch's roster."""
    if isinstance(name, MemberData):
        data = name
    else:
        if group is not None and group.branch_id != branch.id:
            raise OrgError(gettext("党小组不属于该支部"), "group_id")
        data = MemberData(name=name, status=status, group_id=group.id if group else None, **fields)
    member = Member(branch_id=branch.id, region_id=branch.region_id)
    _apply_member(member, branch, data)
    status = MemberStatus(data.status)
    member.status = status
    db.session.add(member)
    db.session.flush()
    full_on = data.full_on if status == MemberStatus.full else None
    check_past_date(full_on, "full_on", "转正日期")
    if full_on is not None and data.joined_on is not None and full_on < data.joined_on:
        raise OrgError(gettext("转正日期不能早于入党日期"), "full_on")
    if full_on is not None:
        _add_fact(member, FactKind.probationary, data.joined_on)
        _add_fact(member, FactKind.full, full_on)
    else:
        _add_fact(member, FactKind(status.value), data.joined_on)
    _refresh(member)
    return member


def update_member(member: Member, data: MemberData) -> Member:
    """Change a member's details (the branch never changes: a transfer is leave + add).

    A changed status is a fact dated ``data.full_on`` (or today): 转正 is never
    an overwrite, so the past stays as it was.
    """
    _apply_member(member, member.branch, data)
    if member.left_on and member.joined_on and member.left_on < member.joined_on:
        raise OrgError(gettext("离开日期不能早于入党日期"), "joined_on")
    facts = history.facts_of(member.id)
    opening = facts[0] if facts else None
    if opening is not None and opening.kind in history.OPENING and opening.on != member.joined_on:
        later = [f.on for f in facts[1:] if f.on is not None]
        if member.joined_on is not None and later and member.joined_on > min(later):
            raise OrgError(gettext("入党日期不能晚于该党员其后的状态记录"), "joined_on")
        opening.on = member.joined_on
    status = MemberStatus(data.status)
    current = history.fold(facts)
    if current.on_roster and current.status != status:
        day = (data.full_on if status == MemberStatus.full else None) or clock.today()
        append_fact(member, FactKind(status.value), day)
    elif status == MemberStatus.full and data.full_on and current.status == status:
        last_full = next((f for f in reversed(facts) if f.kind == FactKind.full), None)
        if last_full is not None and last_full is not opening and last_full.on != data.full_on:
            check_past_date(data.full_on, "full_on", "转正日期")
            last_full.on = data.full_on
    db.session.flush()
    _refresh(member)
    return member


@dataclass
class FactData:
    """A dated fact about a member (转正, 流动, 转接, 去世, 开除/停止党籍 …)."""

    kind: FactKind
    on: date
    until: date | None = None
    status: MemberStatus | None = None
    place: str | None = None
    org: str | None = None
    letter_no: str | None = None
    decision: str | None = None
    note: str | None = None


def _text(
    value: str | None, field: str, limit: int, what: str, required: bool = False
) -> str | None:
    text = (value or "").strip()
    if required and not text:
        raise OrgError(gettext("请填写%(what)s", what=gettext(what)), field)
    if len(text) > limit:
        raise OrgError(
            gettext("%(what)s太长（最多 %(n)s 个字符）", what=gettext(what), n=limit), field
        )
    return text or None


def _add_fact(member: Member, kind: FactKind, on: date | None, **fields: Any) -> MemberFact:
    fact = MemberFact(member_id=member.id, region_id=member.region_id, kind=kind, on=on, **fields)
    db.session.add(fact)
    db.session.flush()
    return fact


def _refresh(member: Member) -> None:
    """Write the cache (``status``, ``left_on``) from the facts: the one place it is written."""
    facts = history.facts_of(member.id)
    standing = history.fold(facts)
    if standing.status is not None:
        member.status = standing.status
    ending = [f for f in facts if f.kind in history.ENDING]
    member.left_on = None if standing.on_roster or not ending else ending[-1].on
    db.session.flush()


def append_fact(member: Member, data: FactData | FactKind, on: date | None = None) -> MemberFact:
    """Record what happened to a member on a day; the one writer of the member's status."""
    if isinstance(data, FactKind):
        if on is None:
            raise OrgError(gettext("请填写日期"), "on")
        data = FactData(kind=data, on=on)
    kind = FactKind(data.kind)
    if data.on is None:
        raise OrgError(gettext("请填写日期"), "on")
    check_past_date(data.on, "on", "日期")
    facts = history.facts_of(member.id)
    first = next((f.on for f in facts if f.on is not None), None)
    if first is not None and data.on < first:
        raise OrgError(gettext("日期不能早于该党员的第一条记录"), "on")
    before = history.fold(facts, data.on)
    if kind in history.ENDING and not before.on_roster:
        raise OrgError(gettext("该党员当日已不在册"), "on")
    if kind == FactKind.full and before.on_roster and before.status == MemberStatus.full:
        raise OrgError(gettext("该党员当日已是正式党员"), "kind")
    if kind == FactKind.away and not before.on_roster:
        raise OrgError(gettext("该党员当日不在册"), "on")
    if kind == FactKind.transfer_in and before.on_roster:
        raise OrgError(gettext("该党员当日已在本支部名册中"), "on")
    fields: dict[str, Any] = {
        "note": _text(data.note, "note", 200, "备注"),
        "letter_no": _text(data.letter_no, "letter_no", 64, "介绍信编号"),
        "org": _text(data.org, "org", 100, "党组织名称"),
    }
    if kind == FactKind.away:
        fields["place"] = _text(data.place, "place", 100, "外出地点", required=True)
        if data.until is not None and data.until < data.on:
            raise OrgError(gettext("返回日期不能早于外出日期"), "until")
        fields["until"] = data.until
    if kind in (FactKind.expelled, FactKind.stopped):
        fields["decision"] = _text(data.decision, "decision", 200, "处理决定", required=True)
    if kind == FactKind.transfer_in:
        fields["status"] = MemberStatus(data.status) if data.status else MemberStatus.full
    fact = _add_fact(member, kind, data.on, **fields)
    _refresh(member)
    return fact


def member_leaves(
    member: Member, on: date, reason: str | None = None, kind: FactKind = FactKind.left
) -> Member:
    """Take a member off the active roster from ``on`` (转出, 去世 …); history stays."""
    if member.left_on is not None:
        raise OrgError(gettext("该党员已不在册"), "left_on")
    check_past_date(on, "left_on", "离开日期")
    if member.joined_on and on < member.joined_on:
        raise OrgError(gettext("离开日期不能早于入党日期"), "left_on")
    reason = (reason or "").strip()
    if len(reason) > 200:
        raise OrgError(gettext("原因太长（最多 200 个字符）"), "reason")
    append_fact(member, FactData(kind=kind, on=on, note=reason or None))
    if reason:
        member.note = (
            (member.note + "；") if member.note else ""
        ) + f"{on:%Y-%m-%d} 离开：{reason}"
    db.session.flush()
    return member


def member_returns(member: Member) -> Member:
    """Undo a leave entered by mistake (the last ending fact is withdrawn)."""
    ending = [f for f in history.facts_of(member.id) if f.kind in history.ENDING]
    if ending:
        db.session.delete(ending[-1])
        db.session.flush()
    _refresh(member)
    return member


@dataclass(frozen=True)
class RosterFilter:
    """Filters of the roster page and the members API."""

    q: str = ""
    status: str = ""
    group_id: int | None = None
    gender: str = ""
    show: str = "active"  # active / left / all
    # 截至日期: the roster as the dated facts stood on that day (None: today's roster).
    as_of: date | None = None


def roster_query(branch_id: int, flt: RosterFilter | None = None) -> Select[Member]:
    """Members of a branch, filtered, ordered by group then name.

    With ``as_of`` the roster, status and "left" are those of that day, from the
    dated facts (``tracker.org.history``); see :func:`statuses_as_of` for the
    status to show beside each member.
    """
    flt = flt or RosterFilter()
    stmt = select(Member).where(Member.branch_id == branch_id)
    if flt.as_of is not None:
        standing = history.standings_on([branch_id], flt.as_of)[branch_id]
        if flt.show == "active":
            stmt = stmt.where(Member.id.in_(list(standing)))
        elif flt.show == "left":
            ended = select(MemberFact.member_id).where(
                MemberFact.kind.in_(list(history.ENDING)), MemberFact.on <= flt.as_of
            )
            stmt = stmt.where(Member.id.in_(ended), Member.id.not_in(list(standing)))
        if flt.status in (MemberStatus.full.value, MemberStatus.probationary.value):
            wanted = MemberStatus(flt.status)
            stmt = stmt.where(Member.id.in_([i for i, s in standing.items() if s.status == wanted]))
    else:
        if flt.show == "active":
            stmt = stmt.where(Member.left_on.is_(None))
        elif flt.show == "left":
            stmt = stmt.where(Member.left_on.is_not(None))
        if flt.status in (MemberStatus.full.value, MemberStatus.probationary.value):
            stmt = stmt.where(Member.status == MemberStatus(flt.status))
    if flt.q:
        stmt = stmt.where(Member.name.contains(flt.q.strip()))
    if flt.gender in (Gender.male.value, Gender.female.value):
        stmt = stmt.where(Member.gender == Gender(flt.gender))
    if flt.group_id == 0:
        stmt = stmt.where(Member.group_id.is_(None))
    elif flt.group_id is not None:
        stmt = stmt.where(Member.group_id == flt.group_id)
    return stmt.order_by(Member.id)


def roster_members(branch_id: int, flt: RosterFilter | None = None) -> list[Member]:
    """The members :func:`roster_query` selects; today's active roster (the page's
    default, asked most) runs a statement built once per process."""
    if flt is None or flt == RosterFilter():
        return list(db.session.scalars(_active_roster_stmt(), {"branch_id": branch_id}).all())
    return list(db.session.scalars(roster_query(branch_id, flt)).all())


@functools.cache
def _active_roster_stmt() -> Select[Member]:
    """:func:`roster_query` of the default filter, with the branch a bound parameter."""
    return (
        select(Member)
        .where(Member.branch_id == bindparam("branch_id"))
        .where(Member.left_on.is_(None))
        .order_by(Member.id)
    )


def statuses_as_of(branch_id: int, as_of: date | None) -> dict[int, MemberStatus] | None:
    """``{member_id: status on as_of}`` of the members on the roster that day (None: today)."""
    if as_of is None:
        return None
    standing = history.standings_on([branch_id], as_of)[branch_id]
    return {i: s.status for i, s in standing.items() if s.status is not None}


def roster(branch_id: int, on: date | None = None) -> list[Member]:
    """The active roster of a branch on a day (today by default)."""
    day = on or clock.today()
    members = db.session.scalars(
        select(Member).where(Member.branch_id == branch_id).order_by(Member.id)
    ).all()
    return [m for m in members if m.active_on(day)]


def roster_counts(branch_id: int, as_of: date | None = None) -> dict[str, int]:
    """Active members by status: ``{"full": 18, "probationary": 2, "total": 20}``."""
    if as_of is not None:
        statuses = statuses_as_of(branch_id, as_of) or {}
        counts = {st.value: 0 for st in MemberStatus}
        for st in statuses.values():
            counts[st.value] += 1
        counts["total"] = sum(counts.values())
        return counts
    rows = db.session.execute(_roster_counts_stmt(), {"branch_id": branch_id}).all()
    counts = {str(getattr(s, "value", s)): int(n) for s, n in rows}
    counts["total"] = sum(counts.values())
    return counts


@functools.cache
def _roster_counts_stmt() -> Select[MemberStatus, int]:
    return (
        select(Member.status, func.count(Member.id))
        .where(Member.branch_id == bindparam("branch_id"), Member.left_on.is_(None))
        .group_by(Member.status)
    )


# ---------------------------------------------------------------- village cadres


@dataclass
class CadreData:
    """A village cadre (村干部) and the post held; ``reserve`` for 后备干部."""

    name: str
    post: str
    phone: str | None = None
    since: date | None = None
    until: date | None = None
    reserve: bool = False
    member_id: int | None = None


def _apply_cadre(cadre: VillageCadre, data: CadreData) -> None:
    cadre.name = clean_name(data.name, "name", 32, "姓名")
    cadre.post = clean_name(data.post, "post", 64, "职务")
    cadre.phone = clean_phone(data.phone)
    if data.since and data.until and data.until < data.since:
        raise OrgError(gettext("离任日期不能早于任职日期"), "until")
    cadre.since = data.since
    cadre.until = data.until
    cadre.reserve = bool(data.reserve)
    if data.member_id is not None:
        member = db.session.get(Member, data.member_id)
        if member is None or member.region_id != cadre.region_id:
            raise OrgError(gettext("该党员不在本村名册中"), "member_id")
    cadre.member_id = data.member_id


def add_cadre(village: Region, data: CadreData) -> VillageCadre:
    """Register a village cadre or reserve cadre of ``village``."""
    if village.level != RegionLevel.village:
        raise OrgError(gettext("村干部应登记在村（社区）"), "region_id")
    cadre = VillageCadre(region_id=village.id)
    _apply_cadre(cadre, data)
    db.session.add(cadre)
    db.session.flush()
    return cadre


def update_cadre(cadre: VillageCadre, data: CadreData) -> VillageCadre:
    _apply_cadre(cadre, data)
    db.session.flush()
    return cadre


def cadres_of(village_id: int) -> list[VillageCadre]:
    return list(
        db.session.scalars(
            select(VillageCadre)
            .where(VillageCadre.region_id == village_id)
            .order_by(VillageCadre.reserve, VillageCadre.until.is_not(None), VillageCadre.id)
        ).all()
    )


# ---------------------------------------------------------------- users


def _check_password(password: str) -> None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise OrgError(gettext("密码至少 %(n)s 位", n=MIN_PASSWORD_LENGTH), "password")
    if len(password) > 200:
        raise OrgError(gettext("密码太长"), "password")


def create_user(
    username: str,
    password: str,
    role: Role,
    region: Region,
    display_name: str | None = None,
    phone: str | None = None,
) -> User:
    """A user bound to one region node (no scope check: see :func:`create_user_in_scope`)."""
    username = (username or "").strip()
    if not USERNAME_RE.match(username):
        raise OrgError(gettext("用户名应为 3–64 位字母、数字或 _ . -"), "username")
    if db.session.scalar(select(User.id).where(User.username == username)) is not None:
        raise OrgError(gettext("用户名已被使用"), "username")
    _check_password(password)
    user = User(
        username=username,
        display_name=clean_name(display_name or username, "display_name", 64, "姓名"),
        password_hash=hash_password(password),
        role=Role(role),
        region_id=region.id,
        phone=clean_phone(phone),
    )
    db.session.add(user)
    db.session.flush()
    return user


def check_grant(scope: Scope, region: Region | None, role: Role) -> None:
    """An admin may bind users only to nodes of its own subtree (its own node included)."""
    if not scope.is_admin:
        raise OrgError(gettext("只有管理员可以管理用户"), "role")
    if region is None or not scope.contains_region(region):
        raise OrgError(gettext("只能把用户设在本单位或下级单位"), "region_id")
    if role not in set(Role):
        raise OrgError(gettext("角色不正确"), "role")


def create_user_in_scope(
    scope: Scope,
    username: str,
    password: str,
    role: Role,
    region: Region | None,
    display_name: str | None = None,
    phone: str | None = None,
) -> User:
    """What an admin does on the users page: create a user inside its own subtree."""
    check_grant(scope, region, role)
    assert region is not None
    return create_user(username, password, role, region, display_name, phone)


def update_user(
    scope: Scope,
    user: User,
    display_name: str,
    role: Role,
    region: Region | None,
    active: bool,
    phone: str | None = None,
) -> User:
    """Change a user's name, role, node or state — only inside the admin's subtree."""
    check_grant(scope, region, role)
    assert region is not None
    if user.id == scope.user_id:
        if not active:
            raise OrgError(gettext("不能停用自己的账号"), "active")
        if role != user.role or region.id != user.region_id:
            raise OrgError(gettext("不能修改自己的角色或所属单位"), "role")
    user.display_name = clean_name(display_name, "display_name", 64, "姓名")
    user.role = Role(role)
    user.region_id = region.id
    user.active = bool(active)
    user.phone = clean_phone(phone)
    db.session.flush()
    return user


def reset_password(user: User, password: str) -> User:
    """Set a new password (an admin resets it; the user is told out of band).

    Every session and remember cookie of the user ends with the old password.
    """
    from tracker.auth.services import revoke_sessions

    _check_password(password)
    user.password_hash = hash_password(password)
    revoke_sessions(user)
    db.session.flush()
    return user
