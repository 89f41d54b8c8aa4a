"""Query budgets: every list page, export and API list runs a number of SQL
statements that does not grow with its rows.

Each case loads its URL twice — after adding one village's worth of ledgers
to the world, then after adding four more — and both loads must fit the same
budget and run the same number of statements. A per-row lazy load (one query
per meeting, camera, attendee or region) shows up as a count that grows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pytest

from tests.factories import World, make_user, unique
from tests.tracker.recruitment_helpers import case_at
from tests.tracker.test_matter_services import catalog, register
from tests.tracker.test_meeting_helpers import meeting_input, recent
from tracker import clock
from tracker.extensions import db
from tracker.halls import services as halls
from tracker.halls.models import CameraState, CameraStatus
from tracker.meetings.services import record_meeting
from tracker.models import MemberStatus, Region, RegionLevel, Role
from tracker.org.services import add_member, create_branch, create_group, create_region
from tracker.trainings.models import TrainingKind
from tracker.trainings.services import TrainingInput, create_training
from tracker.workdays import WorkCalendar


@dataclass
class Grower:
    """Adds villages with a full set of ledgers, and rows to the world's village A1a."""

    world: World
    matter_type: Any = None
    made: list[Region] = field(default_factory=list)
    n: int = 0

    def village(self) -> Region:
        w = self.world
        town = w.town_a1 if len(self.made) % 2 == 0 else w.town_a2
        village = create_region(unique("增村"), RegionLevel.village, town)
        branch = create_branch(village, founded_on=date(2000, 1, 1))
        branch.tracked_from = date(2025, 1, 1)
        group = create_group(branch, "第一党小组", date(2025, 1, 1))
        members = [
            add_member(branch, unique("党员"), group=group, joined_on=date(2010, 1, 1))
            for _ in range(3)
        ]
        w.branches[village.id] = branch
        w.groups[village.id] = [group]
        w.members[village.id] = members
        hall = halls.create_hall(village, halls.HallData(name="便民服务中心"))
        cams = [
            halls.create_camera(
                hall, halls.CameraData(name=f"摄像头{i}", stream_url=f"rtsp://u:p@10.1.1.{i}/x")
            )
            for i in (1, 2)
        ]
        for cam, state in zip(cams, (CameraState.up, CameraState.down), strict=True):
            status = db.session.get(CameraStatus, cam.id) or CameraStatus(
                camera_id=cam.id, region_id=village.id
            )
            status.state = state
            db.session.add(status)
        make_user(Role.editor, village)
        self.made.append(village)
        self.ledgers(village, town)
        return village

    def ledgers(self, village: Region, town: Region) -> None:
        w = self.world
        self.n += 1
        branch = w.branch(village)
        for k in (1, 2):
            record_meeting(
                branch,
                meeting_input(w, village, recent(days=2 + 7 * k + self.n)),
                None,
                WorkCalendar(),
            )
        create_training(
            branch,
            TrainingInput(
                kind=TrainingKind.party_education,
                title="学习党章",
                held_on=clock.today() - timedelta(days=self.n),
                hours="2",
                place="党员活动室",
                attendee_ids=[m.id for m in w.members[village.id][:3]],
            ),
            None,
            WorkCalendar(),
        )
        responder = w.users["town_a1_editor" if town is w.town_a1 else "town_a2_editor"]
        if self.matter_type is None:
            self.matter_type = catalog(w)
        for _ in (1, 2):
            register(w, matter_type=self.matter_type, responder=responder, village=village)
        # 发展党员: an applicant talked to, and an activist with a review.
        case_at(w, village, "talked", name=unique("申请人"))
        case_at(w, village, "activist", name=unique("积极分子"))

    def grow(self, villages: int) -> None:
        w = self.world
        for _ in range(villages):
            self.village()
            # The world's own village A1a grows too (its village pages).
            add_member(
                w.branch(w.village_a1a),
                unique("新党员"),
                status=MemberStatus.full,
                joined_on=date(2012, 1, 1),
            )
            self.ledgers(w.village_a1a, w.town_a1)
        db.session.commit()


