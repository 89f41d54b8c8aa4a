"""JSON API of the organisation: regions, branches, groups, members, cadres, users, audit.

Every endpoint loads its objects through the caller's scope (404 outside it)
and checks the right to write before changing anything; the decorator commits
once or rolls back. Service errors become 422 with the field they name.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy import select

from tracker import pagecache
from tracker.api import ApiError, endpoint
from tracker.api.pagination import Page, PageQuery, paginate
from tracker.extensions import db
from tracker.formatting import mask_id_number
from tracker.models import (
    AuditLog,
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
from tracker.models.regions import subtree_ids
from tracker.org import history, services
from tracker.org.models import FactKind, MemberFact
from tracker.org.services import RosterFilter, branch_of
from tracker.scope import current_scope

Name64 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Name32 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, max_length=20)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Out(BaseModel):
    """An answer read off one ORM object, attribute by attribute (``of``)."""

    model_config = ConfigDict(from_attributes=True)

    @classmethod
    def of(cls, obj: Any) -> Self:
        return cls.model_validate(obj)


def _branch(region: Region) -> Branch:
    branch = branch_of(region.id)
    if branch is None:
        raise ApiError(404, "该村尚未建立党支部")
    return branch


# ---------------------------------------------------------------- regions


class RegionOut(Out):
    id: int
    parent_id: int | None
    level: RegionLevel
    name: str
    code: str | None
    path: str


class RegionIn(Strict):
    name: Name64
    code: Annotated[str, StringConstraints(pattern=r"^\d{12}$")] | None = None


class RegionPatch(Strict):
    name: Name64 | None = None
    code: Annotated[str, StringConstraints(pattern=r"^(\d{12})?$")] | None = None


class RegionPage(Page[RegionOut]):
    """One page of the nodes in scope, ordered as a tree (by path)."""


@endpoint(
    "/regions",
    summary="本人可见的单位（树，按路径排序）",
    tags=["organisation"],
    query=PageQuery,
    response=RegionPage,
)
def org_regions(query: PageQuery) -> RegionPage:
    stmt = current_scope().select(Region).order_by(Region.path)
    return paginate(RegionPage, stmt, query, RegionOut.of)


@endpoint("/regions/<int:region_id>", summary="一个单位", tags=["organisation"])
def org_region(region_id: int) -> RegionOut:
    return RegionOut.of(current_scope().get_or_404(Region, region_id))


@endpoint(
    "/regions/<int:region_id>/children",
    ["POST"],
    summary="添加下级单位（管理员）",
    tags=["organisation"],
    body=RegionIn,
    response=RegionOut,
    status=201,
)
def org_region_create(region_id: int, body: RegionIn) -> RegionOut:
    scope = current_scope()
    parent = scope.get_or_404(Region, region_id)
    scope.require_admin(parent.id)
    child = services.create_child_region(parent, body.name, body.code)
    if child.level == RegionLevel.village:
        services.create_branch(child)
    return RegionOut.of(child)


@endpoint(
    "/regions/<int:region_id>",
    ["PATCH"],
    summary="修改单位名称或区划代码（管理员）",
    tags=["organisation"],
    body=RegionPatch,
    response=RegionOut,
)
def org_region_update(region_id: int, body: RegionPatch) -> RegionOut:
    scope = current_scope()
    region = scope.get_or_404(Region, region_id)
    scope.require_admin(region.id)
    fields = body.model_fields_set
    services.update_region(
        region,
        body.name if "name" in fields and body.name else region.name,
        (body.code or None) if "code" in fields else region.code,
    )
    return RegionOut.of(region)


# ---------------------------------------------------------------- branch and groups


class BranchOut(Out):
    id: int
    region_id: int
    name: str
    founded_on: date | None
    tracked_from: date | None


class BranchIn(Strict):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    founded_on: date | None = None
    tracked_from: date | None = None


@endpoint(
    "/villages/<int:region_id>/branch",
    summary="村党支部",
    tags=["organisation"],
    response=BranchOut,
)
def org_branch(region_id: int) -> BranchOut:
    return BranchOut.of(_branch(current_scope().get_village(region_id)))


@endpoint(
    "/villages/<int:region_id>/branch",
    ["PUT"],
    summary="建立或修改村党支部",
    tags=["organisation"],
    body=BranchIn,
    response=BranchOut,
)
def org_branch_put(region_id: int, body: BranchIn) -> BranchOut:
    scope = current_scope()
    village = scope.get_village(region_id)
    scope.require_write(village.id)
    branch = branch_of(village.id)
    if branch is None:
        branch = services.create_branch(village, body.name, body.founded_on)
        if body.tracked_from:
            branch.tracked_from = body.tracked_from
    else:
        services.update_branch(branch, body.name, body.founded_on, body.tracked_from)
    return BranchOut.of(branch)


class GroupOut(Out):
    id: int
    branch_id: int
    name: str
    created_on: date | None
    dissolved_on: date | None


class GroupIn(Strict):
    name: Name64
    created_on: date | None = None


class GroupPatch(Strict):
    name: Name64
    dissolved_on: date | None = None


@endpoint("/villages/<int:region_id>/groups", summary="党小组列表", tags=["organisation"])
def org_groups(region_id: int) -> list[GroupOut]:
    branch = _branch(current_scope().get_village(region_id))
    return [GroupOut.of(g) for g in services.groups_of(branch.id)]


@endpoint(
    "/villages/<int:region_id>/groups",
    ["POST"],
    summary="添加党小组",
    tags=["organisation"],
    body=GroupIn,
    response=GroupOut,
    status=201,
)
def org_group_create(region_id: int, body: GroupIn) -> GroupOut:
    scope = current_scope()
    village = scope.get_village(region_id)
    scope.require_write(village.id)
    group = services.create_group(_branch(village), body.name, body.created_on)
    return GroupOut.of(group)


@endpoint(
    "/groups/<int:group_id>",
    ["PATCH"],
    summary="修改或撤销党小组",
    tags=["organisation"],
    body=GroupPatch,
    response=GroupOut,
)
def org_group_update(group_id: int, body: GroupPatch) -> GroupOut:
    scope = current_scope()
    group = scope.get_for_write(PartyGroup, group_id)
    services.update_group(group, body.name, body.dissolved_on)
    return GroupOut.of(group)


# ---------------------------------------------------------------- members


class MemberOut(Out):
    id: int
    branch_id: int
    region_id: int
    name: str
    status: MemberStatus
    gender: Gender | None
    birth_year: int | None
    phone: str | None
    group_id: int | None
    joined_on: date | None
    left_on: date | None
    note: str | None
    ethnicity: str | None = None
    education: str | None = None
    id_number: str | None = None  # masked (2201**********1234) unless an admin of the county
    birth_date: date | None = None
    address: str | None = None
    occupation: str | None = None
    posts: str | None = None
    hardship: bool = False
    hardship_help: str | None = None
    awards: str | None = None
    discipline: str | None = None

    @classmethod
    def of(cls, obj: Any) -> Self:
        item = cls.model_validate(obj)
        if item.id_number and not services.can_see_id(current_scope(), obj):
            item.id_number = mask_id_number(item.id_number)
        return item


# A member's fields, each optional: what a PATCH leaves out stays as it is. (Comments, not
# docstrings, on the bodies: a docstring would be the schema's description.)
class MemberPatch(Strict):
    name: Name32 | None = None
    status: MemberStatus | None = None
    gender: Gender | None = None
    birth_year: int | None = Field(default=None, ge=1900, le=2100)
    phone: Phone | None = None
    group_id: int | None = None
    joined_on: date | None = None
    note: Annotated[str, StringConstraints(max_length=500)] | None = None
    full_on: date | None = None  # 转正日期 (a full member's; empty: full since joining)
    ethnicity: Annotated[str, StringConstraints(max_length=16)] | None = None
    education: Annotated[str, StringConstraints(max_length=16)] | None = None
    id_number: Annotated[str, StringConstraints(max_length=18)] | None = None
    birth_date: date | None = None
    address: Annotated[str, StringConstraints(max_length=200)] | None = None
    occupation: Annotated[str, StringConstraints(max_length=64)] | None = None
    posts: Annotated[str, StringConstraints(max_length=200)] | None = None
    hardship: bool | None = None
    hardship_help: Annotated[str, StringConstraints(max_length=500)] | None = None
    awards: Annotated[str, StringConstraints(max_length=2000)] | None = None
    discipline: Annotated[str, StringConstraints(max_length=2000)] | None = None


# A new member: the same fields in the same order, a name required.
class MemberIn(MemberPatch):
    name: Name32
    status: MemberStatus = MemberStatus.full
    hardship: bool = False

    def data(self) -> services.MemberData:
        return services.MemberData(**self.model_dump())


class MemberLeave(Strict):
    left_on: date
    reason: Annotated[str, StringConstraints(max_length=200)] | None = None


class MemberPage(Page[MemberOut]):
    """One page of a village's roster, by group then name."""


