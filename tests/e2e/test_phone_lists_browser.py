"""Phones (390 px): the main lists are cards with their status visible and no side-scrolling;
tab strips wrap; chart text is at least 11 px; an upload over the limit is refused beside its
field before it is sent, and what was typed stays."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def lists_world(e2e_app: Any, e2e_world: Any) -> dict[str, Any]:
    """One of each listed thing in village a1a (committed: the live server reads them)."""
    from datetime import date, timedelta

    from tracker import clock
    from tracker.calendar_service import load_calendar
    from tracker.extensions import db
    from tracker.halls import services as halls
    from tracker.matters.models import Channel, MatterKind
    from tracker.matters.services import register_matter, save_matter_type
    from tracker.meetings.services import MeetingInput, record_meeting
    from tracker.models import Branch, Member, Region, User
    from tracker.org.services import CadreData, add_cadre
    from tracker.trainings.models import TrainingKind
    from tracker.trainings.services import TrainingInput, create_training

    village_id = e2e_world["villages"]["a1a"]
    with e2e_app.app_context():
        village = db.session.get(Region, village_id)
        county = db.session.get(Region, village.ancestor_ids[1])
        clerk = (
            db.session.query(User)
            .filter_by(username=e2e_world["users"]["village_a1a_editor"])
            .one()
        )
        t = save_matter_type(
            county, name="卡片列表测试事项", kind=MatterKind.promised, promised_days=5
        )
        register_matter(
            village=village,
            matter_type=t,
            applicant_name="卡片申请人",
            applicant_phone="13900007777",
            channel=Channel.in_person,
            first_responder=clerk,
            actor=clerk,
            calendar=load_calendar(),
        )
        hall = halls.create_hall(village, halls.HallData(name="卡片测试大厅"))
        halls.create_camera(
            hall, halls.CameraData(name="卡片测试机位", stream_url="rtsp://10.9.0.1/card")
        )
        add_cadre(village, CadreData(name="卡片干部", post="村委会主任", since=date(2024, 1, 1)))
        branch = db.session.query(Branch).filter_by(region_id=village_id).one()
        members = db.session.query(Member).filter_by(branch_id=branch.id).all()
        start = clock.now() - timedelta(days=3)
        record_meeting(
            branch,
            MeetingInput(
                kind="branch_committee_meeting",
                started_at=start,
                ended_at=start + timedelta(hours=1),
                place="村党员活动室",
                host_id=members[0].id,
                recorder="记录员",
                topics="卡片列表测试会议",
                all_present=True,
            ),
            None,
            load_calendar(),
        )
        create_training(
            branch,
            TrainingInput(
                kind=next(iter(TrainingKind)),
                title="卡片列表测试培训",
                held_on=clock.today() - timedelta(days=2),
                hours="2",
                place="村党员活动室",
                attendee_ids=[m.id for m in members[:3]],
            ),
            None,
            load_calendar(),
        )
        db.session.commit()
    return {"village": village_id}


def _cards(page: Any) -> None:
    """The page does not scroll sideways and its list rows are cards, labelled."""
    assert page.evaluate("document.documentElement.scrollWidth") <= 391
    table = page.locator("table.card-list").first
    assert table.count() == 1
    assert table.locator("thead").evaluate("e => getComputedStyle(e).display") == "none"
    row = table.locator("tbody tr").first
    assert row.evaluate("e => getComputedStyle(e).display") == "block"
    labelled = row.locator("td[data-label]")
    assert labelled.count() >= 2


@pytest.mark.parametrize(
    ("path", "status_label", "name"),
    [
        ("/matters/?view=all", "状态", "matters"),
        ("/meetings/v/{v}", "标记", "meetings-ledger"),
        ("/org/villages/{v}", "类别", "members"),
        ("/trainings/v/{v}", "学时", "trainings"),
        ("/halls/", "当前状态", "halls"),
        ("/org/villages/{v}/cadres", "状态", "cadres"),
    ],
)
def test_main_lists_are_cards_on_a_phone(
    page_for, e2e_world, lists_world, shoot, path, status_label, name
):
    page = page_for(e2e_world["users"]["county_a_admin"], phone=True)
    page.goto(path.format(v=lists_world["village"]))
    _cards(page)
    # The status (or its stand-in) is on the card, not cut off.
    cell = page.locator(f"table.card-list tbody tr td[data-label='{status_label}']:not(:empty)")
    assert cell.count() >= 1
    assert cell.first.is_visible()
    box = cell.first.bounding_box()
    assert box is not None and box["x"] + box["width"] <= 391
    shoot(page, f"phone-list-{name}-390")


def test_tab_strips_wrap_on_a_phone(page_for, e2e_world, lists_world, shoot):
    page = page_for(e2e_world["users"]["village_a1a_editor"], phone=True)
    for path in ("/matters/", f"/meetings/v/{lists_world['village']}"):
        page.goto(path)
        tabs = page.locator(".nav-tabs .nav-link, .nav-pills .nav-link")
        assert tabs.count() >= 2
        for i in range(tabs.count()):
            box = tabs.nth(i).bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 391, path
    shoot(page, "phone-tabs-390")


CHART_TEXT = """() => Array.from(document.querySelectorAll('svg text'))
  .filter(t => t.closest('svg').getBoundingClientRect().width > 0)
  .map(t => parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a)"""


@pytest.mark.parametrize("phone", [False, True], ids=["1366", "390"])
def test_chart_text_is_at_least_11px(page_for, e2e_world, shoot, phone):
    page = page_for(e2e_world["users"]["county_a_admin"], phone=phone)
    page.goto("/dashboard/")
    sizes = page.evaluate(CHART_TEXT)
    assert sizes, "no chart on the dashboard"
    assert min(sizes) >= 11 - 0.05, sorted(sizes)[:5]
    assert page.locator("svg.trend:visible text.value").count() >= 1  # value labels
    assert page.locator("svg.trend:visible text.axis-y").count() >= 3  # the y-axis
    shoot(page, f"dashboard-charts-{'390' if phone else '1366'}")


def test_too_large_attachment_is_refused_beside_the_field_and_the_form_kept(
    page_for, e2e_world, lists_world, shoot
):
    page = page_for(e2e_world["users"]["village_a1a_editor"], phone=True)
    page.goto(f"/meetings/v/{lists_world['village']}/new")
    page.fill("input[name=place]", "村党员活动室")
    page.set_input_files(
        "#attachments",
        {"name": "签到表.jpg", "mimeType": "image/jpeg", "buffer": b"\xff" * (9 * 1024 * 1024)},
    )
    note = page.locator("[data-upload-feedback]")
    assert note.is_visible() and "文件过大" in note.inner_text()
    assert page.evaluate("document.querySelector('#attachments').files.length") == 0
    assert page.input_value("input[name=place]") == "村党员活动室"  # what was typed stays
    shoot(page, "phone-upload-too-large-390")
