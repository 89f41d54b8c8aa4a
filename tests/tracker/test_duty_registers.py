"""设岗定责 and 一诺三联四帮: the rules, the figures, pages, API, Excel round trips, to-do."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from tracker import clock
from tracker.models import VillageCadre
from tracker.teams import duty_posts as posts
from tracker.teams import pledges
from tracker.teams.duty_models import (
    ContactKind,
    HelpCategory,
    HouseholdLink,
    Pledge,
    PledgeRating,
    PostAssignment,
    PostGrade,
)
from tracker.teams.duty_rules import halves_between, rating_deadline, review_deadline
from tracker.teams.figures import open_obligations, team_figures
from tracker.teams.services import TeamError
from tracker.workdays import WorkCalendar

CAL = WorkCalendar()
TODAY = date(2026, 11, 20)


@pytest.fixture
def frozen():
    with clock.frozen(TODAY):
        yield TODAY


def _post(world, name="政策宣传岗", category="思想政治"):
    same = [p for p in posts.catalog(world.county_a) if p.name == name]
    if same:
        return same[0]
    return posts.create_post(world.county_a, posts.PostInput(category, name, "宣传惠农政策"))


def _assign(world, member=None, started=date(2025, 3, 1), **kw):
    village = world.village_a1a
    member = member or world.members[village.id][0]
    post = kw.pop("post", None) or _post(world)
    return posts.assign(
        village, posts.AssignmentInput(member.id, post.id, started, duties=kw.get("duties", ""))
    )


# -- rules ------------------------------------------------------------------------------


def test_half_years_and_deadlines_run_on_working_days():
    assert halves_between(date(2025, 3, 1), date(2026, 1, 5)) == [(2025, 1), (2025, 2), (2026, 1)]
    # 30 June 2026 is a Tuesday: 15 working days later is 21 July.
    assert review_deadline(2026, 1, 15, CAL) == date(2026, 7, 21)
    assert rating_deadline(2025, 0, CAL) == date(2025, 12, 31)


# -- posts ------------------------------------------------------------------------------


def test_categories_default_from_config_and_are_edited_per_county(world, db):
    assert posts.categories(world.county_a)[:2] == ["经济发展", "村务监督"]
    posts.add_category(world.county_a, "乡风文明")
    assert "乡风文明" in posts.categories(world.county_a)
    assert "乡风文明" not in posts.categories(world.county_b)
    with pytest.raises(TeamError, match="请选择本县的岗位类别"):
        posts.create_post(world.county_b, posts.PostInput("乡风文明", "移风易俗岗"))
    _post(world, "环境监督岗", "乡风文明")
    with pytest.raises(TeamError, match="还有岗位"):
        posts.remove_category(world.county_a, "乡风文明")
    posts.remove_category(world.county_a, "服务群众")
    assert "服务群众" not in posts.categories(world.county_a)


def test_only_members_without_office_take_a_post(world, db):
    village = world.village_a1a
    member = world.members[village.id][1]
    db.session.add(
        VillageCadre(region_id=village.id, member_id=member.id, name=member.name, post="委员")
    )
    db.session.flush()
    post = _post(world)
    with pytest.raises(TeamError, match="不属于无职党员") as exc:
        posts.assign(village, posts.AssignmentInput(member.id, post.id, date(2025, 3, 1)))
    assert exc.value.field == "member_id"
    other = world.members[world.village_b1a.id][0]
    with pytest.raises(TeamError, match="不在本村"):
        posts.assign(village, posts.AssignmentInput(other.id, post.id, date(2025, 3, 1)))
    a = _assign(world, post=post)
    assert a.duties == "宣传惠农政策"  # the catalog's duties when none are typed
    with pytest.raises(TeamError, match="已在"):
        _assign(world, post=post)


def test_a_review_cannot_predate_the_assignment(world, db, frozen):
    a = _assign(world, started=date(2025, 9, 10))
    with pytest.raises(TeamError, match="不能早于设岗日期") as exc:
        posts.review(a, 2025, 2, date(2025, 9, 1), PostGrade.good, "村党支部")
    assert exc.value.field == "reviewed_on"
    with pytest.raises(TeamError, match="无需评议"):
        posts.review(a, 2025, 1, date(2025, 9, 20), PostGrade.good, "村党支部")
    with pytest.raises(TeamError, match="晚于今天"):
        posts.review(a, 2026, 2, TODAY + timedelta(days=1), PostGrade.good, "村党支部")
    posts.review(a, 2025, 2, date(2026, 1, 8), PostGrade.excellent, "村党支部")
    with pytest.raises(TeamError, match="已评议"):
        posts.review(a, 2025, 2, date(2026, 1, 9), PostGrade.good, "村党支部")


def test_the_latest_grade_is_read_for_many_members_at_once(world, db, frozen):
    a = _assign(world)
    posts.review(a, 2025, 1, date(2025, 7, 5), PostGrade.basic, "村党支部")
    posts.review(a, 2025, 2, date(2026, 1, 8), PostGrade.excellent, "村党支部")
    grades = posts.latest_grades([a.member_id, world.members[world.village_a1a.id][2].id])
    assert list(grades) == [a.member_id]
    assert grades[a.member_id].label == "优秀" and grades[a.member_id].half_label == "2025年下半年"


def test_the_letter_is_a_whole_scan(world, db, app, tmp_path):
    a = _assign(world)
    with pytest.raises(TeamError, match="PDF") as exc:
        posts.attach_letter(a, "x.pdf", b"%PDF-1.4 not really", None)
    assert exc.value.status == 415
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    posts.attach_letter(a, "责任书.pdf", pdf, date(2025, 3, 1))
    assert (
        a.letter_content_type == "application/pdf" and posts.letter_path(a.letter_sha256).exists()
    )


# -- pledges and households -----------------------------------------------------------------


def test_a_pledge_is_made_kept_and_rated_in_order(world, db, frozen):
    village = world.village_a1a
    member = world.members[village.id][0]
    p = pledges.make_pledge(
        village, pledges.PledgeInput(2026, "帮助 3 户发展庭院经济", date(2026, 2, 1), member.id)
    )
    with pytest.raises(TeamError, match="早于亮诺日期"):
        pledges.add_progress(p, date(2026, 1, 5), "x")
    pledges.add_progress(p, date(2026, 6, 1), "引进木耳种植")
    with pytest.raises(TeamError, match="早于最后一次践诺"):
        pledges.rate_pledge(p, PledgeRating.good, date(2026, 5, 1), "村党支部")
    pledges.rate_pledge(p, PledgeRating.excellent, date(2026, 11, 1), "村党支部")
    with pytest.raises(TeamError, match="已评诺"):
        pledges.add_progress(p, date(2026, 11, 2), "x")
    with pytest.raises(TeamError, match="请选择承诺的党员或村干部"):
        pledges.make_pledge(village, pledges.PledgeInput(2026, "x", date(2026, 2, 1)))


def test_contacts_cannot_be_in_the_future_nor_before_the_link(world, db, frozen):
    village = world.village_a1a
    link = pledges.link_household(
        village,
        pledges.LinkInput(
            world.members[village.id][0].id, "王大山", date(2026, 3, 1), "三组 12 号", "13912345678"
        ),
    )
    with pytest.raises(TeamError, match="不能晚于今天") as exc:
        pledges.add_contact(link, TODAY + timedelta(days=1), ContactKind.visit)
    assert exc.value.field == "on"
    with pytest.raises(TeamError, match="早于联户日期"):
        pledges.add_contact(link, date(2026, 2, 1), ContactKind.phone)
    with pytest.raises(TeamError, match="联系电话格式"):
        pledges.link_household(
            village, pledges.LinkInput(world.members[village.id][1].id, "李四", TODAY, phone="abc")
        )
    pledges.add_help(link, date(2026, 4, 1), HelpCategory.production, "联系农技员指导大棚")
    assert pledges.shown_phone(link.phone, False) == "139****5678"
    assert pledges.shown_address(link.address, False) == "三组****"


# -- figures (hand-computed) ----------------------------------------------------------------


def _household_fixture(world):
    """One link since 1 Sep 2026 with a visit in September and a phone call in October."""
    village = world.village_a1a
    link = pledges.link_household(
        village, pledges.LinkInput(world.members[village.id][3].id, "赵福", date(2026, 9, 1))
    )
    pledges.add_contact(link, date(2026, 9, 15), ContactKind.visit)
    pledges.add_contact(link, date(2026, 10, 9), ContactKind.phone)  # not a counting kind
    return link


def test_team_figures_by_hand(world, db, frozen):
    village = world.village_a1a
    # Q3 2026 (1 Jul – 30 Sep), judged on 20 Nov.
    a = _assign(world, started=date(2025, 3, 1))  # H1 2026 review due 21 Jul: in Q3
    b = _assign(world, member=world.members[village.id][1], started=date(2026, 1, 5))
    posts.review(a, 2026, 1, date(2026, 7, 3), PostGrade.good, "村党支部")  # b not reviewed
    _household_fixture(world)
    fig = team_figures([village.id], date(2026, 7, 1), date(2026, 9, 30), TODAY, CAL)[village.id]
    assert fig.parts["reserves"] == (0, 7)  # no reserve cadre against 2 + 5
    assert fig.parts["reviews"] == (1, 2)
    assert fig.parts["contacts"] == (1, 1)  # September visited
    assert fig.parts["pledges"] == (0, 0) and fig.parts["recalls"] == (0, 0)
    assert (fig.met, fig.due) == (2, 10)
    # October: the link's window ended without a visit (a phone call does not count).
    october = team_figures([village.id], date(2026, 10, 1), date(2026, 10, 31), TODAY, CAL)
    assert october[village.id].parts["contacts"] == (0, 1)
    # November runs: its window has not ended, so it is not judged yet.
    november = team_figures([village.id], date(2026, 11, 1), date(2026, 11, 30), TODAY, CAL)
    assert november[village.id].parts["contacts"] == (0, 0)
    assert b.id  # b's H1 review is what is missing


def test_overdue_items_as_of_today(world, db, frozen):
    village = world.village_a1a
    a = _assign(world, started=date(2026, 1, 5))
    link = _household_fixture(world)
    p = pledges.make_pledge(
        village,
        pledges.PledgeInput(2025, "修缮村道", date(2025, 3, 1), world.members[village.id][2].id),
    )
    ob = open_obligations([village.id], TODAY, CAL)[village.id]
    assert [(r.assignment_id, r.year, r.half) for r in ob.reviews] == [(a.id, 2026, 1)]
    assert [u.pledge_id for u in ob.pledges] == [p.id]
    assert [(c.link_id, c.window_start) for c in ob.contacts] == [(link.id, date(2026, 10, 1))]
    pledges.add_contact(link, date(2026, 10, 20), ContactKind.visit)
    posts.review(a, 2026, 1, date(2026, 7, 1), PostGrade.good, "村党支部")
    pledges.rate_pledge(p, PledgeRating.good, date(2026, 1, 10), "村党支部")
    assert open_obligations([village.id], TODAY, CAL)[village.id].count == 0


def test_the_dashboard_component_by_hand(world, db, frozen, app):
    """Q3 2026 of 村甲一甲 with 队伍建设 weighted 10 and every other component empty:
    met 2 of 10 items → rate 0.2 → 100 × 0.2 / 0.9 = 22.2 points, the village's score."""
    from tracker.config import current_settings
    from tracker.dashboard.models import VillageScore
    from tracker.dashboard.services import compute_period
    from tracker.periods import Period

    village = world.village_a1a
    a = _assign(world, started=date(2025, 3, 1))
    _assign(world, member=world.members[village.id][1], started=date(2026, 1, 5))
    posts.review(a, 2026, 1, date(2026, 7, 3), PostGrade.good, "村党支部")
    _household_fixture(world)
    settings = current_settings().dashboard
    old = settings.weight_teams
    try:
        settings.weight_teams = 10
        compute_period(Period.parse("2026-Q3"), world.town_a1.path, today=TODAY)
        row = db.session.scalar(
            select(VillageScore).where(
                VillageScore.region_id == village.id, VillageScore.period == "2026-Q3"
            )
        )
        assert (row.teams_met, row.teams_due) == (2, 10)
        from tracker.dashboard import rules
        from tracker.dashboard.services import scoring_config
        from tracker.dashboard.sources import figures_for_score

        sc = rules.score(figures_for_score(row), scoring_config())
        teams = sc.component("teams")
        assert teams.applies and round(teams.points, 1) == 22.2
        # Only the components with a denominator count: meetings of the quarter too.
        applying = [c for c in sc.components if c.applies]
        expected = sum(c.weight * c.points for c in applying) / sum(c.weight for c in applying)
        assert row.score == round(expected, 1)
    finally:
        settings.weight_teams = old
    # With the shipped weight 0 the component is shown but never moves a score.
    compute_period(Period.parse("2026-Q3"), world.town_a1.path, today=TODAY)
    row = db.session.scalar(
        select(VillageScore).where(
            VillageScore.region_id == village.id, VillageScore.period == "2026-Q3"
        )
    )
    sc = rules.score(figures_for_score(row), scoring_config())
    assert not sc.component("teams").applies