# (url template, user, budget). Templates see ``w`` (the world).
CASES: list[tuple[str, str, int]] = [
    # meetings
    ("/meetings/?region_id={w.county_a.id}", "city_admin", 22),
    ("/meetings/v/{w.village_a1a.id}", "town_a1_editor", 13),
    ("/meetings/v/{w.village_a1a.id}/grid", "town_a1_editor", 19),
    ("/meetings/v/{w.village_a1a.id}/export.xlsx", "town_a1_editor", 10),
    ("/meetings/v/{w.village_a1a.id}/plans", "town_a1_editor", 16),
    ("/api/v1/meetings?village_id={w.village_a1a.id}", "town_a1_editor", 10),
    # service matters
    ("/matters/?view=all", "city_admin", 16),
    ("/matters/?view=mine", "town_a1_editor", 16),
    ("/matters/overdue", "city_admin", 11),
    ("/matters/register?village_id={w.village_a1a.id}", "town_a1_editor", 13),
    ("/matters/register.xlsx?village_id={w.village_a1a.id}", "town_a1_editor", 11),
    ("/matters/catalog", "county_a_admin", 7),
    ("/matters/measures", "city_admin", 8),
    ("/api/v1/matters", "city_admin", 10),
    ("/api/v1/matters/catalog", "city_admin", 5),
    # halls
    ("/halls/", "city_admin", 18),
    # +4 over the figures: the 24-hour bar of every tile (stations, events, heartbeats).
    ("/halls/wall/{w.city.id}", "city_admin", 24),
    ("/halls/excuses", "city_admin", 6),
    ("/halls/report?region_id={w.county_a.id}", "city_admin", 18),
    ("/halls/report.xlsx?region_id={w.county_a.id}", "city_admin", 17),
    # +1: the regions a new station may serve (the create form).
    ("/halls/stations", "city_admin", 7),
    ("/api/v1/halls", "city_admin", 6),
    # trainings
    ("/trainings/", "city_admin", 8),
    ("/trainings/v/{w.village_a1a.id}", "town_a1_editor", 11),
    ("/trainings/v/{w.village_a1a.id}/export.xlsx", "town_a1_editor", 8),
    ("/api/v1/trainings?village_id={w.village_a1a.id}", "town_a1_editor", 8),
    # organisation
    ("/org/regions/{w.county_a.id}", "city_admin", 10),
    ("/org/villages/{w.village_a1a.id}", "town_a1_editor", 13),
    ("/org/villages/{w.village_a1a.id}/export.xlsx", "town_a1_editor", 8),
    ("/org/users", "city_admin", 7),
    ("/org/audit", "city_admin", 10),
    ("/api/v1/villages/{w.village_a1a.id}/members", "town_a1_editor", 7),
    ("/api/v1/regions", "city_admin", 5),
    ("/api/v1/users", "city_admin", 5),
    ("/api/v1/audit", "city_admin", 5),
    ("/api/v1/villages/{w.village_a1a.id}/groups", "town_a1_editor", 7),
    ("/api/v1/villages/{w.village_a1a.id}/cadres", "town_a1_editor", 6),
    # recruitment (发展党员)
    ("/recruitment/", "city_admin", 9),
    ("/recruitment/?village_id={w.village_a1a.id}", "town_a1_editor", 9),
    ("/recruitment/export.xlsx?village_id={w.village_a1a.id}", "town_a1_editor", 5),
    ("/api/v1/recruitment/cases?village_id={w.village_a1a.id}", "town_a1_editor", 6),
    # notifications
    ("/notifications/", "town_a1_editor", 6),
    ("/api/v1/notifications", "town_a1_editor", 4),
    # dashboard
    # +3: the recruitment obligations panel (villages, open cases, their steps);
    # +1: cameras now (离线/画面异常). Inspect 34: the 队伍建设 parts add one statement
    # per part (tracker.teams.figures.team_figures).
    ("/dashboard/r/{w.city.id}", "city_admin", 24),
    ("/dashboard/r/{w.county_a.id}", "city_admin", 25),
    ("/dashboard/r/{w.village_a1a.id}/inspect", "city_admin", 34),
    ("/dashboard/r/{w.county_a.id}/export.xlsx", "city_admin", 9),
]


@pytest.fixture
def grower(world: World, db: Any) -> Grower:
    db.session.commit()
    return Grower(world)


@pytest.mark.parametrize(("url", "user", "budget"), CASES, ids=[c[0] for c in CASES])
def test_list_runs_the_same_statements_at_two_sizes(
    url: str,
    user: str,
    budget: int,
    grower: Grower,
    login: Callable[[Any], Any],
    assert_max_queries: Any,
    world: World,
) -> None:
    target = url.format(w=world)
    client = login(world.users[user])
    logs = []
    for villages in (1, 4):
        grower.grow(villages)
        client.get(target)  # warm: the calendar and settings caches are per process
        with assert_max_queries(budget) as log:
            resp = client.get(target)
        assert resp.status_code == 200, (target, resp.status_code)
        logs.append(log)
    small, large = logs
    assert small.count == large.count, (
        f"{target}: {small.count} → {large.count} statements:\n{large.report()}"
    )


def test_the_budget_fixture_counts_statements(assert_max_queries: Any, world: World) -> None:
    """The fixture itself: three lookups are three statements, and a fourth breaks a budget of 3."""
    from sqlalchemy import select

    with assert_max_queries(3) as log:
        for name in ("a", "b", "c"):
            db.session.execute(select(Region.id).where(Region.name == name)).all()
    assert log.count == 3
    with (
        pytest.raises(AssertionError, match="4 SQL statements, budget 3"),
        assert_max_queries(3),
    ):
        for name in ("a", "b", "c", "d"):
            db.session.execute(select(Region.id).where(Region.name == name)).all()
