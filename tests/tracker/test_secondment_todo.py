"""Weekly reports and assessments are obligations on the home to-do."""

from __future__ import annotations

from datetime import timedelta

from tests.tracker.secondment_helpers import seconded
from tracker import clock
from tracker.secondment.rules import week_start
from tracker.secondment.services import file_report
from tracker.workdays import WorkCalendar


def test_a_missing_weekly_report_and_ungraded_quarters_are_on_the_home_page(world, login):
    seconded(world)
    html = login(world.users["town_a1_editor"]).get("/").get_data(as_text=True)
    assert "挂职干部周报" in html and "挂职干部定期考核" in html


def test_a_filed_report_leaves_the_to_do(world, login):
    s = seconded(world)
    file_report(
        s, week_start(clock.today()) - timedelta(days=7), "工作", "", "", [], WorkCalendar()
    )
    html = login(world.users["town_a1_editor"]).get("/").get_data(as_text=True)
    assert "挂职干部周报" not in html


def test_the_neighbouring_township_has_no_such_obligation(world, login):
    seconded(world)
    html = login(world.users["town_a2_editor"]).get("/").get_data(as_text=True)
    assert "挂职干部周报" not in html
