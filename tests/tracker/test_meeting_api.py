"""JSON API of the meetings: create/read/update with attendance, versions, obligations."""

from datetime import timedelta

import pytest

from tests.tracker.test_meeting_helpers import recent


@pytest.fixture(autouse=True)
def _committed(world, db):
    """Views roll back on bad input: commit the world (the test's outer transaction still ends it)."""
    db.session.commit()


@pytest.fixture
def login(client):
    """``login(user)`` → a client whose requests carry the user's personal API token."""
    from flask import g

    from tracker.auth.services import create_api_token

    def do(user):
        g.pop("scope", None)
        g.pop("_login_user", None)
        _, plain = create_api_token(user, "test")
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {plain}"
        return client

    return do


def body(world, village, start, **kw):
    members = world.members[village.id]
    data = {
        "village_id": village.id,
        "kind": "branch_general_meeting",
        "started_at": start.isoformat(),
        "ended_at": (start + timedelta(hours=1)).isoformat(),
        "place": "村党员活动室",
        "host_id": members[0].id,
        "recorder": "记录员",
        "topics": "传达学习上级会议精神",
        "attendance": [
            {"member_id": m.id, "present": i < 4, "absence_reason": "" if i < 4 else "外出"}
            for i, m in enumerate(members)
        ],
    }
    data.update(kw)
    return data


def test_create_read_update_and_versions(world, login, db):
    client = login(world.users["town_a1_editor"])
    v = world.village_a1a
    resp = client.post("/api/v1/meetings", json=body(world, v, recent()))
    assert resp.status_code == 201, resp.json
    m = resp.json
    for key in ("kind", "started_at", "entered_at", "late", "quorum_met", "version"):
        assert key in m
    assert m["quorum_met"] is True and m["full_present"] == 4 and m["version"] == 1
    got = client.get(f"/api/v1/meetings/{m['id']}").json
    assert got["attendance"][4]["absence_reason"] == "外出"
    upd = body(world, v, recent(), place="村委会", version=1)
    upd.pop("village_id")
    resp = client.put(f"/api/v1/meetings/{m['id']}", json=upd)
    assert resp.status_code == 200, resp.json
    assert resp.json["version"] == 2
    stale = client.put(f"/api/v1/meetings/{m['id']}", json=upd)
    assert stale.status_code == 409
    versions = client.get(f"/api/v1/meetings/{m['id']}/versions").json["items"]
    assert [x["version"] for x in versions] == [2, 1]
    assert versions[0]["diff"]["place"] == ["村党员活动室", "村委会"]
    listed = client.get(f"/api/v1/meetings?village_id={v.id}").json["items"]
    assert [x["id"] for x in listed] == [m["id"]]


