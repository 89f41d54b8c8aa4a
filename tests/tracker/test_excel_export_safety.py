"""Every Excel export writes what users typed as text, never as a formula, and never fails on it.

A text that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
opens in Excel as a formula (``=HYPERLINK(...)`` phishing, DDE). One helper,
:func:`tracker.xlsx.append`, writes every export; these tests download the real
workbooks and look at the cells' XML.
"""

from __future__ import annotations

import io
import re
import zipfile
from urllib.parse import quote

import pytest
from openpyxl import load_workbook

from tests.tracker.test_hall_registry import make_setup
from tests.tracker.test_matter_services import register
from tests.tracker.test_meeting_helpers import meeting_input, recent
from tracker import clock, xlsx
from tracker.meetings import services as meeting_services
from tracker.trainings.models import TrainingKind
from tracker.trainings.services import TrainingInput, create_training
from tracker.workdays import WorkCalendar

FORMULA = '=HYPERLINK("http://evil.example/","点击查看")'
RISKY = [FORMULA, "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A2)", "\tx", "\rx", "#N/A"]


def formulas_in(data: bytes) -> list[str]:
    """The ``<f>`` (formula) elements of every sheet of an .xlsx."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return [
            m
            for name in archive.namelist()
            if name.startswith("xl/worksheets/")
            for m in re.findall(r"<f>.*?</f>", archive.read(name).decode())
        ]


def cells(data: bytes) -> list[object]:
    wb = load_workbook(io.BytesIO(data))
    return [c for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for c in row]


@pytest.mark.parametrize("text", RISKY)
def test_the_shared_helper_stores_formula_like_text_as_quoted_text(text):
    wb, ws = xlsx.new_workbook("t")
    xlsx.append(ws, ["name", text, 3])
    data = xlsx.to_bytes(wb)
    assert formulas_in(data) == []
    cell = load_workbook(io.BytesIO(data)).active["B1"]
    # XML readers normalise a carriage return to a newline; the point is: text, not formula
    assert cell.data_type == "s" and cell.value == text.replace("\r", "\n") and cell.quotePrefix


def test_characters_excel_cannot_store_are_replaced_not_a_failure():
    wb, ws = xlsx.new_workbook("t")
    xlsx.append(ws, ["张\x01三"])
    assert load_workbook(io.BytesIO(xlsx.to_bytes(wb))).active["A1"].value == "张\ufffd三"


def test_the_download_carries_the_chinese_name_and_an_ascii_fallback(app):
    with app.test_request_context():
        resp = xlsx.response(b"PK", "平安村党员名册-20260101.xlsx")
    disposition = resp.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="')
    assert f"filename*=UTF-8''{quote('平安村党员名册-20260101.xlsx')}" in disposition
    assert re.search(r'filename="[ -~]+\.xlsx"', disposition)
    assert resp.mimetype == xlsx.XLSX_MIME


def _check(resp, typed: str) -> None:
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    assert "filename*=UTF-8''" in resp.headers["Content-Disposition"]
    assert formulas_in(resp.data) == []
    assert typed in cells(resp.data)


def test_roster_export_writes_a_typed_formula_as_text(world, db, login):
    member = world.members[world.village_a1a.id][0]
    member.note = FORMULA
    db.session.flush()
    client = login(world.users["town_a1_editor"])
    _check(client.get(f"/org/villages/{world.village_a1a.id}/export.xlsx"), FORMULA)


def test_roster_export_of_a_name_with_a_control_character_is_not_a_500(world, db, login):
    member = world.members[world.village_a1a.id][0]
    member.name = "王\x0b五"  # stored before names were checked
    db.session.flush()
    client = login(world.users["town_a1_editor"])
    resp = client.get(f"/org/villages/{world.village_a1a.id}/export.xlsx")
    assert resp.status_code == 200 and "王\ufffd五" in cells(resp.data)


def test_meetings_export_writes_a_typed_formula_as_text(world, db, login):
    village = world.village_a1a
    start = recent(3)
    data = meeting_input(world, village, start)
    data.topics = FORMULA
    meeting_services.record_meeting(world.branch(village), data, None, WorkCalendar())
    client = login(world.users["town_a1_editor"])
    _check(client.get(f"/meetings/v/{village.id}/export.xlsx?year={start.year}"), FORMULA)


def test_trainings_export_writes_a_typed_formula_as_text(world, db, login):
    village = world.village_a1a
    held = clock.today()
    create_training(
        world.branch(village),
        TrainingInput(
            kind=TrainingKind.party_education,
            title=FORMULA,
            held_on=held,
            hours="2",
            place="@活动室",
            attendee_ids=[m.id for m in world.members[village.id][:2]],
        ),
        None,
        WorkCalendar(),
    )
    client = login(world.users["town_a1_editor"])
    resp = client.get(f"/trainings/v/{village.id}/export.xlsx?year={held.year}")
    _check(resp, FORMULA)
    assert "@活动室" in cells(resp.data)


def test_matters_register_writes_a_typed_formula_as_text(world, db, login):
    matter = register(world, applicant_name="+王秀英")
    assert matter.applicant_name == "+王秀英"
    client = login(world.users["town_a1_editor"])
    resp = client.get(f"/matters/register.xlsx?village_id={world.village_a1a.id}&year=2026")
    _check(resp, "+王秀英")


def test_halls_monthly_report_writes_a_typed_hall_name_as_text(world, db, login):
    make_setup(world)
    from tracker.halls.models import ServiceHall as Hall

    hall = db.session.query(Hall).first()
    hall.name = FORMULA
    db.session.commit()
    client = login(world.users["county_a_viewer"])
    resp = client.get(f"/halls/report.xlsx?region_id={world.county_a.id}&month=2025-11")
    _check(resp, FORMULA)


def test_dashboard_export_writes_a_typed_village_name_as_text(world, db, login):
    world.village_a1a.name = "-村甲一甲"
    db.session.flush()
    client = login(world.users["county_a_admin"])
    resp = client.get(f"/dashboard/r/{world.county_a.id}/export.xlsx?period=2025-09")
    assert resp.status_code == 200
    assert "filename*=UTF-8''" in resp.headers["Content-Disposition"]
    assert formulas_in(resp.data) == []
