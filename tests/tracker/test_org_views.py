"""Organisation pages: forms save, errors sit beside the field in Chinese, nothing half-saved."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from tracker.models import AuditLog, Member, PartyGroup, Region, Role, User, VillageCadre


@pytest.fixture(autouse=True)
def _cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2 at its production cost takes most of a second per user; tests need no such cost."""
    from argon2 import PasswordHasher

    from tracker import security

    monkeypatch.setattr(
        security, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )


@pytest.fixture
def world(world, db):
    db.session.commit()  # error handlers roll back; keep the world in its savepoint
    return world


@pytest.fixture
def login(login):
    """Switch users within a test: the test's app context (and its ``g``) outlives requests."""
    from flask import g

    def do(user):
        for key in ("scope", "_login_user", "_flask_babel"):
            g.pop(key, None)
        return login(user)

    return do


def field_error(html: str, message: str) -> bool:
    """The message is rendered as the invalid-feedback of a field."""
    return f'<div class="invalid-feedback d-block">{message}</div>' in html


def test_roster_page_filters_by_status(world, login):
    client = login(world.users["town_a1_editor"])
    html = client.get(f"/org/villages/{world.village_a1a.id}?status=probationary").get_data(
        as_text=True
    )
    assert "党员6" in html and "党员1<" not in html


def test_roster_page_masks_phone_numbers(world, login):
    html = (
        login(world.users["county_a_viewer"])
        .get(f"/org/villages/{world.village_a1a.id}")
        .get_data(as_text=True)
    )
    assert "138****1234" in html and "13800001234" not in html


def test_viewer_sees_the_roster_without_edit_buttons(world, login):
    html = (
        login(world.users["county_a_viewer"])
        .get(f"/org/villages/{world.village_a1a.id}")
        .get_data(as_text=True)
    )
    assert "添加党员" not in html and "导出 Excel" in html


def test_adding_a_member_through_the_form(world, db, login):
    client = login(world.users["town_a1_editor"])
    group = world.groups[world.village_a1a.id][0]
    resp = client.post(
        f"/org/villages/{world.village_a1a.id}/members/new",
        data={
            "name": "新党员",
            "gender": "female",
            "birth_year": "1992",
            "status": "probationary",
            "group_id": str(group.id),
            "joined_on": "2025-07-01",
            "phone": "13912345678",
            "note": "",
        },
    )
    assert resp.status_code == 302
    member = db.session.scalar(select(Member).where(Member.name == "新党员"))
    assert member.group_id == group.id and member.joined_on == date(2025, 7, 1)
    logs = db.session.scalars(
        select(AuditLog).where(AuditLog.entity == "member", AuditLog.action == "insert")
    ).all()
    log = next(r for r in logs if (r.after or {}).get("name") == "新党员")
    assert log.actor_id == world.users["town_a1_editor"].id
    assert log.region_id == world.village_a1a.id


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": ""}, "必填"),
        ({"name": "甲", "birth_year": "1850"}, "请填写四位年份"),
        ({"name": "甲", "birth_year": "2020"}, "出生年份应在"),
        ({"name": "甲", "phone": "电话"}, "电话号码应为 6–20 位数字"),
        ({"name": "甲", "joined_on": "2099-01-01"}, "入党日期不能晚于今天"),
        ({"name": "甲", "joined_on": "2999-01-01"}, "日期超出合理范围"),
        ({"name": "甲\x00乙"}, "控制字符"),
    ],
)
def test_bad_member_input_is_shown_beside_the_field(world, db, login, data, message):
    client = login(world.users["town_a1_editor"])
    before = db.session.scalar(select(func.count(Member.id)))
    form = {"status": "full", "group_id": "0", "gender": "", **data}
    resp = client.post(f"/org/villages/{world.village_a1a.id}/members/new", data=form)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert message in html and "invalid-feedback" in html
    assert db.session.scalar(select(func.count(Member.id))) == before


def test_a_group_of_another_village_cannot_be_chosen(world, login):
    client = login(world.users["town_a1_editor"])
    other = world.groups[world.village_a1b.id][0]
    resp = client.post(
        f"/org/villages/{world.village_a1a.id}/members/new",
        data={"name": "甲", "status": "full", "group_id": str(other.id)},
    )
    assert resp.status_code == 422


