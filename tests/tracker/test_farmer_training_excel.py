"""农民教育培训: the A4 print view and the Excel import (round trip, all rows or none)."""

from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from tracker import clock, xlsx
from tracker.extensions import db
from tracker.models import AuditLog
from tracker.trainings.farmer_excel import COLUMNS, import_farmer_trainings
from tracker.trainings.farmers import (
    FarmerInput,
    TraineeInput,
    create_farmer_training,
    farmer_trainings,
)
from tracker.trainings.models import FarmerTraining
from tracker.trainings.services import TrainingError


def _farmer(day: date, **kw: Any) -> FarmerInput:
    data: dict[str, Any] = {
        "topic": "电商",
        "title": "农产品网店开设",
        "held_on": day,
        "hours": "3",
        "place": "村文明实践站",
        "trainee_count": 12,
    }
    data.update(kw)
    return FarmerInput(**data)


def _day(n: int = 2) -> date:
    day = clock.today() - timedelta(days=n)
    return day if day.year == clock.today().year else clock.today()


def _rows(village_id: int) -> list[tuple[Any, ...]]:
    return [
        (
            t.held_on,
            t.topic,
            t.title,
            t.hours,
            t.place,
            t.organizer,
            t.lecturer,
            t.total,
            tuple((p.name, p.phone) for p in t.trainees),
        )
        for t in sorted(
            db.session.scalars(farmer_trainings([village_id])),
            key=lambda t: (t.held_on, t.title),
        )
    ]


def _sheet(rows: list[list[Any]], example: bool = True) -> bytes:
    wb, ws = xlsx.new_workbook("农民教育培训")
    xlsx.header(ws, COLUMNS)
    if example:
        xlsx.example(
            ws, ["示例", date(2026, 3, 5), "种植养殖", "示例主题", 2, "村部", "", "", 9, ""]
        )
    for row in rows:
        xlsx.append(ws, row)
    return xlsx.to_bytes(wb)


def _post(client: Any, village_id: int, data: bytes) -> Any:
    return client.post(
        f"/trainings/v/{village_id}/farmers/import",
        data={"file": (io.BytesIO(data), "农民培训.xlsx")},
        content_type="multipart/form-data",
    )


def test_export_then_import_gives_the_same_register(world, db, login):
    source, target = world.village_a1a, world.village_a1b
    create_farmer_training(source, _farmer(_day(3), hours="1.5", organizer="乡农业站"), None)
    create_farmer_training(
        source,
        _farmer(
            _day(1),
            topic="种植养殖",
            title="玉米高产栽培",
            lecturer="张技术员",
            trainee_count=3,
            trainees=[TraineeInput("王春山"), TraineeInput("李秋林")],
        ),
        None,
    )
    db.session.commit()
    client = login(world.users["town_a1_editor"])
    exported = client.get(f"/trainings/v/{source.id}/farmers.xlsx").data
    before = db.session.scalar(select(func.count()).select_from(AuditLog))
    resp = _post(client, target.id, exported)
    assert resp.status_code == 302
    assert _rows(target.id) == _rows(source.id) and len(_rows(target.id)) == 2
    assert db.session.scalar(select(func.count()).select_from(AuditLog)) > before


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        ({1: "昨天"}, "第 4 行「培训日期」"),
        ({2: "烹饪"}, "第 4 行「专题类别」"),
        ({4: "abc"}, "第 4 行「学时」"),
        ({5: ""}, "第 4 行「地点」"),
        ({8: "x"}, "第 4 行「参训人数」"),
        ({9: "王春山 139****5678"}, "第 4 行「逐一登记的学员（电话已遮挡）」"),
        ({8: 1, 9: "王春山、李秋林"}, "第 4 行「参训人数」"),
    ],
)
def test_a_bad_row_refuses_the_whole_sheet_naming_row_and_column(world, db, login, cells, expected):
    village = world.village_a1a
    good = [1, _day(), "电商", "网店开设", 2, "村部", "", "", 10, ""]
    bad = list(good)
    bad[0] = 2
    for i, value in cells.items():
        bad[i] = value
    client = login(world.users["town_a1_editor"])
    resp = _post(client, village.id, _sheet([good, bad]))
    assert resp.status_code == 422
    assert expected in resp.get_data(as_text=True)
    assert not db.session.scalar(select(func.count()).select_from(FarmerTraining))


def test_the_example_row_is_skipped_and_phones_are_kept(world, db):
    village = world.village_a1a
    row = [1, _day(), "政策", "惠农政策宣讲", 1, "村部", "", "", "", "王春山 13912345678"]
    assert import_farmer_trainings(village, _sheet([row]), None) == 1
    t = db.session.scalars(
        select(FarmerTraining).options(selectinload(FarmerTraining.trainees))
    ).one()
    assert t.title == "惠农政策宣讲" and t.hours == Decimal("1.0") and t.total == 1
    assert [(p.name, p.phone) for p in t.trainees] == [("王春山", "13912345678")]
    with pytest.raises(TrainingError, match="没有数据行"):
        import_farmer_trainings(village, _sheet([]), None)


def test_a_file_that_is_not_xlsx_is_refused_beside_the_field(world, db, login):
    client = login(world.users["town_a1_editor"])
    resp = client.post(
        f"/trainings/v/{world.village_a1a.id}/farmers/import",
        data={"file": (io.BytesIO(b"name,date"), "a.csv")},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 422 and ".xlsx" in resp.get_data(as_text=True)


def test_the_print_view_lists_the_year_with_masked_phones(world, db, login):
    village = world.village_a1a
    create_farmer_training(
        village, _farmer(_day(), trainees=[TraineeInput("王春山", "13912345678")]), None
    )
    db.session.commit()
    client = login(world.users["county_a_viewer"])
    resp = client.get(f"/trainings/v/{village.id}/farmers/print")
    text = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "A4 landscape" in text and "data-print" in text
    assert "农产品网店开设" in text and "139****5678" in text and "13912345678" not in text


def test_the_print_view_runs_the_same_statements_at_two_sizes(world, db, login, assert_max_queries):
    village = world.village_a1a
    client = login(world.users["town_a1_editor"])
    counts = []
    for n in (2, 20):
        for i in range(n):
            create_farmer_training(
                village, _farmer(_day(), title=f"培训{n}-{i}", trainees=[TraineeInput("甲")]), None
            )
        db.session.commit()
        with assert_max_queries(20) as log:
            assert client.get(f"/trainings/v/{village.id}/farmers/print").status_code == 200
        counts.append(log.count)
    assert counts[0] == counts[1]
