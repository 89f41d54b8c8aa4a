"""Operations on the posts for members without office (无职党员设岗定责).

A county keeps a catalog of posts in categories (defaults ``[teams] post_categories``,
edited per county); a village puts members who hold no office on a post, with their
duties and a signed responsibility letter (责任书, a scan checked by
:func:`tracker.uploads.sniff`); every half-year each holder is reviewed with a grade,
never before the assignment began. Plain functions: validate, change, ``flush()``.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from flask import current_app
from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload

from tracker import clock, uploads
from tracker.config import current_settings
from tracker.extensions import db
from tracker.models import Member, Region, RegionLevel, VillageCadre
from tracker.teams.duty_models import (
    DutyPost,
    PostAssignment,
    PostCategory,
    PostGrade,
    PostReview,
)
from tracker.teams.duty_rules import HALF_LABELS, half_bounds, half_of
from tracker.teams.services import TeamError, _check_day


def county_of(region: Region) -> Region:
    """The county a village (or township) belongs to: the catalog's owner."""
    if region.level == RegionLevel.county:
        return region
    ids = [int(p) for p in region.path.strip("/").split("/") if p]
    counties = db.session.scalars(
        select(Region).where(Region.id.in_(ids), Region.level == RegionLevel.county)
    ).all()
    if not counties:
        raise TeamError("该地区不属于任何县（市、区），没有岗位目录", "region")
    return counties[0]


# -- the catalog -----------------------------------------------------------------------


def categories(county: Region) -> list[str]:
    """The county's post categories: its own rows, else the configured defaults."""
    rows = db.session.scalars(
        select(PostCategory.name)
        .where(PostCategory.region_id == county.id)
        .order_by(PostCategory.position, PostCategory.id)
    ).all()
    return list(rows) or list(current_settings().teams.post_categories)


def _materialize(county: Region) -> list[PostCategory]:
    rows = db.session.scalars(
        select(PostCategory)
        .where(PostCategory.region_id == county.id)
        .order_by(PostCategory.position, PostCategory.id)
    ).all()
    if rows:
        return list(rows)
    made = [
        PostCategory(region_id=county.id, name=name, position=i)
        for i, name in enumerate(current_settings().teams.post_categories)
    ]
    db.session.add_all(made)
    db.session.flush()
    return made


def add_category(county: Region, name: str) -> PostCategory:
    name = (name or "").strip()
    if not name:
        raise TeamError("请填写类别名称", "name")
    if len(name) > 32:
        raise TeamError("类别名称最多 32 字", "name")
    rows = _materialize(county)
    if any(r.name == name for r in rows):
        raise TeamError(f"已有类别“{name}”", "name")
    row = PostCategory(region_id=county.id, name=name, position=len(rows))
    db.session.add(row)
    db.session.flush()
    return row


def remove_category(county: Region, name: str) -> None:
    """Remove a category no post of the county uses (a used one would orphan its posts)."""
    rows = _materialize(county)
    row = next((r for r in rows if r.name == name), None)
    if row is None:
        raise TeamError(f"没有类别“{name}”", "name", 404)
    used = db.session.scalar(
        select(DutyPost.id).where(DutyPost.region_id == county.id, DutyPost.category == name)
    )
    if used is not None:
        raise TeamError(f"类别“{name}”下还有岗位，不能删除", "name", 409)
    if len(rows) == 1:
        raise TeamError("至少保留一个岗位类别", "name", 409)
    db.session.delete(row)
    db.session.flush()


@dataclass
class PostInput:
    category: str
    name: str
    duties: str = ""


def _check_post(county: Region, data: PostInput, post: DutyPost | None = None) -> str:
    if data.category not in categories(county):
        raise TeamError("请选择本县的岗位类别", "category")
    name = (data.name or "").strip()
    if not name:
        raise TeamError("请填写岗位名称", "name")
    if len(name) > 64:
        raise TeamError("岗位名称最多 64 字", "name")
    if len(data.duties or "") > 2000:
        raise TeamError("岗位职责最多 2000 字", "duties")
    clash = db.session.scalar(
        select(DutyPost.id).where(DutyPost.region_id == county.id, DutyPost.name == name)
    )
    if clash is not None and (post is None or clash != post.id):
        raise TeamError(f"本县已有岗位“{name}”", "name")
    return name


def create_post(county: Region, data: PostInput) -> DutyPost:
    name = _check_post(county, data)
    post = DutyPost(
        region_id=county.id, category=data.category, name=name, duties=(data.duties or "").strip()
    )
    db.session.add(post)
    db.session.flush()
    return post