# -- pages, API, Excel ---------------------------------------------------------------------


def test_pages_record_each_register_with_errors_beside_the_field(world, db, login, frozen):
    village = world.village_a1a
    post = _post(world)
    client = login(world.users["town_a1_editor"])
    assert client.get(f"/teams/posts/catalog/{village.id}").status_code == 200
    url = f"/teams/posts/v/{village.id}"
    member = world.members[village.id][0]
    bad = client.post(
        url, data={"member_id": member.id, "post_id": post.id, "started_on": "2099-01-01"}
    )
    assert bad.status_code == 422 and "设岗日期不能晚于今天" in bad.get_data(as_text=True)
    ok = client.post(
        url, data={"member_id": member.id, "post_id": post.id, "started_on": "2026-03-01"}
    )
    assert ok.status_code == 302
    a = db.session.scalar(select(PostAssignment).where(PostAssignment.member_id == member.id))
    bad = client.post(
        f"/teams/assignments/{a.id}/review",
        data={
            "year": 2026,
            "half": 1,
            "reviewed_on": "2026-02-01",
            "grade": "good",
            "reviewer": "支部",
        },
    )
    assert bad.status_code == 422 and "评议日期不能早于设岗日期" in bad.get_data(as_text=True)
    # Pledges
    resp = client.post(
        f"/teams/pledges/v/{village.id}",
        data={
            "person": f"m{member.id}",
            "year": 2026,
            "made_on": "2026-02-01",
            "content": "帮扶两户",
        },
    )
    assert resp.status_code == 302
    # Households: the future is refused beside the field.
    resp = client.post(
        f"/teams/households/v/{village.id}",
        data={
            "member_id": member.id,
            "head": "王大山",
            "since": "2026-03-01",
            "phone": "13912345678",
        },
    )
    assert resp.status_code == 302
    link = db.session.scalar(select(HouseholdLink).where(HouseholdLink.head == "王大山"))
    bad = client.post(
        f"/teams/households/{link.id}/contacts", data={"on": "2026-12-01", "kind": "visit"}
    )
    assert bad.status_code == 422 and "联系日期不能晚于今天" in bad.get_data(as_text=True)
    overview = client.get(f"/teams/duty/v/{village.id}").get_data(as_text=True)
    assert "王大山" in overview  # October passed without a visit
    assert "13912345678" in client.get(f"/teams/households/v/{village.id}").get_data(as_text=True)
    viewer = login(world.users["county_a_viewer"])
    shown = viewer.get(f"/teams/households/v/{village.id}").get_data(as_text=True)
    assert "139****5678" in shown and "13912345678" not in shown
    for path in ("posts", "pledges", "households"):
        assert client.get(f"/teams/{path}/v/{village.id}/print").status_code == 200


