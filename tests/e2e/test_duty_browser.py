"""On a phone: a township clerk puts a member on a post and reviews it, records a pledge,
links a household and logs a visit (设岗定责, 一诺三联四帮)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="session")
def duty_post(e2e_app, e2e_world):
    """The county's catalog holds one post."""
    from tracker.extensions import db
    from tracker.models import Region
    from tracker.teams.duty_posts import PostInput, catalog, county_of, create_post

    with e2e_app.app_context():
        village = db.session.get(Region, e2e_world["villages"]["a1a"])
        county = county_of(village)
        post = next((p for p in catalog(county) if p.name == "村务监督岗"), None)
        if post is None:
            post = create_post(county, PostInput("村务监督", "村务监督岗", "监督村务公开"))
        db.session.commit()
        return post.id


def _fits(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 392


def _submit(page, marker: str) -> None:
    page.locator("form", has=page.locator(marker)).locator("button").last.click()
    page.wait_for_selector(".alert-success")


def test_a_clerk_records_one_of_each_on_a_phone(page_for, e2e_world, duty_post, shoot):
    from tracker import clock

    village = e2e_world["villages"]["a1a"]
    today = clock.today()
    page = page_for(e2e_world["users"]["town_a1_editor"], phone=True)
    # 设岗定责 → its half-year review
    page.goto(f"/teams/posts/v/{village}")
    _fits(page)
    page.select_option("select[name=member_id]", index=1)
    page.select_option("select[name=post_id]", value=str(duty_post))
    page.fill("input[name=started_on]", f"{today.year - 1}-03-01")
    _submit(page, "select[name=post_id]")
    assert "监督村务公开" in page.content()
    _fits(page)
    page.fill("input[name=year]", str(today.year - 1))
    page.select_option("select[name=half]", value="2")
    page.fill("input[name=reviewed_on]", f"{today.year}-01-10")
    page.fill("input[name=reviewer]", "村党支部")
    _submit(page, "input[name=reviewer]")
    assert "半年评议已保存" in page.content()
    shoot(page, "duty-assignment-phone")
    # 亮诺
    page.goto(f"/teams/pledges/v/{village}")
    _fits(page)
    page.select_option("select[name=person]", index=1)
    page.fill("textarea[name=content]", "年内帮助 2 户发展庭院经济")
    _submit(page, "textarea[name=content]")
    assert "承诺已亮诺" in page.content()
    _fits(page)
    # 联户 → a visit
    page.goto(f"/teams/households/v/{village}")
    page.select_option("select[name=member_id]", index=1)
    page.fill("input[name=head]", "王大山")
    page.fill("input[name=phone]", "13912345678")
    page.fill("input[name=since]", f"{today.year}-01-02")
    _submit(page, "input[name=head]")
    _fits(page)
    page.fill("input[name=note]", "了解春耕准备")
    _submit(page, "select[name=kind]")
    assert "联系记录已保存" in page.content() and "了解春耕准备" in page.content()
    shoot(page, "duty-household-phone")
    page.goto(f"/teams/duty/v/{village}")
    _fits(page)
