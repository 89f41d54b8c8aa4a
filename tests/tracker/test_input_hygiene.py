"""Bad input is a clear 4xx beside the field, never a 500: one validator for forms, API and imports.

Control characters (a NUL gives 500 on PostgreSQL, and Excel cannot store
them), integers past the database's 32-bit range, absurd dates, deeply nested
JSON, and ids past the range in paths and queries.
"""

from __future__ import annotations

import json

import pytest
from flask_wtf import FlaskForm
from sqlalchemy import func, select

from tests.tracker.test_org_api import token_client  # noqa: F401  (fixture)
from tests.tracker.test_station_api import auth, check, post_reports, setup  # noqa: F401
from tracker import validation
from tracker.forms import Form
from tracker.models import Member


@pytest.fixture(autouse=True)
def _cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    from argon2 import PasswordHasher

    from tracker import security

    monkeypatch.setattr(
        security, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )


@pytest.fixture
def world(world, db):
    db.session.commit()  # API errors roll the session back
    return world


def members(db) -> int:
    return db.session.scalar(select(func.count(Member.id)))


# ---------------------------------------------------------------- the rules


@pytest.mark.parametrize("text", ["a\x00b", "\x07", "x\x1by", "a\x0cb", "\x1f"])
def test_control_characters_are_refused_with_their_position(text):
    message = validation.control_error(text)
    assert message is not None and "控制字符" in message
    assert f"第 {next(i for i, c in enumerate(text) if ord(c) < 32) + 1} 个字符" in message


@pytest.mark.parametrize("text", ["第一行\n第二行", "a\tb", "windows\r\nline", "王秀英", ""])
def test_tab_and_newlines_are_ordinary_text(text):
    assert validation.control_error(text) is None


def test_every_form_derives_from_the_checking_base(app):
    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    forms = [
        c for c in subclasses(FlaskForm) if c is not Form and c.__module__.startswith("tracker.")
    ]
    assert len(forms) > 20
    strays = [f"{c.__module__}.{c.__name__}" for c in forms if not issubclass(c, Form)]
    assert strays == []


# ---------------------------------------------------------------- forms


def test_a_nul_in_a_form_field_is_shown_beside_it_and_nothing_is_saved(world, db, login):
    client = login(world.users["town_a1_editor"])
    before = members(db)
    resp = client.post(
        f"/org/villages/{world.village_a1a.id}/members/new",
        data={"name": "张\x00三", "status": "full", "group_id": "0", "gender": ""},
    )
    assert resp.status_code == 422
    assert "控制字符" in resp.get_data(as_text=True) and "invalid-feedback" in resp.text
    assert members(db) == before


def test_an_absurd_date_in_a_form_is_refused_beside_the_field(world, db, login):
    client = login(world.users["town_a1_editor"])
    resp = client.post(
        f"/org/villages/{world.village_a1a.id}/cadres",
        data={"name": "李四", "post": "村委委员", "since": "3677-01-01"},
    )
    assert resp.status_code == 422 and "日期超出合理范围" in resp.text


# ---------------------------------------------------------------- API bodies


def test_a_nul_in_an_api_body_is_422_with_the_field(world, db, token_client):  # noqa: F811
    api = token_client(world.users["town_a1_editor"])
    before = members(db)
    resp = api.post(f"/api/v1/villages/{world.village_a1a.id}/members", json={"name": "张\x00三"})
    assert resp.status_code == 422
    assert "控制字符" in resp.get_json()["error"]["fields"]["name"]
    assert members(db) == before


def test_a_cadre_since_the_year_3677_is_422(world, db, token_client):  # noqa: F811
    api = token_client(world.users["town_a1_editor"])
    resp = api.post(
        f"/api/v1/villages/{world.village_a1a.id}/cadres",
        json={"name": "李四", "post": "村委委员", "since": "3677-01-01"},
    )
    assert resp.status_code == 422
    assert resp.get_json()["error"]["fields"]["since"] == validation.DATE_MESSAGE


def test_an_integer_past_the_database_range_in_a_body_is_422(world, db, token_client):  # noqa: F811
    api = token_client(world.users["town_a1_editor"])
    resp = api.post(
        f"/api/v1/villages/{world.village_a1a.id}/members",
        json={"name": "张三", "group_id": 2**63},
    )
    assert resp.status_code == 422
    assert resp.get_json()["error"]["fields"]["group_id"] == validation.INT_MESSAGE


@pytest.mark.parametrize("depth", [validation.MAX_JSON_DEPTH + 5, 100_000])
def test_deeply_nested_json_is_400(world, db, token_client, depth):  # noqa: F811
    api = token_client(world.users["town_a1_editor"])
    body = '{"name": ' + "[" * depth + "]" * depth + "}"
    resp = api.post(
        f"/api/v1/villages/{world.village_a1a.id}/members",
        data=body,
        headers={"Content-Type": "application/json"},
    )
    assert resp.status_code == 400
    assert resp.get_json()["error"]["message"] == validation.DEPTH_MESSAGE


