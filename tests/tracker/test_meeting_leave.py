"""请假 apart from 缺席, and the warning before saving a meeting that will not count."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.tracker.test_meeting_helpers import form_data, recent
from tracker.meetings import rules
from tracker.meetings.models import Meeting


@pytest.fixture(autouse=True)
def _committed(world, db):
    db.session.commit()


@pytest.fixture
def login(login):
    from flask import g

    def do(user):
        g.pop("scope", None)
        g.pop("_login_user", None)
        return login(user)

    return do


def _count(db, village) -> int:
    return db.session.scalar(select(func.count(Meeting.id)).where(Meeting.region_id == village.id))


def test_leave_and_absence_are_recorded_and_shown_apart(world, login, db):
    client = login(world.users["town_a1_editor"])
    v = world.village_a1a
    members = world.members[v.id]
    body = form_data(world, v, recent(), present=[str(m.id) for m in members[:4]])
    body[f"absence_{members[4].id}"] = "leave"
    body[f"reason_{members[4].id}"] = "生病住院"
    body[f"absence_{members[5].id}"] = "absent"
    body[f"reason_{members[5].id}"] = ""
    resp = client.post(f"/meetings/v/{v.id}/new", data=body)
    assert resp.status_code == 302, resp.get_data(as_text=True)
    m = db.session.scalar(select(Meeting).where(Meeting.region_id == v.id))
    rows = {a.member_id: a for a in m.attendance}
    assert rows[members[4].id].excused and rows[members[4].id].absence_reason == "生病住院"
    assert not rows[members[5].id].excused and not rows[members[5].id].present
    page = client.get(f"/meetings/{m.id}").get_data(as_text=True)
    leave = page[page.index('id="on-leave"') : page.index('id="absent"')]
    absent = page[page.index('id="absent"') :]
    assert members[4].name in leave and "生病住院" in leave and members[5].name not in leave
    assert members[5].name in absent[: absent.index("</div>")]
    printed = client.get(f"/meetings/{m.id}/print").get_data(as_text=True)
    assert "请假：" in printed and "生病住院" in printed and "缺席：" in printed
    # The edit form shows the 请假 choice again.
    form = client.get(f"/meetings/{m.id}/edit").get_data(as_text=True)
    select_html = form[form.index(f'name="absence_{members[4].id}"') :][:300]
    assert 'value="leave" selected' in select_html


def test_leave_needs_a_reason(world, login, db):
    client = login(world.users["town_a1_editor"])
    v = world.village_a1a
    members = world.members[v.id]
    body = form_data(world, v, recent(), present=[str(m.id) for m in members[:5]])
    body[f"absence_{members[5].id}"] = "leave"
    body[f"reason_{members[5].id}"] = " "
    resp = client.post(f"/meetings/v/{v.id}/new", data=body)
    assert resp.status_code == 422
    assert f"请填写 {members[5].name} 的请假原因" in resp.get_data(as_text=True)
    assert _count(db, v) == 0


def test_warning_before_saving_a_meeting_that_will_not_count(world, login, db):
    client = login(world.users["town_a1_editor"])
    v = world.village_a1a
    members = world.members[v.id]
    # 支部党员大会 with only the host there: not quorate.
    body = form_data(
        world, v, recent(), kind="branch_general_meeting", present=[str(members[0].id)]
    )
    resp = client.post(f"/meetings/v/{v.id}/new", data=body)
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "未达到法定人数" in page and 'id="save-anyway"' in page
    assert _count(db, v) == 0
    # What was entered is kept on the warned form.
    assert (
        "村党员活动室" in page and f'value="{members[0].id}" id="p{members[0].id}" checked' in page
    )
    body["confirm"] = "1"
    resp = client.post(f"/meetings/v/{v.id}/new", data=body)
    assert resp.status_code == 302
    m = db.session.scalar(select(Meeting).where(Meeting.region_id == v.id))
    assert m.quorum_met is False


def test_host_absent_warns_and_a_full_meeting_does_not(world, login, db):
    client = login(world.users["town_a1_editor"])
    v = world.village_a1a
    members = world.members[v.id]
    body = form_data(world, v, recent(), present=[str(m.id) for m in members[1:]])
    resp = client.post(f"/meetings/v/{v.id}/new", data=body)
    assert resp.status_code == 200 and "主持人未勾选出席" in resp.get_data(as_text=True)
    assert _count(db, v) == 0
    body = form_data(world, v, recent(2), present=[str(m.id) for m in members])
    assert client.post(f"/meetings/v/{v.id}/new", data=body).status_code == 302


def test_meeting_warnings_rule():
    ok = rules.meeting_warnings(
        needs_quorum=True, full_members=4, full_present=3, host_present=True, recorder_absent=False
    )
    assert ok == []
    out = rules.meeting_warnings(
        needs_quorum=True, full_members=4, full_present=2, host_present=False, recorder_absent=True
    )
    assert len(out) == 3 and "法定人数" in out[0]


def test_groups_and_members_in_natural_order(world, login, db):
    """第一, 第二 … 第十, 第十一 (and 2 before 10) in the form, the record and the print view."""
    import re

    from tests.tracker.test_meeting_helpers import form_data
    from tracker.models import Member, RegionLevel
    from tracker.org.services import add_member, create_branch, create_group, create_region

    village = create_region("自然村", RegionLevel.village, world.town_a1)
    branch = create_branch(village, "自然村党支部")
    names = ["第十一党小组", "第二党小组", "第十党小组", "第一党小组", "10组", "2组"]
    groups = {n: create_group(branch, n) for n in names}
    people = {}
    for i, n in enumerate(names):
        people[n] = add_member(branch, f"成员{'甲乙丙丁戊己'[i]}", group=groups[n])
    loner = add_member(branch, "无组成员")
    db.session.commit()
    expected_groups = ["2组", "10组", "第一党小组", "第二党小组", "第十党小组", "第十一党小组"]
    expected = [people[g].name for g in expected_groups] + [loner.name]
    client = login(world.users["town_a1_editor"])
    page = client.get(f"/meetings/v/{village.id}/new").get_data(as_text=True)
    options = re.findall(
        r'<option value="\d+">([^<]+)</option>', page[page.index('id="group_id"') :]
    )
    assert options[: len(expected_groups)] == expected_groups
    listed = re.findall(r"(成员.|无组成员)", page[page.index("attend-list") :])
    assert list(dict.fromkeys(listed)) == expected

    class W:  # form_data reads the roster of the village from world.members
        members = {village.id: db.session.query(Member).filter_by(branch_id=branch.id).all()}

    body = form_data(W, village, recent(), present=[str(people["第十党小组"].id)])
    body["host_id"] = str(people["第十党小组"].id)
    for m in W.members[village.id]:
        if m.id != people["第十党小组"].id:
            body[f"absence_{m.id}"] = "absent"
    resp = client.post(f"/meetings/v/{village.id}/new", data={**body, "confirm_warnings": "1"})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    meeting = db.session.scalar(select(Meeting).where(Meeting.region_id == village.id))
    detail = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    absent = detail[detail.index('id="absent"') :]
    absent = absent[: absent.index("</div>")]
    order = re.findall(r"(成员.|无组成员)", absent)
    assert order == [n for n in expected if n != people["第十党小组"].name]
