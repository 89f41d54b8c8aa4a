"""Builders for secondment tests: a batch in county A with a selected cadre seconded to a township."""

from __future__ import annotations

from datetime import date

from tests.factories import World
from tracker.extensions import db as sqla
from tracker.models import Region, RegionLevel
from tracker.secondment.models import GroupKind, PostType, Secondment, WorkGroup
from tracker.secondment.services import (
    SecondmentInput,
    add_group,
    complete_selection,
    create_batch,
    create_secondment,
    propose_candidate,
    record_checks,
    select_candidate,
)

SELECTED_ON = date(2026, 3, 1)
START = date(2026, 3, 2)  # a Monday
PLANNED_END = date(2027, 3, 1)


def seconded(
    world: World,
    region: Region | None = None,
    name: str = "张挂职",
    start: date = START,
    end: date = PLANNED_END,
) -> Secondment:
    """A batch of ``region``'s county (county A by default) and one cadre seconded to ``region``."""
    region = region or world.town_a1
    county = region
    while county.level != RegionLevel.county:
        parent = sqla.session.get(Region, county.parent_id)
        assert parent is not None
        county = parent
    batch = create_batch(county, 2026, "2026年机关干部服务基层挂职", "服务基层")
    candidate = propose_candidate(batch, name, "副科级", "县发改局", PostType.town_village)
    record_checks(candidate, date(2026, 2, 1), "县纪委监委", date(2026, 2, 2), "县司法局")
    select_candidate(candidate)
    complete_selection(batch, SELECTED_ON)
    return create_secondment(
        candidate,
        region,
        SecondmentInput(
            receiving_unit="镇甲一党委",
            post="党委副书记",
            post_type=PostType.town_village,
            start_on=start,
            planned_end_on=end,
            guarantee_given=True,
            guarantee_on=date(2026, 3, 1),
            guarantee_note="工资、晋升不受影响",
        ),
    )


def assessment_group(world: World, s: Secondment, name: str = "第一考核组") -> WorkGroup:
    return add_group(
        s.batch, GroupKind.assessment, name, [("李组长", "组长", None)], [world.town_a1]
    )
