"""Pages, JSON API and Excel export of the service ledger: scope, masking, errors by the field."""

from __future__ import annotations

import io
from zoneinfo import ZoneInfo

from openpyxl import load_workbook

from tests.tracker.test_matter_services import at, catalog, event, register
from tracker.matters.models import EventKind, MatterStatus, ServiceMatter
from tracker.models import Role
from tracker.org.services import create_user

FULL_PHONE = "13812345678"
FULL_ID = "11010519491231002X"


def test_registration_form_registers_and_redirects_to_the_detail(world, db, login):
    t = catalog(world)
    client = login(world.users["village_a1a_editor"])
    page = client.get("/matters/new")
    assert page.status_code == 200
    assert "服务事项登记" in page.text and "首问责任人" in page.text
    resp = client.post(
        "/matters/new",
        data={
            "village_id": world.village_a1a.id,
            "matter_type_id": t.id,
            "applicant_name": "李桂芝",
            "applicant_phone": "13900001111",
            "channel": "in_person",
            "received_at": "2026-09-30T09:00",
            "first_responder_id": world.users["village_a1a_editor"].id,
            "materials_received": ["身份证", "户口簿", "收入证明"],
            "client_token": "form-token-1",
        },
    )
    assert resp.status_code == 302
    matter = db.session.query(ServiceMatter).filter_by(client_token="form-token-1").one()
    assert matter.due_on.isoformat() == "2026-10-13"
    detail = client.get(resp.headers["Location"])
    assert "李桂芝" in detail.text and "2026-10-13" in detail.text
    again = client.post(
        "/matters/new",
        data={
            "village_id": world.village_a1a.id,
            "matter_type_id": t.id,
            "applicant_name": "李桂芝",
            "applicant_phone": "13900001111",
            "channel": "in_person",
            "received_at": "2026-09-30T09:00",
            "first_responder_id": world.users["village_a1a_editor"].id,
            "client_token": "form-token-1",
        },
    )
    assert again.status_code == 302  # a double submit lands on the same matter
    assert db.session.query(ServiceMatter).filter_by(applicant_name="李桂芝").count() == 1


def test_a_bad_phone_is_reported_next_to_the_field_and_nothing_is_saved(world, db, login):
    t = catalog(world)
    client = login(world.users["village_a1a_editor"])
    resp = client.post(
        "/matters/new",
        data={
            "village_id": world.village_a1a.id,
            "matter_type_id": t.id,
            "applicant_name": "李桂芝",
            "applicant_phone": "123",
            "channel": "in_person",
            "received_at": "2026-09-30T09:00",
            "first_responder_id": world.users["village_a1a_editor"].id,
            "materials_received": ["身份证", "户口簿", "收入证明"],
        },
    )
    assert resp.status_code == 422  # the form comes back with its errors
    assert "请填写正确的电话" in resp.text
    assert db.session.query(ServiceMatter).count() == 0


def test_missing_materials_without_a_notice_are_refused_next_to_the_notice(world, db, login):
    t = catalog(world)
    client = login(world.users["village_a1a_editor"])
    resp = client.post(
        "/matters/new",
        data={
            "village_id": world.village_a1a.id,
            "matter_type_id": t.id,
            "applicant_name": "李桂芝",
            "applicant_phone": "13900001111",
            "channel": "in_person",
            "received_at": "2026-09-30T09:00",
            "first_responder_id": world.users["village_a1a_editor"].id,
            "materials_received": ["身份证"],
        },
    )
    assert "一次性告知" in resp.text and "材料不齐时请记录" in resp.text


def test_an_illegal_step_is_refused_with_a_clear_message(world, db, login):
    matter = register(world)
    client = login(world.users["village_a1a_editor"])
    resp = client.post(
        f"/matters/{matter.id}/events", data={"kind": "rated", "rated-rating": "satisfied"}
    )
    assert resp.status_code == 422
    assert "办结后才能评价" in resp.text


def test_completing_through_the_page(world, db, login):
    matter = register(world)
    client = login(world.users["village_a1a_editor"])
    resp = client.post(
        f"/matters/{matter.id}/events",
        data={
            "kind": "completed",
            "completed-note": "已办结",
            "completed-at": "2026-10-09T10:00",
            "completed-client_token": "c1",
        },
    )
    assert resp.status_code == 302
    assert matter.status == MatterStatus.completed and matter.on_time is True


