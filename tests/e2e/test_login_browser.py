"""A person opens the tracker in Chromium and signs in."""

import pytest

pytestmark = pytest.mark.e2e


def test_login_page_is_chinese_and_signs_in(page_for, e2e_world, shoot):
    page = page_for()
    page.goto("/login")
    assert "村级党建台账" in page.content()
    shoot(page, "login-desktop")
    page.fill("input[name=username]", e2e_world["users"]["town_a1_editor"])
    page.fill("input[name=password]", "wrong-password")
    page.click("button[type=submit]")
    assert "用户名或密码不正确" in page.content()
    from tests.factories import PASSWORD

    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)
    assert "待办事项" in page.content()
    shoot(page, "home-desktop")


def test_login_page_fits_a_phone(page_for, shoot):
    page = page_for(phone=True)
    page.goto("/login")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    shoot(page, "login-phone")