def update_post(post: DutyPost, data: PostInput) -> None:
    county = db.session.get(Region, post.region_id)
    assert county is not None
    post.name = _check_post(county, data, post)
    post.category = data.category
    post.duties = (data.duties or "").strip()
    db.session.flush()


def retire_post(post: DutyPost, on: date) -> None:
    """A post no longer offered for new assignments (existing ones keep it)."""
    if post.retired_on is not None:
        raise TeamError("该岗位已停用", "retired_on", 409)
    _check_day(on, "retired_on", "停用日期")
    post.retired_on = on
    db.session.flush()


def catalog(county: Region, include_retired: bool = False) -> list[DutyPost]:
    stmt = select(DutyPost).where(DutyPost.region_id == county.id)
    if not include_retired:
        stmt = stmt.where(DutyPost.retired_on.is_(None))
    return list(db.session.scalars(stmt.order_by(DutyPost.category, DutyPost.name)))


# -- assignments -------------------------------------------------------------------------


def members_without_office(village: Region, on: date) -> list[Member]:
    """Members on the village's roster who hold no cadre post on ``on`` (无职党员)."""
    office = select(VillageCadre.member_id).where(
        VillageCadre.region_id == village.id,
        VillageCadre.member_id.is_not(None),
        (VillageCadre.since.is_(None)) | (VillageCadre.since <= on),
        (VillageCadre.until.is_(None)) | (VillageCadre.until >= on),
    )
    return list(
        db.session.scalars(
            select(Member)
            .where(
                Member.region_id == village.id,
                (Member.left_on.is_(None)) | (Member.left_on > on),
                Member.id.not_in(office),
            )
            .order_by(Member.name)
        )
    )


@dataclass
class AssignmentInput:
    member_id: int
    post_id: int
    started_on: date
    duties: str = ""
    letter_signed_on: date | None = None


def assign(village: Region, data: AssignmentInput) -> PostAssignment:
    """Put a member without office on a post of the county's catalog."""
    _check_day(data.started_on, "started_on", "设岗日期")
    member = db.session.get(Member, data.member_id) if data.member_id else None
    if member is None or member.region_id != village.id:
        raise TeamError("所选党员不在本村党员名册中", "member_id")
    if member.id not in {m.id for m in members_without_office(village, data.started_on)}:
        raise TeamError(f"{member.name}在设岗日期担任村干部或已不在册，不属于无职党员", "member_id")
    post = db.session.get(DutyPost, data.post_id) if data.post_id else None
    if post is None or post.region_id != county_of(village).id:
        raise TeamError("请选择本县岗位目录中的岗位", "post_id")
    if post.retired_on is not None and post.retired_on <= data.started_on:
        raise TeamError(f"岗位“{post.name}”已停用", "post_id")
    same = db.session.scalar(
        select(PostAssignment.id).where(
            PostAssignment.member_id == member.id,
            PostAssignment.post_id == post.id,
            PostAssignment.ended_on.is_(None),
        )
    )
    if same is not None:
        raise TeamError(f"{member.name}已在“{post.name}”岗位上", "post_id")
    if data.letter_signed_on is not None:
        _check_day(data.letter_signed_on, "letter_signed_on", "责任书签订日期")
    if len(data.duties or "") > 2000:
        raise TeamError("岗位职责最多 2000 字", "duties")
    a = PostAssignment(
        region_id=village.id,
        member_id=member.id,
        post_id=post.id,
        duties=(data.duties or "").strip() or post.duties,
        started_on=data.started_on,
        letter_signed_on=data.letter_signed_on,
    )
    db.session.add(a)
    db.session.flush()
    return a


def end_assignment(a: PostAssignment, on: date) -> None:
    if a.ended_on is not None:
        raise TeamError("该设岗已结束", "ended_on", 409)
    _check_day(on, "ended_on", "结束日期")
    if on < a.started_on:
        raise TeamError("结束日期不能早于设岗日期", "ended_on")
    last = max((r.reviewed_on for r in a.reviews), default=None)
    if last is not None and on < half_bounds(*half_of(last))[0]:
        raise TeamError("结束日期不能早于已评议的半年", "ended_on")
    a.ended_on = on
    db.session.flush()


def letter_path(sha256: str) -> Path:
    """Where a responsibility letter's bytes live: ``UPLOAD_DIR/teams/ab/abcdef…``."""
    return Path(current_app.config["UPLOAD_DIR"]) / "teams" / sha256[:2] / sha256


