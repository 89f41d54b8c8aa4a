"""JSON API of 设岗定责 and 一诺三联四帮 under ``/api/v1`` (in the OpenAPI document).

- ``GET/POST /duty-posts`` — a county's post catalog (``region_id``: any region in the county)
- ``GET/POST /post-assignments``, ``GET /post-assignments/{id}``,
  ``POST /post-assignments/{id}/reviews`` — members without office on posts, half-year reviews
- ``GET/POST /pledges``, ``GET /pledges/{id}``, ``POST /pledges/{id}/progress``,
  ``POST /pledges/{id}/rating`` — 亮诺, 践诺, 评诺
- ``GET/POST /household-links``, ``GET /household-links/{id}``,
  ``POST /household-links/{id}/contacts``, ``POST /household-links/{id}/help`` — 联户
- ``GET /team-obligations?village_id=`` — what the village owes now and this year's figures

Lists are paginated (``page``, ``per_page``). Household phones and addresses are
masked unless the caller may write in the village (``personal_data_masked``).
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from tracker import clock
from tracker.api import endpoint
from tracker.api.pagination import Page, PageQuery, paginate
from tracker.calendar_service import load_calendar
from tracker.models import Region
from tracker.scope import current_scope
from tracker.teams import duty_posts as posts
from tracker.teams import pledges
from tracker.teams.duty_models import (
    ContactKind,
    DutyPost,
    HelpCategory,
    HouseholdLink,
    Pledge,
    PledgeRating,
    PostAssignment,
    PostGrade,
)
from tracker.teams.figures import open_obligations, team_figures

TAGS = ["teams"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- catalog ---------------------------------------------------------------------------


class PostOut(BaseModel):
    id: int
    county_id: int
    category: str
    name: str
    duties: str
    retired_on: date | None


class PostPage(Page[PostOut]):
    pass


class CatalogQuery(PageQuery):
    model_config = ConfigDict(extra="forbid")
    region_id: int


class PostBody(Strict):
    region_id: int
    category: str = Field(min_length=1, max_length=32)
    name: str = Field(min_length=1, max_length=64)
    duties: str = Field("", max_length=2000)


def post_out(p: DutyPost) -> PostOut:
    return PostOut(
        id=p.id,
        county_id=p.region_id,
        category=p.category,
        name=p.name,
        duties=p.duties,
        retired_on=p.retired_on,
    )


@endpoint("/duty-posts", summary="一个县的无职党员岗位目录", tags=TAGS, query=CatalogQuery)
def list_posts(query: CatalogQuery) -> PostPage:
    scope = current_scope()
    county = posts.county_of(scope.get_or_404(Region, query.region_id))
    # The catalog is the county's: everyone who sees a region of the county reads it.
    stmt = select(DutyPost).where(DutyPost.region_id == county.id)
    return paginate(PostPage, stmt.order_by(DutyPost.category, DutyPost.name), query, post_out)


@endpoint(
    "/duty-posts", ["POST"], summary="向县岗位目录添加岗位", tags=TAGS, body=PostBody, status=201
)
def create_post(body: PostBody) -> tuple[PostOut, int]:
    scope = current_scope()
    county = posts.county_of(scope.get_or_404(Region, body.region_id))
    scope.require_write(county.id)
    p = posts.create_post(county, posts.PostInput(body.category, body.name, body.duties))
    return post_out(p), 201


# -- assignments -----------------------------------------------------------------------


class ReviewOut(BaseModel):
    id: int
    year: int
    half: int
    reviewed_on: date
    grade: PostGrade
    grade_label: str
    reviewer: str
    note: str


class AssignmentOut(BaseModel):
    id: int
    village_id: int
    member_id: int
    member_name: str
    post_id: int
    post_name: str
    category: str
    duties: str
    started_on: date
    ended_on: date | None
    letter_signed_on: date | None
    has_letter: bool
    reviews: list[ReviewOut]


class AssignmentPage(Page[AssignmentOut]):
    pass


class VillageQuery(PageQuery):
    model_config = ConfigDict(extra="forbid")
    village_id: int


class AssignmentBody(Strict):
    village_id: int
    member_id: int
    post_id: int
    started_on: date
    duties: str = Field("", max_length=2000)
    letter_signed_on: date | None = None


class ReviewBody(Strict):
    year: int = Field(ge=2000, le=2100)
    half: int = Field(ge=1, le=2)
    reviewed_on: date
    grade: PostGrade
    reviewer: str = Field(min_length=1, max_length=64)
    note: str = Field("", max_length=500)


def assignment_out(a: PostAssignment) -> AssignmentOut:
    return AssignmentOut(
        id=a.id,
        village_id=a.region_id,
        member_id=a.member_id,
        member_name=a.member.name,
        post_id=a.post_id,
        post_name=a.post.name,
        category=a.post.category,
        duties=a.duties,
        started_on=a.started_on,
        ended_on=a.ended_on,
        letter_signed_on=a.letter_signed_on,
        has_letter=a.letter_sha256 is not None,
        reviews=[
            ReviewOut(
                id=r.id,
                year=r.year,
                half=r.half,
                reviewed_on=r.reviewed_on,
                grade=r.grade,
                grade_label=r.grade_label,
                reviewer=r.reviewer,
                note=r.note,
            )
            for r in a.reviews
        ],
    )


@endpoint("/post-assignments", summary="一个村的无职党员设岗", tags=TAGS, query=VillageQuery)
def list_assignments(query: VillageQuery) -> AssignmentPage:
    scope = current_scope()
    region, _b = scope.get_village_branch(query.village_id)
    stmt = scope.filter(posts.assignments_stmt(region.id), PostAssignment)
    return paginate(AssignmentPage, stmt, query, assignment_out)


@endpoint(
    "/post-assignments",
    ["POST"],
    summary="为无职党员设岗定责",
    tags=TAGS,
    body=AssignmentBody,
    status=201,
)
def create_assignment(body: AssignmentBody) -> tuple[AssignmentOut, int]:
    scope = current_scope()
    region, _b = scope.get_village_branch(body.village_id)
    scope.require_write(region.id)
    a = posts.assign(region, posts.AssignmentInput(**body.model_dump(exclude={"village_id"})))
    return assignment_out(a), 201


@endpoint("/post-assignments/<int:assignment_id>", summary="一项设岗定责", tags=TAGS)
def get_assignment(assignment_id: int) -> AssignmentOut:
    return assignment_out(current_scope().get_or_404(PostAssignment, assignment_id))


@endpoint(
    "/post-assignments/<int:assignment_id>/reviews",
    ["POST"],
    summary="半年评议（不得早于设岗日期）",
    tags=TAGS,
    body=ReviewBody,
    status=201,
)
def review_assignment(assignment_id: int, body: ReviewBody) -> tuple[AssignmentOut, int]:
    a = current_scope().get_for_write(PostAssignment, assignment_id)
    posts.review(a, body.year, body.half, body.reviewed_on, body.grade, body.reviewer, body.note)
    return assignment_out(a), 201


# -- pledges ---------------------------------------------------------------------------


class ProgressOut(BaseModel):
    id: int
    on: date
    note: str


class PledgeOut(BaseModel):
    id: int
    village_id: int
    year: int
    member_id: int | None
    cadre_id: int | None
    name: str
    content: str
    made_on: date
    rating: PledgeRating | None
    rating_label: str
    rated_on: date | None
    rated_by: str
    progress: list[ProgressOut]


class PledgePage(Page[PledgeOut]):
    pass


class PledgeQuery(VillageQuery):
    year: int | None = Field(None, ge=2000, le=2100)


class PledgeBody(Strict):
    village_id: int
    year: int = Field(ge=2000, le=2100)
    content: str = Field(min_length=1, max_length=500)
    made_on: date
    member_id: int | None = None
    cadre_id: int | None = None


class ProgressBody(Strict):
    on: date
    note: str = Field(min_length=1, max_length=500)


class RatingBody(Strict):
    rating: PledgeRating
    rated_on: date
    rated_by: str = Field(min_length=1, max_length=64)
    note: str = Field("", max_length=500)


def pledge_out(p: Pledge) -> PledgeOut:
    return PledgeOut(
        id=p.id,
        village_id=p.region_id,
        year=p.year,
        member_id=p.member_id,
        cadre_id=p.cadre_id,
        name=p.name,
        content=p.content,
        made_on=p.made_on,
        rating=p.rating,
        rating_label=p.rating_label,
        rated_on=p.rated_on,
        rated_by=p.rated_by,
        progress=[ProgressOut(id=e.id, on=e.on, note=e.note) for e in p.progress],
    )


@endpoint("/pledges", summary="一个村的党员承诺（亮诺、践诺、评诺）", tags=TAGS, query=PledgeQuery)
def list_pledges(query: PledgeQuery) -> PledgePage:
    scope = current_scope()
    region, _b = scope.get_village_branch(query.village_id)
    stmt = scope.filter(pledges.pledges_stmt(region.id, query.year), Pledge)
    return paginate(PledgePage, stmt, query, pledge_out)


@endpoint("/pledges", ["POST"], summary="亮诺", tags=TAGS, body=PledgeBody, status=201)
def create_pledge(body: PledgeBody) -> tuple[PledgeOut, int]:
    scope = current_scope()
    region, _b = scope.get_village_branch(body.village_id)
    scope.require_write(region.id)
    p = pledges.make_pledge(region, pledges.PledgeInput(**body.model_dump(exclude={"village_id"})))
    return pledge_out(p), 201


@endpoint("/pledges/<int:pledge_id>", summary="一项承诺", tags=TAGS)
def get_pledge(pledge_id: int) -> PledgeOut:
    return pledge_out(current_scope().get_or_404(Pledge, pledge_id))


@endpoint(
    "/pledges/<int:pledge_id>/progress",
    ["POST"],
    summary="践诺记录",
    tags=TAGS,
    body=ProgressBody,
    status=201,
)
def add_pledge_progress(pledge_id: int, body: ProgressBody) -> tuple[PledgeOut, int]:
    p = current_scope().get_for_write(Pledge, pledge_id)
    pledges.add_progress(p, body.on, body.note)
    return pledge_out(p), 201


@endpoint("/pledges/<int:pledge_id>/rating", ["POST"], summary="评诺", tags=TAGS, body=RatingBody)
def rate_pledge(pledge_id: int, body: RatingBody) -> PledgeOut:
    p = current_scope().get_for_write(Pledge, pledge_id)
    pledges.rate_pledge(p, body.rating, body.rated_on, body.rated_by, body.note)
    return pledge_out(p)


# -- household links -------------------------------------------------------------------


class ContactOut(BaseModel):
    id: int
    on: date
    kind: ContactKind
    kind_label: str
    note: str


class HelpOut(BaseModel):
    id: int
    on: date
    category: HelpCategory
    category_label: str
    what: str


class LinkOut(BaseModel):
    id: int
    village_id: int
    member_id: int
    member_name: str
    head: str
    address: str
    phone: str
    personal_data_masked: bool
    since: date
    until: date | None
    contacts: list[ContactOut]
    helps: list[HelpOut]


class LinkPage(Page[LinkOut]):
    pass


class LinkBody(Strict):
    village_id: int
    member_id: int
    head: str = Field(min_length=1, max_length=32)
    since: date
    address: str = Field("", max_length=200)
    phone: str = Field("", max_length=20)


class ContactBody(Strict):
    on: date
    kind: ContactKind
    note: str = Field("", max_length=500)


class HelpBody(Strict):
    on: date
    category: HelpCategory
    what: str = Field(min_length=1, max_length=500)


def link_out(link: HouseholdLink) -> LinkOut:
    scope = current_scope()
    full = scope.can_write and scope.contains_region_id(link.region_id)
    return LinkOut(
        id=link.id,
        village_id=link.region_id,
        member_id=link.member_id,
        member_name=link.member.name,
        head=link.head,
        address=pledges.shown_address(link.address, full),
        phone=pledges.shown_phone(link.phone, full),
        personal_data_masked=not full,
        since=link.since,
        until=link.until,
        contacts=[
            ContactOut(id=c.id, on=c.on, kind=c.kind, kind_label=c.kind_label, note=c.note)
            for c in link.contacts
        ],
        helps=[
            HelpOut(
                id=h.id, on=h.on, category=h.category, category_label=h.category_label, what=h.what
            )
            for h in link.helps
        ],
    )


@endpoint("/household-links", summary="一个村的党员联系户", tags=TAGS, query=VillageQuery)
def list_links(query: VillageQuery) -> LinkPage:
    scope = current_scope()
    region, _b = scope.get_village_branch(query.village_id)
    stmt = scope.filter(pledges.links_stmt(region.id), HouseholdLink)
    return paginate(LinkPage, stmt, query, link_out)


@endpoint("/household-links", ["POST"], summary="联户", tags=TAGS, body=LinkBody, status=201)
def create_link(body: LinkBody) -> tuple[LinkOut, int]:
    scope = current_scope()
    region, _b = scope.get_village_branch(body.village_id)
    scope.require_write(region.id)
    link = pledges.link_household(
        region, pledges.LinkInput(**body.model_dump(exclude={"village_id"}))
    )
    return link_out(pledges.load_link(link)), 201


@endpoint("/household-links/<int:link_id>", summary="一个联系户", tags=TAGS)
def get_link(link_id: int) -> LinkOut:
    return link_out(pledges.load_link(current_scope().get_or_404(HouseholdLink, link_id)))


@endpoint(
    "/household-links/<int:link_id>/contacts",
    ["POST"],
    summary="联系记录（走访、电话、微信；不得晚于今天）",
    tags=TAGS,
    body=ContactBody,
    status=201,
)
def add_link_contact(link_id: int, body: ContactBody) -> tuple[LinkOut, int]:
    link = current_scope().get_for_write(HouseholdLink, link_id)
    pledges.add_contact(link, body.on, body.kind, body.note)
    return link_out(pledges.load_link(link)), 201


@endpoint(
    "/household-links/<int:link_id>/help",
    ["POST"],
    summary="帮扶记录",
    tags=TAGS,
    body=HelpBody,
    status=201,
)
def add_link_help(link_id: int, body: HelpBody) -> tuple[LinkOut, int]:
    link = current_scope().get_for_write(HouseholdLink, link_id)
    pledges.add_help(link, body.on, body.category, body.what)
    return link_out(pledges.load_link(link)), 201


# -- obligations -----------------------------------------------------------------------


class PartOut(BaseModel):
    part: str
    met: int
    due: int


class ObligationsOut(BaseModel):
    village_id: int
    as_of: date
    missing_reviews: int
    unrated_pledges: int
    overdue_contacts: int
    year_parts: list[PartOut]


class ObligationsQuery(Strict):
    village_id: int


@endpoint(
    "/team-obligations",
    summary="一个村当前逾期的设岗评议、评诺、联户联系及本年队伍建设各项",
    tags=TAGS,
    query=ObligationsQuery,
)
def team_obligations(query: ObligationsQuery) -> ObligationsOut:
    region, _b = current_scope().get_village_branch(query.village_id)
    today = clock.today()
    cal = load_calendar()
    ob = open_obligations([region.id], today, cal)[region.id]
    fig = team_figures([region.id], today.replace(month=1, day=1), today, today, cal)[region.id]
    return ObligationsOut(
        village_id=region.id,
        as_of=today,
        missing_reviews=len(ob.reviews),
        unrated_pledges=len(ob.pledges),
        overdue_contacts=len(ob.contacts),
        year_parts=[PartOut(part=k, met=m, due=d) for k, (m, d) in fig.parts.items()],
    )
