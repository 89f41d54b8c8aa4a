"""A village clerk, on a phone, sets a member's dues base and records a payment; the dues
pages fit the screen at phone and desktop width."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e


def test_clerk_records_dues_on_a_phone(page_for, e2e_world, shoot):
    village = e2e_world["villages"]["a2a"]
    page = page_for(e2e_world["users"]["town_a2_editor"], phone=True)
    page.goto(f"/dues/v/{village}")
    assert "党费收缴" in page.content()
    page.locator("#dues-members a").first.click()
    page.wait_for_url("**/dues/members/*")
    member_url = page.url
    # The base first: income-based, 4200 元 → 1 % → 42.00 a month.
    page.select_option("select[name=category]", "income")
    page.fill("input[name=income]", "4200")
    page.click("text=核定党费基数 >> xpath=../.. >> button[type=submit]")
    page.wait_for_url(member_url)
    assert "每月 42.00 元" in page.content()
    # A payment below what is due: the message appears beside the amount, nothing saved.
    page.fill("input[name=amount]", "40")
    page.select_option("select[name=method]", "wechat")
    page.click("text=登记交纳 >> xpath=../.. >> button[type=submit]")
    assert page.locator(".invalid-feedback", has_text="少于所交月份应交的 42.00 元").is_visible()
    shoot(page, "dues-member-error-phone")
    page.fill("input[name=amount]", "42.00")
    page.click("text=登记交纳 >> xpath=../.. >> button[type=submit]")
    page.wait_for_url(member_url)
    assert "交纳记录已登记" in page.content()
    assert page.locator("#dues-payments tr", has_text="42.00").count() == 1
    shoot(page, "dues-member-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_dues_pages_fit_the_screen(page_for, e2e_world, shoot, phone):
    suffix = "phone" if phone else "desktop"
    width = 390 if phone else 1366
    village = e2e_world["villages"]["a1a"]
    page = page_for(e2e_world["users"]["city_admin"], phone=phone)
    for path, name in [
        ("/dues/", "dues-index"),
        (f"/dues/v/{village}", "dues-village"),
        (f"/org/villages/{village}/roster/print", "roster-print"),
    ]:
        page.goto(path)
        shoot(page, f"{name}-{suffix}")
        scroll = page.evaluate("document.documentElement.scrollWidth")
        assert scroll <= width, f"{path} is {scroll}px wide at {width}px"
