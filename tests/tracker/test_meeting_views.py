"""Meeting pages: scope, the record form, duplicate submits, history, print, grid, plans."""

import io
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests import files
from tests.tracker.test_meeting_helpers import form_data, meeting_input, recent
from tracker.meetings import services
from tracker.meetings.models import Meeting
from tracker.workdays import WorkCalendar


@pytest.fixture(autouse=True)
def _committed(world, db):
    """Views roll back on bad input: commit the world (the test's outer transaction still ends it)."""
    db.session.commit()


@pytest.fixture
def login(login):
    """Sign in, forgetting the user and scope cached on ``g`` (the test app context outlives requests)."""
    from flask import g

    def do(user):
        g.pop("scope", None)
        g.pop("_login_user", None)
        return login(user)

    return do


def _record(world, village, start, **kw):
    return services.record_meeting(
        world.branch(village), meeting_input(world, village, start, **kw), None, WorkCalendar()
    )


def test_editor_records_a_meeting_with_absence_reasons(world, login, db):
    client = login(world.users["town_a1_editor"])
    v = world.village_a1a
    resp = client.post(f"/meetings/v/{v.id}/new", data=form_data(world, v, recent()))
    assert resp.status_code == 302, resp.get_data(as_text=True)
    m = db.session.scalar(select(Meeting).where(Meeting.region_id == v.id))
    absent = [a for a in m.attendance if not a.present]
    assert [a.absence_reason for a in absent] == ["外出务工"]
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "外出务工" in page and "研究本月工作" in page


def test_double_submit_saves_once(world, login, db):
    client = login(world.users["town_a1_editor"])
    v = world.village_a1a
    body = form_data(world, v, recent(), client_uuid="same-key")
    first = client.post(f"/meetings/v/{v.id}/new", data=body)
    second = client.post(f"/meetings/v/{v.id}/new", data=body)
    assert first.headers["Location"] == second.headers["Location"]
    assert db.session.scalar(select(func.count(Meeting.id)).where(Meeting.region_id == v.id)) == 1


def test_bad_input_shows_the_error_next_to_the_field_and_saves_nothing(world, login, db):
    client = login(world.users["town_a1_editor"])
    v = world.village_a1a
    start = recent()
    body = form_data(
        world, v, start, ended_at=(start - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    )
    resp = client.post(f"/meetings/v/{v.id}/new", data=body)
    assert resp.status_code == 200
    assert "结束时间应晚于开始时间" in resp.get_data(as_text=True)
    stranger = world.members[world.village_b1a.id][0]
    resp = client.post(
        f"/meetings/v/{v.id}/new", data=form_data(world, v, start, host_id=str(stranger.id))
    )
    assert "主持人应为" in resp.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Meeting.id)).where(Meeting.region_id == v.id)) == 0


def test_future_meeting_is_refused(world, login, db):
    client = login(world.users["town_a1_editor"])
    v = world.village_a1a
    resp = client.post(f"/meetings/v/{v.id}/new", data=form_data(world, v, recent(days=-2)))
    assert "不能登记未来的会议" in resp.get_data(as_text=True)


def test_out_of_scope_is_404_and_viewer_cannot_write(world, login, db):
    m = _record(world, world.village_b1a, recent())
    client = login(world.users["town_a1_editor"])
    assert client.get(f"/meetings/{m.id}").status_code == 404
    assert client.get(f"/meetings/v/{world.village_b1a.id}").status_code == 404
    assert client.get(f"/meetings/{m.id}/history").status_code == 404
    viewer = login(world.users["county_a_viewer"])
    v = world.village_a1a
    assert viewer.get(f"/meetings/v/{v.id}").status_code == 200
    assert (
        viewer.post(f"/meetings/v/{v.id}/new", data=form_data(world, v, recent())).status_code
        == 403
    )


def test_pages_render(world, login, db):
    m = _record(world, world.village_a1a, recent(), kind="branch_general_meeting")
    client = login(world.users["town_a1_editor"])
    v = world.village_a1a
    for url in [
        "/meetings/",
        f"/meetings/?region_id={world.town_a1.id}",
        f"/meetings/v/{v.id}",
        f"/meetings/v/{v.id}?kind=branch_general_meeting&year={recent().year}",
        f"/meetings/v/{v.id}/grid",
        f"/meetings/v/{v.id}/grid?year=2025",
        f"/meetings/v/{v.id}/new",
        f"/meetings/v/{v.id}/plans",
        f"/meetings/v/{v.id}/import",
        f"/meetings/{m.id}",
        f"/meetings/{m.id}/edit",
        f"/meetings/{m.id}/history",
        f"/meetings/{m.id}/print",
        "/meetings/rules",
        "/",
    ]:
        resp = client.get(url)
        assert resp.status_code == 200, url
    assert "达到法定人数" in client.get(f"/meetings/{m.id}/print").get_data(as_text=True)


