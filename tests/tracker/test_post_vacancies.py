"""Village posts over time: a vacated post is filled in time, from the reserve list when
possible; who held each post when; versions of team records; recall export and print."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook

from tracker import clock
from tracker.config import current_settings
from tracker.extensions import db
from tracker.models import VillageCadre
from tracker.scope import Scope
from tracker.teams.models import (
    Grade,
    RecallCase,
    RecallOutcome,
    ReserveSource,
    ReserveStatus,
    ReserveTrack,
    VacancyCause,
)
from tracker.teams.posts import fill_vacancy, is_overdue, post_history, vacate_post
from tracker.teams.recall import assess_cadre, record_step
from tracker.teams.services import ReserveInput, TeamError, create_reserve, update_reserve
from tracker.teams.todo import vacancies_overdue
from tracker.workdays import WorkCalendar

DAY = date(2026, 1, 9)  # a Friday


def _cadre(village, name="张国华", post="村委会委员") -> VillageCadre:
    cadre = VillageCadre(region_id=village.id, name=name, post=post, since=date(2021, 1, 4))
    db.session.add(cadre)
    db.session.flush()
    return cadre


def _reserve(village, name="李晓明"):
    return create_reserve(
        village,
        ReserveInput(
            name=name,
            source=ReserveSource.graduate,
            track=ReserveTrack.committee,
            entered_on=date(2025, 3, 1),
        ),
    )


def test_a_vacancy_is_due_in_working_days_and_filled_from_a_reserve(world, db):
    village = world.village_a1a
    cadre = _cadre(village)
    reserve = _reserve(village)
    with clock.frozen(DAY):
        vac = vacate_post(cadre, DAY, VacancyCause.resigned, "辞职", WorkCalendar())
    # 30 working days after Fri 9 Jan 2026: 25 up to Fri 13 Feb, Sat 14 Feb (a make-up
    # workday) the 26th, the Spring Festival 15–23 Feb off, then 24, 25, 26, 27 Feb.
    assert current_settings().teams.vacancy_fill_working_days == 30
    assert vac.due_on == date(2026, 2, 27)
    assert cadre.until == DAY
    with clock.frozen(date(2026, 2, 2)):
        new = fill_vacancy(vac, date(2026, 2, 2), reserve=reserve)
    assert reserve.status == ReserveStatus.appointed and reserve.status_reason == "任村委会委员"
    assert (
        new.post == "村委会委员" and new.since == date(2026, 2, 2) and vac.reserve_id == reserve.id
    )
    rows = post_history(village)["村委会委员"]
    assert [(t.name, t.since, t.until) for t in rows if t.vacancy is None][:2] == [
        ("李晓明", date(2026, 2, 2), None),
        ("张国华", date(2021, 1, 4), DAY),
    ]
    # appointed: cannot re-enter the reserve list, cannot fill another post
    with pytest.raises(TeamError):
        _reserve(village)


def test_filling_without_a_reserve_needs_a_reason_while_reserves_wait(world, db):
    village = world.village_a1a
    _reserve(village)
    with clock.frozen(DAY):
        vac = vacate_post(_cadre(village), DAY, VacancyCause.transferred, "调离", WorkCalendar())
        with pytest.raises(TeamError) as err:
            fill_vacancy(vac, DAY, name="王强")
        assert err.value.field == "fill_note"
        with pytest.raises(TeamError) as err:
            fill_vacancy(vac, DAY - timedelta(days=1), name="王强", note="换届选举产生")
        assert err.value.field == "filled_on"
        fill_vacancy(vac, DAY, name="王强", note="村民代表会议推选")
        assert vac.filled_on == DAY


def test_bad_vacate_input_is_refused_beside_the_field(world, db):
    cadre = _cadre(world.village_a1a)
    with clock.frozen(DAY):
        for on, reason, field in [
            (DAY + timedelta(days=1), "x", "vacated_on"),
            (date(2020, 1, 1), "x", "vacated_on"),
            (DAY, "", "reason"),
        ]:
            with pytest.raises(TeamError) as err:
                vacate_post(cadre, on, VacancyCause.resigned, reason, WorkCalendar())
            assert err.value.field == field


def test_a_recall_ending_in_dismissal_vacates_the_post(world, db):
    cadre = _cadre(world.village_a1a)
    with clock.frozen(DAY):
        a = assess_cadre(cadre, 2025, Grade.incompetent, "镇党委", DAY, WorkCalendar(), "差")
    case = db.session.query(RecallCase).filter_by(assessment_id=a.id).one()
    with clock.frozen(date(2026, 3, 20)):
        for i, step in enumerate(case.steps):
            record_step(
                step,
                DAY + timedelta(days=3 * (i + 1)),
                "",
                RecallOutcome.dismissed if i == 3 else None,
            )
    assert cadre.until == DAY + timedelta(days=12)
    vac = post_history(world.village_a1a)["村委会委员"][0].vacancy
    assert vac is not None and vac.recall_case_id == case.id and vac.cause == VacancyCause.recall


def test_an_overdue_vacancy_is_on_the_home_to_do(world, db):
    with clock.frozen(DAY):
        vac = vacate_post(
            _cadre(world.village_a1a), DAY, VacancyCause.resigned, "辞职", WorkCalendar()
        )
    db.session.flush()
    user = world.users["town_a1_editor"]
    with clock.frozen(date(2026, 3, 2)):
        assert is_overdue(vac, clock.today())
        from flask import current_app

        with current_app.test_request_context():
            items = vacancies_overdue(Scope.for_user(user), user)
    assert items and items[0].count == 1 and "村委会委员" in items[0].detail


def test_pages_show_history_versions_export_and_print(world, db, login):
    village = world.village_a1a
    cadre = _cadre(village)
    reserve = _reserve(village)
    update_reserve(
        reserve,
        ReserveInput(
            name="李晓明",
            source=ReserveSource.veteran,
            track=ReserveTrack.committee,
            entered_on=date(2025, 3, 1),
            mentor="村党支部书记",
        ),
    )
    with clock.frozen(DAY):
        a = assess_cadre(cadre, 2025, Grade.incompetent, "镇党委", DAY, WorkCalendar(), "差")
    db.session.commit()
    client = login(world.users["town_a1_editor"])
    html = client.get(f"/teams/reserves/{reserve.id}").get_data(as_text=True)
    assert "版本记录" in html and "返乡大学生" in html and "退役军人" in html
    assert client.get(f"/teams/cadre-posts/v/{village.id}").status_code == 200
    resp = client.post(
        f"/teams/cadre-posts/v/{village.id}",
        data={"cadre_id": cadre.id, "vacated_on": "2026-01-10", "cause": "resigned", "reason": ""},
    )
    assert resp.status_code == 422 and "请填写空缺原因说明" in resp.get_data(as_text=True)
    resp = client.post(
        f"/teams/cadre-posts/v/{village.id}",
        data={
            "cadre_id": cadre.id,
            "vacated_on": clock.today().isoformat(),
            "cause": "resigned",
            "reason": "辞职",
        },
    )
    assert resp.status_code == 302
    vac_url = resp.headers["Location"]
    resp = client.post(
        vac_url, data={"reserve_id": reserve.id, "filled_on": clock.today().isoformat()}
    )
    assert resp.status_code == 302
    page = client.get(vac_url).get_data(as_text=True)
    assert "李晓明" in page and "已补齐" in page
    assert "teams/vacancies" in client.get("/teams/vacancies").request.path
    xls = client.get(f"/teams/recalls/export.xlsx?region_id={village.id}")
    rows = list(load_workbook(io.BytesIO(xls.data)).active.iter_rows(values_only=True))
    assert rows[2][2] == "张国华" and rows[2][5] == "不称职"
    printed = client.get(f"/teams/recalls/print?region_id={village.id}").get_data(as_text=True)
    assert "A4" in printed and "张国华" in printed
    assert client.get(f"/teams/recalls/print?region_id={world.village_b1a.id}").status_code == 404
    case = db.session.query(RecallCase).filter_by(assessment_id=a.id).one()
    assert "版本记录" in client.get(f"/teams/recalls/{case.id}").get_data(as_text=True)


def test_the_api_vacates_fills_and_lists(world, db, login):
    village = world.village_a1a
    cadre = _cadre(village)
    reserve = _reserve(village)
    db.session.commit()
    client = login(world.users["town_a1_editor"])
    today = clock.today().isoformat()
    bad = client.post(
        "/api/v1/post-vacancies",
        json={"cadre_id": cadre.id, "vacated_on": "2020-01-01", "cause": "resigned", "reason": "x"},
    )
    assert bad.status_code == 422 and "vacated_on" in bad.get_json()["error"]["fields"]
    resp = client.post(
        "/api/v1/post-vacancies",
        json={"cadre_id": cadre.id, "vacated_on": today, "cause": "resigned", "reason": "辞职"},
    )
    assert resp.status_code == 201, resp.get_json()
    vid = resp.get_json()["id"]
    resp = client.post(
        f"/api/v1/post-vacancies/{vid}/fill", json={"filled_on": today, "reserve_id": reserve.id}
    )
    assert resp.status_code == 200 and resp.get_json()["new_name"] == "李晓明"
    again = client.post(
        f"/api/v1/post-vacancies/{vid}/fill", json={"filled_on": today, "name": "王强"}
    )
    assert again.status_code == 422
    listed = client.get(f"/api/v1/post-vacancies?village_id={village.id}").get_json()
    assert listed["total"] == 1 and listed["items"][0]["reserve_id"] == reserve.id
    hist = client.get(f"/api/v1/villages/{village.id}/post-history").get_json()
    post = next(p for p in hist["posts"] if p["post"] == "村委会委员")
    assert post["tenures"][0]["name"] == "李晓明"
    assert client.get("/api/v1/recall-cases").get_json()["total"] == 0
    other = client.get(f"/api/v1/post-vacancies?village_id={world.village_b1a.id}")
    assert other.status_code == 404
