"""挂职管理 (tracker.secondment.figures) against a hand-computed fixture, and the dashboard
component it feeds: weight 0 leaves every score as it was, weight 60 moves it as computed.

Fixture, March 2026 judged on 15 April (every deadline of March has passed):

- S1 甲 at 镇甲一 from Monday 3/2: weekly reports due 3/10, 3/17, 3/24, 3/31 (the week of
  3/30 is due in April) — filed on time, late, on time, on time → 3 of 4; the 2026-Q1
  assessment recorded → 1 of 1; rectifications due 3/20 (done 3/18) and 3/25 (not done),
  one due 4/10 (outside March) → 1 of 2; complaints due 3/16 (closed 3/12) and 3/23
  (closed 3/25) → 1 of 2. S1: 6 of 9.
- S2 乙 at 村甲一甲 (a village of 镇甲一) from 3/16: reports due 3/24 and 3/31, both on
  time → 2 of 2; Q1 graded → 1 of 1. S2: 3 of 3.
- 镇甲一 = 9 of 12 = 75 %.
- S3 丁 at 镇甲二 from 3/2, nothing filed: 4 reports + Q1 → 0 of 5.
- S4 丙 at 镇乙一 (county B) with everything filed: never in county A's figures.

Dashboard, 2026-03: the villages hold no meetings and no trainings, so their applicable
components are 会议履职 (weight 40) and 培训开展 (weight 5), both at 0 points. With
weight_secondment = 60 (target 1.0): 村甲一甲 = 村甲一乙 = (40 × 0 + 5 × 0 + 60 × 75) / 105 = 42.9;
村甲二甲 = 0.0; 镇甲一 = mean(42.9, 42.9) = 42.9.
"""

from __future__ import annotations

from datetime import date

import pytest

from tracker import clock
from tracker.extensions import db as sqla
from tracker.periods import Period
from tracker.secondment import figures
from tracker.secondment.models import Grade, PostType, WeeklyReport
from tracker.secondment.services import (
    SecondmentInput,
    close_complaint,
    complete_selection,
    create_batch,
    create_secondment,
    file_complaint,
    propose_candidate,
    record_assessment,
    record_checks,
    record_inspection,
    record_rectification,
    select_candidate,
)
from tracker.workdays import WorkCalendar

TODAY = date(2026, 4, 15)
START, END = date(2026, 3, 1), date(2026, 3, 31)
PERIOD = Period.parse("2026-03")


def _seconded(batch, name, region, start):
    c = propose_candidate(batch, name, "副科级", "县直单位", PostType.town_village)
    record_checks(c, date(2026, 2, 1), "县纪委", date(2026, 2, 1), "县司法局")
    select_candidate(c)
    return lambda: create_secondment(
        c,
        region,
        SecondmentInput("接收单位", "岗位", PostType.town_village, start, date(2027, 3, 1)),
    )


def _report(s, monday, on_time=True):
    sqla.session.add(
        WeeklyReport(
            secondment_id=s.id,
            region_id=s.region_id,
            week_start=monday,
            work_done="工作",
            on_time=on_time,
            public_fields=["work_done"],
        )
    )


def _complaint(s, due, closed_on):
    c = file_complaint(s, "反映")
    c.due_on = due
    if closed_on:
        close_complaint(c, "已核查", "已答复", closed_on)


@pytest.fixture
def handling_world(world, db):
    return build(world)


def build(world):
    """The fixture of the module docstring."""
    with clock.frozen(TODAY):
        batch = create_batch(world.county_a, 2026, "2026年挂职")
        makers = [
            _seconded(batch, "甲", world.town_a1, date(2026, 3, 2)),
            _seconded(batch, "乙", world.village_a1a, date(2026, 3, 16)),
            _seconded(batch, "丁", world.town_a2, date(2026, 3, 2)),
        ]
        complete_selection(batch, date(2026, 3, 1))
        s1, s2, s3 = (make() for make in makers)
        batch_b = create_batch(world.county_b, 2026, "乙县挂职")
        make_b = _seconded(batch_b, "丙", world.town_b1, date(2026, 3, 2))
        complete_selection(batch_b, date(2026, 3, 1))
        s4 = make_b()
        for monday, on_time in (
            (date(2026, 3, 2), True),
            (date(2026, 3, 9), False),
            (date(2026, 3, 16), True),
            (date(2026, 3, 23), True),
        ):
            _report(s1, monday, on_time)
            _report(s4, monday)
        _report(s2, date(2026, 3, 16))
        _report(s2, date(2026, 3, 23))
        for s in (s1, s2, s4):
            record_assessment(s, "2026-Q1", date(2026, 4, 2), Grade.competent, "考核组")
        done = record_inspection(s1, None, date(2026, 3, 5), "镇政府", True, "台账", "补齐", END)
        done.rectify_by = date(2026, 3, 20)
        record_rectification(done, date(2026, 3, 18), "已补齐")
        record_inspection(
            s1, None, date(2026, 3, 10), "村部", False, "不在岗", "说明", date(2026, 3, 25)
        )
        record_inspection(
            s1, None, date(2026, 3, 30), "村部", True, "资料", "整理", date(2026, 4, 10)
        )
        _complaint(s1, date(2026, 3, 16), date(2026, 3, 12))
        _complaint(s1, date(2026, 3, 23), date(2026, 3, 25))
        _complaint(s4, date(2026, 3, 16), None)
        sqla.session.flush()
    return {"s1": s1, "s2": s2, "s3": s3, "s4": s4}


