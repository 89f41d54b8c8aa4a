"""Operations on pledges and household links (一诺三联四帮, 承诺践诺).

Each year a member or cadre makes pledges (亮诺), records what was done (践诺) and is
rated at year end (评诺); members are linked to households (联户) whose contacts
(visit / phone / WeChat, never in the future) and the help given (帮) are logged.
Plain functions: validate, change, ``flush()``; the caller commits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload

from tracker import clock
from tracker.extensions import db
from tracker.formatting import mask_phone
from tracker.models import Member, Region, VillageCadre
from tracker.teams.duty_models import (
    ContactKind,
    HelpCategory,
    HouseholdContact,
    HouseholdHelp,
    HouseholdLink,
    Pledge,
    PledgeProgress,
    PledgeRating,
)
from tracker.teams.services import TeamError, _check_day

PHONE = re.compile(r"^[0-9+\-() ]{5,20}$")


# -- pledges ---------------------------------------------------------------------------


@dataclass
class PledgeInput:
    year: int
    content: str
    made_on: date
    member_id: int | None = None
    cadre_id: int | None = None
    name: str = ""


def make_pledge(village: Region, data: PledgeInput) -> Pledge:
    """亮诺: a member's or cadre's pledge for a year, made in (or just before) that year."""
    today = clock.today()
    if not 2000 <= data.year <= today.year + 1:
        raise TeamError("承诺年度不合理", "year")
    _check_day(data.made_on, "made_on", "亮诺日期")
    if data.made_on.year not in (data.year, data.year - 1):
        raise TeamError("亮诺日期应在承诺年度内（或上一年年底）", "made_on")
    member = cadre = None
    if data.member_id:
        member = db.session.get(Member, data.member_id)
        if member is None or member.region_id != village.id:
            raise TeamError("所选党员不在本村党员名册中", "member_id")
    if data.cadre_id:
        cadre = db.session.get(VillageCadre, data.cadre_id)
        if cadre is None or cadre.region_id != village.id:
            raise TeamError("所选村干部不在本村", "cadre_id")
    if member is None and cadre is None:
        raise TeamError("请选择承诺的党员或村干部", "member_id")
    name = member.name if member else cadre.name if cadre else ""
    content = (data.content or "").strip()
    if not content:
        raise TeamError("请填写承诺内容", "content")
    if len(content) > 500:
        raise TeamError("承诺内容最多 500 字", "content")
    p = Pledge(
        region_id=village.id,
        year=data.year,
        member_id=member.id if member else (cadre.member_id if cadre else None),
        cadre_id=cadre.id if cadre else None,
        name=name,
        content=content,
        made_on=data.made_on,
    )
    db.session.add(p)
    db.session.flush()
    return p


def add_progress(p: Pledge, on: date, note: str) -> PledgeProgress:
    """践诺: what was done, not before the pledge was made nor after it was rated."""
    _check_day(on, "on", "践诺日期")
    if on < p.made_on:
        raise TeamError("践诺日期不能早于亮诺日期", "on")
    if p.rating is not None:
        raise TeamError("该承诺已评诺，不能再添加践诺记录", "on", 409)
    note = (note or "").strip()
    if not note:
        raise TeamError("请填写践诺情况", "note")
    entry = PledgeProgress(region_id=p.region_id, on=on, note=note[:500])
    p.progress.append(entry)
    db.session.flush()
    return entry


def rate_pledge(p: Pledge, rating: PledgeRating, on: date, by: str, note: str = "") -> None:
    """评诺: once, in or after the pledge's year, not before the last progress entry."""
    if p.rating is not None:
        raise TeamError("该承诺已评诺", "rating", 409)
    _check_day(on, "rated_on", "评诺日期")
    if on < p.made_on:
        raise TeamError("评诺日期不能早于亮诺日期", "rated_on")
    if on.year < p.year:
        raise TeamError("评诺日期不能早于承诺年度", "rated_on")
    last = max((e.on for e in p.progress), default=None)
    if last is not None and on < last:
        raise TeamError("评诺日期不能早于最后一次践诺记录", "rated_on")
    by = (by or "").strip()
    if not by:
        raise TeamError("请填写评诺组织", "rated_by")
    p.rating = rating
    p.rated_on = on
    p.rated_by = by[:64]
    p.rating_note = (note or "").strip()[:500]
    db.session.flush()


def pledges_stmt(village_id: int, year: int | None = None) -> Select[Pledge]:
    stmt = (
        select(Pledge)
        .where(Pledge.region_id == village_id)
        .options(selectinload(Pledge.progress))
        .order_by(Pledge.year.desc(), Pledge.name, Pledge.id)
    )
    if year:
        stmt = stmt.where(Pledge.year == year)
    return stmt


