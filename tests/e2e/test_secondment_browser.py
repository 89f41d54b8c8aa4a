"""A seconded cadre files a week's log and report on a phone; an assessor records an inspection."""

from __future__ import annotations

from datetime import timedelta

import pytest

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="session")
def cadre_case(e2e_app, e2e_world):
    """A cadre (own account, editor of 镇甲一) seconded there, and an assessment group."""
    from tests.factories import World, make_user
    from tests.tracker.secondment_helpers import assessment_group, seconded
    from tracker.extensions import db
    from tracker.models import Region, Role

    with e2e_app.app_context():
        regions = {r.name: r for r in db.session.query(Region).all()}
        world = World(
            city=regions["县甲"],  # only the fields the helpers read
            county_a=regions["县甲"],
            county_b=regions["县乙"],
            town_a1=regions["镇甲一"],
            town_a2=regions["镇甲二"],
            town_b1=regions["镇乙一"],
            village_a1a=regions["村甲一甲"],
            village_a1b=regions["村甲一乙"],
            village_a2a=regions["村甲二甲"],
            village_b1a=regions["村乙一甲"],
        )
        cadre = make_user(Role.editor, world.town_a1, "cadre_e2e")
        s = seconded(world, name="张挂职")
        s.user_id = cadre.id
        group = assessment_group(world, s)
        db.session.commit()
        return {"id": s.id, "group": group.name, "cadre": cadre.username}


def test_a_cadre_files_log_and_report_on_a_phone_and_an_assessor_inspects(
    page_for, cadre_case, e2e_world, shoot
):
    from tracker import clock
    from tracker.secondment.rules import week_start

    page = page_for(cadre_case["cadre"], phone=True)
    page.goto(f"/secondment/{cadre_case['id']}")
    assert page.evaluate("document.documentElement.scrollWidth") <= 392
    log = page.locator("#log")
    log.locator("textarea[name=what]").fill("走访脱贫户 8 户，收集诉求 3 条")
    log.locator("input[name=place]").fill("村甲一甲")
    log.locator("input[name=with_whom]").fill("村支书")
    page.click("#save-log")
    page.wait_for_selector(".alert-success")
    assert "工作记实已保存" in page.content()
    assert "走访脱贫户 8 户" in page.locator("#log").inner_text()

    page.click("button[data-bs-target='#weekly-body']")
    weekly = page.locator("#weekly")
    weekly.wait_for(state="visible")
    monday = week_start(clock.today()) - timedelta(days=7)
    weekly.locator("input[name=week_start]").fill(monday.isoformat())
    weekly.locator("textarea[name=work_done]").fill("走访 8 户，协调修路一处")
    weekly.locator("textarea[name=problems]").fill("村道雨后难行")
    shoot(page, "secondment-phone-report")
    page.click("#save-report")
    # The log's success alert stays on the page until the report's answer has loaded.
    page.wait_for_selector(".alert-success:has-text('周报已提交')")
    assert "周报已提交" in page.content()

    assessor = page_for(e2e_world["users"]["county_a_admin"], phone=True)
    assessor.goto(f"/secondment/{cadre_case['id']}")
    assessor.click("button[data-bs-target='#inspection-body']")
    form = assessor.locator("#inspection")
    form.wait_for(state="visible")
    form.locator("select[name=group_id]").select_option(label=cadre_case["group"])
    form.locator("input[name=place]").fill("镇甲一党委")
    form.locator("select[name=present]").select_option("0")
    form.locator("textarea[name=findings]").fill("督查时不在岗")
    form.locator("textarea[name=rectification]").fill("书面说明情况")
    assessor.click("#save-inspection")
    # a rectification without a deadline is refused beside the field, nothing saved
    assessor.wait_for_selector("#inspection .invalid-feedback")
    assert "整改期限" in assessor.locator("#inspection").inner_text()
    form.locator("input[name=rectify_by]").fill((clock.today() + timedelta(days=7)).isoformat())
    assessor.click("#save-inspection")
    assessor.wait_for_selector(".alert-success")
    assert "督查记录已保存" in assessor.content()
    shoot(assessor, "secondment-phone-inspection")

    # the finding is rectified: the date and a note, on the phone
    assessor.click("button[data-bs-target='#inspection-body']")
    section = assessor.locator("#inspection")
    section.wait_for(state="visible")
    section.locator("details summary").first.click()
    section.locator("input[name=rectified_on]").first.fill(clock.today().isoformat())
    section.locator("textarea[name=rectified_note]").first.fill("已提交书面说明")
    section.locator("[id^=save-rectified-]").first.click()
    assessor.wait_for_selector(".alert-success")
    assert "整改完成情况已登记" in assessor.content()
    assert assessor.evaluate("document.documentElement.scrollWidth") <= 392

    assessor.goto("/secondment/?from=2026-01-01&to=2027-12-31")
    assert assessor.locator("#fig-visits [data-count]").inner_text() == "1"
    assert assessor.locator("#fig-received [data-count]").inner_text() == "1"
