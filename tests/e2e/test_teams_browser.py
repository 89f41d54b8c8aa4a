"""At phone width (390 px) a township editor records one reserve cadre, one cadre
assessment, one farmer training and one hall resident service through the pages."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="session")
def teams_case(e2e_app, e2e_world):
    """A serving cadre of 村甲一甲 to assess, and the village's service hall."""
    from datetime import date

    from tracker.extensions import db
    from tracker.halls import services as halls
    from tracker.models import Region, VillageCadre

    with e2e_app.app_context():
        village = db.session.get(Region, e2e_world["villages"]["a1a"])
        cadre = VillageCadre(
            region_id=village.id, name="赵建国", post="村委会委员", since=date(2021, 1, 4)
        )
        db.session.add(cadre)
        hall = halls.create_hall(village, halls.HallData(name="村甲一甲便民服务中心"))
        db.session.commit()
        return {"village": village.id, "cadre": cadre.id, "hall": hall.id}


def _save(page) -> None:
    page.locator("main form button[type=submit]").last.click()
    page.wait_for_load_state()


def _fits(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 392


def test_an_editor_records_the_team_and_service_registers_on_a_phone(
    page_for, e2e_world, teams_case, shoot
):
    from tracker import clock

    village = teams_case["village"]
    today = clock.today()
    page = page_for(e2e_world["users"]["town_a1_editor"], phone=True)

    # 1. a reserve cadre (后备干部)
    page.goto(f"/teams/reserves/v/{village}/new")
    _fits(page)
    page.fill("input[name=name]", "孙晓明")
    page.select_option("select[name=source]", "graduate")
    page.select_option("select[name=track]", "committee")
    page.fill("input[name=mentor]", "村党支部书记")
    _save(page)
    page.wait_for_selector(".alert-success")
    assert "后备干部已入库" in page.content() and "孙晓明" in page.content()
    shoot(page, "teams-reserve-phone")

    # 2. a yearly cadre assessment (村干部考核)
    page.goto(f"/teams/cadres/v/{village}")
    _fits(page)
    page.select_option("select[name=cadre_id]", str(teams_case["cadre"]))
    page.select_option("select[name=grade]", "competent")
    page.fill("input[name=decided_by]", "镇党委")
    _save(page)
    page.wait_for_selector(".alert-success")
    assert "考核结果已保存" in page.content() and "赵建国" in page.content()

    # 3. a farmer training (农民教育培训) with one named villager
    page.goto(f"/trainings/v/{village}/farmers/new")
    _fits(page)
    page.fill("input[name=title]", "农产品直播带货实务")
    page.select_option("select[name=topic]", "电商")
    page.fill("input[name=hours]", "3")
    page.fill("input[name=place]", "村新时代文明实践站")
    page.fill("input[name=trainee_count]", "15")
    page.fill("textarea[name=trainees]", "王春山 13912345678")
    _save(page)
    page.wait_for_selector(".alert-success")
    html = page.content()
    assert "农民培训记录已保存" in html and "139****5678" in html and "13912345678" not in html
    assert "16" in page.locator("dl").inner_text()
    shoot(page, "farmer-training-phone")

    # 4. a resident service of the hall (场所功能提升) and its month
    page.goto(f"/halls/{teams_case['hall']}/services/new")
    _fits(page)
    page.select_option("select[name=kind]", "ecommerce")
    page.fill("input[name=name]", "农村电商服务站")
    page.fill("input[name=provider]", "县电子商务公共服务中心")
    page.fill("input[name=opening_hours]", "工作日 08:30-17:00")
    _save(page)
    page.wait_for_selector(".alert-success")
    assert "入驻服务已登记" in page.content()
    page.fill("input[name=value]", "128")
    _save(page)
    page.wait_for_selector(".alert-success")
    assert "月度数据已保存" in page.content()
    page.goto(f"/halls/{teams_case['hall']}")
    _fits(page)
    services = page.locator("#resident-services").inner_text()
    assert "农村电商服务站" in services and "128" in services
    assert f"{today:%Y-%m}" in services
    shoot(page, "hall-services-phone")