def test_editing_and_leaving(world, db, login):
    client = login(world.users["town_a1_editor"])
    member = world.members[world.village_a1a.id][0]
    resp = client.post(
        f"/org/members/{member.id}/edit",
        data={"name": member.name, "status": "full", "group_id": "0", "phone": "13700000000"},
    )
    assert resp.status_code == 302
    assert db.session.get(Member, member.id).phone == "13700000000"
    resp = client.post(
        f"/org/members/{member.id}/leave", data={"left_on": "2026-01-05", "reason": "转出"}
    )
    assert resp.status_code == 302
    assert db.session.get(Member, member.id).left_on == date(2026, 1, 5)
    resp = client.post(f"/org/members/{member.id}/leave", data={"left_on": "2026-01-06"})
    assert resp.status_code == 422
    assert "已不在册" in resp.get_data(as_text=True)


def test_groups_and_cadres_pages(world, db, login):
    client = login(world.users["town_a1_editor"])
    vid = world.village_a1a.id
    assert (
        client.post(f"/org/villages/{vid}/groups", data={"name": "第三党小组"}).status_code == 302
    )
    resp = client.post(f"/org/villages/{vid}/groups", data={"name": "第三党小组"})
    assert resp.status_code == 422 and "同名" in resp.get_data(as_text=True)
    assert (
        db.session.scalar(select(func.count(PartyGroup.id)).where(PartyGroup.name == "第三党小组"))
        == 1
    )
    resp = client.post(
        f"/org/villages/{vid}/cadres",
        data={"name": "赵六", "post": "党支部书记", "member_id": "0", "reserve": "y"},
    )
    assert resp.status_code == 302
    cadre = db.session.scalar(select(VillageCadre).where(VillageCadre.name == "赵六"))
    assert cadre.reserve
    html = client.get(f"/org/villages/{vid}/cadres").get_data(as_text=True)
    assert "后备干部" in html


def test_admin_adds_and_renames_a_village(world, db, login):
    client = login(world.users["county_a_admin"])
    resp = client.post(
        f"/org/regions/{world.town_a1.id}/children", data={"name": "新建村", "code": ""}
    )
    assert resp.status_code == 302
    village = db.session.scalar(select(Region).where(Region.name == "新建村"))
    assert village.parent_id == world.town_a1.id
    resp = client.post(f"/org/regions/{village.id}/edit", data={"name": "新建村", "code": "12"})
    assert resp.status_code == 422 and "12 位" in resp.get_data(as_text=True)


def test_editors_cannot_manage_regions_or_users(world, login):
    client = login(world.users["town_a1_editor"])
    assert (
        client.post(f"/org/regions/{world.town_a1.id}/children", data={"name": "x"}).status_code
        == 403
    )
    assert client.get("/org/users").status_code == 403
    assert client.get("/org/audit").status_code == 403


def test_admin_creates_a_user_in_its_subtree(world, db, login):
    client = login(world.users["county_a_admin"])
    resp = client.post(
        "/org/users/new",
        data={
            "username": "clerk_new",
            "display_name": "新文书",
            "role": "editor",
            "region_id": str(world.village_a1a.id),
            "password": "initial-pass-1",
            "active": "y",
        },
    )
    assert resp.status_code == 302
    user = db.session.scalar(select(User).where(User.username == "clerk_new"))
    assert user.role == Role.editor and user.region_id == world.village_a1a.id


def test_admin_cannot_place_a_user_outside_its_subtree(world, db, login):
    client = login(world.users["county_a_admin"])
    for region in (world.city, world.village_b1a):
        resp = client.post(
            "/org/users/new",
            data={
                "username": "intruder",
                "display_name": "x",
                "role": "admin",
                "region_id": str(region.id),
                "password": "initial-pass-1",
            },
        )
        assert resp.status_code == 422
    assert db.session.scalar(select(User).where(User.username == "intruder")) is None


