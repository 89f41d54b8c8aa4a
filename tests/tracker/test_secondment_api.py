"""JSON API of the secondment programme: selection to secondment, the five systems, figures."""

from __future__ import annotations

from datetime import timedelta

from tests.tracker.secondment_helpers import seconded
from tracker import clock


def test_selection_to_secondment_through_the_api(world, login):
    client = login(world.users["county_a_admin"])
    batch = client.post(
        "/api/v1/secondment/batches",
        json={"region_id": world.county_a.id, "year": 2026, "name": "2026年挂职"},
    )
    assert batch.status_code == 201, batch.json
    bid = batch.json["id"]
    vetoed = client.post(
        f"/api/v1/secondment/batches/{bid}/candidates",
        json={"name": "王某", "sending_unit": "县财政局", "post_type": "petition"},
    ).json["id"]
    ok = client.post(
        f"/api/v1/secondment/batches/{bid}/candidates",
        json={"name": "李某", "rank": "副科级", "sending_unit": "县交通局", "post_type": "project"},
    ).json["id"]
    r = client.post(
        f"/api/v1/secondment/candidates/{vetoed}/veto",
        json={
            "veto_reason": "受过政务记过处分",
            "veto_source": "县纪委监委",
            "veto_on": "2024-06-01",
        },
    )
    assert r.json["status"] == "vetoed"
    client.post(
        f"/api/v1/secondment/candidates/{ok}/checks",
        json={"discipline_checked_on": "2026-02-01", "legal_checked_on": "2026-02-02"},
    )
    assert client.post(f"/api/v1/secondment/candidates/{ok}/select").json["status"] == "selected"
    done = client.post(
        f"/api/v1/secondment/batches/{bid}/complete", json={"selection_completed_on": "2026-03-01"}
    )
    assert done.status_code == 200
    body = {
        "region_id": world.town_a1.id,
        "receiving_unit": "镇甲一",
        "post": "副镇长",
        "post_type": "project",
        "start_on": "2026-03-02",
        "planned_end_on": "2027-03-01",
    }
    refused = client.post(f"/api/v1/secondment/candidates/{vetoed}/secondment", json=body)
    assert refused.status_code == 422 and "一票否决" in refused.json["error"]["message"]
    created = client.post(f"/api/v1/secondment/candidates/{ok}/secondment", json=body)
    assert created.status_code == 201 and created.json["cadre_name"] == "李某"
    overlap = client.post(
        f"/api/v1/secondment/candidates/{ok}/secondment", json=dict(body, start_on="2026-06-01")
    )
    assert overlap.status_code == 422 and "start_on" in overlap.json["error"]["fields"]


def test_a_township_editor_cannot_run_the_selection(world, login):
    client = login(world.users["town_a1_editor"])
    r = client.post(
        "/api/v1/secondment/batches",
        json={"region_id": world.county_a.id, "year": 2026, "name": "x"},
    )
    assert r.status_code == 404


def test_a_cadre_files_log_and_report_and_figures_follow(world, login):
    s = seconded(world)
    client = login(world.users["town_a1_editor"])
    assert (
        client.post(
            f"/api/v1/secondments/{s.id}/log", json={"day": "2026-03-03", "what": "走访"}
        ).status_code
        == 201
    )
    monday = "2026-03-02"
    first = client.post(
        f"/api/v1/secondments/{s.id}/reports", json={"week_start": monday, "work_done": "一"}
    )
    again = client.post(
        f"/api/v1/secondments/{s.id}/reports", json={"week_start": monday, "work_done": "二"}
    )
    assert (first.status_code, again.status_code) == (201, 200)
    future = (clock.today() + timedelta(days=7 - clock.today().weekday())).isoformat()
    r = client.post(
        f"/api/v1/secondments/{s.id}/reports", json={"week_start": future, "work_done": "x"}
    )
    assert r.status_code == 422
    fig = client.get("/api/v1/secondment/programme?start=2026-03-01&end=2026-03-31").json
    assert fig["active"] == 1 and fig["reports_received"] == 1
    other = login(world.users["town_b1_editor"])
    assert other.get(f"/api/v1/secondments/{s.id}").status_code == 404
    assert other.get("/api/v1/secondment/programme").json["active"] == 0


def test_the_operations_are_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    assert "/api/v1/secondments/{secondment_id}/reports" in paths or any(
        p.endswith("/secondments/{secondment_id}/reports") for p in paths
    )
