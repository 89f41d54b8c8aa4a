"""不胜任村干部动态调整 (召回): yearly grades, recall cases, step deadlines and order, to-do."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tracker import clock
from tracker.extensions import db
from tracker.models import VillageCadre
from tracker.scope import Scope
from tracker.teams.models import Grade, RecallCase, RecallOutcome, RecallStepKind
from tracker.teams.recall import assess_cadre, record_step
from tracker.teams.services import TeamError
from tracker.teams.todo import recall_steps_overdue
from tracker.workdays import WorkCalendar

DAY = date(2026, 1, 9)  # a Friday


def _cadre(village, name="张国华") -> VillageCadre:
    cadre = VillageCadre(region_id=village.id, name=name, post="村委会委员")
    db.session.add(cadre)
    db.session.flush()
    return cadre


def _case(cadre) -> RecallCase:
    with clock.frozen(DAY):
        a = assess_cadre(
            cadre, 2025, Grade.incompetent, "镇党委", DAY, WorkCalendar(), "群众满意度低"
        )
    return db.session.query(RecallCase).filter_by(assessment_id=a.id).one()


def test_an_incompetent_grade_opens_a_recall_case_with_working_day_deadlines(world, db):
    case = _case(_cadre(world.village_a1a))
    assert [s.kind for s in case.steps] == list(RecallStepKind)
    # 5 working days after Friday 9 Jan is Friday 16 Jan; then 20, 10 and 5 more, the 10
    # across the Spring Festival (15–23 Feb off; Sat 14 and Sat 28 Feb are working days).
    assert case.steps[0].due_on == date(2026, 1, 16)
    assert case.steps[1].due_on == date(2026, 2, 13)
    assert case.steps[2].due_on == date(2026, 3, 5)
    assert case.steps[3].due_on == date(2026, 3, 12)
    assert case.reason == "群众满意度低"


def test_a_competent_grade_opens_nothing_and_a_year_is_graded_once(world, db):
    cadre = _cadre(world.village_a1a)
    with clock.frozen(DAY):
        assess_cadre(cadre, 2025, Grade.competent, "镇党委", DAY, WorkCalendar())
        assert db.session.query(RecallCase).count() == 0
        with pytest.raises(TeamError, match="已录入") as exc:
            assess_cadre(cadre, 2025, Grade.excellent, "镇党委", DAY, WorkCalendar())
    assert exc.value.field == "year"


def test_steps_go_in_order_never_before_the_assessment_and_the_last_closes_the_case(world, db):
    case = _case(_cadre(world.village_a1a))
    talk, training, review, outcome = case.steps
    with clock.frozen(date(2026, 4, 1)):
        with pytest.raises(TeamError, match="不能早于考核日期") as exc:
            record_step(talk, DAY - timedelta(days=1))
        assert exc.value.field == "done_on"
        with pytest.raises(TeamError, match="按顺序"):
            record_step(training, DAY)
        with pytest.raises(TeamError, match="不能晚于今天"):
            record_step(talk, date(2026, 4, 2))
        record_step(talk, date(2026, 1, 12), "已谈话")
        with pytest.raises(TeamError, match="上一步骤"):
            record_step(training, date(2026, 1, 10))
        record_step(training, date(2026, 2, 1))
        record_step(review, date(2026, 2, 20))
        with pytest.raises(TeamError, match="处理结果") as exc:
            record_step(outcome, date(2026, 3, 1))
        assert exc.value.field == "outcome"
        record_step(outcome, date(2026, 3, 1), outcome=RecallOutcome.returned)
    assert case.outcome == RecallOutcome.returned and case.closed_on == date(2026, 3, 1)


def test_an_overdue_step_is_on_the_to_do(world, db):
    case = _case(_cadre(world.village_a1a))
    user = world.users["town_a1_editor"]
    with clock.frozen(date(2026, 1, 16)):
        assert recall_steps_overdue(Scope.for_user(user), user) == []
    with clock.frozen(date(2026, 1, 19)):
        items = recall_steps_overdue(Scope.for_user(user), user)
        assert len(items) == 1 and "张国华（召回谈话）" in items[0].detail
        other = world.users["town_b1_editor"]
        assert recall_steps_overdue(Scope.for_user(other), other) == []
        record_step(case.steps[0], date(2026, 1, 19))
        assert recall_steps_overdue(Scope.for_user(user), user) == []


def test_pages_assess_and_record_steps_with_errors_beside_the_field(world, login):
    village = world.village_a1a
    cadre = _cadre(village, "刘建军")
    client = login(world.users["town_a1_editor"])
    url = f"/teams/cadres/v/{village.id}"
    assert client.get(url).status_code == 200
    future = (clock.today() + timedelta(days=3)).isoformat()
    base = {
        "cadre_id": cadre.id,
        "year": clock.today().year - 1,
        "grade": "incompetent",
        "decided_by": "镇党委",
    }
    bad = client.post(url, data={**base, "decided_on": future})
    assert bad.status_code == 422 and "考核日期不能晚于今天" in bad.get_data(as_text=True)
    ok = client.post(url, data={**base, "decided_on": clock.today().isoformat()})
    assert ok.status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "不称职" in page and "进行中" in page
    case = db.session.query(RecallCase).one()
    step = case.steps[0]
    early = (clock.today() - timedelta(days=1)).isoformat()
    bad = client.post(f"/teams/recalls/steps/{step.id}", data={"done_on": early})
    assert bad.status_code == 422 and "召回步骤不能早于考核日期" in bad.get_data(as_text=True)
    ok = client.post(f"/teams/recalls/steps/{step.id}", data={"done_on": clock.today().isoformat()})
    assert ok.status_code == 302
    assert "已完成" in client.get(f"/teams/recalls/{case.id}").get_data(as_text=True)


def test_api_grades_opens_a_case_and_refuses_a_step_before_the_assessment(world, db, app):
    from tracker.auth.services import create_api_token

    cadre = _cadre(world.village_a1a, "陈志强")
    _, token = create_api_token(world.users["town_a1_editor"], "test")
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    today = clock.today()
    body = {
        "cadre_id": cadre.id,
        "year": today.year - 1,
        "grade": "incompetent",
        "decided_by": "镇党委",
        "decided_on": today.isoformat(),
    }
    made = client.post("/api/v1/cadre-assessments", json=body, headers=headers)
    assert made.status_code == 201 and made.json["recall_case_id"]
    twice = client.post("/api/v1/cadre-assessments", json=body, headers=headers)
    assert twice.status_code == 422 and "year" in twice.json["error"]["fields"]
    case = client.get(f"/api/v1/recall-cases/{made.json['recall_case_id']}", headers=headers).json
    step = case["steps"][0]["id"]
    early = (today - timedelta(days=1)).isoformat()
    bad = client.post(f"/api/v1/recall-steps/{step}", json={"done_on": early}, headers=headers)
    assert bad.status_code == 422 and "done_on" in bad.json["error"]["fields"]
    ok = client.post(
        f"/api/v1/recall-steps/{step}", json={"done_on": today.isoformat()}, headers=headers
    )
    assert ok.status_code == 200 and ok.json["steps"][0]["done_on"] == today.isoformat()
    foreign = _cadre(world.village_b1a, "外县干部")
    other = client.post(
        "/api/v1/cadre-assessments", json={**body, "cadre_id": foreign.id}, headers=headers
    )
    assert other.status_code == 404
