"""党费收缴 with a database: arrears and the six-months flag from the dated facts, the
summary of a hand-computed branch, refused payments, the pages, Excel round trip, the API,
the reminders job, the home to-do and query budgets at two sizes."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.factories import World, make_user, unique
from tracker import clock
from tracker.dues import figures
from tracker.dues.jobs import send_reminders
from tracker.dues.models import DuesBase, DuesPayment
from tracker.dues.rules import DuesCategory, PayMethod
from tracker.dues.services import (
    DuesError,
    PaymentInput,
    ledger_of,
    record_excuse,
    record_payment,
    set_base,
)
from tracker.extensions import db
from tracker.models import Member, MemberStatus, Region, RegionLevel, Role
from tracker.notifications.models import Notification
from tracker.org.models import FactKind
from tracker.org.services import add_member, create_branch, create_region, member_leaves

TODAY = date(2026, 12, 1)


@pytest.fixture(autouse=True)
def _frozen() -> Any:
    with clock.frozen(TODAY):
        yield


def pay(member: Member, first: date, last: date | None, fen: int, on: date) -> DuesPayment:
    return record_payment(
        member,
        PaymentInput(
            first_month=first,
            last_month=last,
            amount_fen=fen,
            paid_on=on,
            method=PayMethod.cash,
            collector="组织委员",
        ),
    )


def _village(world: World) -> tuple[Region, Any]:
    village = create_region(unique("党费村"), RegionLevel.village, world.town_a1)
    return village, create_branch(village, founded_on=date(2000, 1, 1))


# ---------------------------------------------------------------- arrears


def test_six_months_unpaid_since_joining_is_flagged(world: World) -> None:
    _v, branch = _village(world)
    m = add_member(branch, "六个月", status=MemberStatus.probationary, joined_on=date(2026, 6, 15))
    set_base(m, date(2026, 1, 1), DuesCategory.farmer)
    a = figures.member_arrears(ledger_of(m), TODAY)
    # Not for months before joining: June to November, six months.
    assert a.months == tuple(date(2026, n, 1) for n in range(6, 12))
    assert a.amount_fen == 6 * 20
    assert a.run == 6 and a.flagged


def test_five_months_unpaid_is_not_flagged(world: World) -> None:
    _v, branch = _village(world)
    m = add_member(branch, "五个月", status=MemberStatus.probationary, joined_on=date(2026, 7, 3))
    set_base(m, date(2026, 1, 1), DuesCategory.farmer)
    a = figures.member_arrears(ledger_of(m), TODAY)
    assert a.run == 5 and len(a.months) == 5 and not a.flagged


def test_the_current_month_is_not_yet_in_arrears(world: World) -> None:
    _v, branch = _village(world)
    m = add_member(branch, "本月", joined_on=date(2026, 12, 1))
    set_base(m, date(2026, 12, 1), DuesCategory.farmer)
    assert figures.member_arrears(ledger_of(m), TODAY).months == ()


def test_a_recorded_reason_lifts_the_flag_but_keeps_the_arrears(world: World) -> None:
    _v, branch = _village(world)
    m = add_member(branch, "外出", joined_on=date(2020, 1, 1))
    set_base(m, date(2026, 1, 1), DuesCategory.farmer)
    assert figures.member_arrears(ledger_of(m), TODAY).flagged
    record_excuse(m, date(2026, 9, 1), None, "外出务工，已电话联系")
    a = figures.member_arrears(ledger_of(m), TODAY)
    assert not a.flagged and a.excused and len(a.months) == 11


def test_a_payment_ends_the_run(world: World) -> None:
    _v, branch = _village(world)
    m = add_member(branch, "补交", joined_on=date(2020, 1, 1))
    set_base(m, date(2026, 1, 1), DuesCategory.farmer)
    pay(m, date(2026, 8, 1), date(2026, 8, 1), 20, date(2026, 9, 2))
    a = figures.member_arrears(ledger_of(m), TODAY)
    assert a.run == 3 and not a.flagged and len(a.months) == 10


def test_no_dues_are_owed_after_a_transfer_out(world: World) -> None:
    _v, branch = _village(world)
    m = add_member(branch, "转出", joined_on=date(2020, 1, 1))
    set_base(m, date(2026, 1, 1), DuesCategory.farmer)
    member_leaves(m, date(2026, 4, 1), "组织关系转出", kind=FactKind.transfer_out)
    a = figures.member_arrears(ledger_of(m), TODAY)
    assert a.months == tuple(date(2026, n, 1) for n in (1, 2, 3))
    assert not a.flagged  # the run ends at March, not at the last month
    with pytest.raises(DuesError, match="不在本支部名册"):
        pay(m, date(2026, 5, 1), None, 20, date(2026, 5, 5))


def test_a_later_base_does_not_change_past_months(world: World, app: Any) -> None:
    _v, branch = _village(world)
    m = add_member(branch, "涨薪", joined_on=date(2020, 1, 1))
    set_base(m, date(2026, 1, 1), DuesCategory.income, 3000_00)
    set_base(m, date(2026, 7, 1), DuesCategory.income, 6000_00)
    lg = ledger_of(m)
    months = lg.months(date(2026, 1, 1), date(2026, 11, 1))
    assert months.owed[date(2026, 3, 1)] == 15_00
    assert months.owed[date(2026, 8, 1)] == 90_00
    # A change of the bands applies to bases entered afterwards only.
    settings = app.config["SETTINGS"]
    old = settings.dues.band1_rate_bp
    settings.dues.band1_rate_bp = 100
    try:
        set_base(m, date(2026, 12, 1), DuesCategory.income, 2000_00)
    finally:
        settings.dues.band1_rate_bp = old
    stored = db.session.scalars(
        select(DuesBase.monthly_fen)
        .where(DuesBase.member_id == m.id)
        .order_by(DuesBase.effective_month)
    ).all()
    assert stored == [15_00, 90_00, 20_00]


# ---------------------------------------------------------------- payments refused


def test_payments_that_break_a_rule_are_refused_with_the_field(world: World) -> None:
    _v, branch = _village(world)
    m = add_member(branch, "规则", joined_on=date(2026, 3, 10))
    with pytest.raises(DuesError, match="请先核定") as exc:
        pay(m, date(2026, 3, 1), None, 20, date(2026, 3, 20))
    assert exc.value.field == "first_month"
    set_base(m, date(2026, 1, 1), DuesCategory.income, 4000_00)  # 40.00 a month
    cases = [
        ((date(2026, 2, 1), None, 40_00, date(2026, 3, 20)), "不在本支部名册", "first_month"),
        ((date(2026, 3, 1), date(2026, 4, 1), 79_99, date(2026, 4, 2)), "少于", "amount"),
        ((date(2026, 5, 1), date(2026, 4, 1), 40_00, date(2026, 5, 2)), "截止月份", "last_month"),
        ((date(2026, 3, 1), None, 40_00, date(2026, 12, 2)), "晚于今天", "paid_on"),
        (
            (date(2026, 3, 1), date(2028, 1, 1), 40_00 * 23, date(2026, 11, 2)),
            "最多预交",
            "last_month",
        ),
    ]
    for (first, last, fen, on), message, field in cases:
        with pytest.raises(DuesError, match=message) as exc:
            pay(m, first, last, fen, on)
        assert exc.value.field == field
    pay(m, date(2026, 3, 1), date(2026, 4, 1), 80_00, date(2026, 4, 2))
    with pytest.raises(DuesError, match="已登记交纳"):
        pay(m, date(2026, 4, 1), date(2026, 5, 1), 80_00, date(2026, 5, 2))


# ---------------------------------------------------------------- the summary


def _fixture_branch(world: World) -> tuple[Region, Any, dict[str, Member]]:
    """The hand-computed branch of November 2026 (see test below)."""
    village, branch = _village(world)
    a = add_member(branch, "甲", joined_on=date(2015, 1, 1))
    b = add_member(branch, "乙", joined_on=date(2015, 1, 1))
    c = add_member(branch, "丙", joined_on=date(2015, 1, 1))
    d = add_member(branch, "丁", status=MemberStatus.probationary, joined_on=date(2026, 12, 1))
    e = add_member(branch, "戊", joined_on=date(2015, 1, 1))
    f = add_member(branch, "己", joined_on=date(2015, 1, 1))
    set_base(a, date(2026, 1, 1), DuesCategory.income, 3000_00)  # 15.00
    set_base(b, date(2026, 1, 1), DuesCategory.farmer)  # 0.20
    set_base(c, date(2026, 1, 1), DuesCategory.hardship)  # 0.20
    set_base(d, date(2026, 12, 1), DuesCategory.student)
    set_base(e, date(2026, 1, 1), DuesCategory.farmer)
    member_leaves(e, date(2026, 10, 15), "组织关系转出", kind=FactKind.transfer_out)
    pay(a, date(2026, 11, 1), None, 15_00, date(2026, 11, 5))
    pay(c, date(2026, 10, 1), date(2026, 12, 1), 60, date(2026, 11, 10))
    pay(a, date(2026, 10, 1), None, 15_00, date(2026, 10, 8))
    return village, branch, {"a": a, "b": b, "c": c, "d": d, "e": e, "f": f}


def test_the_monthly_summary_matches_the_hand_computed_branch(world: World) -> None:
    # November 2026: 甲 15.00 paid; 乙 0.20 unpaid; 丙 paid Oct–Dec 0.60 on 11-10 (0.20 is
    # November's); 丁 joins in December; 戊 left in October; 己 has no base.
    _village_region, branch, _m = _fixture_branch(world)
    s = figures.month_summaries([branch.id], date(2026, 11, 1))[branch.id]
    assert (s.members, s.no_base) == (4, 1)  # 甲 乙 丙 己
    assert (s.due_members, s.due_fen) == (3, 15_20 + 20)
    assert (s.paid_members, s.paid_fen) == (2, 15_00 + 20)
    assert (s.arrears_members, s.arrears_fen) == (1, 20)
    assert s.collected_fen == 15_00 + 60  # received in November, any months
    october = figures.month_summaries([branch.id], date(2026, 10, 1))[branch.id]
    assert october.members == 5  # 戊 was on the roster until 10-15
    assert (october.paid_fen, october.arrears_members, october.collected_fen) == (15_20, 2, 15_00)


def test_the_page_print_view_and_api_show_the_same_figures(world: World, login: Any) -> None:
    village, _branch, _m = _fixture_branch(world)
    client = login(world.users["town_a1_editor"])
    page = client.get(f"/dues/v/{village.id}?month=2026-11")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "15.20" in html and "15.60" in html
    printed = client.get(f"/dues/v/{village.id}/print?month=2026-11").get_data(as_text=True)
    assert "data-print" in printed and "15.20" in printed
    api = client.get(f"/api/v1/dues/summary?village_id={village.id}&month=2026-11").get_json()
    assert api["due_fen"] == 1540 and api["paid_fen"] == 1520 and api["arrears_members"] == 1
    index = client.get("/dues/?month=2026-11").get_data(as_text=True)
    assert village.name in index and "15.40" in index


# ---------------------------------------------------------------- pages and forms


def test_the_member_page_records_a_base_and_a_payment(world: World, login: Any) -> None:
    m = world.members[world.village_a1a.id][0]
    client = login(world.users["village_a1a_editor"])
    r = client.post(
        f"/dues/members/{m.id}/base",
        data={"effective_month": "2026-01", "category": "income", "income": "4200"},
    )
    assert r.status_code == 302
    r = client.post(
        f"/dues/members/{m.id}/payments",
        data={
            "first_month": "2026-01",
            "last_month": "2026-03",
            "amount": "120",
            "paid_on": "2026-03-05",
            "method": "wechat",
            "collector": "文书",
        },
    )
    assert r.status_code == 422  # 3 × 42.00 = 126.00 due
    assert "少于所交月份应交的 126.00 元" in r.get_data(as_text=True)
    r = client.post(
        f"/dues/members/{m.id}/payments",
        data={
            "first_month": "2026-01",
            "last_month": "2026-03",
            "amount": "126.00",
            "paid_on": "2026-03-05",
            "method": "wechat",
            "collector": "文书",
        },
    )
    assert r.status_code == 302
    page = client.get(f"/dues/members/{m.id}").get_data(as_text=True)
    assert "126.00" in page and "微信" in page


def test_a_bad_income_is_shown_beside_the_field(world: World, login: Any) -> None:
    m = world.members[world.village_a1a.id][0]
    client = login(world.users["village_a1a_editor"])
    r = client.post(
        f"/dues/members/{m.id}/base",
        data={"effective_month": "2026-01", "category": "income", "income": "12.345"},
    )
    assert r.status_code == 422
    assert "最多两位小数" in r.get_data(as_text=True)
    assert not db.session.scalar(select(func.count(DuesBase.id)).where(DuesBase.member_id == m.id))


# ---------------------------------------------------------------- Excel


def test_payments_go_out_to_excel_and_back_unchanged(world: World, login: Any) -> None:
    village, _branch, members = _fixture_branch(world)
    client = login(world.users["town_a1_editor"])
    before = db.session.execute(
        select(
            DuesPayment.member_id,
            DuesPayment.first_month,
            DuesPayment.last_month,
            DuesPayment.amount_fen,
            DuesPayment.paid_on,
            DuesPayment.method,
            DuesPayment.collector,
        ).where(DuesPayment.region_id == village.id)
    ).all()
    r = client.get(f"/dues/v/{village.id}/payments.xlsx?year=2026")
    assert r.status_code == 200
    data = r.data
    ledger = client.get(f"/dues/v/{village.id}/ledger.xlsx?year=2026")
    assert ledger.status_code == 200
    from openpyxl import load_workbook

    ws = load_workbook(io.BytesIO(ledger.data)).worksheets[0]
    rows = {row[1]: row for row in ws.iter_rows(min_row=3, values_only=True)}
    assert rows["乙"][5 + 10] == "欠"  # November column
    assert str(rows["甲"][5 + 10]) == "15"
    for p in db.session.scalars(select(DuesPayment).where(DuesPayment.region_id == village.id)):
        db.session.delete(p)
    db.session.flush()
    r = client.post(
        f"/dues/v/{village.id}/import",
        data={"file": (io.BytesIO(data), "交纳记录.xlsx")},
        content_type="multipart/form-data",
    )
    assert r.status_code == 302
    after = db.session.execute(
        select(
            DuesPayment.member_id,
            DuesPayment.first_month,
            DuesPayment.last_month,
            DuesPayment.amount_fen,
            DuesPayment.paid_on,
            DuesPayment.method,
            DuesPayment.collector,
        ).where(DuesPayment.region_id == village.id)
    ).all()
    assert sorted(after) == sorted(before)
    # Importing the same sheet again is refused as a whole: the months are already paid.
    r = client.post(
        f"/dues/v/{village.id}/import",
        data={"file": (io.BytesIO(data), "交纳记录.xlsx")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert "已登记交纳" in r.get_data(as_text=True)
    assert len(
        db.session.scalars(select(DuesPayment).where(DuesPayment.region_id == village.id)).all()
    ) == len(before)


def test_an_import_row_naming_nobody_is_refused_with_its_row(world: World, login: Any) -> None:
    from tracker import xlsx
    from tracker.dues.excel import PAYMENT_COLUMNS

    village, _branch, _m = _fixture_branch(world)
    wb, ws = xlsx.new_workbook("交纳记录")
    xlsx.header(ws, PAYMENT_COLUMNS)
    xlsx.append(ws, [1, "乙", "2026-10", "2026-10", "0.2", date(2026, 11, 3), "现金", "文书", ""])
    xlsx.append(ws, [2, "查无此人", "2026-10", "", "0.2", date(2026, 11, 3), "现金", "文书", ""])
    client = login(world.users["town_a1_editor"])
    r = client.post(
        f"/dues/v/{village.id}/import",
        data={"file": (io.BytesIO(xlsx.to_bytes(wb)), "x.xlsx")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert "第 3 行：本支部名册中没有「查无此人」" in r.get_data(as_text=True)
    assert not db.session.scalar(
        select(func.count(DuesPayment.id)).where(
            DuesPayment.region_id == village.id,
            DuesPayment.first_month == date(2026, 10, 1),
            DuesPayment.amount_fen == 20,
        )
    )


# ---------------------------------------------------------------- API


def test_the_api_records_lists_and_refuses(world: World, login: Any) -> None:
    village, _branch, members = _fixture_branch(world)
    client = login(world.users["town_a1_editor"])
    body = {
        "member_id": members["b"].id,
        "first_month": "2026-11",
        "amount_fen": 20,
        "paid_on": "2026-11-30",
        "method": "wechat",
        "collector": "文书",
    }
    r = client.post("/api/v1/dues/payments", json=body)
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["months"] == 1
    again = client.post("/api/v1/dues/payments", json=body)
    assert again.status_code == 422
    assert "first_month" in again.get_json()["error"]["fields"]
    listed = client.get(f"/api/v1/dues/payments?village_id={village.id}&per_page=2").get_json()
    assert listed["total"] == 4 and len(listed["items"]) == 2 and listed["next"]
    people = client.get(f"/api/v1/dues/members?village_id={village.id}&month=2026-11").get_json()
    assert {p["name"] for p in people["items"]} == {"甲", "乙", "丙", "己"}
    r = client.post(
        "/api/v1/dues/bases",
        json={
            "member_id": members["f"].id,
            "effective_month": "2026-01",
            "category": "income",
            "income_fen": 10000_01,
        },
    )
    assert (
        r.status_code == 201
        and r.get_json()["monthly_fen"] == 200_00
        and r.get_json()["rate_bp"] == 200
    )
    other = world.members[world.village_b1a.id][0]
    assert (
        client.post("/api/v1/dues/payments", json={**body, "member_id": other.id}).status_code
        == 404
    )
    assert client.get(f"/api/v1/dues/members/{other.id}").status_code == 404
    detail = client.get(f"/api/v1/dues/members/{members['f'].id}").get_json()
    assert detail["flagged"] and detail["unpaid_run"] == 11


def test_a_viewer_may_read_but_not_pay(world: World, login: Any) -> None:
    village, _branch, members = _fixture_branch(world)
    client = login(world.users["county_a_viewer"])
    assert client.get(f"/dues/v/{village.id}").status_code == 200
    r = client.post(
        "/api/v1/dues/payments",
        json={
            "member_id": members["b"].id,
            "first_month": "2026-11",
            "amount_fen": 20,
            "paid_on": "2026-11-30",
            "method": "cash",
            "collector": "文书",
        },
    )
    assert r.status_code == 403


# ---------------------------------------------------------------- job and to-do


def test_the_clerk_is_reminded_once_a_month(world: World) -> None:
    m = world.members[world.village_a1a.id][0]
    set_base(m, date(2026, 10, 1), DuesCategory.farmer)
    clerk = world.users["village_a1a_editor"]
    assert send_reminders(date(2026, 12, 4)) == 0  # before [dues] reminder_day
    assert send_reminders(TODAY.replace(day=5)) >= 1
    note = db.session.scalar(
        select(Notification).where(
            Notification.user_id == clerk.id, Notification.kind == "dues_reminder"
        )
    )
    assert note is not None and m.name in note.body and "2026年11月" in note.title
    assert send_reminders(TODAY.replace(day=6)) == 0  # once per branch and month


def test_a_flagged_member_is_on_the_home_todo(world: World, login: Any) -> None:
    m = world.members[world.village_a1a.id][0]
    set_base(m, date(2026, 1, 1), DuesCategory.farmer)
    client = login(world.users["town_a1_editor"])
    html = client.get("/").get_data(as_text=True)
    assert "党员连续6个月未交党费，须谈话" in html and m.name in html
    record_excuse(m, date(2026, 1, 1), None, "经谈话，承诺年底补交")
    assert "党员连续6个月未交党费" not in client.get("/").get_data(as_text=True)


# ---------------------------------------------------------------- query budgets


def _grow(world: World, n: int) -> None:
    branch = world.branch(world.village_a1a)
    for _ in range(n):
        m = add_member(branch, unique("员"), joined_on=date(2020, 1, 1))
        set_base(m, date(2026, 1, 1), DuesCategory.income, 4000_00)
        pay(m, date(2026, 1, 1), date(2026, 3, 1), 120_00, date(2026, 3, 3))
        pay(m, date(2026, 4, 1), None, 40_00, date(2026, 4, 3))


@pytest.mark.parametrize(
    "url",
    [
        "/dues/?month=2026-11",
        "/dues/v/{v}?month=2026-11",
        "/dues/v/{v}/print?month=2026-11",
        "/dues/v/{v}/ledger.xlsx?year=2026",
        "/dues/v/{v}/payments.xlsx?year=2026",
        "/api/v1/dues/members?village_id={v}&month=2026-11",
        "/api/v1/dues/payments?village_id={v}",
    ],
)
def test_dues_lists_run_the_same_statements_at_two_sizes(
    world: World, login: Any, assert_max_queries: Any, url: str
) -> None:
    client = login(world.users["town_a1_editor"])
    target = url.format(v=world.village_a1a.id)
    counts = []
    for n in (2, 20):
        _grow(world, n)
        with assert_max_queries(30) as log:
            assert client.get(target).status_code == 200
        counts.append(log.count)
    assert counts[0] == counts[1]


def test_the_reminders_job_reads_in_a_fixed_number_of_statements(
    world: World, assert_max_queries: Any
) -> None:
    make_user(Role.editor, world.village_a1b)
    counts = []
    for n, day in ((2, 5), (20, 6)):
        _grow(world, n)
        db.session.execute(Notification.__table__.delete())
        with assert_max_queries(40) as log:
            send_reminders(date(2026, 12, day))
        counts.append(log.count)
    assert counts[0] == counts[1]


def test_payments_are_audited_and_named_in_chinese(world: World, login: Any) -> None:
    from tracker.models import AuditLog
    from tracker.org.labels import entity_label, value_label

    village, _branch, members = _fixture_branch(world)
    client = login(world.users["town_a1_editor"])
    payment = db.session.scalars(
        select(DuesPayment).where(DuesPayment.member_id == members["a"].id)
    ).first()
    assert payment is not None
    payment_id = payment.id
    r = client.post(f"/dues/payments/{payment_id}/delete")
    assert r.status_code == 302
    row = db.session.scalar(
        select(AuditLog).where(
            AuditLog.entity == "dues_payment",
            AuditLog.entity_id == str(payment_id),
            AuditLog.action == "delete",
        )
    )
    assert row is not None and row.region_id == village.id
    assert entity_label("dues_payment") == "党费交纳记录"
    assert value_label("dues_payment", "method", "wechat", None) == "微信"


def test_the_dues_page_reads_in_english(world: World, login: Any) -> None:
    village, _branch, _m = _fixture_branch(world)
    client = login(world.users["town_a1_editor"])
    html = client.get(f"/dues/v/{village.id}?month=2026-11&lang=en").get_data(as_text=True)
    assert "Party dues" in html and "Arrears" in html and "Due this month (yuan)" in html
    assert "应交" not in html and "欠交" not in html


def test_the_month_figures_read_a_window_and_agree_with_the_whole_history(world: World) -> None:
    _v, branch = _village(world)
    old = add_member(branch, "老账", joined_on=date(2015, 1, 1))
    back = add_member(branch, "补旧账", joined_on=date(2015, 1, 1))
    for m in (old, back):
        set_base(m, date(2022, 1, 1), DuesCategory.farmer)
    pay(old, date(2022, 1, 1), date(2024, 12, 1), 36 * 20, date(2024, 12, 20))
    # Back pay of 2023, paid this November: November's collection counts it.
    pay(back, date(2023, 1, 1), date(2023, 12, 1), 12 * 20, date(2026, 11, 3))
    full = figures.arrears([branch.id], TODAY)[branch.id]
    recent = figures.arrears([branch.id], TODAY, recent=True)[branch.id]
    assert full[old.id].run == recent[old.id].run == 23 and full[old.id].flagged
    assert recent[back.id].flagged == full[back.id].flagged
    assert len(full[back.id].months) == 12 + 12 + 23  # 2022, 2024 … 2026-11
    s = figures.month_summaries([branch.id], date(2026, 11, 1))[branch.id]
    assert s.collected_fen == 12 * 20 and s.flagged == 2 and s.arrears_members == 2
