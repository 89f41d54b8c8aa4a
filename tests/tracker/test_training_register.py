"""The trainings register: recording, validation, lateness, scope, API and export."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from tests.factories import on_test_day
from tracker import clock
from tracker.periods import Period
from tracker.trainings.models import Training, TrainingKind
from tracker.trainings.services import (
    TrainingError,
    TrainingInput,
    create_training,
    delete_training,
    figures_for_branches,
)
from tracker.workdays import WorkCalendar


def _input(world, village, **kw) -> TrainingInput:
    data = {
        "kind": TrainingKind.party_education,
        "title": "学习党章",
        "held_on": clock.today() - timedelta(days=1),
        "hours": "2",
        "place": "党员活动室",
        "attendee_ids": [m.id for m in world.members[village.id][:3]],
    }
    data.update(kw)
    return TrainingInput(**data)


def test_a_training_is_saved_with_its_attendees(world, db):
    village = world.village_a1a
    t, created = create_training(
        world.branch(village), _input(world, village), None, WorkCalendar()
    )
    assert created and len(t.attendees) == 3 and t.region_id == village.id


def test_a_training_entered_weeks_later_is_flagged_late(world, db):
    village = world.village_a1a
    t, _ = create_training(
        world.branch(village),
        _input(world, village, held_on=clock.today() - timedelta(days=30)),
        None,
        WorkCalendar(),
    )
    assert t.late and t.late_working_days > 3


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"title": "  "}, "title"),
        ({"held_on": timedelta(days=1)}, "held_on"),
        ({"hours": "0"}, "hours"),
        ({"hours": "abc"}, "hours"),
        ({"place": ""}, "place"),
        ({"attendee_ids": [], "other_attendees": 0}, "attendee_ids"),
    ],
)
def test_bad_input_is_refused_with_the_field_named(world, db, change, field):
    village = world.village_a1a
    with pytest.raises(TrainingError) as err:
        create_training(
            world.branch(village),
            _input(world, village, **on_test_day(change)),
            None,
            WorkCalendar(),
        )
    assert err.value.field == field


def test_an_attendee_from_another_branch_is_refused(world, db):
    village = world.village_a1a
    stranger = world.members[world.village_b1a.id][0]
    with pytest.raises(TrainingError, match="在册党员"):
        create_training(
            world.branch(village),
            _input(world, village, attendee_ids=[stranger.id]),
            None,
            WorkCalendar(),
        )


def test_a_double_submit_saves_once(world, db):
    village = world.village_a1a
    data = _input(world, village, client_token="tok-123456")
    first, created1 = create_training(world.branch(village), data, None, WorkCalendar())
    second, created2 = create_training(world.branch(village), data, None, WorkCalendar())
    assert created1 and not created2 and first.id == second.id
    assert db.session.scalar(select(func.count(Training.id))) == 1


def test_a_deleted_training_no_longer_counts(world, db):
    village = world.village_a1a
    branch = world.branch(village)
    day = clock.today() - timedelta(days=1)
    t, _ = create_training(branch, _input(world, village, held_on=day), None, WorkCalendar())
    period = Period.containing(day, "month")
    assert figures_for_branches([branch.id], period)[branch.id].count == 1
    with pytest.raises(TrainingError):
        delete_training(t, " ")
    delete_training(t, "重复录入")
    assert figures_for_branches([branch.id], period)[branch.id].count == 0


def test_form_records_a_training_and_shows_errors_beside_the_field(world, login):
    client = login(world.users["town_a1_editor"])
    village = world.village_a1a
    url = f"/trainings/v/{village.id}/new"
    assert client.get(url).status_code == 200
    bad = client.post(
        url,
        data={
            "kind": "cadre",
            "title": "",
            "held_on": "2026-03-05",
            "hours": "2",
            "place": "活动室",
            "attendee_ids": [world.members[village.id][0].id],
        },
    )
    assert bad.status_code == 422
    assert "请填写培训主题" in bad.get_data(as_text=True)
    ok = client.post(
        url,
        data={
            "kind": "cadre",
            "title": "村务公开培训",
            "held_on": "2026-03-05",
            "hours": "2",
            "place": "活动室",
            "client_token": "abcdef123456",
            "attendee_ids": [world.members[village.id][0].id],
        },
    )
    assert ok.status_code == 302
    page = client.get(ok.headers["Location"]).get_data(as_text=True)
    assert "村务公开培训" in page and "补录" in page  # March, entered in November


def test_another_townships_editor_gets_404(world, login):
    client = login(world.users["town_b1_editor"])
    assert client.get(f"/trainings/v/{world.village_a1a.id}").status_code == 404
    assert client.get(f"/trainings/v/{world.village_a1a.id}/new").status_code == 404


def test_a_viewer_cannot_record(world, login):
    client = login(world.users["county_a_viewer"])
    assert client.get(f"/trainings/v/{world.village_a1a.id}").status_code == 200
    assert client.get(f"/trainings/v/{world.village_a1a.id}/new").status_code == 403


def test_api_creates_once_and_validates_in_chinese(world, db, app):
    from tracker.auth.services import create_api_token

    _, token = create_api_token(world.users["town_a1_editor"], "test")
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    body = {
        "village_id": world.village_a1a.id,
        "kind": "skills",
        "title": "种植技术",
        "held_on": "2026-03-05",
        "hours": 3,
        "place": "村委会",
        "attendee_ids": [world.members[world.village_a1a.id][0].id],
        "client_token": "api-token-1",
    }
    first = client.post("/api/v1/trainings", json=body, headers=headers)
    assert first.status_code == 201 and first.json["late"] is True
    again = client.post("/api/v1/trainings", json=body, headers=headers)
    assert again.status_code == 200 and again.json["id"] == first.json["id"]
    bad = client.post(
        "/api/v1/trainings", json={**body, "hours": -1, "client_token": None}, headers=headers
    )
    assert bad.status_code == 422 and "hours" in bad.json["error"]["fields"]
    foreign = client.post(
        "/api/v1/trainings",
        json={**body, "village_id": world.village_b1a.id, "client_token": None},
        headers=headers,
    )
    assert foreign.status_code == 404
    figures = client.get(
        f"/api/v1/villages/{world.village_a1a.id}/trainings/figures?period=2026-Q1", headers=headers
    )
    assert figures.status_code == 200 and figures.json["windows_met"] == 1
    bad_period = client.get(
        f"/api/v1/villages/{world.village_a1a.id}/trainings/figures?period=2026-Q9", headers=headers
    )
    assert bad_period.status_code == 422


def test_export_opens_in_a_spreadsheet(world, db, login):
    village = world.village_a1a
    create_training(
        world.branch(village),
        _input(world, village, held_on=date(2026, 3, 5)),
        None,
        WorkCalendar(),
    )
    client = login(world.users["county_a_viewer"])
    resp = client.get(f"/trainings/v/{village.id}/export.xlsx?year=2026")
    assert resp.status_code == 200
    ws = load_workbook(io.BytesIO(resp.data)).active
    assert ws["A2"].value == "序号" and ws["D3"].value == "学习党章"
    # 录入时间 is a real Excel date/time cell (local time, whole minutes shown).
    from datetime import datetime

    assert isinstance(ws["K3"].value, datetime) and ws["K3"].number_format == "yyyy-mm-dd hh:mm"