def test_edit_shows_in_history_with_a_diff(world, login, db):
    m = _record(world, world.village_a1a, recent())
    client = login(world.users["town_a1_editor"])
    body = form_data(world, world.village_a1a, recent(), place="村委会会议室", version="1")
    resp = client.post(f"/meetings/{m.id}/edit", data=body)
    assert resp.status_code == 302, resp.get_data(as_text=True)
    page = client.get(f"/meetings/{m.id}/history").get_data(as_text=True)
    assert "村委会会议室" in page and "第 2 版" in page


def test_delete_needs_a_reason_and_shows_in_history(world, login, db):
    m = _record(world, world.village_a1a, recent())
    client = login(world.users["town_a1_editor"])
    client.post(f"/meetings/{m.id}/delete", data={"reason": ""})
    assert db.session.get(Meeting, m.id).deleted_at is None
    client.post(f"/meetings/{m.id}/delete", data={"reason": "重复录入"})
    assert db.session.get(Meeting, m.id).deleted_reason == "重复录入"
    assert "重复录入" in client.get(f"/meetings/{m.id}/history").get_data(as_text=True)


def test_attachment_upload_and_download_in_scope_only(world, login, db):
    m = _record(world, world.village_a1a, recent())
    client = login(world.users["town_a1_editor"])
    png = files.png(b"sign-in sheet")
    client.post(
        f"/meetings/{m.id}/attachments", data={"attachments": (io.BytesIO(png), "签到表.png")}
    )
    att = m.attachments[0]
    assert client.get(f"/meetings/attachments/{att.id}").data == png
    resp = client.post(
        f"/meetings/{m.id}/attachments", data={"attachments": (io.BytesIO(b"hello"), "a.txt")}
    )
    assert "只能是完整的照片" in client.get(resp.headers["Location"]).get_data(as_text=True)
    other = login(world.users["town_b1_editor"])
    assert other.get(f"/meetings/attachments/{att.id}").status_code == 404


def test_grid_links_records_and_marks_late(world, login, db):
    start = recent(days=20)
    m = _record(world, world.village_a1a, start, kind="theme_party_day")
    client = login(world.users["town_a1_editor"])
    page = client.get(f"/meetings/v/{world.village_a1a.id}/grid?year={start.year}").get_data(
        as_text=True
    )
    assert f"/meetings/{m.id}" in page
    assert ("补 " if m.late else "✓ ") in page


def test_plan_form_files_a_plan(world, login, db):
    client = login(world.users["town_a1_editor"])
    v = world.village_a1a
    day = recent()
    q = (day.month - 1) // 3 + 1
    resp = client.post(
        f"/meetings/v/{v.id}/plans?year={day.year}&quarter={q}",
        data={
            "year": day.year,
            "quarter": q,
            "kind": "theme_party_day",
            "group_id": "0",
            "planned_on": day.date().isoformat(),
            "topic": "重温入党誓词",
        },
    )
    assert resp.status_code == 302, resp.get_data(as_text=True)
    assert "重温入党誓词" in client.get(resp.headers["Location"]).get_data(as_text=True)


def test_county_admin_sets_an_override_but_not_for_another_county(world, login, db):
    client = login(world.users["county_a_admin"])
    resp = client.post(
        "/meetings/rules",
        data={
            "action": "override",
            "rule-county_id": world.county_a.id,
            "rule-kind": "party_lecture",
            "rule-frequency": "monthly",
        },
    )
    assert resp.status_code == 302
    assert services.rules_for_county(world.county_a.id)["party_lecture"].text == "monthly"
    resp = client.post(
        "/meetings/rules",
        data={
            "action": "override",
            "rule-county_id": world.county_b.id,
            "rule-kind": "party_lecture",
            "rule-frequency": "monthly",
        },
    )
    assert resp.status_code == 404


def test_home_shows_meeting_todos(world, login, db):
    client = login(world.users["village_a1a_editor"])
    page = client.get("/").get_data(as_text=True)
    assert "会议" in page