# ---------------------------------------------------------------- paths and queries


@pytest.mark.parametrize("big", [2**31, 2**63, 10**30])
def test_ids_past_the_range_in_paths_are_404(world, db, token_client, login, big):  # noqa: F811
    api = token_client(world.users["town_a1_editor"])
    assert api.get(f"/api/v1/members/{big}").status_code == 404
    assert api.get(f"/api/v1/villages/{big}/members").status_code == 404
    page = login(world.users["town_a1_editor"])
    assert page.get(f"/org/villages/{big}").status_code == 404


def test_query_values_past_the_range_are_422_on_the_api_and_404_on_pages(
    world,
    db,
    token_client,  # noqa: F811
    login,
):
    api = token_client(world.users["city_admin"])
    resp = api.get(f"/api/v1/audit?limit={2**40}")
    assert resp.status_code == 422 and "limit" in resp.get_json()["error"]["fields"]
    resp = api.get("/api/v1/audit?entity=a%00b")
    assert resp.status_code == 422 and "控制字符" in resp.get_json()["error"]["fields"]["entity"]
    page = login(world.users["town_a1_editor"])
    v = world.village_a1a.id
    assert page.get(f"/meetings/v/{v}/export.xlsx?year=99999").status_code == 404
    assert page.get(f"/trainings/v/{v}?year=99999999999").status_code == 404
    assert page.get(f"/meetings/v/{v}?year=2026").status_code == 200


# ---------------------------------------------------------------- the station API


def test_a_station_item_with_a_control_character_is_refused_alone(client, setup, db):  # noqa: F811
    good = check(setup.cam1, "09:00")
    bad = check(setup.cam1, "09:01")
    bad["measurements"]["codec"] = "h2\x0064"
    huge = check(setup.cam1, "09:02")
    huge["camera_id"] = 2**63
    resp = post_reports(client, setup.token, [good, bad, huge])
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["acknowledged"] == [good["uuid"]]
    refused = {r["uuid"]: r["error"] for r in body["rejected"]}
    assert set(refused) == {bad["uuid"], huge["uuid"]}
    assert "控制字符" in json.dumps(refused[bad["uuid"]], ensure_ascii=False)


# ---------------------------------------------------------------- no existence leaks


def test_a_user_or_catalog_entry_of_another_county_is_answered_like_a_missing_one(
    world, db, client
):
    from tests.tracker.test_matter_services import catalog, register
    from tracker.auth.services import create_api_token
    from tracker.matters import services as matter_services
    from tracker.matters.models import MatterKind

    matter = register(world)
    other_type = matter_services.save_matter_type(
        world.county_b,
        name="乙县事项",
        kind=MatterKind.immediate,
        promised_days=0,
        statutory_days=None,
        category="综合",
        materials=[],
        handling_level=matter_services.HandlingLevel.village,
    )
    mine = catalog(world, name="甲县事项")
    db.session.commit()
    _, plain = create_api_token(world.users["village_a1a_editor"], "test")
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {plain}"
    elsewhere = world.users["town_b1_editor"].id
    missing = 2_000_000_000

    def refer(user_id):
        resp = client.post(
            f"/api/v1/matters/{matter.id}/events", json={"kind": "referred", "to_user_id": user_id}
        )
        return resp.status_code, resp.get_json()["error"]

    assert refer(elsewhere) == refer(missing)
    assert refer(missing)[0] == 422

    def register_with(**kw):
        body = {
            "village_id": world.village_a1a.id,
            "matter_type_id": mine.id,
            "applicant_name": "赵德胜",
            "applicant_phone": "13700002222",
            "received_at": "2026-09-30T09:00:00+08:00",
            **kw,
        }
        resp = client.post("/api/v1/matters", json=body)
        return resp.status_code, resp.get_json()["error"]

    assert register_with(first_responder_id=elsewhere, client_token="a") == register_with(
        first_responder_id=missing, client_token="b"
    )
    assert register_with(matter_type_id=other_type.id, client_token="c") == register_with(
        matter_type_id=missing, client_token="d"
    )


def test_an_integer_of_thousands_of_digits_is_no_500(world, db, token_client):  # noqa: F811
    api = token_client(world.users["city_admin"])
    huge = "9" * 5000  # int() refuses past 4300 digits
    assert api.get(f"/api/v1/members/{huge}").status_code == 404
    assert api.get(f"/api/v1/audit?limit={huge}").status_code == 422
    resp = api.post(
        f"/api/v1/villages/{world.village_a1a.id}/members",
        data='{"name": "张三", "group_id": ' + huge + "}",
        headers={"Content-Type": "application/json"},
    )
    assert resp.status_code == 400
