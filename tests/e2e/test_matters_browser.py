"""A hall clerk registers a matter on a phone in Chromium; the pages fit 1366 and 390 px."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def matter_type(e2e_app, e2e_world):
    """A county catalog entry (committed: the live server reads it)."""
    from tracker.extensions import db
    from tracker.matters.models import HandlingLevel, MatterKind, MatterType
    from tracker.matters.services import save_matter_type
    from tracker.models import Region

    with e2e_app.app_context():
        village = db.session.get(Region, e2e_world["villages"]["a1a"])
        county = db.session.get(Region, village.ancestor_ids[1])
        existing = db.session.query(MatterType).filter_by(name="最低生活保障申请").first()
        entry = existing or save_matter_type(
            county,
            name="最低生活保障申请",
            category="民政",
            kind=MatterKind.promised,
            promised_days=15,
            statutory_days=30,
            materials=["身份证", "户口簿", "家庭收入证明"],
            handling_level=HandlingLevel.township,
        )
        db.session.commit()
        return entry.id


def _fits(page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_a_clerk_registers_a_matter_on_a_phone(page_for, e2e_world, matter_type, shoot):
    page = page_for(e2e_world["users"]["village_a1a_editor"], phone=True)
    page.goto("/matters/new")
    _fits(page, 390)
    page.select_option("select[name=matter_type_id]", str(matter_type))
    # The required materials appear as ticked boxes; untick one → the one-time notice fills in.
    page.get_by_label("家庭收入证明").uncheck()
    assert "家庭收入证明" in page.input_value("textarea[name=one_time_notice]")
    page.fill("input[name=applicant_name]", "张桂英")
    page.fill("input[name=applicant_phone]", "12345")  # too short: refused beside the field
    shoot(page, "matters-register-phone")
    page.click("#register-form button[type=submit]")
    assert "请填写正确的电话" in page.content()
    page.fill("input[name=applicant_phone]", "13812345678")
    page.get_by_label("家庭收入证明").check()
    page.click("#register-form button[type=submit]")
    page.wait_for_url(lambda url: re.search(r"/matters/\d+$", url) is not None)
    body = page.content()
    assert "张桂英" in body and "首问责任人" in body and "受理" in body
    _fits(page, 390)
    shoot(page, "matters-detail-phone")
    # Complete it from the phone: the action opens its own small form.
    _open_action(page, "办结", "completed")
    page.fill("#completed-note", "已受理并上报乡镇审核")
    page.get_by_role("button", name="确认办结").click()
    page.wait_for_url(lambda url: re.search(r"/matters/\d+$", url) is not None)
    assert "已办结" in page.content()
    shoot(page, "matters-detail-completed-phone")
    page.goto("/matters/?status=")  # 我的事项 shows open ones unless any status is asked for
    assert "张桂英" in page.content()
    _fits(page, 390)
    shoot(page, "matters-mine-phone")


def _open_action(page, label: str, kind: str) -> None:
    """Open a next-step form and wait until it has finished unfolding (Bootstrap's collapse
    moves the form's button while it animates)."""
    page.get_by_role("button", name=label, exact=True).click()
    page.locator(f"#act-{kind}.collapse.show").wait_for()


def test_pages_at_desktop_width_and_the_print_register(
    page_for, e2e_app, e2e_world, matter_type, shoot
):
    from tracker.calendar_service import load_calendar
    from tracker.extensions import db
    from tracker.matters.commands import Refer, SupplyMaterials
    from tracker.matters.models import Channel, MatterType
    from tracker.matters.services import record_event, register_matter
    from tracker.models import Region, User

    with e2e_app.app_context():
        village = db.session.get(Region, e2e_world["villages"]["a1a"])
        clerk = (
            db.session.query(User)
            .filter_by(username=e2e_world["users"]["village_a1a_editor"])
            .one()
        )
        town = db.session.query(User).filter_by(username=e2e_world["users"]["town_a1_editor"]).one()
        t = db.session.get(MatterType, matter_type)
        cal = load_calendar()
        received = datetime.now(UTC) - timedelta(days=40)
        matter, _ = register_matter(
            village=village,
            matter_type=t,
            applicant_name="李德福",
            applicant_phone="13900001111",
            applicant_id_number="11010519491231002X",
            channel=Channel.phone,
            received_at=received,
            first_responder=clerk,
            actor=clerk,
            calendar=cal,
            materials_received=["身份证", "户口簿"],
            materials_missing=["家庭收入证明"],
            one_time_notice="请补齐家庭收入证明。",
        )
        record_event(
            matter,
            SupplyMaterials(at=received + timedelta(days=2), note="已补齐"),
            clerk,
            calendar=cal,
        )
        record_event(
            matter,
            Refer(at=received + timedelta(days=2, hours=1), to_user_id=town.id, note="需乡镇审核"),
            clerk,
            calendar=cal,
        )
        db.session.commit()
        matter_id = matter.id

    page = page_for(e2e_world["users"]["village_a1a_editor"])
    page.goto("/matters/new")
    _fits(page, 1366)
    shoot(page, "matters-register-desktop")
    page.goto("/matters/")
    assert "已转办" in page.content()
    shoot(page, "matters-mine-desktop")
    page.goto(f"/matters/{matter_id}")
    body = page.content()
    assert "转办给" in body and "首问责任人仍为" in body and "已逾期" in body
    shoot(page, "matters-detail-desktop")
    page.goto(f"/matters/register?village_id={e2e_world['villages']['a1a']}")
    assert "便民服务事项登记簿" in page.content()
    shoot(page, "matters-register-book-desktop")
    page.emulate_media(media="print")
    shoot(page, "matters-register-book-print")

    viewer = page_for(e2e_world["users"]["county_a_viewer"], phone=True)
    viewer.goto(f"/matters/{matter_id}")
    assert "13900001111" not in viewer.content() and "139****1111" in viewer.content()
    _fits(viewer, 390)
    viewer.goto(f"/matters/register?village_id={e2e_world['villages']['a1a']}")
    assert "11010519491231002X" not in viewer.content()
    shoot(viewer, "matters-register-book-phone")


@pytest.mark.parametrize(("phone", "width", "digits"), [(False, 1366, "0166"), (True, 390, "0039")])
def test_receipt_qr_rating_and_finding_by_phone_digits(
    page_for, e2e_world, matter_type, shoot, phone, width, digits
):
    """The counter registers and prints a receipt; the applicant scans it and rates; the
    clerk later finds the matter by the last digits of the applicant's phone."""
    tag = "phone" if phone else "desktop"
    clerk = page_for(e2e_world["users"]["village_a1a_editor"], phone=phone)
    clerk.goto("/matters/new")
    clerk.select_option("select[name=matter_type_id]", str(matter_type))
    clerk.get_by_label("家庭收入证明").uncheck()
    clerk.fill("input[name=applicant_name]", f"孙丽华{width}")
    clerk.fill("input[name=applicant_phone]", f"1395555{digits}")
    clerk.click("#register-form button[type=submit]")
    clerk.wait_for_url(lambda url: re.search(r"/matters/\d+$", url) is not None)
    detail_url = clerk.url
    serial = clerk.locator("h1").inner_text().split(" · ")[0].strip()
    # 1 click from the new matter to its receipt.
    clerk.click("#receipt-button")
    clerk.wait_for_url(lambda url: url.endswith("/receipt"))
    _fits(clerk, width)
    receipt = clerk.locator(".receipt").inner_text()
    assert serial in receipt and "家庭收入证明" in receipt and "一次性告知" in receipt
    assert clerk.locator("#receipt-qr svg").is_visible()
    shoot(clerk, f"matters-receipt-{tag}")
    clerk.emulate_media(media="print")
    assert clerk.locator("#print-receipt").is_hidden()  # the buttons stay off the paper
    pdf = clerk.pdf(prefer_css_page_size=True)
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 1  # the receipt prints on one sheet
    clerk.emulate_media(media="screen")
    link = clerk.get_attribute("#receipt-link", "href")
    assert link and "/matters/a/" in link

    # The applicant, on a phone with no account, follows the matter.
    applicant = page_for(None, phone=True)
    applicant.goto(link)
    _fits(applicant, 390)
    steps = applicant.locator("#public-steps").inner_text()
    assert "受理" in steps and "一次性告知补正" in steps and "孙丽华" not in steps
    assert applicant.locator("#public-rating").count() == 0  # not completed yet
    shoot(applicant, f"matters-public-open-{tag}")

    # The counter supplies the materials and completes the matter.
    clerk.goto(detail_url)
    _open_action(clerk, "材料补齐", "materials_supplied")
    with clerk.expect_navigation():
        clerk.get_by_role("button", name="确认材料补齐").click()
    _open_action(clerk, "办结", "completed")
    clerk.fill("#completed-note", "已审核通过")
    with clerk.expect_navigation():
        clerk.get_by_role("button", name="确认办结").click()
    assert "已办结" in clerk.content()

    # The applicant rates, once: 2 taps.
    applicant.goto(link)
    applicant.get_by_label("满意", exact=True).check()
    shoot(applicant, f"matters-public-rate-{tag}")
    with applicant.expect_navigation():
        applicant.get_by_role("button", name="提交评价").click()
    assert "已评价：满意" in applicant.content()
    assert applicant.locator("#public-rating").count() == 0
    _fits(applicant, 390)
    clerk.goto(detail_url)
    assert "申请人扫码评价" in clerk.content()

    # Later: the clerk finds it by the last digits of the applicant's phone (search + 1 click).
    clerk.goto("/matters/?view=all")
    clerk.fill("#q", digits)
    with clerk.expect_navigation():
        clerk.get_by_role("button", name="查找").click()
    assert "q=" in clerk.url
    _fits(clerk, width)
    shoot(clerk, f"matters-search-{tag}")
    rows = clerk.locator(".matters-table tbody tr")
    assert rows.count() == 1 and serial in rows.first.inner_text()
    rows.first.locator("a").first.click()
    clerk.wait_for_url(lambda url: url == detail_url)