def test_api_lists_are_paginated_and_answer_422_in_chinese(world, db, app, frozen):
    from tracker.auth.services import create_api_token

    _, token = create_api_token(world.users["town_a1_editor"], "test")
    _, atoken = create_api_token(world.users["county_a_admin"], "admin")
    client = app.test_client()
    h = {"Authorization": f"Bearer {token}"}
    village = world.village_a1a
    catalog_entry = {"region_id": village.id, "category": "经济发展", "name": "产业带头岗"}
    # The catalog is the county's: a township editor may not change it.
    assert client.post("/api/v1/duty-posts", json=catalog_entry, headers=h).status_code == 404
    post = client.post(
        "/api/v1/duty-posts", json=catalog_entry, headers={"Authorization": f"Bearer {atoken}"}
    )
    assert post.status_code == 201
    posts_page = client.get(f"/api/v1/duty-posts?region_id={village.id}", headers=h)
    assert posts_page.json["items"][0]["name"] == "产业带头岗"
    member = world.members[village.id][0]
    body = {
        "village_id": village.id,
        "member_id": member.id,
        "post_id": post.json["id"],
        "started_on": "2026-03-01",
    }
    made = client.post("/api/v1/post-assignments", json=body, headers=h)
    assert made.status_code == 201
    bad = client.post(
        f"/api/v1/post-assignments/{made.json['id']}/reviews",
        json={
            "year": 2026,
            "half": 1,
            "reviewed_on": "2026-02-01",
            "grade": "good",
            "reviewer": "支部",
        },
        headers=h,
    )
    assert bad.status_code == 422 and "早于设岗日期" in bad.json["error"]["fields"]["reviewed_on"]
    link = client.post(
        "/api/v1/household-links",
        json={
            "village_id": village.id,
            "member_id": member.id,
            "head": "王大山",
            "since": "2026-03-01",
            "phone": "13912345678",
        },
        headers=h,
    )
    assert link.status_code == 201 and link.json["phone"] == "13912345678"
    future = client.post(
        f"/api/v1/household-links/{link.json['id']}/contacts",
        json={"on": "2026-12-30", "kind": "visit"},
        headers=h,
    )
    assert future.status_code == 422 and "on" in future.json["error"]["fields"]
    listing = client.get(f"/api/v1/post-assignments?village_id={village.id}&per_page=1", headers=h)
    assert listing.json["total"] == 1 and listing.json["items"][0]["post_name"] == "产业带头岗"
    _, vtoken = create_api_token(world.users["county_a_viewer"], "v")
    masked = client.get(
        f"/api/v1/household-links?village_id={village.id}",
        headers={"Authorization": f"Bearer {vtoken}"},
    )
    assert masked.json["items"][0]["phone"] == "139****5678"
    assert masked.json["items"][0]["personal_data_masked"] is True
    ob = client.get(f"/api/v1/team-obligations?village_id={village.id}", headers=h)
    assert ob.status_code == 200 and ob.json["overdue_contacts"] == 1
    spec = client.get("/api/v1/openapi.json", headers=h).json
    assert "/api/v1/household-links" in spec["paths"]


