"""Organisation JSON API: pydantic validation, Chinese field errors, scope, tokens, OpenAPI."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tracker.auth.services import create_api_token
from tracker.models import Member, User


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
    db.session.commit()
    return world


@pytest.fixture
def token_client(client):
    """A client that authenticates every request with a personal API token."""

    def make(user):
        _, plain = create_api_token(user, "test")

        class TokenClient:
            def open(self, url, method="GET", **kw):
                headers = {"Authorization": f"Bearer {plain}", **kw.pop("headers", {})}
                return client.open(url, method=method, headers=headers, **kw)

            def get(self, url, **kw):
                return self.open(url, "GET", **kw)

            def post(self, url, **kw):
                return self.open(url, "POST", **kw)

            def patch(self, url, **kw):
                return self.open(url, "PATCH", **kw)

            def put(self, url, **kw):
                return self.open(url, "PUT", **kw)

        return TokenClient()

    return make


def test_members_list_with_filters(world, token_client):
    api = token_client(world.users["town_a1_editor"])
    resp = api.get(f"/api/v1/villages/{world.village_a1a.id}/members?status=probationary")
    assert resp.status_code == 200
    assert [m["status"] for m in resp.get_json()["items"]] == ["probationary"]


def test_bad_query_is_422_with_the_field(world, token_client):
    api = token_client(world.users["town_a1_editor"])
    resp = api.get(f"/api/v1/villages/{world.village_a1a.id}/members?show=nonsense")
    assert resp.status_code == 422
    assert "show" in resp.get_json()["error"]["fields"]


def test_create_member(world, db, token_client):
    api = token_client(world.users["town_a1_editor"])
    resp = api.post(
        f"/api/v1/villages/{world.village_a1a.id}/members",
        json={"name": "接口党员", "gender": "male", "birth_year": 1980, "joined_on": "2010-07-01"},
    )
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["name"] == "接口党员" and body["region_id"] == world.village_a1a.id


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "x" * 40}, "name"),
        ({"name": "甲", "birth_year": "abc"}, "birth_year"),
        ({"name": "甲", "status": "boss"}, "status"),
        ({"name": "甲", "joined_on": "yesterday"}, "joined_on"),
        ({"name": "甲", "phone": "电话号码"}, "phone"),
        ({"name": "甲", "group_id": 999999}, "group_id"),
        ({"name": "甲", "surprise": 1}, "surprise"),
    ],
)
def test_bad_member_bodies_are_422_naming_the_field(world, db, token_client, body, field):
    api = token_client(world.users["town_a1_editor"])
    before = db.session.scalar(select(func.count(Member.id)))
    resp = api.post(f"/api/v1/villages/{world.village_a1a.id}/members", json=body)
    assert resp.status_code == 422
    assert field in resp.get_json()["error"]["fields"]
    assert db.session.scalar(select(func.count(Member.id))) == before


def test_not_json_is_415_and_broken_json_400(world, token_client):
    api = token_client(world.users["town_a1_editor"])
    url = f"/api/v1/villages/{world.village_a1a.id}/members"
    assert api.post(url, data="name=x").status_code == 415
    resp = api.post(url, data="{", headers={"Content-Type": "application/json"})
    assert resp.status_code == 400


def test_patch_member_and_leave(world, db, token_client):
    api = token_client(world.users["town_a1_editor"])
    member = world.members[world.village_a1a.id][0]
    resp = api.patch(f"/api/v1/members/{member.id}", json={"phone": "13711112222"})
    assert resp.status_code == 200 and resp.get_json()["phone"] == "13711112222"
    resp = api.post(f"/api/v1/members/{member.id}/leave", json={"left_on": "2026-01-02"})
    assert resp.status_code == 200 and resp.get_json()["left_on"] == "2026-01-02"
    resp = api.post(f"/api/v1/members/{member.id}/leave", json={"left_on": "2026-01-03"})
    assert resp.status_code == 422


def test_other_township_is_404_via_token(world, token_client):
    api = token_client(world.users["town_a1_editor"])
    member = world.members[world.village_a2a.id][0]
    assert api.get(f"/api/v1/members/{member.id}").status_code == 404
    resp = api.patch(f"/api/v1/members/{member.id}", json={"phone": "13711112222"})
    assert resp.status_code == 404


def test_viewer_token_cannot_write(world, token_client):
    api = token_client(world.users["county_a_viewer"])
    resp = api.post(f"/api/v1/villages/{world.village_a1a.id}/groups", json={"name": "新组"})
    assert resp.status_code == 403


def test_cookie_session_writes_need_the_csrf_header(world, db, app_factory):
    from flask_login.utils import _create_identifier

    from tracker.auth.services import start_session

    app = app_factory(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    with app.test_request_context(environ_base=client.environ_base):
        identifier = _create_identifier()
    with client.session_transaction() as sess:
        key = start_session(world.users["town_a1_editor"], False, 12, 14)
        sess.update(_user_id=key, _fresh=True, _id=identifier)
    url = f"/api/v1/villages/{world.village_a1a.id}/groups"
    resp = client.post(url, json={"name": "新组"})
    assert resp.status_code == 403
    assert resp.get_json()["error"]["code"] == "csrf"


def test_groups_cadres_branch_and_regions(world, token_client):
    api = token_client(world.users["county_a_admin"])
    vid = world.village_a1a.id
    assert (
        api.post(f"/api/v1/villages/{vid}/groups", json={"name": "第三党小组"}).status_code == 201
    )
    assert (
        api.post(f"/api/v1/villages/{vid}/groups", json={"name": "第三党小组"}).status_code == 422
    )
    resp = api.post(
        f"/api/v1/villages/{vid}/cadres", json={"name": "赵六", "post": "委员", "reserve": True}
    )
    assert resp.status_code == 201 and resp.get_json()["reserve"] is True
    resp = api.put(f"/api/v1/villages/{vid}/branch", json={"name": "改名党支部"})
    assert resp.status_code == 200 and resp.get_json()["name"] == "改名党支部"
    resp = api.post(f"/api/v1/regions/{world.town_a1.id}/children", json={"name": "接口村"})
    assert resp.status_code == 201 and resp.get_json()["level"] == "village"
    ids = {r["id"] for r in api.get("/api/v1/regions?per_page=200").get_json()["items"]}
    assert world.village_a1a.id in ids and world.village_b1a.id not in ids


def test_admin_user_api_stays_inside_the_subtree(world, db, token_client):
    api = token_client(world.users["county_a_admin"])
    body = {
        "username": "api_user",
        "display_name": "接口用户",
        "password": "long-enough-1",
        "role": "viewer",
        "region_id": world.town_a1.id,
    }
    assert api.post("/api/v1/users", json=body).status_code == 201
    for region in (world.city, world.village_b1a):
        resp = api.post(
            "/api/v1/users", json={**body, "username": "x_user", "region_id": region.id}
        )
        assert resp.status_code == 422
        assert "region_id" in resp.get_json()["error"]["fields"]
    editor = world.users["town_a1_editor"]
    resp = api.patch(f"/api/v1/users/{editor.id}", json={"active": False})
    assert resp.status_code == 200 and resp.get_json()["active"] is False
    outsider = world.users["town_b1_editor"]
    assert api.patch(f"/api/v1/users/{outsider.id}", json={"active": False}).status_code == 404
    resp = api.post(f"/api/v1/users/{editor.id}/password", json={"password": "short"})
    assert resp.status_code == 422
    usernames = {u["username"] for u in api.get("/api/v1/users?per_page=200").get_json()["items"]}
    assert outsider.username not in usernames
    assert db.session.scalar(select(User).where(User.username == "x_user")) is None


def test_audit_api_is_scoped(world, db, token_client):
    api = token_client(world.users["county_a_admin"])
    rows = api.get("/api/v1/audit?per_page=200").get_json()["items"]
    assert rows and all(r["region_id"] != world.village_b1a.id for r in rows)
    assert api.get(f"/api/v1/audit?region_id={world.village_b1a.id}").status_code == 404


def test_org_endpoints_are_in_openapi(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    paths = doc["paths"]
    assert "post" in paths["/api/v1/villages/{region_id}/members"]
    assert "patch" in paths["/api/v1/users/{user_id}"]
    assert "MemberIn" in doc["components"]["schemas"]


def test_a_lost_race_is_409_not_500(world, token_client, monkeypatch):
    from tracker.org import services

    monkeypatch.setattr(services, "_check_group_name", lambda branch, name, group=None: name)
    api = token_client(world.users["town_a1_editor"])
    resp = api.post(f"/api/v1/villages/{world.village_a1a.id}/groups", json={"name": "第一党小组"})
    assert resp.status_code == 409
    assert resp.get_json()["error"]["code"] == "conflict"
