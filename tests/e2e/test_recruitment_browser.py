"""A township clerk takes a villager from the application to full membership on a phone
(390 px): every step through its form, a rule broken on the way refused beside the field,
the admission and 转正 decided at the branch's quorate 支部党员大会 records."""

from __future__ import annotations

from datetime import date, time, timedelta
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

ADMITTED = date(2024, 4, 25)
FULL = date(2025, 4, 25)


def _general_meetings(app: Any, village_id: int) -> dict[date, int]:
    from sqlalchemy import select

    from tracker import clock
    from tracker.extensions import db
    from tracker.meetings.models import Meeting
    from tracker.models import Member

    out = {}
    with app.app_context():
        host = db.session.scalars(select(Member).where(Member.region_id == village_id)).first()
        assert host is not None
        for day in (ADMITTED, FULL):
            start = clock.at_local(day, time(9))
            m = Meeting(
                branch_id=host.branch_id,
                region_id=village_id,
                kind="branch_general_meeting",
                started_at=start,
                ended_at=start + timedelta(hours=2),
                place="党员活动室",
                host_id=host.id,
                recorder="记录员",
                topics="讨论发展党员",
                full_members=5,
                full_present=5,
                quorum_met=True,
            )
            db.session.add(m)
            db.session.flush()
            out[day] = m.id
        db.session.commit()
    return out


def test_a_villager_becomes_a_full_member_through_the_phone_pages(
    page_for: Any, e2e_app: Any, e2e_world: Any, shoot: Any
) -> None:
    village = e2e_world["villages"]["a2a"]
    meetings = _general_meetings(e2e_app, village)
    page = page_for(e2e_world["users"]["town_a2_editor"], phone=True)

    def fits() -> None:
        assert page.evaluate("document.documentElement.scrollWidth") <= 390

    page.goto("/recruitment/")
    fits()
    page.click("#new-case")
    page.select_option("select[name=region_id]", str(village))
    page.fill("input[name=name]", "浏览器申请人")
    page.select_option("select[name=gender]", "female")
    page.fill("input[name=applied_on]", "2023-01-16")
    page.click("#save-case")
    page.wait_for_selector("#stage")
    assert "入党申请人" in page.inner_text("#stage")
    fits()
    shoot(page, "recruitment-case-phone")

    def record(kind: str, expect_error: str | None = None, **fields: str) -> None:
        page.click(f"#step-buttons a[data-kind={kind}]")
        page.wait_for_selector("#save-step")
        fits()
        for name, value in fields.items():
            if page.locator(f"select[name={name}]").count():
                page.select_option(f"select[name={name}]", value)
            else:
                page.fill(f"[name={name}]", value)
        page.click("#save-step")
        if expect_error:
            feedback = page.locator(".invalid-feedback", has_text=expect_error)
            assert feedback.is_visible()
            shoot(page, f"recruitment-{kind}-refused-phone")
            return
        page.wait_for_selector("#stage")

    record("talk", on="2023-02-01", person_a="党支部书记")
    record("activist", on="2023-03-01", body="党支部委员会", person_a="王国华", person_b="李建军")
    assert "入党积极分子" in page.inner_text("#stage")
    # A day short of the year of cultivation: refused, the rule named beside the date.
    record("candidate", "方可列为发展对象", on="2024-02-29", body="党支部委员会")
    page.fill("input[name=on]", "2024-03-01")
    page.click("#save-step")
    page.wait_for_selector("#stage")
    assert "发展对象" in page.inner_text("#stage")
    record("political", on="2024-03-10", body="镇党委", passed="1")
    record("training", on="2024-03-20", until="2024-03-22", hours="24", body="镇党校")
    record("publicity", on="2024-04-15", until="2024-04-19", body="村党务公开栏")
    record("admission", on="2024-04-25", meeting_id=str(meetings[ADMITTED]))
    assert "预备党员" in page.inner_text("#stage")
    assert page.locator("#member-link").count() == 1
    record("approval", on="2024-05-20", body="镇党委")
    record("full", on="2025-04-25", meeting_id=str(meetings[FULL]))
    assert "正式党员" in page.inner_text("#stage")
    steps = page.locator("#timeline li").count()
    # application, talk, activist, candidate, political review, training, publicity,
    # admission, approval, 转正.
    assert steps == 10
    fits()
    shoot(page, "recruitment-full-phone")


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_the_recruitment_pages_fit_the_screen(
    page_for: Any, e2e_world: Any, shoot: Any, phone: bool
) -> None:
    suffix = "phone" if phone else "desktop"
    width = 390 if phone else 1366
    page = page_for(e2e_world["users"]["city_admin"], phone=phone)
    for path, name in [
        ("/recruitment/", "recruitment-list"),
        ("/recruitment/new", "recruitment-new"),
    ]:
        page.goto(path)
        shoot(page, f"{name}-{suffix}")
        assert page.evaluate("document.documentElement.scrollWidth") <= width, path
    page.goto("/recruitment/")
    link = page.locator("#cases a").first
    if link.count():
        link.click()
        page.wait_for_selector("#stage")
        shoot(page, f"recruitment-detail-{suffix}")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