class RosterQuery(PageQuery, Strict):
    q: Annotated[str, StringConstraints(max_length=32)] = ""
    status: Literal["", "full", "probationary"] = ""
    group_id: int | None = None
    gender: Literal["", "male", "female"] = ""
    show: Literal["active", "left", "all"] = "active"
    as_of: date | None = None  # 截至日期: the roster and statuses of that day


@endpoint(
    "/villages/<int:region_id>/members",
    summary="村党员名册（可筛选）",
    tags=["organisation"],
    query=RosterQuery,
    response=MemberPage,
)
@pagecache.cached()
def org_members(region_id: int, query: RosterQuery) -> MemberPage:
    branch = _branch(current_scope().get_village(region_id))
    flt = RosterFilter(**query.model_dump(exclude={"page", "per_page"}))
    statuses = services.statuses_as_of(branch.id, flt.as_of) or {}

    def convert(m: Member) -> MemberOut:
        item = MemberOut.of(m)
        item.status = statuses.get(m.id, item.status)
        return item

    return paginate(MemberPage, services.roster_query(branch.id, flt), query, convert)


@endpoint(
    "/villages/<int:region_id>/members",
    ["POST"],
    summary="添加党员",
    tags=["organisation"],
    body=MemberIn,
    response=MemberOut,
    status=201,
)
def org_member_create(region_id: int, body: MemberIn) -> MemberOut:
    scope = current_scope()
    village = scope.get_village(region_id)
    scope.require_write(village.id)
    member = services.add_member(_branch(village), body.data())
    return MemberOut.of(member)


