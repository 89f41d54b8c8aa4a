"""Farmer training (农民教育培训), the yearly concentrated training of township and village
organizations (每年集中培训) and per-person training hours: rules, pages, API, export."""

from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from tests.factories import on_test_day
from tracker import clock
from tracker.meetings.rules import Frequency
from tracker.models import AuditLog
from tracker.periods import Period
from tracker.trainings.concentrated import (
    ConcentratedInput,
    concentrated_figures,
    create_concentrated,
    evaluate,
)
from tracker.trainings.farmers import (
    FarmerInput,
    TraineeInput,
    create_farmer_training,
    parse_trainees,
    update_farmer_training,
)
from tracker.trainings.hours import member_hours
from tracker.trainings.models import FarmerTraining, TrainingKind
from tracker.trainings.services import TrainingError, TrainingInput, create_training
from tracker.workdays import WorkCalendar


def _farmer(**kw) -> FarmerInput:
    data = {
        "topic": "电商",
        "title": "农产品网店开设",
        "held_on": clock.today() - timedelta(days=2),
        "hours": "3",
        "place": "村文明实践站",
        "trainee_count": 12,
        "trainees": [TraineeInput("王春山", "13912345678")],
    }
    data.update(kw)
    return FarmerInput(**data)


def test_a_farmer_training_counts_named_and_unnamed_trainees(world, db):
    t = create_farmer_training(world.village_a1a, _farmer(), None)
    assert t.total == 13 and t.trainees[0].name == "王春山"
    assert db.session.scalar(
        select(func.count()).select_from(AuditLog).where(AuditLog.entity == "farmer_trainee")
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"topic": "烹饪"}, "topic"),
        ({"title": " "}, "title"),
        ({"hours": "0"}, "hours"),
        ({"hours": "abc"}, "hours"),
        ({"held_on": timedelta(days=1)}, "held_on"),
        ({"trainee_count": 0, "trainees": []}, "trainee_count"),
        ({"trainees": [TraineeInput("李", "12ab")]}, "trainees"),
    ],
)
def test_bad_farmer_input_names_its_field(world, db, change, field):
    with pytest.raises(TrainingError) as err:
        create_farmer_training(world.village_a1a, _farmer(**on_test_day(change)), None)
    assert err.value.field == field


def test_the_trainee_box_reads_one_villager_a_line():
    people = parse_trainees("王春山 13912345678\n\n李秋林\n")
    assert [(p.name, p.phone) for p in people] == [("王春山", "13912345678"), ("李秋林", "")]
    with pytest.raises(TrainingError):
        parse_trainees("王 春 山 139")


def test_an_edit_keeps_the_previous_values_as_a_version(world, db, login):
    t = create_farmer_training(world.village_a1a, _farmer(), None)
    update_farmer_training(t, _farmer(title="直播带货实务"))
    db.session.commit()
    client = login(world.users["town_a1_editor"])
    html = client.get(f"/trainings/farmers/{t.id}").get_data(as_text=True)
    assert "版本记录" in html and "农产品网店开设" in html and "直播带货实务" in html
    assert "139****5678" in html and "13912345678" not in html


def test_concentrated_windows_need_the_configured_hours():
    freq = Frequency.parse("yearly")
    need = Decimal("8")
    year = Period.of_year(2025)
    short = evaluate([(date(2025, 3, 1), Decimal("4"))], year, freq, need, date(2026, 1, 5))
    assert [w.status for w in short.windows] == ["missing"] and short.rate == 0
    met = evaluate(
        [(date(2025, 3, 1), Decimal("4")), (date(2025, 9, 1), Decimal("4"))],
        year,
        freq,
        need,
        date(2026, 1, 5),
    )
    assert met.windows_met == 1 and met.hours == Decimal("8")
    running = evaluate([], Period.of_year(2026), freq, need, date(2026, 6, 1))
    assert [w.status for w in running.windows] == ["due"] and running.rate is None


def test_a_township_organization_owes_its_concentrated_training(world, db):
    town = world.town_a1
    create_concentrated(
        town,
        ConcentratedInput(
            "集中轮训", clock.today() - timedelta(days=1), "8", "镇党校", participants=40
        ),
        None,
    )
    fig = concentrated_figures([town.id], Period.of_year(clock.today().year))[town.id]
    assert fig.hours == Decimal("8.0") and fig.windows[0].status == "met"
    with pytest.raises(TrainingError) as err:
        create_concentrated(
            world.county_a,
            ConcentratedInput("x", clock.today(), "2", "县委党校", participants=3),
            None,
        )
    assert err.value.field == "region_id"


def test_member_hours_sum_attended_trainings_of_the_year(world, db):
    village = world.village_a1a
    members = world.members[village.id]
    for hours, who in (("2", members[:2]), ("1.5", members[:1])):
        create_training(
            world.branch(village),
            TrainingInput(
                kind=TrainingKind.party_education,
                title="学习党章",
                held_on=clock.today() - timedelta(days=1),
                hours=hours,
                place="活动室",
                attendee_ids=[m.id for m in who],
            ),
            None,
            WorkCalendar(),
        )
    got = member_hours([m.id for m in members], clock.today().year)
    assert got[members[0].id].hours == Decimal("3.5") and got[members[0].id].sessions == 2
    assert got[members[1].id].hours == Decimal("2.0")
    assert got[members[2].id].sessions == 0