def attach_letter(a: PostAssignment, filename: str, data: bytes, signed_on: date | None) -> None:
    """Store the signed letter (JPEG, PNG or PDF, checked to its end) under its hash."""
    limit = current_settings().tracker.max_upload_mb * 1024 * 1024
    if not data:
        raise TeamError("请选择责任书扫描件", "letter")
    if len(data) > limit:
        raise TeamError(f"文件过大（最大 {limit // (1024 * 1024)} MB）", "letter", 413)
    content_type = uploads.sniff(data)
    if content_type is None:
        raise TeamError("责任书只能是完整的照片（JPG、PNG）或 PDF 扫描件", "letter", 415)
    if signed_on is not None:
        _check_day(signed_on, "letter_signed_on", "责任书签订日期")
    sha = hashlib.sha256(data).hexdigest()
    path = letter_path(sha)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp" + str(os.getpid()))
        tmp.write_bytes(data)
        tmp.replace(path)
        uploads.written(db.session(), path)
    a.letter_filename = Path(filename or "责任书").name[:200] or "责任书"
    a.letter_content_type = content_type
    a.letter_sha256 = sha
    a.letter_size = len(data)
    a.letter_signed_on = signed_on or a.letter_signed_on or clock.today()
    db.session.flush()


def review(
    a: PostAssignment,
    year: int,
    half: int,
    reviewed_on: date,
    grade: PostGrade,
    reviewer: str,
    note: str = "",
) -> PostReview:
    """The half-year review: not before the assignment began, nor before the half-year."""
    if half not in (1, 2):
        raise TeamError("请选择上半年或下半年", "half")
    if not 2000 <= year <= clock.today().year:
        raise TeamError("评议年度不合理", "year")
    _check_day(reviewed_on, "reviewed_on", "评议日期")
    if reviewed_on < a.started_on:
        raise TeamError("评议日期不能早于设岗日期", "reviewed_on")
    start, end = half_bounds(year, half)
    if a.started_on > end:
        raise TeamError(f"设岗日期晚于{year}年{HALF_LABELS[half]}，该半年无需评议", "half")
    if a.ended_on is not None and a.ended_on < start:
        raise TeamError("该设岗在这个半年之前已结束", "half")
    if reviewed_on < start:
        raise TeamError(f"评议日期不能早于{year}年{HALF_LABELS[half]}开始", "reviewed_on")
    if any(r.year == year and r.half == half for r in a.reviews):
        raise TeamError(f"{year}年{HALF_LABELS[half]}已评议", "half")
    reviewer = (reviewer or "").strip()
    if not reviewer:
        raise TeamError("请填写评议组织或评议人", "reviewer")
    r = PostReview(
        region_id=a.region_id,
        year=year,
        half=half,
        reviewed_on=reviewed_on,
        grade=grade,
        reviewer=reviewer[:64],
        note=(note or "").strip()[:500],
    )
    a.reviews.append(r)
    db.session.flush()
    return r


def assignments_stmt(village_id: int) -> Select[PostAssignment]:
    """A village's assignments with what a list shows, loaded with the list (no query per row)."""
    return (
        select(PostAssignment)
        .where(PostAssignment.region_id == village_id)
        .options(
            selectinload(PostAssignment.member),
            selectinload(PostAssignment.post),
            selectinload(PostAssignment.reviews),
        )
        .order_by(
            PostAssignment.ended_on.is_not(None), PostAssignment.started_on, PostAssignment.id
        )
    )


@dataclass(frozen=True)
class LatestGrade:
    post: str
    year: int
    half: int
    grade: PostGrade

    @property
    def label(self) -> str:
        from tracker.teams.duty_models import POST_GRADE_LABELS

        return POST_GRADE_LABELS[self.grade]

    @property
    def half_label(self) -> str:
        return f"{self.year}年{HALF_LABELS[self.half]}"


def latest_grades(member_ids: Iterable[int]) -> Mapping[int, LatestGrade]:
    """The latest half-year review grade of each member's posts, with one query
    (shown beside the member in 民主评议党员)."""
    ids = list(set(member_ids))
    if not ids:
        return {}
    rows: Sequence[tuple[int, str, int, int, PostGrade]] = db.session.execute(
        select(
            PostAssignment.member_id,
            DutyPost.name,
            PostReview.year,
            PostReview.half,
            PostReview.grade,
        )
        .join(PostAssignment, PostReview.assignment_id == PostAssignment.id)
        .join(DutyPost, PostAssignment.post_id == DutyPost.id)
        .where(PostAssignment.member_id.in_(ids))
        .order_by(PostReview.year, PostReview.half, PostReview.reviewed_on, PostReview.id)
    ).all()
    out: dict[int, LatestGrade] = {}
    for member_id, post, year, half, grade in rows:
        out[member_id] = LatestGrade(post, year, half, grade)
    return out
