"""A township editor records a meeting on a phone; the ledger pages look right in Chromium."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e
TZ = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="session")
def meeting_ids(e2e_app, e2e_world):
    """A few records in village A1a: on time, late (补录), a general meeting, an edited one."""
    from tracker.extensions import db
    from tracker.meetings import services
    from tracker.meetings.services import MeetingInput
    from tracker.models import Branch, Member
    from tracker.workdays import WorkCalendar

    cal = WorkCalendar()
    with e2e_app.app_context():
        branch = db.session.query(Branch).filter_by(region_id=e2e_world["villages"]["a1a"]).one()
        members = db.session.query(Member).filter_by(branch_id=branch.id).order_by(Member.id).all()
        now = datetime.now(TZ)

        def rec(days, kind, entered_after=0, **kw):
            start = (now - timedelta(days=days)).replace(hour=9, minute=0, second=0, microsecond=0)
            data = MeetingInput(
                kind=kind,
                started_at=start,
                ended_at=start + timedelta(hours=1, minutes=30),
                place="村党员活动室",
                host_id=members[0].id,
                recorder="张文书",
                topics=kw.pop("topics", "研究本月党建工作安排"),
                content="支部书记传达了镇党委会议精神，与会人员逐一发言。\n会议决定本月开展人居环境整治。",
                resolutions="1. 本月 20 日前完成村屯环境整治。\n2. 下月主题党日开展志愿服务。",
                present_ids={m.id for m in members[:4]},
                absence_reasons={members[4].id: "外出务工", members[5].id: "生病住院"},
                **kw,
            )
            return services.record_meeting(
                branch, data, None, cal, now=start + timedelta(days=entered_after, hours=3)
            )

        a = rec(40, "branch_committee_meeting")
        b = rec(30, "theme_party_day", entered_after=20, topics="重温入党誓词")
        c = rec(12, "branch_general_meeting", topics="传达学习上级会议精神\n讨论村集体经济发展计划")
        d = rec(8, "party_lecture", lecturer="李书记", topics="乡村振兴战略专题党课")
        edited = MeetingInput(**{**d.__dict__}) if False else None
        del edited
        data = MeetingInput(
            kind="party_lecture",
            started_at=d.started_at,
            ended_at=d.ended_at + timedelta(minutes=30),
            place="村党群服务中心",
            host_id=members[0].id,
            recorder="张文书",
            lecturer="李书记",
            topics="乡村振兴战略专题党课",
            content=d.content,
            resolutions=d.resolutions,
            present_ids={m.id for m in members[:5]},
            absence_reasons={members[5].id: "生病住院"},
        )
        services.update_meeting(d, data, None, cal, expected_version=1, reason="补记迟到党员")
        db.session.commit()
        return {
            "village": branch.region_id,
            "late": b.id,
            "general": c.id,
            "edited": d.id,
            "first": a.id,
        }


def _fits(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"] + 1


def test_editor_records_a_meeting_at_phone_width(page_for, e2e_world, meeting_ids, shoot):
    page = page_for(e2e_world["users"]["town_a1_editor"], phone=True)
    village = meeting_ids["village"]
    page.goto(f"/meetings/v/{village}/grid")
    shoot(page, "meetings-grid-phone")
    page.click("text=＋ 登记会议")
    page.wait_for_url(lambda url: "/new" in url)
    _fits(page)
    start = (datetime.now(TZ) - timedelta(hours=3)).replace(minute=0, second=0, microsecond=0)
    page.select_option("select[name=kind]", "theme_party_day")
    page.fill("input[name=started_at]", start.strftime("%Y-%m-%dT%H:%M"))
    page.fill("input[name=ended_at]", (start + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"))
    page.fill("input[name=place]", "村党员活动室")
    page.select_option("select[name=host_id]", index=1)
    page.fill("textarea[name=topics]", "重温入党誓词\n志愿服务进农户")
    # Everyone is ticked present by default; untick one and give the reason.
    boxes = page.locator(".attend-list input[type=checkbox]")
    assert boxes.count() == 6 and all(boxes.nth(i).is_checked() for i in range(6))
    boxes.nth(2).uncheck()
    reason = page.locator(".attend-list .list-group-item").nth(2).locator(".reason input")
    assert reason.is_visible()
    reason.fill("外出务工")
    reason.evaluate("e => e.blur()")  # close the reason suggestions before saving
    assert "实到 5 人" in page.inner_text("#attend-count")
    shoot(page, "meetings-form-filled-phone")
    page.click("#save")
    page.wait_for_url(lambda url: "/new" not in url)
    body = page.inner_text("main")
    assert "会议记录已保存" in body and "外出务工" in body and "重温入党誓词" in body
    _fits(page)
    shoot(page, "meetings-detail-new-phone")
    # Back and save the same meeting again: refused as a duplicate, next to the time.
    page.go_back()
    page.fill("input[name=place]", "村党员活动室")
    page.click("#save")
    page.wait_for_load_state()
    assert "可能是重复提交" in page.inner_text("main")


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_ledger_pages_at_both_widths(page_for, e2e_world, meeting_ids, shoot, phone):
    page = page_for(e2e_world["users"]["town_a1_editor"], phone=phone)
    suffix = "phone" if phone else "desktop"
    village = meeting_ids["village"]
    pages = {
        "ledger": f"/meetings/v/{village}",
        "grid": f"/meetings/v/{village}/grid",
        "form": f"/meetings/v/{village}/new",
        "detail": f"/meetings/{meeting_ids['general']}",
        "detail-late": f"/meetings/{meeting_ids['late']}",
        "history": f"/meetings/{meeting_ids['edited']}/history",
        "print": f"/meetings/{meeting_ids['general']}/print",
        "plans": f"/meetings/v/{village}/plans",
        "index": "/meetings/",
    }
    for name, url in pages.items():
        resp = page.goto(url)
        assert resp is not None and resp.status == 200, url
        if name != "grid" or phone is False:
            _fits(page)
        shoot(page, f"meetings-{name}-{suffix}")
    page.goto(f"/meetings/v/{village}")
    assert "补录" in page.inner_text("main")
    page.goto(f"/meetings/{meeting_ids['edited']}/history")
    assert "补记迟到党员" in page.inner_text("main")


def test_print_view_is_one_a4_page(page_for, e2e_world, meeting_ids, tmp_path):
    page = page_for(e2e_world["users"]["town_a1_editor"])
    page.goto(f"/meetings/{meeting_ids['general']}/print")
    pdf = page.pdf(format="A4", print_background=True, prefer_css_page_size=True)
    out = os.environ.get("SCREENSHOTS")
    target = Path(out) if out else tmp_path
    target.mkdir(parents=True, exist_ok=True)
    (target / "meetings-print.pdf").write_bytes(pdf)
    assert (
        pdf.startswith(b"%PDF")
        and pdf.count(b"/Type /Page\n") + pdf.count(b"/Type/Page>>") + pdf.count(b"/Type /Page>>")
        <= 1
        or pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages") == 1
    )


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_record_a_meeting_with_leave_and_absence(page_for, e2e_world, meeting_ids, shoot, phone):
    """请假 (reason from the list) and 缺席 apart; a not quorate 党员大会 warns first."""
    page = page_for(e2e_world["users"]["town_a1_editor"], phone=phone)
    suffix = "390" if phone else "1366"
    village = meeting_ids["village"]
    page.goto(f"/meetings/v/{village}/new")
    days = 7 if phone else 2
    start = (datetime.now(TZ) - timedelta(days=days)).replace(
        hour=19, minute=30, second=0, microsecond=0
    )
    page.select_option("select[name=kind]", "branch_general_meeting")
    # A past meeting's day and time in two clicks: 前天/昨天, then 晚上 7:30.
    page.click(f"[data-days-ago='{days}']")
    page.click("[data-start-time='19:30']")
    assert page.input_value("input[name=started_at]") == start.strftime("%Y-%m-%dT%H:%M")
    assert page.input_value("input[name=ended_at]") == (start + timedelta(hours=1)).strftime(
        "%Y-%m-%dT%H:%M"
    )
    page.fill("input[name=place]", "村党员活动室")
    page.select_option("select[name=host_id]", index=1)
    page.fill("textarea[name=topics]", "讨论发展对象")
    rows = page.locator(".attend-list .list-group-item")
    for i in (2, 3, 4, 5):
        rows.nth(i).locator("input[type=checkbox]").uncheck()
    # Row 2: 请假 with a reason from the list; rows 3–5: 缺席.
    rows.nth(2).locator("select").select_option("leave")
    rows.nth(2).locator(".reason input").fill("生病住院")
    rows.nth(2).locator(".reason input").evaluate("e => e.blur()")  # close the suggestions
    assert rows.nth(2).locator("datalist, [list=absence-reasons]").count() == 1
    for i in (3, 4, 5):
        rows.nth(i).locator("select").select_option("absent")
    with page.expect_navigation():
        page.click("#save")
    # 2 of 6 present: not quorate — a warning, nothing saved yet, everything kept.
    warning = page.locator("#meeting-warnings")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("未达到法定人数")
    assert page.input_value("input[name=place]") == "村党员活动室"
    assert rows.nth(2).locator(".reason input").input_value() == "生病住院"
    shoot(page, f"meetings-leave-warning-{suffix}")
    page.click("#save-anyway")
    page.wait_for_url(lambda url: "/new" not in url)
    leave = page.inner_text("#on-leave")
    absent = page.inner_text("#absent")
    assert "生病住院" in leave and "生病住院" not in absent and "未说明原因" in absent
    shoot(page, f"meetings-leave-detail-{suffix}")
    page.goto(page.url + "/print")
    body = page.inner_text("body")
    assert "请假：" in body and "缺席：" in body