@endpoint("/members/<int:member_id>", summary="一名党员", tags=["organisation"])
def org_member(member_id: int) -> MemberOut:
    return MemberOut.of(current_scope().get_or_404(Member, member_id))


@endpoint(
    "/members/<int:member_id>",
    ["PATCH"],
    summary="修改党员信息",
    tags=["organisation"],
    body=MemberPatch,
    response=MemberOut,
)
def org_member_update(member_id: int, body: MemberPatch) -> MemberOut:
    scope = current_scope()
    member = scope.get_for_write(Member, member_id)
    # What the member holds now (a member row has no 转正日期: empty keeps the facts).
    current = MemberIn.model_validate(member, from_attributes=True).model_dump()
    current.update(body.model_dump(exclude_unset=True))
    if not current.get("name"):
        raise ApiError(422, fields={"name": "不能为空"})
    if current.get("status") is None:
        raise ApiError(422, fields={"status": "不能为空"})
    services.update_member(member, services.MemberData(**current))
    return MemberOut.of(member)


@endpoint(
    "/members/<int:member_id>/leave",
    ["POST"],
    summary="党员离开名册（转出、去世等）",
    tags=["organisation"],
    body=MemberLeave,
    response=MemberOut,
)
def org_member_leave(member_id: int, body: MemberLeave) -> MemberOut:
    scope = current_scope()
    member = scope.get_for_write(Member, member_id)
    services.member_leaves(member, body.left_on, body.reason)
    return MemberOut.of(member)