def _round_trip(client, village_id, register, count):
    resp = client.get(f"/teams/{register}/v/{village_id}/export.xlsx")
    assert resp.status_code == 200
    return resp.data


def test_excel_round_trips(world, db, login, frozen):
    village = world.village_a1a
    a = _assign(world, started=date(2026, 3, 1), duties="负责政策宣传")
    member = world.members[village.id][0]
    pledges.make_pledge(
        village, pledges.PledgeInput(2026, "帮助 3 户", date(2026, 2, 1), member.id)
    )
    pledges.link_household(
        village,
        pledges.LinkInput(member.id, "王大山", date(2026, 3, 1), "三组 12 号", "13912345678"),
    )
    db.session.flush()
    client = login(world.users["town_a1_editor"])
    sheets = {r: _round_trip(client, village.id, r, 1) for r in ("posts", "pledges", "households")}
    ws = load_workbook(io.BytesIO(sheets["households"])).active
    assert ws["E3"].value == "13912345678"  # a writer's export keeps the full phone
    # Remove the rows and read the sheets back: the same rows again.
    for model in (PostAssignment, Pledge, HouseholdLink):
        for row in db.session.scalars(select(model).where(model.region_id == village.id)):
            db.session.delete(row)
    db.session.flush()
    for register, data in sheets.items():
        up = client.post(
            f"/teams/{register}/v/{village.id}/import",
            data={"file": (io.BytesIO(data), "x.xlsx")},
            content_type="multipart/form-data",
        )
        assert up.status_code == 302, register
    back = db.session.scalars(
        select(PostAssignment).where(PostAssignment.region_id == village.id)
    ).one()
    assert (back.member_id, back.post_id, back.started_on, back.duties) == (
        a.member_id,
        a.post_id,
        a.started_on,
        "负责政策宣传",
    )
    assert (
        db.session.scalars(select(Pledge).where(Pledge.region_id == village.id)).one().content
        == "帮助 3 户"
    )
    link = db.session.scalars(
        select(HouseholdLink).where(HouseholdLink.region_id == village.id)
    ).one()
    assert (link.head, link.address, link.phone) == ("王大山", "三组 12 号", "13912345678")
    # A viewer's export is masked; read back, the masked phone is refused by row.
    viewer = login(world.users["county_a_viewer"])
    masked = viewer.get(f"/teams/households/v/{village.id}/export.xlsx").data
    assert load_workbook(io.BytesIO(masked)).active["E3"].value == "139****5678"
    client = login(world.users["town_a1_editor"])
    again = client.post(
        f"/teams/households/v/{village.id}/import",
        data={"file": (io.BytesIO(masked), "x.xlsx")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert "第 3 行" in again.get_data(as_text=True), again.get_data(as_text=True)[-3000:]


def test_the_home_to_do_names_overdue_duty_items(world, db, frozen):
    from tracker.scope import Scope
    from tracker.teams.duty_todo import duty_overdue

    _household_fixture(world)
    user = world.users["town_a1_editor"]
    items = duty_overdue(Scope.for_user(user), user)
    assert items and items[0].count == 1 and "联户" in items[0].title
    viewer = world.users["county_a_viewer"]
    assert duty_overdue(Scope.for_user(viewer), viewer) == []


def test_the_latest_post_grade_is_shown_beside_the_member_in_the_democratic_appraisal(
    world, db, login
):
    from tests.tracker.test_meeting_helpers import at, meeting_input
    from tracker.meetings.services import record_meeting

    village = world.village_a1a
    a = _assign(world, started=date(2025, 3, 1))
    posts.review(a, 2025, 2, date(2026, 1, 8), PostGrade.excellent, "村党支部")
    start = at(2026, 1, 20)
    appraisal = record_meeting(
        world.branches[village.id],
        meeting_input(world, village, start, kind="democratic_appraisal", topics="民主评议党员"),
        None,
        CAL,
        now=start + timedelta(hours=3),
    )
    committee = record_meeting(
        world.branches[village.id],
        meeting_input(world, village, at(2026, 1, 21)),
        None,
        CAL,
        now=at(2026, 1, 21, 12),
    )
    db.session.flush()
    client = login(world.users["town_a1_editor"])
    page = client.get(f"/meetings/{appraisal.id}").get_data(as_text=True)
    assert 'id="post-grades"' in page and "政策宣传岗" in page and "优秀" in page
    assert 'id="post-grades"' not in client.get(f"/meetings/{committee.id}").get_data(as_text=True)


@pytest.mark.slow
def test_the_demo_city_lets_only_wusi_village_lapse(app, db):
    from tracker.calendar_service import load_calendar
    from tracker.demo import seed_demo

    with app.test_request_context():
        world = seed_demo()
        db.session.flush()
        today = clock.today()
        ob = open_obligations([v.id for v in world.villages], today, load_calendar())
        owing = {v.name for v in world.villages if ob[v.id].count}
        assert owing == {"五四村"}
        wusi = next(v for v in world.villages if v.name == "五四村")
        assert ob[wusi.id].contacts and ob[wusi.id].pledges
        from tracker.config import current_settings
        from tracker.teams.duty_rules import half_bounds, half_of

        y, h = half_of(today)
        last = (y, 1) if h == 2 else (y - 1, 2)
        due = review_deadline(*last, current_settings().teams.post_review_working_days, CAL)
        assert bool(ob[wusi.id].reviews) == (due < today and half_bounds(*last)[1] < today)
        every = db.session.scalars(
            select(PostAssignment).where(
                PostAssignment.region_id.in_([v.id for v in world.villages])
            )
        ).all()
        assert len(every) >= 3 * (len(world.villages) - 1)


def test_the_team_component_weighs_in_by_hand():
    """会议履职 4 of 5 (weight 40, target 1.0 → 80 points) and 队伍建设 2 of 10
    (weight 10, target 0.9 → 22.22 points): (40 × 80 + 10 × 22.22) ÷ 50 = 68.4.
    With the shipped weight 0 the same figures score 80 — as before the component existed."""
    from tracker.dashboard import rules

    figures = {"meetings": (4.0, 5.0), "teams": (2.0, 10.0)}
    on = rules.ScoringConfig.from_settings(
        {"weight_meetings": 40, "weight_teams": 10, "target_teams": 0.9}
    )
    assert rules.score(figures, on).value == 68.4
    off = rules.ScoringConfig.from_settings({"weight_meetings": 40, "weight_teams": 0})
    result = rules.score(figures, off)
    assert result.value == 80.0 and not result.component("teams").applies
    assert rules.score({"meetings": (4.0, 5.0), "teams": (0.0, 0.0)}, on).value == 80.0


def test_every_write_is_audited_with_chinese_names(world, db, frozen):
    from tracker.models.audit import AuditLog
    from tracker.org.labels import entity_label, value_label

    a = _assign(world)
    posts.review(a, 2025, 2, date(2026, 1, 8), PostGrade.good, "村党支部")
    db.session.flush()
    entities = set(db.session.scalars(select(AuditLog.entity)))
    assert {"duty_post", "duty_assignment", "duty_review"} <= entities
    assert entity_label("duty_review") == "设岗半年评议"
    assert value_label("duty_review", "grade", "good") == "合格"


def test_the_dashboard_village_page_lists_the_team_parts(world, db, login, frozen):
    _assign(world, started=date(2025, 3, 1))
    _household_fixture(world)
    client = login(world.users["town_a1_editor"])
    page = client.get(f"/dashboard/r/{world.village_a1a.id}?period=2026-Q3")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="detail-teams"' in html and "设岗半年评议" in html and "联户联系" in html
