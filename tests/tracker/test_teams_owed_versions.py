"""Versions on the 设岗定责 / 承诺 / 联户 detail pages, and the post vacancies and missed
concentrated trainings a village owes on its overview and on the dashboard village page."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from tracker import clock
from tracker.audit import set_actor
from tracker.extensions import db
from tracker.models import VillageCadre
from tracker.teams import duty_posts as posts
from tracker.teams import pledges
from tracker.teams.duty_models import HouseholdLink, Pledge, PostAssignment
from tracker.teams.figures import posts_and_trainings_owed
from tracker.teams.models import VacancyCause
from tracker.teams.posts import fill_vacancy, vacate_post
from tracker.trainings.concentrated import ConcentratedInput, create_concentrated
from tracker.workdays import WorkCalendar

TODAY = date(2026, 11, 20)


@pytest.fixture
def frozen():
    with clock.frozen(TODAY):
        yield TODAY


def _post(world):
    return posts.create_post(world.county_a, posts.PostInput("思想政治", "政策宣传岗", "宣传"))


# -- versions ------------------------------------------------------------------------------

STRUCK = '<span class="text-decoration-line-through text-muted">{}</span>'


def _versions(client, url):
    """The page's version list (the card after 版本记录)."""
    resp = client.get(url)
    assert resp.status_code == 200, url
    return resp.get_data(as_text=True).split("版本记录", 1)[1]


def test_edits_show_the_earlier_value_with_who_and_when(world, db, login, frozen):
    village = world.village_a1a
    member = world.members[village.id][0]
    editor = world.users["town_a1_editor"]
    a = posts.assign(village, posts.AssignmentInput(member.id, _post(world).id, date(2026, 3, 1)))
    p = pledges.make_pledge(
        village, pledges.PledgeInput(2026, "帮扶两户", date(2026, 2, 1), member_id=member.id)
    )
    link = pledges.link_household(
        village,
        pledges.LinkInput(member.id, "王大山", date(2026, 3, 1), "三组12号", "13912345678"),
    )
    db.session.commit()
    client = login(editor)
    ended = client.post(f"/teams/assignments/{a.id}/end", data={"ended_on": "2026-11-02"})
    assert ended.status_code == 302
    rated = client.post(
        f"/teams/pledges/{p.id}/rating",
        data={"rating": "excellent", "rated_on": "2026-11-03", "rated_by": "村党支部"},
    )
    assert rated.status_code == 302
    over = client.post(f"/teams/households/{link.id}/end", data={"ended_on": "2026-11-04"})
    assert over.status_code == 302

    page = _versions(client, f"/teams/assignments/{a.id}")
    assert "新增" in page and "修改" in page and editor.display_name in page
    assert "结束日期：" + STRUCK.format("—") + " → 2026-11-02" in page
    page = _versions(client, f"/teams/pledges/{p.id}")
    assert "评价：" + STRUCK.format("—") + " → 优秀" in page
    assert "评诺组织：" + STRUCK.format("—") + " → 村党支部" in page
    assert editor.display_name in page and clock.today().isoformat() in page
    page = _versions(client, f"/teams/households/{link.id}")
    assert "结束日期：" + STRUCK.format("—") + " → 2026-11-04" in page and "任职止" not in page

    # A phone changed by a writer: the earlier value is listed, masked for readers.
    set_actor(editor.id, "web")
    row = db.session.get(HouseholdLink, link.id)
    row.phone = "13800001111"
    db.session.commit()
    writer_page = _versions(client, f"/teams/households/{link.id}")
    assert "电话：" + STRUCK.format("13912345678") + " → 13800001111" in writer_page
    viewer = login(world.users["county_a_viewer"])
    shown = viewer.get(f"/teams/households/{link.id}").get_data(as_text=True)
    assert "电话：" + STRUCK.format("139****5678") + " → 138****1111" in shown
    assert "13912345678" not in shown and "13800001111" not in shown
    assert db.session.scalar(select(Pledge.rated_by).where(Pledge.id == p.id)) == "村党支部"
    assert db.session.get(PostAssignment, a.id).ended_on == date(2026, 11, 2)


# -- vacancies and concentrated trainings owed -------------------------------------------------


def _cadre(village, name, post):
    cadre = VillageCadre(region_id=village.id, name=name, post=post, since=date(2021, 1, 4))
    db.session.add(cadre)
    db.session.flush()
    return cadre


def _owed_fixture(world):
    """Village a1a: one vacancy past its deadline, one filled; no concentrated training in
    2025. Village a1b: its 2025 training held with the hours."""
    a1a, a1b = world.village_a1a, world.village_a1b
    cal = WorkCalendar()
    with clock.frozen(date(2026, 9, 1)):
        vacate_post(
            _cadre(a1a, "张国华", "村委会委员"),
            date(2026, 9, 1),
            VacancyCause.resigned,
            "辞职",
            cal,
        )
        filled = vacate_post(
            _cadre(a1a, "赵立新", "妇联主席"),
            date(2026, 9, 1),
            VacancyCause.transferred,
            "调离",
            cal,
        )
        fill_vacancy(filled, date(2026, 9, 1), name="刘芳", note="村民代表会议推选")
        create_concentrated(
            a1a, ConcentratedInput("政策学习", date(2025, 6, 1), 2, "村部", participants=20), None
        )
        create_concentrated(
            a1b, ConcentratedInput("政策学习", date(2025, 6, 1), 8, "村部", participants=20), None
        )
    db.session.commit()


def test_the_figure_lists_what_each_village_owes(world, db, frozen):
    _owed_fixture(world)
    owed = posts_and_trainings_owed([world.village_a1a.id, world.village_a1b.id], TODAY)
    a1a, a1b = owed[world.village_a1a.id], owed[world.village_a1b.id]
    assert [v.post for v in a1a.vacancies] == ["村委会委员"]
    assert [(t.window, str(t.hours)) for t in a1a.trainings] == [("2025年", "2.0")]
    assert a1a.count == 2
    assert a1b.count == 0  # 2025 met; the 2026 window has not ended


def test_the_village_page_and_the_dashboard_list_them(world, db, login, frozen):
    _owed_fixture(world)
    client = login(world.users["town_a1_editor"])
    for url in (
        f"/teams/duty/v/{world.village_a1a.id}",
        f"/dashboard/r/{world.village_a1a.id}?period=2026-Q3",
        f"/dashboard/r/{world.village_a1a.id}/inspect?period=2026-Q3",
    ):
        resp = client.get(url)
        assert resp.status_code == 200, url
        html = resp.get_data(as_text=True)
        assert "村委会委员岗位自2026-09-01空缺，逾期未补齐" in html, url
        assert "2025年集中培训未完成：2.0 / 8.0 学时" in html, url
        assert "妇联主席岗位" not in html, url
    for url in (
        f"/teams/duty/v/{world.village_a1b.id}",
        f"/dashboard/r/{world.village_a1b.id}?period=2026-Q3",
    ):
        html = client.get(url).get_data(as_text=True)
        assert "集中培训未完成" not in html and "逾期未补齐" not in html, url