def test_out_of_scope_matters_are_404_in_pages_and_api(world, db, login):
    matter = register(world)
    client = login(world.users["town_b1_editor"])
    assert client.get(f"/matters/{matter.id}").status_code == 404
    assert client.get(f"/api/v1/matters/{matter.id}").status_code == 404
    assert (
        client.post(f"/matters/{matter.id}/events", data={"kind": "completed"}).status_code == 404
    )
    assert client.get(f"/api/v1/matters/{matter.id}/events").status_code == 404
    listing = client.get("/api/v1/matters").get_json()
    assert listing["total"] == 0


def test_viewers_see_masked_personal_data_everywhere(world, db, login):
    matter = register(world)
    client = login(world.users["county_a_viewer"])
    for url in (
        "/matters/?view=all",
        f"/matters/{matter.id}",
        f"/matters/register?village_id={world.village_a1a.id}&year=2026",
    ):
        text = client.get(url).text
        assert FULL_PHONE not in text and FULL_ID not in text, url
    assert "138****5678" in client.get(f"/matters/{matter.id}").text
    body = client.get(f"/api/v1/matters/{matter.id}").get_json()
    assert body["applicant_phone"] == "138****5678"
    assert body["applicant_id_number"] == "1101**********002X"
    assert body["personal_data_masked"] is True
    listing = client.get("/api/v1/matters").get_json()
    assert FULL_PHONE not in str(listing) and FULL_ID not in str(listing)
    xlsx = client.get(f"/matters/register.xlsx?village_id={world.village_a1a.id}&year=2026")
    cells = [
        c
        for row in load_workbook(io.BytesIO(xlsx.data)).active.iter_rows(values_only=True)
        for c in row
    ]
    assert FULL_PHONE not in cells and FULL_ID not in cells
    assert "138****5678" in cells


def test_editors_in_scope_see_full_personal_data(world, db, login):
    matter = register(world)
    client = login(world.users["town_a1_editor"])
    assert FULL_ID in client.get(f"/matters/{matter.id}").text
    assert client.get(f"/api/v1/matters/{matter.id}").get_json()["applicant_id_number"] == FULL_ID
    xlsx = client.get(f"/matters/register.xlsx?village_id={world.village_a1a.id}&year=2026")
    rows = list(load_workbook(io.BytesIO(xlsx.data)).active.iter_rows(values_only=True))
    assert rows[1][:4] == ("登记编号", "受理时间", "申请人", "联系电话")
    assert rows[2][3] == FULL_PHONE and rows[2][4] == FULL_ID
    # 受理时间 is a real Excel date/time in local time (the print view shows the same).
    received = matter.received_at.astimezone(ZoneInfo("Asia/Shanghai")).replace(tzinfo=None)
    assert rows[2][1] == received.replace(microsecond=0)
    assert rows[2][11].date() == matter.due_on  # a date cell (openpyxl reads it as datetime)
    book = client.get(f"/matters/register?village_id={world.village_a1a.id}&year=2026").text
    assert received.strftime("%Y-%m-%d %H:%M") in book


def test_matter_json_carries_the_contract_fields(world, db, login):
    matter = register(
        world, matter_type=catalog(world, 30, statutory=None), received=at(2026, 11, 20)
    )
    client = login(world.users["village_a1a_editor"])
    body = client.get(f"/api/v1/matters/{matter.id}").get_json()
    for key in (
        "received_at",
        "due_on",
        "calendar_official",
        "status",
        "first_responder",
        "overdue",
    ):
        assert key in body
    assert body["due_on"] == "2027-01-01" and body["calendar_official"] is False
    assert body["first_responder"]["id"] == world.users["village_a1a_editor"].id
    assert body["status"] == "accepted" and body["overdue"] is False