def test_each_secondments_obligations_match_the_hand_computed_fixture(handling_world):
    w = handling_world
    per = figures.handling(
        [w["s1"], w["s2"], w["s3"]], START, END, TODAY, WorkCalendar.from_rows(())
    )
    f1 = per[w["s1"].id]
    assert (f1.reports_due, f1.reports_on_time) == (4, 3)
    assert (f1.assessments_due, f1.assessments_done) == (1, 1)
    assert (f1.rectifications_due, f1.rectified_on_time) == (2, 1)
    assert (f1.complaints_due, f1.complaints_on_time) == (2, 1)
    assert (f1.met, f1.due) == (6, 9)
    f2 = per[w["s2"].id]
    assert (f2.reports_due, f2.reports_on_time, f2.assessments_due, f2.assessments_done) == (
        2,
        2,
        1,
        1,
    )
    assert (per[w["s3"].id].met, per[w["s3"].id].due) == (0, 5)


def test_a_township_answers_for_its_own_and_its_villages_cadres(handling_world, world):
    towns = figures.by_township(
        [world.town_a1.id, world.town_a2.id, world.town_b1.id],
        START,
        END,
        TODAY,
        WorkCalendar.from_rows(()),
    )
    assert (towns[world.town_a1.id].met, towns[world.town_a1.id].due) == (9, 12)
    assert towns[world.town_a1.id].rate == 0.75
    assert (towns[world.town_a2.id].met, towns[world.town_a2.id].due) == (0, 5)
    # county B's cadre: all filed, one complaint still open past its deadline
    assert (towns[world.town_b1.id].met, towns[world.town_b1.id].due) == (5, 6)


def test_an_obligation_not_yet_due_and_not_met_is_pending(handling_world):
    s1 = handling_world["s1"]
    # On 3/20: reports due 3/10 and 3/17 are judged (one on time), the one due 3/24 was filed
    # on time already (judged, met); the 3/31 one is filed too. Q1 ends 3/31: not yet due, and
    # its grade (recorded 4/2) counts only as met — so it is judged as met.
    f = figures.handling([s1], START, END, date(2026, 3, 20), WorkCalendar.from_rows(()))[s1.id]
    assert (f.reports_due, f.reports_on_time) == (4, 3)
    # the rectification due 3/25 is open and not yet due: pending; the one due 3/20 was done
    assert (f.rectifications_due, f.rectified_on_time) == (1, 1)
    # the complaint due 3/23 was closed only on 3/25: pending on 3/20
    assert (f.complaints_due, f.complaints_on_time) == (1, 1)


def _with_weight(app, monkeypatch, weight):
    settings = app.config["SETTINGS"]
    dashboard = settings.dashboard.model_copy(update={"weight_secondment": weight})
    monkeypatch.setitem(
        app.config, "SETTINGS", settings.model_copy(update={"dashboard": dashboard})
    )


def _scores(app, world):
    from tracker.dashboard.models import VillageScore
    from tracker.dashboard.services import compute_period, region_score

    with app.test_request_context():
        compute_period(PERIOD, world.city.path, TODAY)
        rows = {
            r.region_id: r
            for r in sqla.session.query(VillageScore).filter_by(period=PERIOD.key).all()
        }
        town = region_score(world.town_a1, PERIOD)
    return rows, town


def test_weight_zero_leaves_every_score_as_it_was(app, world, db, monkeypatch):
    from tracker.dashboard import rules

    assert rules.DEFAULT_CONFIG.weights["secondment"] == 0
    assert app.config["SETTINGS"].dashboard.weight_secondment == 0
    before, town_before = _scores(app, world)
    build(world)
    after, town_after = _scores(app, world)
    a1a = world.village_a1a.id
    assert (after[a1a].seconded_met, after[a1a].seconded_due) == (9, 12)
    assert {k: r.score for k, r in after.items()} == {k: r.score for k, r in before.items()}
    assert town_after.score.value == town_before.score.value


def test_weight_sixty_moves_the_scores_as_computed(app, world, handling_world, monkeypatch):
    _with_weight(app, monkeypatch, 60)
    rows, town = _scores(app, world)
    a1a, a1b, a2a = world.village_a1a, world.village_a1b, world.village_a2a
    assert rows[a1a.id].meetings_due > 0 and rows[a1a.id].meetings_met == 0
    assert rows[a1a.id].trainings_due > 0 and rows[a1a.id].trainings_met == 0
    assert rows[a1a.id].matters_due == rows[a1a.id].cam_open_s == 0
    assert (rows[a1b.id].seconded_met, rows[a1b.id].seconded_due) == (9, 12)
    assert rows[a1a.id].score == 42.9 and rows[a1b.id].score == 42.9
    assert (rows[a2a.id].seconded_met, rows[a2a.id].seconded_due) == (0, 5)
    assert rows[a2a.id].score == 0.0
    assert town.score.value == 42.9
    comp = town.score.component("secondment")
    # pooled over the township's two villages: the township's figures twice, the same rate
    assert (comp.numerator, comp.denominator, comp.rate) == (18, 24, 0.75)


def test_the_programme_view_shows_the_same_handling_figure(handling_world, world, login):
    client = login(world.users["town_a1_editor"])
    with clock.frozen(TODAY):
        html = client.get("/secondment/?from=2026-03-01&to=2026-03-31").get_data(as_text=True)
    tile = html.split('id="fig-handling"')[1].split("</a>")[0]
    assert "9" in tile and "12" in tile and "75" in tile
