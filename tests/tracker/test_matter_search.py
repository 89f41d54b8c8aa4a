"""Finding a matter: search by number, name, phone / ID digits and text; filters; 我的事项
defaults to open matters; pagination keeps the filter."""

from __future__ import annotations

import re
from datetime import date

from tests.tracker.test_matter_services import at, catalog, event, register
from tracker.matters.models import EventKind


def listed(page: str) -> list[str]:
    return re.findall(r'class="text-nowrap" href="/matters/\d+">([^<]+)</a>', page)


def three(world, db):
    t = catalog(world)
    clerk = world.users["village_a1a_editor"]
    a = register(
        world,
        matter_type=t,
        applicant_name="王秀英",
        applicant_phone="13812345678",
        applicant_id_number=None,
    )
    b = register(
        world,
        matter_type=t,
        applicant_name="李德福",
        applicant_phone="13900001111",
        applicant_id_number="11010519491231002X",
        received=at(2026, 10, 12),
    )
    c = register(
        world,
        matter_type=catalog(world, 1, name="残疾人证"),
        village=world.village_a1b,
        applicant_name="赵德胜",
        applicant_phone="13700002222",
        applicant_id_number=None,
        responder=world.users["town_a1_editor"],
    )
    event(
        c,
        EventKind.completed,
        world.users["town_a1_editor"],
        at(2026, 10, 9),
        note="证件已送达本人",
    )
    db.session.commit()
    _ = clerk
    return a, b, c


def test_a_writer_finds_a_matter_by_the_applicants_phone_digits(world, db, login):
    a, b, c = three(world, db)
    client = login(world.users["town_a1_editor"])
    assert listed(client.get("/matters/?view=all&q=5678").text) == [a.serial_no]
    assert listed(client.get("/matters/?view=all&q=002x").text) == [b.serial_no]  # ID digits
    assert listed(client.get("/matters/?view=all&q=德").text) == [b.serial_no, c.serial_no]
    assert listed(client.get("/matters/?view=all&q=送达").text) == [c.serial_no]  # the result
    assert listed(client.get("/matters/?view=all&q=残疾").text) == [c.serial_no]  # the item
    assert listed(client.get(f"/matters/?view=all&q={b.serial_no}").text) == [b.serial_no]
    assert listed(client.get("/matters/?view=all&q=%25").text) == []  # no wildcard


def test_a_viewer_cannot_probe_phone_or_id_digits(world, db, login):
    three(world, db)
    client = login(world.users["county_a_viewer"])
    assert listed(client.get("/matters/?view=all&q=5678").text) == []
    assert "没有符合条件的事项" in client.get("/matters/?view=all&q=002X").text


def test_filters_by_status_village_item_dates_and_clock(world, db, login):
    a, b, c = three(world, db)
    client = login(world.users["town_a1_editor"])

    def get(args: str) -> list[str]:
        return listed(client.get("/matters/?view=all&" + args).text)

    assert get("status=completed") == [c.serial_no]
    assert get("status=open") == [b.serial_no, a.serial_no]
    assert get(f"village_id={world.village_a1b.id}") == [c.serial_no]
    assert get(f"matter_type_id={c.matter_type_id}") == [c.serial_no]
    assert get("start=2026-10-10&end=2026-10-31") == [b.serial_no]
    assert get("due=overdue") == [b.serial_no, a.serial_no]  # both past due on today's date
    assert get("due=soon") == []


def test_my_matters_default_to_open_ones(world, db, login):
    a, b, c = three(world, db)
    client = login(world.users["town_a1_editor"])
    assert listed(client.get("/matters/").text) == []  # c (completed) is the only one of theirs
    assert listed(client.get("/matters/?status=").text) == [c.serial_no]


def test_bad_filter_values_are_explained_not_a_500(world, db, login):
    three(world, db)
    client = login(world.users["town_a1_editor"])
    resp = client.get("/matters/?view=all&start=2026-13-45&village_id=abc&due=nope")
    assert resp.status_code == 200
    assert "受理日期从：" in resp.text and "时限：" in resp.text


def test_pagination_keeps_the_filter(world, db, login, app):
    t = catalog(world)
    for i in range(5):
        register(world, matter_type=t, applicant_name=f"张{i}", applicant_phone=f"1380000000{i}")
    register(world, matter_type=t, applicant_name="李四", applicant_phone="13900009999")
    db.session.commit()
    app.config["SETTINGS"].tracker.per_page = 2
    try:
        client = login(world.users["village_a1a_editor"])
        page = client.get("/matters/?view=all&q=张&status=open").text
        links = re.findall(r'class="page-link" href="([^"]+)"', page)
        assert links, "a second page is offered"
        assert all("q=%E5%BC%A0" in u and "status=open" in u and "view=all" in u for u in links)
        second = client.get(links[0].replace("&amp;", "&")).text
        assert listed(second) and all("李四" not in s for s in listed(second))
    finally:
        app.config["SETTINGS"].tracker.per_page = 50


def test_the_api_searches_the_same_way(world, db, client):
    from tracker.auth.services import create_api_token

    a, _, _ = three(world, db)
    _, plain = create_api_token(world.users["town_a1_editor"], "t")
    db.session.commit()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {plain}"
    body = client.get("/api/v1/matters?q=5678&status=open").get_json()
    assert [m["serial_no"] for m in body["items"]] == [a.serial_no] and body["total"] == 1


def test_lists_and_the_detail_show_the_clock_in_words(world, db, login):
    clerk = world.users["village_a1a_editor"]
    t = catalog(world)
    running = register(world, matter_type=t)  # due Oct 13, overdue now
    paused = register(world, matter_type=t, applicant_name="钱七")
    event(
        paused,
        EventKind.materials_missing,
        clerk,
        at(2026, 10, 9),
        missing=["户口簿"],
        notice="请补齐",
    )
    db.session.commit()
    client = login(clerk)
    page = client.get("/matters/?view=all").text
    assert "暂停计时（已用 2 / 共 5 个工作日）" in page  # Oct 8 and 9 counted, then paused
    assert re.search(r'band-bg-red matter-clock">已逾期 \d+ 个工作日', page)
    detail = client.get(f"/matters/{running.id}").text
    assert re.search(r"已逾期 \d+ 个工作日", detail)
    assert "band-bg-red" in client.get("/matters/overdue").text


def test_the_clocks_of_a_page_cost_one_statement_whatever_the_number_of_paused_matters(world, db):
    from sqlalchemy import event as sa_event

    from tracker.calendar_service import load_calendar
    from tracker.extensions import db as sqla
    from tracker.matters import services

    clerk = world.users["village_a1a_editor"]
    t = catalog(world)
    matters = []
    for i in range(4):
        m = register(world, matter_type=t, applicant_name=f"周{i}")
        event(
            m, EventKind.materials_missing, clerk, at(2026, 10, 9), missing=["户口簿"], notice="补"
        )
        matters.append(m)
    db.session.commit()
    calendar = load_calendar()
    sqla.session.expire_all()
    fresh = [sqla.session.get(type(m), m.id) for m in matters]
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    engine = sqla.session.get_bind()
    sa_event.listen(engine, "before_cursor_execute", count)
    try:
        clocks = services.clocks(fresh, date(2026, 10, 20), calendar)
    finally:
        sa_event.remove(engine, "before_cursor_execute", count)
    assert len(statements) == 1
    assert {c.text for c in clocks.values()} == {"暂停计时（已用 2 / 共 5 个工作日）"}
