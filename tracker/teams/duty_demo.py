"""Demo posts, pledges and household links (设岗定责, 一诺三联四帮).

Every county keeps a catalog of posts in the configured categories; in every village
three members without office hold posts, reviewed each half-year on time; every
member with a post pledged last year (rated in January) and this year (progress
entered); each links two households visited every month. 五四村
(:data:`tracker.demo.STORY`: ``duty_lapsed``) let it slip: the last half-year's
reviews were not entered, last year's pledges were never rated and last month nobody
visited its households.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from tracker.calendar_service import load_calendar
from tracker.demo import DemoWorld, office_time, story
from tracker.extensions import db
from tracker.teams.duty_models import (
    ContactKind,
    DutyPost,
    HelpCategory,
    HouseholdContact,
    HouseholdHelp,
    HouseholdLink,
    Pledge,
    PledgeProgress,
    PledgeRating,
    PostAssignment,
    PostGrade,
    PostReview,
)
from tracker.teams.duty_posts import members_without_office
from tracker.teams.duty_rules import half_bounds, halves_between, windows_between

CATALOG = [
    ("经济发展", "产业带头岗", "带头发展特色种养，每年帮带 2 户以上"),
    ("村务监督", "村务监督岗", "参与村务公开、财务收支的监督，发现问题及时报告"),
    ("公共事务", "环境卫生监督岗", "督促农户门前三包，参与人居环境整治"),
    ("思想政治", "政策宣传岗", "宣传惠农政策和上级精神，每月组织一次学习"),
    ("服务群众", "邻里互助岗", "联系空巢老人、留守儿童，帮办代办民生事项"),
]
PLEDGES = [
    "帮助联系户发展庭院经济，增收 2000 元以上",
    "带头参加人居环境整治，年内义务劳动 12 次",
    "每月走访联系户，帮办代办事项不少于 5 件",
    "组织本组党员学习惠农政策，全年 6 次",
]
HEADS = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = "福贵山林春海玉兰德胜桂芝宝山长顺"


def seed_duty(world: DemoWorld) -> None:
    rng = world.rng
    cal = load_calendar()
    today = world.today
    for county in world.counties:
        for category, name, duties in CATALOG:
            db.session.add(
                DutyPost(region_id=county.id, category=category, name=name, duties=duties)
            )
    db.session.flush()
    catalog = {
        c.id: db.session.scalars(select(DutyPost).where(DutyPost.region_id == c.id)).all()
        for c in world.counties
    }
    for village in world.villages:
        lapsed = "duty_lapsed" in story(village)
        county_id = next(
            int(p) for p in reversed(village.path.strip("/").split("/")) if int(p) in catalog
        )
        started = date(today.year - 1, 3, 1)
        members = members_without_office(village, started)[:3]
        last_half = max(
            (h for h in halves_between(started, today) if half_bounds(*h)[1] < today),
            default=None,
        )
        for i, member in enumerate(members):
            post = catalog[county_id][i % len(catalog[county_id])]
            a = PostAssignment(
                region_id=village.id,
                member_id=member.id,
                post_id=post.id,
                duties=post.duties,
                started_on=started,
                letter_signed_on=started,
                entered_at=office_time(started, rng, cal),
            )
            for y, h in halves_between(started, today):
                end = half_bounds(y, h)[1]
                if end >= today or (lapsed and (y, h) == last_half):
                    continue
                reviewed = end + timedelta(days=rng.randint(3, 12))
                if reviewed >= today:
                    continue
                a.reviews.append(
                    PostReview(
                        region_id=village.id,
                        year=y,
                        half=h,
                        reviewed_on=reviewed,
                        grade=rng.choice([PostGrade.excellent, PostGrade.good, PostGrade.good]),
                        reviewer="村党支部",
                    )
                )
            db.session.add(a)
            for year in (today.year - 1, today.year):
                made = date(year, 2, 20)
                p = Pledge(
                    region_id=village.id,
                    year=year,
                    member_id=member.id,
                    name=member.name,
                    content=rng.choice(PLEDGES),
                    made_on=made,
                    entered_at=office_time(made, rng, cal),
                )
                p.progress = [
                    PledgeProgress(region_id=village.id, on=date(year, m, 15), note="按计划推进")
                    for m in (5, 9)
                    if date(year, m, 15) < today
                ]
                if year < today.year and not lapsed:
                    p.rating = rng.choice([PledgeRating.excellent, PledgeRating.good])
                    p.rated_on = date(year + 1, 1, 12)
                    p.rated_by = "村党支部"
                db.session.add(p)
            for k in range(2):
                since = started
                link = HouseholdLink(
                    region_id=village.id,
                    member_id=member.id,
                    head=rng.choice(HEADS) + rng.choice(GIVEN) + rng.choice(GIVEN),
                    address=f"{rng.randint(1, 6)}组 {rng.randint(1, 60)} 号",
                    phone=f"139{rng.randint(10000000, 99999999)}",
                    since=since,
                    entered_at=office_time(since, rng, cal),
                )
                db.session.add(link)
                db.session.flush()
                windows = windows_between(since, today, "monthly")
                for ws, we in windows:
                    if we >= today or (lapsed and we == windows[-2][1]):
                        continue
                    on = ws + timedelta(days=rng.randint(2, 20))
                    db.session.add(
                        HouseholdContact(
                            link_id=link.id,
                            region_id=village.id,
                            on=on,
                            kind=ContactKind.visit,
                            note="走访了解生产生活情况",
                            entered_at=office_time(on, rng, cal),
                        )
                    )
                if k == 0:
                    db.session.add(
                        HouseholdHelp(
                            link_id=link.id,
                            region_id=village.id,
                            on=since + timedelta(days=40),
                            category=rng.choice(list(HelpCategory)),
                            what="协助办理医保缴费和农资购买",
                        )
                    )
    db.session.flush()