def test_users_page_lists_only_the_subtree(world, login):
    html = login(world.users["county_a_admin"]).get("/org/users").get_data(as_text=True)
    assert world.users["town_a1_editor"].username in html
    assert world.users["town_b1_editor"].username not in html


def test_admin_deactivates_a_user_and_resets_a_password(world, db, login):
    client = login(world.users["county_a_admin"])
    editor = world.users["town_a1_editor"]
    resp = client.post(
        f"/org/users/{editor.id}/edit",
        data={
            "username": editor.username,
            "display_name": "停用的人",
            "role": "editor",
            "region_id": str(editor.region_id),
        },
    )
    assert resp.status_code == 302
    assert db.session.get(User, editor.id).active is False
    resp = client.post(
        f"/org/users/{editor.id}/password", data={"password": "short", "confirm": "short"}
    )
    assert resp.status_code == 422
    resp = client.post(
        f"/org/users/{editor.id}/password",
        data={"password": "a-new-password", "confirm": "a-new-password"},
    )
    assert resp.status_code == 302


def test_audit_page_shows_who_what_before_and_after(world, db, login):
    client = login(world.users["town_a1_editor"])
    member = world.members[world.village_a1a.id][0]
    client.post(
        f"/org/members/{member.id}/edit",
        data={"name": member.name, "status": "full", "group_id": "0", "phone": "13700000000"},
    )
    admin = login(world.users["county_a_admin"])
    html = admin.get("/org/audit?entity=member").get_data(as_text=True)
    assert "13800001234" in html and "13700000000" in html
    assert world.users["town_a1_editor"].username in html
    other = login(world.users["city_admin"])  # a different admin, same log
    assert "13700000000" in other.get("/org/audit").get_data(as_text=True)


def test_audit_page_is_limited_to_the_admins_subtree(world, db, login):
    from tracker.audit import set_actor

    set_actor(None, "cli")
    world.members[world.village_b1a.id][0].phone = "13611112222"
    db.session.flush()
    db.session.commit()
    html = login(world.users["county_a_admin"]).get("/org/audit").get_data(as_text=True)
    assert "13611112222" not in html


def test_home_shows_the_admin_todo(world, db, login):
    html = login(world.users["county_a_admin"]).get("/").get_data(as_text=True)
    assert "有账号从未登录" in html


def test_english_pages(world, login):
    from flask import g

    client = login(world.users["county_a_admin"])
    html = client.get(f"/org/villages/{world.village_a1a.id}?lang=en").get_data(as_text=True)
    assert "Member roster" in html and "Full member" in html and 'lang="en"' in html
    g.pop("_flask_babel", None)
    html = client.get("/org/users").get_data(as_text=True)
    assert "Administrator" in html and "New user" in html


def test_a_lost_race_for_a_unique_name_saves_nothing_and_says_so(world, db, login, monkeypatch):
    """Two clerks add the same group at once: the loser gets a message, not a 500."""
    from tracker.org import services

    client = login(world.users["town_a1_editor"])
    monkeypatch.setattr(services, "_check_group_name", lambda branch, name, group=None: name)
    resp = client.post(
        f"/org/villages/{world.village_a1a.id}/groups",
        data={"name": "第一党小组"},
        headers={"Referer": f"http://tracker.test/org/villages/{world.village_a1a.id}/groups"},
    )
    assert resp.status_code == 302
    html = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "重复提交" in html
    count = db.session.scalar(
        select(func.count(PartyGroup.id)).where(
            PartyGroup.branch_id == world.branch(world.village_a1a).id,
            PartyGroup.name == "第一党小组",
        )
    )
    assert count == 1


def test_region_page_counts_villages_and_members_under_each_child(world, login):
    import re

    html = login(world.users["county_a_viewer"]).get(f"/org/regions/{world.county_a.id}")
    rows = {
        name: [int(n) for n in re.findall(r'<td class="text-end">(\d+)</td>', row)]
        for name, row in re.findall(
            r">(镇甲[一二])</a>(.*?)</tr>", html.get_data(as_text=True), re.S
        )
    }
    assert rows == {"镇甲一": [2, 12], "镇甲二": [1, 6]}
