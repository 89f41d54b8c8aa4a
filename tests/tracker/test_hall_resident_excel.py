"""The hall's resident services: the A4 print view of a village's or township's services
with their last 12 months, and the Excel import of monthly figures (all rows or none)."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from tracker import clock, xlsx
from tracker.extensions import db
from tracker.halls import resident
from tracker.halls import services as halls
from tracker.halls.models import ActivityUnit, ResidentActivity, ResidentKind
from tracker.halls.resident_excel import COLUMNS, import_months
from tracker.models import AuditLog


def _service(world: Any, village: Any = None, name: str = "农村电商服务站", days: int = 100):
    hall = halls.create_hall(village or world.village_a1a, halls.HallData(name=f"{name}大厅"))
    return resident.create_service(
        hall,
        resident.ResidentInput(
            kind=ResidentKind.ecommerce,
            name=name,
            provider="县电商公共服务中心",
            since=clock.today() - timedelta(days=days),
            unit=ActivityUnit.transactions,
            contact_phone="13912345678",
        ),
    )


def _months() -> list[Any]:
    return resident.last_months(clock.today(), 3)


def _figures() -> set[tuple[int, Any, int]]:
    return {(a.service_id, a.month, a.value) for a in db.session.scalars(select(ResidentActivity))}


def _sheet(rows: list[list[Any]]) -> bytes:
    wb, ws = xlsx.new_workbook("月度业务量")
    xlsx.header(ws, COLUMNS)
    xlsx.example(ws, ["示例", "红旗村", "农村电商服务点", "2026-03", 120, ""])
    for row in rows:
        xlsx.append(ws, row)
    return xlsx.to_bytes(wb)


def _post(client: Any, region_id: int, data: bytes) -> Any:
    return client.post(
        f"/halls/residents/r/{region_id}/import",
        data={"file": (io.BytesIO(data), "月度业务量.xlsx")},
        content_type="multipart/form-data",
    )


def test_export_then_import_gives_the_same_figures(world, db, login):
    a, b = _service(world), _service(world, world.village_a1b, "邮政快递服务点")
    for i, m in enumerate(_months()):
        resident.record_activity(a, m, 40 + i)
        resident.record_activity(b, m, 7 * i)
    db.session.commit()
    before = _figures()
    client = login(world.users["town_a1_editor"])
    exported = client.get(f"/halls/residents/r/{world.town_a1.id}/months.xlsx").data
    db.session.execute(ResidentActivity.__table__.delete())
    db.session.commit()
    audits = db.session.scalar(select(func.count()).select_from(AuditLog))
    assert _post(client, world.town_a1.id, exported).status_code == 302
    assert _figures() == before and len(before) == 6
    assert db.session.scalar(select(func.count()).select_from(AuditLog)) > audits


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({1: "村乙"}, "第 4 行「村（社区）」"),
        ({2: "银行服务点"}, "第 4 行「服务名称」"),
        ({3: "2026-13"}, "第 4 行「月份」"),
        ({4: "-3"}, "第 4 行「数量」"),
        ({3: "old"}, "第 4 行「月份」"),
    ],
)
def test_a_bad_row_refuses_the_whole_sheet(world, db, change, expected):
    service = _service(world)
    month = f"{clock.today():%Y-%m}"
    good = [1, world.village_a1a.name, service.name, month, 5, ""]
    bad = [2, world.village_a1a.name, service.name, month, 6, ""]
    for i, value in change.items():
        bad[i] = value
    if bad[3] == "old":
        bad[3] = f"{clock.today() - timedelta(days=200):%Y-%m}"  # before it moved in
    with pytest.raises(resident.ResidentError) as err:
        import_months(world.town_a1, _sheet([good, bad]))
    assert expected in err.value.message
    db.session.rollback()
    assert not db.session.scalar(select(func.count()).select_from(ResidentActivity))


def test_a_month_before_the_service_started_is_refused_on_the_page(world, db, login):
    service = _service(world, days=10)
    db.session.commit()
    early = clock.today().replace(day=1) - timedelta(days=40)
    row = [1, world.village_a1a.name, service.name, f"{early:%Y-%m}", 5, ""]
    client = login(world.users["town_a1_editor"])
    resp = _post(client, world.village_a1a.id, _sheet([row]))
    assert resp.status_code == 302
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "第 3 行「月份」：月份不能早于入驻日期" in page
    assert not db.session.scalar(select(func.count()).select_from(ResidentActivity))


def test_a_village_out_of_the_region_is_refused(world, db):
    service = _service(world, world.village_a2a)
    row = [1, world.village_a2a.name, service.name, f"{clock.today():%Y-%m}", 5, ""]
    with pytest.raises(resident.ResidentError, match="「村（社区）」"):
        import_months(world.town_a1, _sheet([row]))


def test_the_print_view_shows_twelve_months_and_masks_phones(world, db, login):
    service = _service(world)
    resident.record_activity(service, clock.today().replace(day=1), 321)
    db.session.commit()
    client = login(world.users["county_a_viewer"])
    for region in (world.village_a1a, world.town_a1):
        resp = client.get(f"/halls/residents/r/{region.id}/print")
        text = resp.get_data(as_text=True)
        assert resp.status_code == 200 and "A4 landscape" in text and "data-print" in text
        assert "321" in text and "139****5678" in text and "13912345678" not in text
        assert f"{resident.last_months(clock.today())[0]:%Y-%m}" in text


def test_the_print_view_runs_the_same_statements_at_two_sizes(world, db, login, assert_max_queries):
    client = login(world.users["town_a1_editor"])
    counts = []
    for n in (2, 12):
        for i in range(n):
            s = _service(world, name=f"服务{n}-{i}")
            resident.record_activity(s, clock.today().replace(day=1), i)
        db.session.commit()
        with assert_max_queries(20) as log:
            assert client.get(f"/halls/residents/r/{world.town_a1.id}/print").status_code == 200
        counts.append(log.count)
    assert counts[0] == counts[1]