class FactOut(BaseModel):
    id: int
    member_id: int
    kind: FactKind
    kind_label: str
    on: date | None
    until: date | None
    status: MemberStatus | None
    place: str | None
    org: str | None
    letter_no: str | None
    decision: str | None
    note: str | None

    @classmethod
    def of(cls, f: MemberFact) -> FactOut:
        return cls(
            id=f.id,
            member_id=f.member_id,
            kind=f.kind,
            kind_label=history.LABELS[FactKind(f.kind)],
            on=f.on,
            until=f.until,
            status=f.status,
            place=f.place,
            org=f.org,
            letter_no=f.letter_no,
            decision=f.decision,
            note=f.note,
        )


class FactIn(Strict):
    kind: FactKind
    on: date
    until: date | None = None
    status: MemberStatus | None = None
    place: Annotated[str, StringConstraints(max_length=100)] | None = None
    org: Annotated[str, StringConstraints(max_length=100)] | None = None
    letter_no: Annotated[str, StringConstraints(max_length=64)] | None = None
    decision: Annotated[str, StringConstraints(max_length=200)] | None = None
    note: Annotated[str, StringConstraints(max_length=200)] | None = None


@endpoint(
    "/members/<int:member_id>/facts",
    summary="党员状态记录（预备、转正、流动、转接、去世、开除/停止党籍）",
    tags=["organisation"],
)
def org_member_facts(member_id: int) -> list[FactOut]:
    member = current_scope().get_or_404(Member, member_id)
    return [FactOut.of(f) for f in history.facts_of(member.id)]


@endpoint(
    "/members/<int:member_id>/facts",
    ["POST"],
    summary="记一条党员状态（转正、外出流动、组织关系转接等）",
    tags=["organisation"],
    body=FactIn,
    response=FactOut,
    status=201,
)
def org_member_fact_create(member_id: int, body: FactIn) -> FactOut:
    member = current_scope().get_for_write(Member, member_id)
    fact = services.append_fact(member, services.FactData(**body.model_dump()))
    return FactOut.of(fact)


# ---------------------------------------------------------------- cadres


class CadreOut(Out):
    id: int
    region_id: int
    member_id: int | None
    name: str
    post: str
    phone: str | None
    since: date | None
    until: date | None
    reserve: bool


class CadreIn(Strict):
    name: Name32
    post: Name64
    phone: Phone | None = None
    since: date | None = None
    until: date | None = None
    reserve: bool = False
    member_id: int | None = None


@endpoint("/villages/<int:region_id>/cadres", summary="村干部及后备干部", tags=["organisation"])
def org_cadres(region_id: int) -> list[CadreOut]:
    return [CadreOut.of(c) for c in services.cadres_of(current_scope().get_village(region_id).id)]


@endpoint(
    "/villages/<int:region_id>/cadres",
    ["POST"],
    summary="登记村干部或后备干部",
    tags=["organisation"],
    body=CadreIn,
    response=CadreOut,
    status=201,
)
def org_cadre_create(region_id: int, body: CadreIn) -> CadreOut:
    scope = current_scope()
    village = scope.get_village(region_id)
    scope.require_write(village.id)
    cadre = services.add_cadre(village, services.CadreData(**body.model_dump()))
    return CadreOut.of(cadre)


@endpoint(
    "/cadres/<int:cadre_id>",
    ["PUT"],
    summary="修改村干部信息",
    tags=["organisation"],
    body=CadreIn,
    response=CadreOut,
)
def org_cadre_update(cadre_id: int, body: CadreIn) -> CadreOut:
    scope = current_scope()
    cadre = scope.get_for_write(VillageCadre, cadre_id)
    services.update_cadre(cadre, services.CadreData(**body.model_dump()))
    return CadreOut.of(cadre)


# ---------------------------------------------------------------- users


class UserOut(Out):
    id: int
    username: str
    display_name: str
    role: Role
    region_id: int
    phone: str | None
    active: bool
    last_login_at: datetime | None


class UserIn(Strict):
    username: Name64
    display_name: Name64
    password: Annotated[str, StringConstraints(min_length=8, max_length=200)]
    role: Role
    region_id: int
    phone: Phone | None = None


class UserPatch(Strict):
    display_name: Name64 | None = None
    role: Role | None = None
    region_id: int | None = None
    active: bool | None = None
    phone: Phone | None = None


class PasswordIn(Strict):
    password: Annotated[str, StringConstraints(min_length=8, max_length=200)]