def test_api_registers_refuses_bad_input_and_illegal_transitions(world, db, client):
    from tracker.auth.services import create_api_token

    t = catalog(world)
    _, plain = create_api_token(world.users["village_a1a_editor"], "test")
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {plain}"
    body = {
        "village_id": world.village_a1a.id,
        "matter_type_id": t.id,
        "applicant_name": "赵德胜",
        "applicant_phone": "13700002222",
        "received_at": "2026-09-30T09:00:00+08:00",
        "client_token": "api-1",
    }
    first = client.post("/api/v1/matters", json=body)
    assert first.status_code == 201, first.get_json()
    assert first.get_json()["due_on"] == "2026-10-13"
    assert client.post("/api/v1/matters", json=body).status_code == 200  # resent: same matter
    bad = client.post(
        "/api/v1/matters", json={**body, "client_token": "api-2", "applicant_phone": "1"}
    )
    assert bad.status_code == 422
    assert "applicant_phone" in bad.get_json()["error"]["fields"]
    mid = first.get_json()["id"]
    illegal = client.post(f"/api/v1/matters/{mid}/events", json={"kind": "archived"})
    assert illegal.status_code == 409
    assert "办结后才能归档" in illegal.get_json()["error"]["message"]
    ok = client.post(
        f"/api/v1/matters/{mid}/events",
        json={"kind": "completed", "note": "办好了", "at": "2026-10-09T10:00:00+08:00"},
    )
    assert ok.status_code == 201
    events = client.get(f"/api/v1/matters/{mid}/events").get_json()
    assert [e["kind"] for e in events] == ["accepted", "completed"]


def test_viewers_cannot_write_through_the_api(world, db, client):
    from tracker.auth.services import create_api_token

    matter = register(world)
    _, plain = create_api_token(world.users["county_a_viewer"], "test")
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {plain}"
    resp = client.post(
        f"/api/v1/matters/{matter.id}/events", json={"kind": "completed", "note": "x"}
    )
    assert resp.status_code == 403


def test_my_matters_lists_referred_matters_for_the_first_responder(world, db, login):
    clerk = world.users["village_a1a_editor"]
    matter = register(world)
    event(
        matter,
        EventKind.referred,
        clerk,
        at(2026, 9, 30, 10),
        to_user_id=world.users["town_a1_editor"].id,
    )
    page = login(clerk).get("/matters/").text
    assert matter.serial_no in page and "已转办" in page


def test_overdue_list_of_the_township(world, db, login):
    matter = register(world)  # due Oct 13, still open
    page = login(world.users["town_a1_editor"]).get("/matters/overdue").text
    assert matter.serial_no in page and "村甲一甲" in page


def test_catalog_import_previews_errors_and_imports_all_or_nothing(world, db, login):
    from openpyxl import Workbook

    def workbook(rows):
        wb = Workbook()
        ws = wb.active
        ws.append(
            ["事项名称", "事项类别", "办件类型", "承诺时限", "法定时限", "所需材料", "办理层级"]
        )
        for r in rows:
            ws.append(r)
        out = io.BytesIO()
        wb.save(out)
        out.seek(0)
        return out

    client = login(world.users["county_a_admin"])
    bad = client.post(
        "/matters/catalog/import",
        data={
            "region_id": world.county_a.id,
            "file": (
                workbook(
                    [
                        ["开具证明", "综合", "即办件", 0, None, "身份证", "村"],
                        ["低保申请", "民政", "承诺件", 30, 20, "身份证；户口簿", "乡镇"],
                    ]
                ),
                "catalog.xlsx",
            ),
        },
        content_type="multipart/form-data",
    )
    assert "第 3 行：承诺时限不能超过法定时限" in bad.text
    assert "确认导入" not in bad.text
    good = client.post(
        "/matters/catalog/import",
        data={
            "region_id": world.county_a.id,
            "file": (
                workbook(
                    [
                        ["开具证明", "综合", "即办件", 0, None, "身份证", "村"],
                        ["低保申请", "民政", "承诺件", 15, 20, "身份证；户口簿", "乡镇"],
                    ]
                ),
                "catalog.xlsx",
            ),
        },
        content_type="multipart/form-data",
    )
    assert "确认导入 2 项" in good.text
    import re

    digest = re.search(r'name="digest" value="([0-9a-f]{64})"', good.text).group(1)
    done = client.post(
        "/matters/catalog/import", data={"region_id": world.county_a.id, "digest": digest}
    )
    assert done.status_code == 302
    names = client.get("/api/v1/matters/catalog").get_json()
    assert {"开具证明", "低保申请"} <= {n["name"] for n in names}


