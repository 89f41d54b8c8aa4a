"""notify(): inbox messages for users or everyone covering a region, idempotent by key."""

from tracker.models import Role
from tracker.notifications.services import inbox, mark_read, notify, unread_count


def test_notify_a_user_puts_one_unread_message_in_the_inbox(world, db):
    user = world.users["town_a1_editor"]
    created = notify(user, "事项即将到期", "2026-0001 明天到期", "/matters/1", "matter_due_soon")
    assert len(created) == 1
    assert unread_count(user.id) == 1
    assert inbox(user.id)[0].title == "事项即将到期"


def test_notify_a_region_reaches_every_user_whose_scope_covers_it(world, db):
    notes = notify(world.village_a1a, "摄像头离线", kind="camera_down")
    got = {n.user_id for n in notes}
    expected = {
        world.users[k].id
        for k in (
            "city_admin",
            "county_a_admin",
            "county_a_viewer",
            "town_a1_editor",
            "village_a1a_editor",
        )
    }
    assert got == expected
    assert world.users["town_a2_editor"].id not in got


def test_notify_a_region_can_be_limited_to_roles(world, db):
    notes = notify(world.village_a1a, "日历缺失", roles={Role.admin})
    assert {n.user_id for n in notes} == {
        world.users["city_admin"].id,
        world.users["county_a_admin"].id,
    }


def test_the_same_dedupe_key_notifies_once(world, db):
    user = world.users["town_a1_editor"]
    notify(user, "逾期", dedupe_key="matter:1:overdue:2026-10-09")
    again = notify(user, "逾期", dedupe_key="matter:1:overdue:2026-10-09")
    assert again == []
    assert unread_count(user.id) == 1


def test_mark_read_one_and_all(world, db):
    user = world.users["town_a1_editor"]
    a, b = notify([user, user.id], "甲")[0], notify(user, "乙")[0]
    assert unread_count(user.id) == 2
    assert a is not b
    assert mark_read(user.id, a.id) == 1
    assert unread_count(user.id) == 1
    assert mark_read(user.id) == 1
    assert unread_count(user.id) == 0


def test_the_inbox_api_lists_counts_and_marks_read(world, db, client):
    from tracker.auth.services import create_api_token

    user = world.users["town_a1_editor"]
    note = notify(user, "事项已逾期", "超期 2 个工作日", "/matters/", "matter_overdue")[0]
    notify(world.users["town_a2_editor"], "别人的")
    _, plain = create_api_token(user, "t")
    db.session.commit()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {plain}"
    assert client.get("/api/v1/notifications/unread").get_json() == {"unread": 1}
    items = client.get("/api/v1/notifications").get_json()
    assert [i["title"] for i in items] == ["事项已逾期"]
    assert client.post(f"/api/v1/notifications/{note.id}/read").get_json()["read_at"]
    assert client.get("/api/v1/notifications/unread").get_json() == {"unread": 0}
