"""One region-subtree rule: ``in_subtree`` / ``subtree_ids`` and the scope's village look-ups."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import aliased
from werkzeug.exceptions import NotFound

from tracker.models import Region, in_subtree, subtree_ids
from tracker.scope import Scope


def test_in_subtree_is_the_node_and_everything_below_it(world, db):
    names = set(db.session.scalars(select(Region.name).where(in_subtree(world.town_a1.path))))
    assert names == {world.town_a1.name, world.village_a1a.name, world.village_a1b.name}


def test_subtree_ids_select_rows_by_region(world, db):
    ids = set(
        db.session.scalars(select(Region.id).where(Region.id.in_(subtree_ids(world.county_b.path))))
    )
    assert ids == {world.county_b.id, world.town_b1.id, world.village_b1a.id}


def test_in_subtree_groups_several_subtrees_in_one_query(world, db):
    child, node = aliased(Region), aliased(Region)
    counts = dict(
        db.session.execute(
            select(child.name, func.count(node.id))
            .join(node, in_subtree(child.path, node))
            .where(child.parent_id == world.county_a.id)
            .group_by(child.name)
        ).all()
    )
    assert counts == {world.town_a1.name: 3, world.town_a2.name: 2}


def test_a_prefix_of_digits_is_not_a_subtree(world, db):
    """``/1/`` must not match ``/11/``: paths end with a slash."""
    assert all(r.path.endswith("/") for r in db.session.scalars(select(Region)))


def test_get_village_answers_404_for_a_township_and_outside_the_scope(app, world, db):
    scope = Scope.for_user(world.users["town_a1_editor"])
    with app.test_request_context():
        assert scope.get_village(world.village_a1a.id) == world.village_a1a
        for other in (world.town_a1.id, world.village_b1a.id, 987_654_321):
            with pytest.raises(NotFound):
                scope.get_village(other)
        region, branch = scope.get_village_branch(world.village_a1a.id)
        assert region == world.village_a1a and branch.region_id == region.id