def test_pages_and_exports_answer(world, db, login):
    village = world.village_a1a
    create_farmer_training(village, _farmer(), None)
    db.session.commit()
    client = login(world.users["town_a1_editor"])
    for url in (
        f"/trainings/v/{village.id}/farmers",
        f"/trainings/v/{village.id}/hours",
        "/trainings/concentrated",
        f"/trainings/concentrated/r/{world.town_a1.id}",
        f"/trainings/v/{village.id}/farmers/new",
    ):
        assert client.get(url).status_code == 200, url
    resp = client.get(f"/trainings/v/{village.id}/farmers.xlsx")
    ws = load_workbook(io.BytesIO(resp.data)).active
    values = [c for row in ws.iter_rows(values_only=True) for c in row if c]
    assert any("139****5678" in str(v) for v in values)
    assert not any("13912345678" in str(v) for v in values)
    resp = client.get(f"/trainings/v/{village.id}/hours.xlsx")
    assert resp.status_code == 200 and resp.mimetype.endswith("sheet")


def test_the_form_answers_bad_input_beside_the_field(world, db, login):
    village = world.village_a1a
    client = login(world.users["town_a1_editor"])
    resp = client.post(
        f"/trainings/v/{village.id}/farmers/new",
        data={
            "topic": "电商",
            "title": "t",
            "held_on": (clock.today() + timedelta(days=3)).isoformat(),
            "hours": "2",
            "place": "p",
            "trainee_count": "5",
        },
    )
    assert resp.status_code == 422
    assert "培训日期不能晚于今天" in resp.get_data(as_text=True)
    assert not db.session.scalar(select(func.count()).select_from(FarmerTraining))


def test_the_api_records_and_lists_with_masked_phones(world, db, login):
    village = world.village_a1a
    client = login(world.users["town_a1_editor"])
    body = {
        "village_id": village.id,
        "topic": "政策",
        "title": "补贴政策解读",
        "held_on": (clock.today() - timedelta(days=1)).isoformat(),
        "hours": 2,
        "place": "村部",
        "trainees": [{"name": "李秋林", "phone": "13800001111"}],
    }
    resp = client.post("/api/v1/farmer-trainings", json=body)
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["trainees"][0]["phone_masked"] == "138****1111"
    bad = client.post("/api/v1/farmer-trainings", json={**body, "topic": "烹饪"})
    assert bad.status_code == 422 and "topic" in bad.get_json()["error"]["fields"]
    listed = client.get(f"/api/v1/farmer-trainings?village_id={village.id}").get_json()
    assert listed["total"] == 1 and "13800001111" not in str(listed)
    other = client.get(f"/api/v1/farmer-trainings?village_id={world.village_b1a.id}")
    assert other.status_code == 404
    resp = client.post(
        "/api/v1/concentrated-trainings",
        json={
            "region_id": world.town_a1.id,
            "title": "轮训",
            "held_on": clock.today().isoformat(),
            "hours": 8,
            "place": "镇党校",
            "participants": 30,
        },
    )
    assert resp.status_code == 201
    year = clock.today().year
    orgs = client.get(f"/api/v1/concentrated-trainings?year={year}").get_json()
    town = next(i for i in orgs["items"] if i["region_id"] == world.town_a1.id)
    assert town["windows"][0]["status"] == "met"
    hours = client.get(f"/api/v1/training-hours?village_id={village.id}&year={year}").get_json()
    assert hours["total"] == len(world.members[village.id])


def test_topic_categories_and_hours_come_from_config(world, db, monkeypatch):
    from pydantic import ValidationError

    from tracker.config import TrainingsSettings, current_settings

    for bad in ([], ["技能", "技能"], [" "], ["x" * 33]):
        with pytest.raises(ValidationError):
            TrainingsSettings(farmer_topics=bad)
    with pytest.raises(ValidationError):
        TrainingsSettings(concentrated="weekly")
    settings = current_settings().trainings
    monkeypatch.setattr(settings, "farmer_topics", ["乡村旅游"])
    with pytest.raises(TrainingError):
        create_farmer_training(world.village_a1a, _farmer(topic="电商"), None)
    assert create_farmer_training(world.village_a1a, _farmer(topic="乡村旅游"), None).id
    monkeypatch.setattr(settings, "concentrated_hours", 2.0)
    town = world.town_a1
    create_concentrated(
        town, ConcentratedInput("轮训", clock.today(), "2", "镇党校", participants=9), None
    )
    fig = concentrated_figures([town.id], Period.of_year(clock.today().year))[town.id]
    assert fig.windows[0].status == "met"


def test_a_farmer_or_concentrated_record_is_deleted_only_with_a_reason(world, db, login):
    village = world.village_a1a
    farmer = create_farmer_training(village, _farmer(), None)
    held = clock.today() - timedelta(days=1)
    row = create_concentrated(
        world.town_a1, ConcentratedInput("集中轮训", held, "8", "镇党校", participants=40), None
    )
    db.session.commit()
    client = login(world.users["town_a1_editor"])
    for url, record, kept, gone in [
        (
            f"/trainings/farmers/{farmer.id}/delete",
            farmer,
            f"/trainings/farmers/{farmer.id}",
            f"/trainings/v/{village.id}/farmers",
        ),
        (
            f"/trainings/concentrated/{row.id}/delete",
            row,
            f"/trainings/concentrated/r/{world.town_a1.id}",
            f"/trainings/concentrated/r/{world.town_a1.id}",
        ),
    ]:
        refused = client.post(url, data={"reason": " "})
        assert refused.status_code == 302 and refused.location.endswith(kept)
        db.session.refresh(record)
        assert record.deleted_at is None
        done = client.post(url, data={"reason": "重复录入"})
        assert done.status_code == 302 and done.location.endswith(gone)
        db.session.refresh(record)
        assert record.deleted_at is not None and record.delete_reason == "重复录入"