def _grant_region(region_id: int) -> Region:
    """The node a user is bound to: must be inside the admin's scope (else 422)."""
    region = db.session.get(Region, region_id)
    if region is None or not current_scope().contains_region(region):
        raise ApiError(422, fields={"region_id": "只能把用户设在本单位或下级单位"})
    return region


class UserPage(Page[UserOut]):
    """One page of the users in scope, by user name."""


@endpoint(
    "/users",
    summary="本辖区用户（管理员）",
    tags=["accounts"],
    query=PageQuery,
    response=UserPage,
)
def org_users(query: PageQuery) -> UserPage:
    scope = current_scope()
    scope.require_admin()
    stmt = scope.filter(select(User), User).order_by(User.username, User.id)
    return paginate(UserPage, stmt, query, UserOut.of)


@endpoint(
    "/users",
    ["POST"],
    summary="创建用户（管理员，仅限本辖区）",
    tags=["accounts"],
    body=UserIn,
    response=UserOut,
    status=201,
)
def org_user_create(body: UserIn) -> UserOut:
    scope = current_scope()
    scope.require_admin()
    region = _grant_region(body.region_id)
    user = services.create_user_in_scope(
        scope, body.username, body.password, body.role, region, body.display_name, body.phone
    )
    return UserOut.of(user)


@endpoint("/users/<int:user_id>", summary="一个用户（管理员）", tags=["accounts"])
def org_user(user_id: int) -> UserOut:
    scope = current_scope()
    user = scope.get_or_404(User, user_id)
    scope.require_admin()
    return UserOut.of(user)


@endpoint(
    "/users/<int:user_id>",
    ["PATCH"],
    summary="修改用户：姓名、角色、所属单位、启用/停用",
    tags=["accounts"],
    body=UserPatch,
    response=UserOut,
)
def org_user_update(user_id: int, body: UserPatch) -> UserOut:
    scope = current_scope()
    user = scope.get_or_404(User, user_id)
    scope.require_admin()
    region = _grant_region(body.region_id) if body.region_id is not None else user.region
    services.update_user(
        scope,
        user,
        body.display_name or user.display_name,
        body.role or user.role,
        region,
        user.active if body.active is None else body.active,
        body.phone if "phone" in body.model_fields_set else user.phone,
    )
    return UserOut.of(user)


@endpoint(
    "/users/<int:user_id>/password",
    ["POST"],
    summary="重置用户密码（管理员）",
    tags=["accounts"],
    body=PasswordIn,
    status=204,
)
def org_user_password(user_id: int, body: PasswordIn) -> Any:
    scope = current_scope()
    user = scope.get_or_404(User, user_id)
    scope.require_admin()
    services.reset_password(user, body.password)
    return "", 204


# ---------------------------------------------------------------- audit log


class AuditOut(Out):
    id: int
    at: datetime
    actor_id: int | None
    channel: str
    action: str
    entity: str
    entity_id: str
    region_id: int | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class AuditQuery(PageQuery, Strict):
    entity: Annotated[str, StringConstraints(max_length=64)] = ""
    region_id: int | None = None
    before_id: int | None = Field(default=None, description="只看编号小于此值的记录")


class AuditPage(Page[AuditOut]):
    """One page of the audit log, newest first."""


@endpoint(
    "/audit",
    summary="审计日志（管理员，本辖区）",
    tags=["accounts"],
    query=AuditQuery,
    response=AuditPage,
)
def org_audit(query: AuditQuery) -> AuditPage:
    scope = current_scope()
    scope.require_admin()
    stmt = scope.filter(select(AuditLog), AuditLog)
    if query.entity:
        stmt = stmt.where(AuditLog.entity == query.entity)
    if query.region_id is not None:
        region = scope.get_or_404(Region, query.region_id)
        stmt = stmt.where(AuditLog.region_id.in_(subtree_ids(region.path)))
    if query.before_id is not None:
        stmt = stmt.where(AuditLog.id < query.before_id)
    return paginate(
        AuditPage,
        stmt.order_by(AuditLog.id.desc()),
        query,
        AuditOut.of,
    )
