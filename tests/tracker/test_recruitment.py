"""发展党员 with the database: admission writes the member's facts (so the full members of
a past day are right), meetings must be the branch's quorate 支部党员大会, the pages refuse
a broken rule beside its field, the API answers 422 with the field, the to-do names the
overdue steps, the 发展党员工作台账 goes to Excel and back."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from tests.tracker.recruitment_helpers import (
    ADMITTED,
    FULL,
    case_at,
    meeting,
    step,
)
from tracker import clock
from tracker.extensions import db
from tracker.models import Member, MemberStatus
from tracker.models.audit import AuditLog
from tracker.org import history
from tracker.recruitment import excel
from tracker.recruitment.models import RecruitCase, RecruitStep, Stage, StepKind
from tracker.recruitment.rules import RecruitError


def test_admission_creates_the_member_and_its_probationary_fact(world: Any) -> None:
    v = world.village_a1a
    case = case_at(world, v, "admitted")
    assert case.stage == Stage.probationary
    member = db.session.get(Member, case.member_id)
    assert member is not None and member.status == MemberStatus.probationary
    assert member.joined_on == ADMITTED and member.branch_id == world.branch(v).id
    facts = history.facts_of(member.id)
    assert [(f.kind.value, f.on) for f in facts] == [("probationary", ADMITTED)]


def test_the_full_members_of_past_days_follow_admission_and_full_membership(world: Any) -> None:
    v = world.village_a1a
    branch = world.branch(v).id
    case = case_at(world, v, "full")
    mid = case.member_id
    assert case.stage == Stage.full
    on = history.full_members_on
    assert mid not in on([branch], ADMITTED - timedelta(days=1))[branch]
    assert mid in history.standings_on([branch], ADMITTED)[branch]  # on the roster …
    assert mid not in on([branch], ADMITTED)[branch]  # … without a vote
    assert mid not in on([branch], FULL - timedelta(days=1))[branch]
    assert mid in on([branch], FULL)[branch]
    assert mid in on([branch], clock.today())[branch]
    assert history.full_dates([mid]) == {mid: FULL}


def test_admission_needs_a_quorate_general_meeting_of_the_branch_on_that_day(world: Any) -> None:
    v = world.village_a1a
    case = case_at(world, v, "ready")
    other = meeting(world, world.village_a1b, ADMITTED)
    committee = meeting(world, v, ADMITTED, kind="branch_committee_meeting")
    short = meeting(world, v, ADMITTED, quorum=False)
    wrong_day = meeting(world, v, ADMITTED + timedelta(days=1))
    for m, message in (
        (other, "不属于本支部"),
        (committee, "不是支部党员大会"),
        (short, "未超过半数"),
        (wrong_day, "与本步骤日期不一致"),
    ):
        with pytest.raises(RecruitError, match=message) as info:
            step(case, StepKind.admission, ADMITTED, meeting_id=m.id)
        assert info.value.field == "meeting_id"
    assert db.session.scalar(select(Member).where(Member.name == case.name)) is None
    assert case.stage == Stage.candidate


def test_cancelling_probation_takes_the_member_off_the_roster(world: Any) -> None:
    v = world.village_a1a
    case = case_at(world, v, "approved")
    step(case, StepKind.cancel, date(2024, 9, 1), body="党支部党员大会", result="不履行党员义务")
    branch = world.branch(v).id
    assert case.stage == Stage.cancelled
    assert case.member_id in history.standings_on([branch], date(2024, 8, 31))[branch]
    assert case.member_id not in history.standings_on([branch], date(2024, 9, 1))[branch]


def test_a_concentrated_training_may_link_the_trainings_register(world: Any) -> None:
    from tracker.trainings.models import TrainingKind
    from tracker.trainings.services import TrainingInput, create_training

    v = world.village_a1a
    case = case_at(world, v, "candidate")
    training, *_ = create_training(
        world.branch(v),
        TrainingInput(
            kind=TrainingKind.party_education,
            title="发展对象培训班",
            held_on=date(2024, 3, 20),
            hours="24",
            place="镇党校",
            attendee_ids=[],
            other_attendees=12,
        ),
        None,
        world_cal(),
    )
    step(case, StepKind.training, date(2024, 3, 20), training_id=training.id)
    saved = db.session.scalars(
        select(RecruitStep).where(RecruitStep.kind == StepKind.training)
    ).one()
    assert saved.hours == 24 and saved.until == date(2024, 3, 20)


def world_cal() -> Any:
    from tracker.workdays import WorkCalendar

    return WorkCalendar()


def test_every_write_is_in_the_audit_log(world: Any) -> None:
    case = case_at(world, world.village_a1a, "talked")
    entities = set(
        db.session.scalars(select(AuditLog.entity).where(AuditLog.region_id == case.region_id))
    )
    assert {"recruit_case", "recruit_step", "member"} - {"member"} <= entities


# ---------------------------------------------------------------- pages


def test_the_list_filters_per_village_and_stage(world: Any, login: Any) -> None:
    case_at(world, world.village_a1a, "activist", name="钱思远")
    case_at(world, world.village_a1b, "talked", name="孙雨桐")
    case_at(world, world.village_b1a, "talked", name="外县人")
    client = login(world.users["town_a1_editor"])
    html = client.get("/recruitment/").get_data(as_text=True)
    assert "钱思远" in html and "孙雨桐" in html and "外县人" not in html
    html = client.get(f"/recruitment/?village_id={world.village_a1b.id}").get_data(as_text=True)
    assert "孙雨桐" in html and "钱思远" not in html
    html = client.get("/recruitment/?stage=activist").get_data(as_text=True)
    assert "钱思远" in html and "孙雨桐" not in html
    assert client.get(f"/recruitment/?village_id={world.village_b1a.id}").status_code == 404


def test_open_cases_are_asked_for_named_villages_or_a_subtree_never_all(world: Any) -> None:
    from tracker.recruitment.figures import open_cases

    case_at(world, world.village_a1a, "activist", name="钱思远")
    case_at(world, world.village_a1b, "talked", name="孙雨桐")
    case_at(world, world.village_b1a, "talked", name="外县人")
    case_at(world, world.village_a1a, "full", name="已转正")  # closed: never listed
    db.session.flush()

    def names(cases: list[RecruitCase]) -> set[str]:
        return {c.name for c in cases}

    assert names(open_cases(within=[world.village_a1a.id])) == {"钱思远"}
    assert names(open_cases(within=[world.village_a1b.id, world.village_b1a.id])) == {
        "孙雨桐",
        "外县人",
    }
    assert names(open_cases(within=world.county_a.path)) == {"钱思远", "孙雨桐"}
    assert open_cases(within=[]) == []
    # The scope has no default and is named: no call can fall back to every case.
    call: Any = open_cases
    with pytest.raises(TypeError):
        call()
    with pytest.raises(TypeError):
        call([world.village_a1a.id])


def test_an_application_entered_in_the_form_opens_a_case(world: Any, login: Any) -> None:
    client = login(world.users["town_a1_editor"])
    day = clock.today() - timedelta(days=3)
    resp = client.post(
        "/recruitment/new",
        data={"region_id": world.village_a1a.id, "name": "周博文", "applied_on": day.isoformat()},
    )
    assert resp.status_code == 302
    case = db.session.scalars(select(RecruitCase).where(RecruitCase.name == "周博文")).one()
    assert case.applied_on == day and case.stage == Stage.applicant
    html = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "入党申请谈话" in html and "最迟" in html


def test_a_step_that_breaks_a_rule_is_refused_beside_its_field(world: Any, login: Any) -> None:
    case = case_at(world, world.village_a1a, "activist")
    db.session.commit()
    client = login(world.users["town_a1_editor"])
    resp = client.post(
        f"/recruitment/{case.id}/step?kind=candidate",
        data={"kind": "candidate", "on": "2024-02-29", "body": "党支部委员会"},
    )
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert "invalid-feedback" in html and "方可列为发展对象" in html
    resp = client.post(
        f"/recruitment/{case.id}/step?kind=candidate",
        data={"kind": "candidate", "on": "2024-03-01", "body": "党支部委员会"},
    )
    assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.get(RecruitCase, case.id).stage == Stage.candidate  # type: ignore[union-attr]


def test_a_viewer_sees_the_case_but_records_no_step(world: Any, login: Any) -> None:
    case = case_at(world, world.village_a1a, "talked")
    db.session.commit()
    client = login(world.users["county_a_viewer"])
    assert client.get(f"/recruitment/{case.id}").status_code == 200
    assert client.get(f"/recruitment/{case.id}/print").status_code == 200
    resp = client.post(f"/recruitment/{case.id}/step?kind=close", data={"on": "2024-01-01"})
    assert resp.status_code == 403


def test_the_print_view_is_the_a4_file_with_the_print_hook(world: Any, login: Any) -> None:
    case = case_at(world, world.village_a1a, "full")
    db.session.commit()
    html = (
        login(world.users["town_a1_editor"])
        .get(f"/recruitment/{case.id}/print")
        .get_data(as_text=True)
    )
    assert "data-print" in html and "A4" in html and "发展党员纪实表" in html
    assert "按期转正" in html and "支部党员大会" in html


def test_the_home_to_do_names_the_overdue_steps(world: Any, login: Any) -> None:
    case_at(world, world.village_a1a, "approved", name="预备到期")
    from tracker.recruitment.services import CaseInput, open_case

    open_case(
        world.branch(world.village_a1a),
        CaseInput(name="未谈话", applied_on=clock.today() - timedelta(days=40)),
    )
    db.session.commit()
    html = login(world.users["town_a1_editor"]).get("/").get_data(as_text=True)
    assert "预备期满未转正" in html and "预备到期" in html
    assert "入党申请谈话逾期" in html and "未谈话" in html
    # Another county's writer has nothing of it.
    html = login(world.users["town_b1_editor"]).get("/").get_data(as_text=True)
    assert "预备期满未转正" not in html


def test_the_dashboard_shows_the_overdue_steps_of_the_region(world: Any, login: Any) -> None:
    case_at(world, world.village_a1a, "approved", name="预备到期")
    db.session.commit()
    html = (
        login(world.users["county_a_admin"])
        .get(f"/dashboard/r/{world.county_a.id}")
        .get_data(as_text=True)
    )
    assert 'id="recruitment-obligations"' in html and "预备期满未转正" in html


# ---------------------------------------------------------------- API


def test_the_api_lists_pages_of_cases_and_refuses_a_short_interval(world: Any, app: Any) -> None:
    from tracker.auth.services import create_api_token

    for i in range(3):
        case_at(world, world.village_a1a, "activist", name=f"积极分子{i}")
    db.session.commit()
    _, token = create_api_token(world.users["town_a1_editor"], "test")
    db.session.commit()
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    resp = client.get(
        f"/api/v1/recruitment/cases?village_id={world.village_a1a.id}&per_page=2",
        headers=headers,
    )
    body = resp.get_json()
    assert resp.status_code == 200 and body["total"] == 3 and len(body["items"]) == 2
    assert body["next"] and body["items"][0]["stage"] == "activist"
    assert body["items"][0]["due"][0]["kind"] == "review"
    cid = body["items"][0]["id"]
    resp = client.post(
        f"/api/v1/recruitment/cases/{cid}/steps",
        json={"kind": "candidate", "on": "2024-02-29", "body": "党支部委员会"},
        headers=headers,
    )
    assert resp.status_code == 422
    assert "一年以上培养考察" in resp.get_json()["error"]["fields"]["on"]
    resp = client.post(
        f"/api/v1/recruitment/cases/{cid}/steps",
        json={"kind": "candidate", "on": "2024-03-01", "body": "党支部委员会"},
        headers=headers,
    )
    assert resp.status_code == 201 and resp.get_json()["stage"] == "candidate"
    resp = client.post(
        "/api/v1/recruitment/cases",
        json={"village_id": world.village_b1a.id, "name": "外县", "applied_on": "2026-01-05"},
        headers=headers,
    )
    assert resp.status_code == 404


def test_the_cases_are_in_the_openapi_document(app: Any, client: Any) -> None:
    doc = client.get("/api/v1/openapi.json").get_json()
    assert "/api/v1/recruitment/cases" in doc["paths"] or "/recruitment/cases" in str(doc["paths"])


# ---------------------------------------------------------------- Excel


def _rows(data: bytes) -> list[list[Any]]:
    import io

    from openpyxl import load_workbook

    ws = load_workbook(io.BytesIO(data)).worksheets[0]
    return [[c.value for c in row][2:] for row in ws.iter_rows(min_row=3)]


def test_the_ledger_goes_to_excel_and_back(world: Any, login: Any) -> None:
    a, b = world.village_a1a, world.village_a1b
    for stage, name in (
        ("talked", "甲申请"),
        ("activist", "乙积极"),
        ("ready", "丙对象"),
        ("full", "丁正式"),
    ):
        case_at(world, a, stage, name=name)
    # The other branch holds its 支部党员大会 on the same days (the import links them by date).
    meeting(world, b, ADMITTED)
    meeting(world, b, FULL)
    db.session.commit()
    client = login(world.users["town_a1_editor"])
    exported = client.get(f"/recruitment/export.xlsx?village_id={a.id}")
    assert exported.status_code == 200
    assert "attachment" in exported.headers["Content-Disposition"]
    resp = client.post(
        "/recruitment/import",
        data={"village_id": b.id, "file": (__import__("io").BytesIO(exported.data), "台账.xlsx")},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 302
    again = client.get(f"/recruitment/export.xlsx?village_id={b.id}")
    assert _rows(again.data) == _rows(exported.data)
    member = db.session.scalars(
        select(Member).where(Member.name == "丁正式", Member.region_id == b.id)
    ).one()
    assert history.full_dates([member.id]) == {member.id: FULL}


def test_an_import_row_that_breaks_a_rule_refuses_the_whole_sheet(world: Any, login: Any) -> None:
    from tracker import xlsx

    wb, ws = xlsx.new_workbook("发展党员工作台账")
    xlsx.header(ws, excel.COLUMNS)
    blank = [None] * len(excel.COLUMNS)

    def row(**cells: Any) -> list[Any]:
        values = list(blank)
        for title, value in cells.items():
            values[excel.COLUMNS.index(title)] = value
        return values

    xlsx.append(
        ws,
        row(姓名="好人", 入党申请日期=date(2025, 1, 6), 谈话日期=date(2025, 1, 20), 谈话人="书记"),
    )
    xlsx.append(
        ws,
        row(
            姓名="太快",
            入党申请日期=date(2025, 1, 6),
            谈话日期=date(2025, 2, 10),
            谈话人="书记",
        ),
    )
    client = login(world.users["town_a1_editor"])
    db.session.commit()
    resp = client.post(
        "/recruitment/import",
        data={
            "village_id": world.village_a1a.id,
            "file": (__import__("io").BytesIO(xlsx.to_bytes(wb)), "x.xlsx"),
        },
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    html = resp.get_data(as_text=True)
    assert "第 3 行「谈话日期」" in html and "一个月内派人谈话" in html
    assert db.session.scalar(select(RecruitCase.id).where(RecruitCase.name == "好人")) is None


def test_the_pages_read_in_english(world: Any, login: Any) -> None:
    case = case_at(world, world.village_a1a, "approved")
    db.session.commit()
    client = login(world.users["town_a1_editor"])
    html = client.get(f"/recruitment/{case.id}?lang=en").get_data(as_text=True)
    assert "Recruitment record" in html and "Approval by the higher committee" in html
    html = client.get(f"/recruitment/{case.id}/step?kind=full&lang=en").get_data(as_text=True)
    assert "Branch members&#39; meeting record" in html or "Branch members' meeting record" in html
    html = client.get("/recruitment/?lang=en").get_data(as_text=True)
    assert "Probation over, not yet made full" in html


def test_formula_like_text_in_the_ledger_stays_text(world: Any, login: Any) -> None:
    from tests.tracker.test_excel_export_safety import formulas_in

    risky = '=HYPERLINK("http://evil.example/","x")'
    case = case_at(world, world.village_a1a, "talked")
    case.occupation = risky
    db.session.commit()
    data = (
        login(world.users["town_a1_editor"])
        .get(f"/recruitment/export.xlsx?village_id={world.village_a1a.id}")
        .data
    )
    assert formulas_in(data) == []
    assert risky in _rows(data)[0]


def test_the_latest_step_entered_by_mistake_can_be_withdrawn(world: Any, login: Any) -> None:
    case = case_at(world, world.village_a1a, "activist")
    db.session.commit()
    steps = db.session.scalars(
        select(RecruitStep).where(RecruitStep.case_id == case.id).order_by(RecruitStep.on)
    ).all()
    review, activist = steps[-1].id, steps[-2].id
    case_id = case.id
    client = login(world.users["town_a1_editor"])
    page = client.get(f"/recruitment/{case_id}").get_data(as_text=True)
    assert f"/recruitment/steps/{review}/withdraw" in page
    # Only the latest: the activist listing stays while its review is there.
    client.post(f"/recruitment/steps/{activist}/withdraw")
    assert db.session.get(RecruitStep, activist) is not None
    client.post(f"/recruitment/steps/{review}/withdraw")
    client.post(f"/recruitment/steps/{activist}/withdraw")
    db.session.expire_all()
    assert db.session.get(RecruitCase, case_id).stage == Stage.applicant  # type: ignore[union-attr]
    assert db.session.get(RecruitStep, activist) is None


def test_the_admission_is_not_withdrawn_here(world: Any, login: Any) -> None:
    case = case_at(world, world.village_a1a, "admitted")
    db.session.commit()
    admission = db.session.scalars(
        select(RecruitStep).where(
            RecruitStep.case_id == case.id, RecruitStep.kind == StepKind.admission
        )
    ).one()
    resp = login(world.users["town_a1_editor"]).post(
        f"/recruitment/steps/{admission.id}/withdraw", follow_redirects=True
    )
    assert "不能撤销" in resp.get_data(as_text=True)
    assert db.session.get(RecruitStep, admission.id) is not None
