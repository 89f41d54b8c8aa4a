"""Query budgets of the 设岗定责 / 一诺三联四帮 lists, exports, print views and API lists:
the same number of statements for a few rows and for many (no query per row)."""

from __future__ import annotations

from datetime import date

import pytest

from tracker import clock
from tracker.extensions import db
from tracker.models import Member
from tracker.teams import duty_posts as posts
from tracker.teams import pledges
from tracker.teams.duty_models import ContactKind, HelpCategory, PledgeRating, PostGrade

TODAY = date(2026, 11, 20)


def _grow(world, n: int) -> None:
    """``n`` more members in 村甲一甲, each on a post with a review, a rated pledge with
    progress, and a linked household with contacts and help."""
    village = world.village_a1a
    branch = world.branches[village.id]
    county = world.county_a
    post = next(
        (p for p in posts.catalog(county) if p.name == "预算岗"), None
    ) or posts.create_post(county, posts.PostInput("公共事务", "预算岗", "维护公共设施"))
    for _ in range(n):
        k = db.session.query(Member).count()
        m = Member(branch_id=branch.id, region_id=village.id, name=f"预算党员{k}")
        db.session.add(m)
        db.session.flush()
        a = posts.assign(village, posts.AssignmentInput(m.id, post.id, date(2025, 3, 1)))
        posts.review(a, 2025, 2, date(2026, 1, 8), PostGrade.good, "村党支部")
        p = pledges.make_pledge(village, pledges.PledgeInput(2025, "修路", date(2025, 2, 1), m.id))
        pledges.add_progress(p, date(2025, 6, 1), "筹资")
        pledges.rate_pledge(p, PledgeRating.good, date(2026, 1, 5), "村党支部")
        link = pledges.link_household(
            village, pledges.LinkInput(m.id, f"户主{k}", date(2025, 3, 1), "一组", "13900000000")
        )
        pledges.add_contact(link, date(2026, 10, 3), ContactKind.visit)
        pledges.add_help(link, date(2026, 10, 3), HelpCategory.policy, "讲解医保")
    db.session.flush()


URLS = [
    "/teams/duty",
    "/teams/duty/v/{v}",
    "/teams/posts/v/{v}",
    "/teams/posts/v/{v}/print",
    "/teams/posts/v/{v}/export.xlsx",
    "/teams/pledges/v/{v}",
    "/teams/pledges/v/{v}/print",
    "/teams/pledges/v/{v}/export.xlsx",
    "/teams/households/v/{v}",
    "/teams/households/v/{v}/print",
    "/teams/households/v/{v}/export.xlsx",
    "/api/v1/post-assignments?village_id={v}",
    "/api/v1/pledges?village_id={v}",
    "/api/v1/household-links?village_id={v}",
    "/teams/posts/catalog/{v}",
    "/",
]


@pytest.mark.parametrize("url", URLS)
def test_duty_lists_run_the_same_statements_at_two_sizes(world, db, login, assert_max_queries, url):
    client = login(world.users["town_a1_editor"])
    path = url.format(v=world.village_a1a.id)
    counts = []
    with clock.frozen(TODAY):
        for n in (2, 8):
            _grow(world, n)
            # 45: the home page's to-do asks every package (dues, recruitment, teams …)
            with assert_max_queries(45) as log:
                resp = client.get(path)
            assert resp.status_code == 200, resp.get_data(as_text=True)[:500]
            counts.append(log.count)
    assert counts[0] == counts[1], counts
