"""Organisation rules: regions, branches, groups, members, cadres, users (services, no HTTP)."""

from datetime import date

import pytest

from tracker.models import Gender, MemberStatus, Region, RegionLevel, Role
from tracker.org import services
from tracker.org.services import CadreData, MemberData, OrgError
from tracker.scope import Scope


@pytest.fixture(autouse=True)
def _cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2 at its production cost takes most of a second per user; tests need no such cost."""
    from argon2 import PasswordHasher

    from tracker import security

    monkeypatch.setattr(
        security, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )


def test_a_new_village_gets_a_path_under_its_township(world):
    village = services.create_child_region(world.town_a1, "新村", "220802001099")
    assert village.level == RegionLevel.village
    assert village.path == world.town_a1.path + f"{village.id}/"


def test_region_names_are_unique_among_siblings(world):
    with pytest.raises(OrgError) as err:
        services.create_child_region(world.town_a1, world.village_a1a.name)
    assert err.value.field == "name"


def test_region_code_must_be_twelve_digits_and_unique(world):
    with pytest.raises(OrgError, match="12 位"):
        services.update_region(world.village_a1a, "村甲一甲", "12345")
    services.update_region(world.village_a1a, "村甲一甲", "220802001001")
    with pytest.raises(OrgError, match="已被"):
        services.update_region(world.village_a1b, "村甲一乙", "220802001001")


def test_nothing_can_be_created_below_a_village(world):
    with pytest.raises(OrgError):
        services.create_child_region(world.village_a1a, "组")


def test_a_village_has_one_branch(world):
    with pytest.raises(OrgError, match="已有党支部"):
        services.create_branch(world.village_a1a)


def test_group_names_are_unique_in_a_branch(world):
    with pytest.raises(OrgError, match="同名"):
        services.create_group(world.branch(world.village_a1a), "第一党小组")


def test_member_with_all_details_is_added(world):
    branch = world.branch(world.village_a1a)
    member = services.add_member(
        branch,
        MemberData(
            name=" 李四 ",
            status=MemberStatus.probationary,
            gender=Gender.female,
            birth_year=1990,
            phone="139-0000-1111",
            joined_on=date(2025, 7, 1),
            group_id=world.groups[world.village_a1a.id][1].id,
        ),
    )
    assert member.name == "李四"
    assert member.region_id == world.village_a1a.id
    assert not member.can_vote


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "长" * 33}, "name"),
        ({"birth_year": 1850}, "birth_year"),
        ({"phone": "abc"}, "phone"),
        ({"joined_on": date(2999, 1, 1)}, "joined_on"),
    ],
)
def test_bad_member_details_name_their_field(world, change, field):
    data = MemberData(name="王五", **{k: v for k, v in change.items() if k != "name"})
    if "name" in change:
        data.name = change["name"]
    with pytest.raises(OrgError) as err:
        services.add_member(world.branch(world.village_a1a), data)
    assert err.value.field == field


def test_a_group_of_another_branch_is_refused(world):
    other_group = world.groups[world.village_a1b.id][0]
    with pytest.raises(OrgError) as err:
        services.add_member(
            world.branch(world.village_a1a), MemberData(name="王五", group_id=other_group.id)
        )
    assert err.value.field == "group_id"


def test_a_member_who_left_is_off_the_roster_but_kept(world, db):
    member = world.members[world.village_a1a.id][0]
    services.member_leaves(member, date(2026, 1, 5), "转出")
    branch = world.branch(world.village_a1a)
    assert member not in services.roster(branch.id)
    assert "转出" in (member.note or "")
    left = db.session.scalars(
        services.roster_query(branch.id, services.RosterFilter(show="left"))
    ).all()
    assert left == [member]
    with pytest.raises(OrgError, match="已不在册"):
        services.member_leaves(member, date(2026, 2, 1))


def test_leaving_before_joining_is_refused(world):
    member = world.members[world.village_a1a.id][0]
    with pytest.raises(OrgError) as err:
        services.member_leaves(member, date(2009, 1, 1))
    assert err.value.field == "left_on"


def test_roster_filters_by_status_group_and_name(world, db):
    branch = world.branch(world.village_a1a)
    flt = services.RosterFilter(status="probationary")
    rows = db.session.scalars(services.roster_query(branch.id, flt)).all()
    assert [m.status for m in rows] == [MemberStatus.probationary]
    group = world.groups[world.village_a1a.id][0]
    rows = db.session.scalars(
        services.roster_query(branch.id, services.RosterFilter(group_id=group.id))
    ).all()
    assert rows and all(m.group_id == group.id for m in rows)
    rows = db.session.scalars(
        services.roster_query(branch.id, services.RosterFilter(q="党员3"))
    ).all()
    assert [m.name for m in rows] == [f"{world.village_a1a.name}党员3"]


def test_roster_counts_split_full_and_probationary(world):
    counts = services.roster_counts(world.branch(world.village_a1a).id)
    assert counts == {"full": 5, "probationary": 1, "total": 6}


def test_reserve_cadre_is_registered(world):
    cadre = services.add_cadre(
        world.village_a1a, CadreData(name="赵六", post="后备干部", reserve=True)
    )
    assert cadre.reserve and cadre.region_id == world.village_a1a.id


def test_cadre_leaving_before_starting_is_refused(world):
    with pytest.raises(OrgError) as err:
        services.add_cadre(
            world.village_a1a,
            CadreData(name="赵六", post="委员", since=date(2024, 1, 1), until=date(2023, 1, 1)),
        )
    assert err.value.field == "until"


def test_cadre_linked_member_must_be_of_the_village(world):
    stranger = world.members[world.village_b1a.id][0]
    with pytest.raises(OrgError) as err:
        services.add_cadre(
            world.village_a1a, CadreData(name="x", post="委员", member_id=stranger.id)
        )
    assert err.value.field == "member_id"


def _scope(user) -> Scope:
    return Scope.for_user(user)


def test_admin_creates_users_only_inside_its_subtree(world):
    scope = _scope(world.users["county_a_admin"])
    user = services.create_user_in_scope(
        scope, "clerk_a", "long-enough-1", Role.editor, world.village_a1a, "文书"
    )
    assert user.region_id == world.village_a1a.id
    with pytest.raises(OrgError) as err:
        services.create_user_in_scope(
            scope, "clerk_b", "long-enough-1", Role.editor, world.village_b1a
        )
    assert err.value.field == "region_id"


def test_admin_cannot_create_a_user_above_its_own_node(world):
    scope = _scope(world.users["county_a_admin"])
    with pytest.raises(OrgError):
        services.create_user_in_scope(scope, "boss", "long-enough-1", Role.admin, world.city)


def test_only_admins_grant_roles(world):
    scope = _scope(world.users["town_a1_editor"])
    with pytest.raises(OrgError):
        services.create_user_in_scope(
            scope, "friend", "long-enough-1", Role.editor, world.village_a1a
        )


def test_usernames_are_unique_and_passwords_long(world):
    scope = _scope(world.users["city_admin"])
    existing = world.users["town_a1_editor"].username
    with pytest.raises(OrgError) as err:
        services.create_user_in_scope(scope, existing, "long-enough-1", Role.viewer, world.city)
    assert err.value.field == "username"
    with pytest.raises(OrgError) as err:
        services.create_user_in_scope(scope, "newbie", "short", Role.viewer, world.city)
    assert err.value.field == "password"


def test_admin_cannot_deactivate_or_demote_itself(world):
    admin = world.users["county_a_admin"]
    scope = _scope(admin)
    with pytest.raises(OrgError):
        services.update_user(scope, admin, "x", Role.admin, admin.region, active=False)
    with pytest.raises(OrgError):
        services.update_user(scope, admin, "x", Role.viewer, admin.region, active=True)


def test_admin_deactivates_and_moves_a_user_in_scope(world):
    scope = _scope(world.users["county_a_admin"])
    editor = world.users["town_a1_editor"]
    services.update_user(scope, editor, "新名字", Role.viewer, world.town_a2, active=False)
    assert (editor.role, editor.region_id, editor.active) == (Role.viewer, world.town_a2.id, False)


def test_reset_password_stores_a_new_argon2_hash(world):
    from tracker.security import verify_password

    user = world.users["town_a1_editor"]
    services.reset_password(user, "brand-new-pass")
    assert user.password_hash.startswith("$argon2id$")
    assert verify_password(user.password_hash, "brand-new-pass")


def test_regions_in_scope_are_the_subtree(world):
    nodes = services.regions_in_scope(_scope(world.users["town_a1_editor"]))
    assert {r.id for r in nodes} == {world.town_a1.id, world.village_a1a.id, world.village_a1b.id}
    assert all(isinstance(r, Region) for r in nodes)


def test_admin_todo_lists_villages_without_branch_and_idle_accounts(world, app):
    from tracker.home import todo_for

    services.create_child_region(world.town_a1, "无支部村")
    with app.test_request_context():
        items = todo_for(world.users["county_a_admin"])
    titles = [i.title for i in items]
    assert "有村尚未建立党支部" in titles
    assert "有账号从未登录" in titles
    with app.test_request_context():
        assert not [
            i for i in todo_for(world.users["town_a1_editor"]) if i.title == "有账号从未登录"
        ]
