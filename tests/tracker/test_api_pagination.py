"""API lists are paginated: page, per_page (with a maximum), total and the next page's URL."""

from __future__ import annotations

from typing import Any

import pytest

from tests.tracker.test_meeting_helpers import meeting_input, recent
from tracker.api.pagination import MAX_PER_PAGE
from tracker.meetings.services import record_meeting
from tracker.workdays import WorkCalendar

LISTS = [
    "/api/v1/meetings",
    "/api/v1/trainings",
    "/api/v1/matters",
    "/api/v1/halls",
    "/api/v1/regions",
    "/api/v1/users",
    "/api/v1/audit",
    "/api/v1/villages/{region_id}/members",
]


@pytest.fixture
def meetings(world: Any, db: Any) -> list[Any]:
    village = world.village_a1a
    made = [
        record_meeting(
            world.branch(village),
            meeting_input(world, village, recent(days=d)),
            None,
            WorkCalendar(),
        )
        for d in range(2, 7)
    ]
    db.session.commit()
    return made


def test_pages_walk_the_whole_list_once(world, meetings, login):
    client = login(world.users["town_a1_editor"])
    url = f"/api/v1/meetings?village_id={world.village_a1a.id}&per_page=2"
    seen: list[int] = []
    pages = 0
    while url:
        body = client.get(url).get_json()
        assert body["total"] == 5 and body["per_page"] == 2
        assert len(body["items"]) == (2 if body["page"] < 3 else 1)
        seen += [m["id"] for m in body["items"]]
        url = body["next"]
        pages += 1
    assert pages == 3
    assert sorted(seen) == sorted(m.id for m in meetings)
    assert len(set(seen)) == 5


def test_next_keeps_the_filters(world, meetings, login):
    client = login(world.users["town_a1_editor"])
    body = client.get(
        f"/api/v1/meetings?village_id={world.village_a1a.id}&kind=branch_committee_meeting&per_page=4"
    ).get_json()
    assert body["next"].startswith("/api/v1/meetings?")
    assert f"village_id={world.village_a1a.id}" in body["next"]
    assert "kind=branch_committee_meeting" in body["next"] and "page=2" in body["next"]


def test_a_page_past_the_end_is_empty_with_the_total(world, meetings, login):
    client = login(world.users["town_a1_editor"])
    body = client.get(f"/api/v1/meetings?village_id={world.village_a1a.id}&page=9").get_json()
    assert body["items"] == [] and body["total"] == 5 and body["next"] is None


@pytest.mark.parametrize("args", [f"per_page={MAX_PER_PAGE + 1}", "per_page=0", "page=0"])
def test_page_arguments_out_of_range_are_422_naming_the_field(world, login, args):
    client = login(world.users["city_admin"])
    resp = client.get(f"/api/v1/halls?{args}")
    assert resp.status_code == 422
    assert args.split("=")[0] in resp.get_json()["error"]["fields"]


def test_every_list_documents_its_page_arguments_and_shape(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    schemas = doc["components"]["schemas"]
    for path in LISTS:
        op = doc["paths"][path]["get"]
        params = {p["name"]: p for p in op.get("parameters", []) if p["in"] == "query"}
        assert params["per_page"]["schema"]["maximum"] == MAX_PER_PAGE, path
        assert params["page"]["schema"]["minimum"] == 1, path
        ref = op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        page = schemas[ref.rsplit("/", 1)[1]]
        assert {"items", "total", "page", "per_page", "next"} <= set(page["required"]), path