def test_idempotency_key_makes_a_retry_harmless(world, login, db):
    client = login(world.users["town_a1_editor"])
    data = body(world, world.village_a1a, recent())
    first = client.post("/api/v1/meetings", json=data, headers={"Idempotency-Key": "k-1"})
    again = client.post("/api/v1/meetings", json=data, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == 201 and again.status_code == 200
    assert first.json["id"] == again.json["id"]


def test_validation_errors_are_422_with_chinese_fields(world, login, db):
    client = login(world.users["town_a1_editor"])
    start = recent()
    resp = client.post(
        "/api/v1/meetings",
        json=body(
            world, world.village_a1a, start, ended_at=(start - timedelta(hours=2)).isoformat()
        ),
    )
    assert resp.status_code == 422
    assert resp.json["error"]["fields"]["ended_at"] == "结束时间应晚于开始时间"
    resp = client.post(
        "/api/v1/meetings",
        json=body(world, world.village_a1a, start, started_at="2026-03-01T09:00:00"),
    )
    assert resp.status_code == 422 and "started_at" in resp.json["error"]["fields"]
    stranger = world.members[world.village_b1a.id][0]
    resp = client.post(
        "/api/v1/meetings", json=body(world, world.village_a1a, start, host_id=stranger.id)
    )
    assert resp.status_code == 422 and "host_id" in resp.json["error"]["fields"]


def test_out_of_scope_village_is_404(world, login, db):
    client = login(world.users["town_a1_editor"])
    resp = client.post("/api/v1/meetings", json=body(world, world.village_b1a, recent()))
    assert resp.status_code == 404
    assert (
        client.get(f"/api/v1/villages/{world.village_b1a.id}/obligations?period=2026").status_code
        == 404
    )


def test_obligations_for_a_period(world, login, db):
    client = login(world.users["town_a1_editor"])
    start = recent()
    created = client.post(
        "/api/v1/meetings", json=body(world, world.village_a1a, start, kind="theme_party_day")
    ).json
    period = f"{start.year}-{start.month:02d}"
    resp = client.get(f"/api/v1/villages/{world.village_a1a.id}/obligations?period={period}")
    assert resp.status_code == 200, resp.json
    items = resp.json["items"]
    theme = [i for i in items if i["kind"] == "theme_party_day"][0]
    assert theme["status"] in ("met", "met_late") and theme["records"][0]["id"] == created["id"]
    assert {i["status"] for i in items} <= {"met", "met_late", "missing", "due"}
    groups = [i for i in items if i["kind"] == "party_group_meeting"]
    assert len(groups) == 2
    assert (
        client.get(
            f"/api/v1/villages/{world.village_a1a.id}/obligations?period=2026-Q7"
        ).status_code
        == 422
    )
    q = client.get(f"/api/v1/villages/{world.village_a1a.id}/obligations?period=2025-Q4").json
    assert q["summary"]["missing"] > 0


def test_delete_via_api_needs_a_reason(world, login, db):
    client = login(world.users["town_a1_editor"])
    m = client.post("/api/v1/meetings", json=body(world, world.village_a1a, recent())).json
    assert client.delete(f"/api/v1/meetings/{m['id']}").status_code == 422
    resp = client.delete(f"/api/v1/meetings/{m['id']}?reason=重复")
    assert resp.status_code == 200 and resp.json["deleted"] is True


def test_meeting_endpoints_are_in_openapi(client):
    doc = client.get("/api/v1/openapi.json").json
    assert "/api/v1/meetings" in doc["paths"]
    assert "/api/v1/villages/{village_id}/obligations" in doc["paths"]


def test_leave_with_its_reason_apart_from_absence_in_the_api_and_the_export(world, login, db):
    import io

    from openpyxl import load_workbook

    from tracker.meetings import excel
    from tracker.models import Branch

    client = login(world.users["town_a1_editor"])
    v = world.village_a1a
    members = world.members[v.id]
    data = body(world, v, recent())
    data["attendance"][4]["excused"] = True
    data["attendance"][4]["absence_reason"] = "生病住院"
    resp = client.post("/api/v1/meetings", json=data)
    assert resp.status_code == 201, resp.json
    rows = {a["member_id"]: a for a in resp.json["attendance"]}
    assert rows[members[4].id]["attendance"] == "excused" and rows[members[4].id]["excused"]
    assert rows[members[4].id]["absence_reason"] == "生病住院"
    assert rows[members[5].id]["attendance"] == "absent" and not rows[members[5].id]["excused"]
    assert rows[members[0].id]["attendance"] == "present"
    # 请假 without a reason is refused beside the attendance.
    data["attendance"][4]["absence_reason"] = ""
    data["started_at"] = recent(3).isoformat()
    data["ended_at"] = (recent(3) + timedelta(hours=1)).isoformat()
    refused = client.post("/api/v1/meetings", json=data)
    assert refused.status_code == 422 and "请假原因" in str(refused.json)
    branch = db.session.scalar(db.select(Branch).where(Branch.region_id == v.id))
    sheet = load_workbook(io.BytesIO(excel.export_year(branch, recent().year))).active
    header = [c.value for c in sheet[1]]
    row = [c.value for c in sheet[2]]
    leave, absent = row[header.index("请假人员")], row[header.index("缺席人员")]
    assert leave == f"{members[4].name}（生病住院）"
    assert members[5].name in absent and members[4].name not in absent
    # The export reads back: the same 请假 and 缺席 when imported again.
    parsed = excel.read_rows(branch, io.BytesIO(excel.export_year(branch, recent().year)).read())
    assert members[4].id in parsed[0].data.excused_ids
    assert members[5].id not in parsed[0].data.excused_ids