def test_only_admins_edit_the_catalog(world, db, login):
    client = login(world.users["town_a1_editor"])
    assert client.get("/matters/catalog/new").status_code == 403
    assert client.get("/matters/catalog").status_code == 200


def test_county_admins_cannot_change_the_national_calendar(world, db, login):
    assert login(world.users["county_a_admin"]).get("/matters/calendar").status_code == 403


def test_calendar_overrides_page_is_for_the_top_admin(world, db, login):
    client = login(world.users["city_admin"])
    assert "2027 年" in client.get("/matters/calendar?year=2027").text
    resp = client.post(
        "/matters/calendar", data={"day": "2027-02-06", "is_workday": "0", "note": "春节"}
    )
    assert resp.status_code == 302
    refused = client.post("/matters/calendar", data={"day": "2026-02-06", "is_workday": "0"})
    assert "官方日历" in refused.text


def test_measures_page_and_api(world, db, login):
    register(world)
    client = login(world.users["county_a_admin"])
    assert "镇甲一" in client.get("/matters/measures?year=2026").text
    rows = client.get("/api/v1/matters/measures?level=township&start=2026-01-01&end=2026-12-31")
    assert rows.status_code == 200
    assert rows.get_json()[0]["received"] == 1


def test_openapi_documents_the_matters_api(world, db, login):
    doc = login(world.users["city_admin"]).get("/api/v1/openapi.json").get_json()
    assert "/api/v1/matters/{matter_id}/events" in doc["paths"]
    assert "MatterOut" in doc["components"]["schemas"]


def test_a_second_hall_clerk_may_record_the_rating(world, db, login):
    clerk = world.users["village_a1a_editor"]
    other = create_user("hall_rater_v", "password-123", Role.editor, world.village_a1a)
    matter = register(world)
    event(matter, EventKind.completed, clerk, at(2026, 10, 9), note="ok")
    resp = login(other).post(
        f"/matters/{matter.id}/events", data={"kind": "rated", "rated-rating": "dissatisfied"}
    )
    assert resp.status_code == 302
    assert matter.callback_due_on is not None


def test_an_admin_pastes_a_years_holidays_in_one_go(world, db, login):
    from tracker.models import CalendarOverride

    client = login(world.users["city_admin"])
    bad = client.post("/matters/calendar", data={"bulk-lines": "2027-01-01 休 元旦\n2027-13-01 休"})
    assert "第 2 行：日期应为 YYYY-MM-DD" in bad.text
    assert db.session.query(CalendarOverride).count() == 0  # all or nothing
    ok = client.post(
        "/matters/calendar",
        data={"bulk-lines": "2027-02-06~2027-02-12 休 春节\n2027-02-14 班 春节调休"},
    )
    assert ok.status_code == 302
    days = {o.day.isoformat(): o.is_workday for o in db.session.query(CalendarOverride)}
    assert len(days) == 8 and days["2027-02-14"] is True and days["2027-02-08"] is False


def test_a_missing_detail_is_shown_in_that_action_form_only(world, db, login):
    matter = register(world)
    client = login(world.users["village_a1a_editor"])
    resp = client.post(
        f"/matters/{matter.id}/events",
        data={"kind": "extended", "extended-days": "3", "extended-note": "需核查"},
    )
    assert resp.status_code == 422
    assert resp.text.count("延期须写明审批人") == 1
    assert 'id="act-extended"' in resp.text and "collapse show" in resp.text
    assert matter.extension_days == 0


def test_the_long_select_writes_what_wtforms_writes():
    from markupsafe import Markup
    from wtforms.fields.choices import Choice
    from wtforms.widgets import Select

    from tracker.forms import LongSelect

    options = [
        (0, "全部村", None),
        (7, '村"甲"<一>&\'', None),
        ("a b", "", None),
        ('x"y', None, None),
        (True, "是", None),
        (None, "无", None),
        (3, "有属性", {"disabled": True}),
    ]
    for selected in (False, True):
        for value, label, render_kw in options:
            option = Choice(value, label, selected, render_kw)
            ours = LongSelect.render_option(option)
            assert ours == Select.render_option(option) and isinstance(ours, Markup)