# -- household links -------------------------------------------------------------------


@dataclass
class LinkInput:
    member_id: int
    head: str
    since: date
    address: str = ""
    phone: str = ""


def _check_link(village: Region, data: LinkInput) -> tuple[Member, str, str, str]:
    member = db.session.get(Member, data.member_id) if data.member_id else None
    if member is None or member.region_id != village.id:
        raise TeamError("所选党员不在本村党员名册中", "member_id")
    head = (data.head or "").strip()
    if not head:
        raise TeamError("请填写户主姓名", "head")
    if len(head) > 32:
        raise TeamError("户主姓名最多 32 字", "head")
    address = (data.address or "").strip()
    if len(address) > 200:
        raise TeamError("住址最多 200 字", "address")
    phone = (data.phone or "").strip()
    if phone and not PHONE.match(phone):
        raise TeamError("联系电话格式不正确", "phone")
    _check_day(data.since, "since", "联户日期")
    return member, head, address, phone


def link_household(village: Region, data: LinkInput) -> HouseholdLink:
    """联户: a member takes a household of the village; one member links a household once."""
    member, head, address, phone = _check_link(village, data)
    same = db.session.scalar(
        select(HouseholdLink.id).where(
            HouseholdLink.member_id == member.id,
            HouseholdLink.head == head,
            HouseholdLink.address == address,
            HouseholdLink.until.is_(None),
        )
    )
    if same is not None:
        raise TeamError(f"{member.name}已联系户主{head}", "head")
    link = HouseholdLink(
        region_id=village.id,
        member_id=member.id,
        head=head,
        address=address,
        phone=phone,
        since=data.since,
    )
    db.session.add(link)
    db.session.flush()
    return link


def end_link(link: HouseholdLink, on: date) -> None:
    if link.until is not None:
        raise TeamError("该联户已结束", "until", 409)
    _check_day(on, "until", "结束日期")
    if on < link.since:
        raise TeamError("结束日期不能早于联户日期", "until")
    link.until = on
    db.session.flush()


def add_contact(
    link: HouseholdLink, on: date, kind: ContactKind, note: str = ""
) -> HouseholdContact:
    """A contact with the household: never in the future, never before the link."""
    if on > clock.today():
        raise TeamError("联系日期不能晚于今天", "on")
    _check_day(on, "on", "联系日期")
    if on < link.since:
        raise TeamError("联系日期不能早于联户日期", "on")
    if link.until is not None and on > link.until:
        raise TeamError("联系日期不能晚于联户结束日期", "on")
    c = HouseholdContact(
        link_id=link.id, region_id=link.region_id, on=on, kind=kind, note=(note or "").strip()[:500]
    )
    db.session.add(c)
    db.session.flush()
    return c


def add_help(link: HouseholdLink, on: date, category: HelpCategory, what: str) -> HouseholdHelp:
    """帮: what help was given, when (not in the future, not before the link)."""
    _check_day(on, "on", "帮扶日期")
    if on < link.since:
        raise TeamError("帮扶日期不能早于联户日期", "on")
    what = (what or "").strip()
    if not what:
        raise TeamError("请填写帮扶内容", "what")
    h = HouseholdHelp(
        link_id=link.id, region_id=link.region_id, on=on, category=category, what=what[:500]
    )
    db.session.add(h)
    db.session.flush()
    return h


def links_stmt(village_id: int) -> Select[HouseholdLink]:
    """A village's links with member, contacts and help loaded by the list query."""
    return (
        select(HouseholdLink)
        .where(HouseholdLink.region_id == village_id)
        .options(
            selectinload(HouseholdLink.member),
            selectinload(HouseholdLink.contacts),
            selectinload(HouseholdLink.helps),
        )
        .order_by(HouseholdLink.until.is_not(None), HouseholdLink.member_id, HouseholdLink.id)
    )


def load_link(link: HouseholdLink) -> HouseholdLink:
    """One link's contacts and help (``lazy="raise"`` on the list)."""
    return db.session.scalars(
        links_stmt(link.region_id)
        .where(HouseholdLink.id == link.id)
        .execution_options(populate_existing=True)
    ).one()


def shown_phone(phone: str, full: bool) -> str:
    """Full for writers of the village, masked for everyone else (like matters' applicants)."""
    return phone if full else mask_phone(phone)


def shown_address(address: str, full: bool) -> str:
    """An address shown to readers keeps its first characters only (三组****)."""
    if full or not address:
        return address
    keep = min(2, len(address) - 1)
    return address[:keep] + "*" * 4
