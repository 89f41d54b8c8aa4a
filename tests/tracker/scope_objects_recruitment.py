"""Objects of recruitment (发展党员) for the route walk in test_scope_routes."""

from __future__ import annotations

from datetime import date

from tests.factories import World
from tracker.models import Region
from tracker.recruitment.services import CaseInput, open_case


def _case(world: World, village: Region) -> int:
    case = open_case(world.branch(village), CaseInput(name="路线测试", applied_on=date(2026, 1, 5)))
    return case.id


SCOPE_OBJECTS = {"recruit_case_id": _case}
