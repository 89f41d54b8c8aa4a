"""村级后备干部 ("2+5"): rules, target vs actual, pages, API, Excel round trip, to-do."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook

from tests.factories import on_test_day
from tracker import clock
from tracker.teams.models import ReserveSource, ReserveStatus, ReserveTrack
from tracker.teams.services import (
    ReserveInput,
    TeamError,
    add_assessment,
    change_status,
    create_reserve,
    reserve_figures,
)


def _input(**kw) -> ReserveInput:
    data = {
        "name": "李浩然",
        "source": ReserveSource.migrant,
        "track": ReserveTrack.committee,
        "entered_on": clock.today() - timedelta(days=30),
        "mentor": "村党支部书记",
    }
    data.update(kw)
    return ReserveInput(**data)


def test_figures_count_only_candidates_in_cultivation_against_the_targets(world, db):
    village = world.village_a1a
    create_reserve(village, _input(name="甲", track=ReserveTrack.secretary))
    create_reserve(village, _input(name="乙"))
    gone = create_reserve(village, _input(name="丙"))
    change_status(gone, ReserveStatus.withdrawn, clock.today(), "外出务工")
    f = reserve_figures([village.id, world.village_a1b.id])
    assert (f[village.id].secretary, f[village.id].committee) == (1, 1)
    assert f[village.id].short == 1 + 4 and not f[village.id].met
    assert f[world.village_a1b.id].short == 7


def test_an_appointed_reserve_cadre_cannot_re_enter(world, db):
    village = world.village_a1a
    member = world.members[village.id][0]
    r = create_reserve(village, _input(name="", member_id=member.id))
    assert r.name == member.name
    change_status(r, ReserveStatus.appointed, clock.today(), "任村委会委员")
    with pytest.raises(TeamError, match="已任用") as exc:
        create_reserve(village, _input(name="", member_id=member.id))
    assert exc.value.field == "name"
    with pytest.raises(TeamError, match="状态不能再变更"):
        change_status(r, ReserveStatus.withdrawn, clock.today(), "x")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": " "}, "name"),
        ({"entered_on": timedelta(days=3)}, "entered_on"),
        ({"entered_on": date(1980, 1, 1)}, "entered_on"),
        ({"member_id": -1}, "member_id"),
    ],
)
def test_bad_input_names_its_field(world, db, change, field):
    with pytest.raises(TeamError) as exc:
        create_reserve(world.village_a1a, _input(**on_test_day(change)))
    assert exc.value.field == field


def test_a_member_of_another_village_is_refused(world, db):
    other = world.members[world.village_a1b.id][0]
    with pytest.raises(TeamError, match="不在本村") as exc:
        create_reserve(world.village_a1a, _input(member_id=other.id))
    assert exc.value.field == "member_id"


def test_an_assessment_cannot_precede_the_entry_nor_lie_in_the_future(world, db):
    r = create_reserve(world.village_a1a, _input())
    with pytest.raises(TeamError, match="不能早于入库日期") as exc:
        add_assessment(r, r.entered_on - timedelta(days=1), "镇党委", "良好")
    assert exc.value.field == "assessed_on"
    with pytest.raises(TeamError, match="不能晚于今天"):
        add_assessment(r, clock.today() + timedelta(days=1), "镇党委", "良好")
    add_assessment(r, r.entered_on, "镇党委", "良好")
    assert [a.result for a in r.assessments] == ["良好"]


def test_pages_record_a_reserve_with_errors_beside_the_field(world, login):
    village = world.village_a1a
    client = login(world.users["town_a1_editor"])
    assert client.get("/teams/reserves").status_code == 200
    url = f"/teams/reserves/v/{village.id}/new"
    assert client.get(url).status_code == 200
    future = (clock.today() + timedelta(days=5)).isoformat()
    bad = client.post(
        url,
        data={
            "member_id": 0,
            "name": "赵子轩",
            "source": "veteran",
            "track": "secretary",
            "entered_on": future,
        },
    )
    page = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "入库日期不能晚于今天" in page
    ok = client.post(
        url,
        data={
            "member_id": 0,
            "name": "赵子轩",
            "source": "veteran",
            "track": "secretary",
            "entered_on": clock.today().isoformat(),
            "plan": "跟班学习",
        },
    )
    assert ok.status_code == 302
    detail = ok.headers["Location"]
    early = (clock.today() - timedelta(days=1)).isoformat()
    bad = client.post(
        f"{detail}/assess", data={"assessed_on": early, "assessor": "镇党委", "result": "良好"}
    )
    assert bad.status_code == 422 and "考察日期不能早于入库日期" in bad.get_data(as_text=True)
    bad = client.post(
        f"{detail}/status", data={"status": "appointed", "status_on": clock.today().isoformat()}
    )
    assert bad.status_code == 422 and "请填写任用职务" in bad.get_data(as_text=True)
    listing = client.get(f"/teams/reserves/v/{village.id}").get_data(as_text=True)
    assert "赵子轩" in listing and "书记后备 1/2" in listing
    printed = client.get(f"/teams/reserves/v/{village.id}/print").get_data(as_text=True)
    assert "赵子轩" in printed and "A4 landscape" in printed


def test_scope_and_viewer(world, login):
    client = login(world.users["town_b1_editor"])
    assert client.get(f"/teams/reserves/v/{world.village_a1a.id}").status_code == 404
    viewer = login(world.users["county_a_viewer"])
    assert viewer.get(f"/teams/reserves/v/{world.village_a1a.id}").status_code == 200
    assert viewer.get(f"/teams/reserves/v/{world.village_a1a.id}/new").status_code == 403


def test_api_enters_assesses_and_appoints_in_chinese(world, db, app):
    from tracker.auth.services import create_api_token

    _, token = create_api_token(world.users["town_a1_editor"], "test")
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    body = {
        "village_id": world.village_a1a.id,
        "name": "孙欣怡",
        "source": "graduate",
        "track": "committee",
        "entered_on": (clock.today() - timedelta(days=10)).isoformat(),
    }
    first = client.post("/api/v1/reserve-cadres", json=body, headers=headers)
    assert first.status_code == 201 and first.json["status_label"] == "培养中"
    rid = first.json["id"]
    bad = client.post(
        f"/api/v1/reserve-cadres/{rid}/assessments",
        json={"assessed_on": "2000-01-01", "assessor": "镇党委", "result": "良好"},
        headers=headers,
    )
    assert bad.status_code == 422 and "assessed_on" in bad.json["error"]["fields"]
    done = client.post(
        f"/api/v1/reserve-cadres/{rid}/status",
        json={
            "status": "appointed",
            "status_on": clock.today().isoformat(),
            "status_reason": "任村委会委员",
        },
        headers=headers,
    )
    assert done.status_code == 200 and done.json["status"] == "appointed"
    again = client.post("/api/v1/reserve-cadres", json=body, headers=headers)
    assert again.status_code == 422 and "已任用" in again.json["error"]["fields"]["name"]
    listing = client.get(
        f"/api/v1/reserve-cadres?village_id={world.village_a1a.id}", headers=headers
    )
    assert listing.json["figures"]["committee"] == 0 and len(listing.json["items"]) == 1
    foreign = client.post(
        "/api/v1/reserve-cadres", json={**body, "village_id": world.village_b1a.id}, headers=headers
    )
    assert foreign.status_code == 404
    spec = client.get("/api/v1/openapi.json", headers=headers).json
    assert "/api/v1/reserve-cadres" in spec["paths"] or "/reserve-cadres" in str(spec["paths"])


def test_excel_round_trip(world, db, login):
    village = world.village_a1a
    r = create_reserve(village, _input(name="周梓涵", plan="负责电商服务点"))
    add_assessment(r, clock.today(), "镇党委组织委员", "表现良好")
    db.session.flush()
    client = login(world.users["town_a1_editor"])
    resp = client.get(f"/teams/reserves/v/{village.id}/export.xlsx")
    assert resp.status_code == 200
    ws = load_workbook(io.BytesIO(resp.data)).active
    assert [c.value for c in ws[2]][:5] == ["序号", "姓名", "培养方向", "来源", "入库日期"]
    assert ws["B3"].value == "周梓涵" and "表现良好" in ws["H3"].value
    # Into another village of the same township: the same sheet makes the same rows.
    other = world.village_a1b
    up = client.post(
        f"/teams/reserves/v/{other.id}/import",
        data={"file": (io.BytesIO(resp.data), "r.xlsx")},
        content_type="multipart/form-data",
    )
    assert up.status_code == 302
    f = reserve_figures([other.id])[other.id]
    assert f.committee == 1
    # Importing the same sheet again: the row names itself and nothing is saved.
    again = client.post(
        f"/teams/reserves/v/{other.id}/import",
        data={"file": (io.BytesIO(resp.data), "r.xlsx")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert "第 3 行" in again.get_data(as_text=True)
    assert reserve_figures([other.id])[other.id].committee == 1


def test_a_village_below_target_is_on_the_home_to_do(world, db):
    from tracker.scope import Scope
    from tracker.teams.todo import reserves_short

    user = world.users["village_a1a_editor"]
    for i in range(2):
        create_reserve(world.village_a1a, _input(name=f"书记后备{i}", track=ReserveTrack.secretary))
    for i in range(4):
        create_reserve(world.village_a1a, _input(name=f"委员后备{i}"))
    items = reserves_short(Scope.for_user(user), user)
    assert len(items) == 1 and "缺1名" in items[0].detail
    create_reserve(world.village_a1a, _input(name="委员后备4"))
    assert reserves_short(Scope.for_user(user), user) == []


def test_the_register_speaks_english_when_asked(world, login):
    client = login(world.users["town_a1_editor"])
    page = client.get(f"/teams/reserves/v/{world.village_a1a.id}?lang=en").get_data(as_text=True)
    assert "In cultivation: secretary reserve 0/2, committee reserve 0/5" in page
    assert "Enter a reserve cadre" in page and "培养中：" not in page
