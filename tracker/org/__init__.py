"""组织与党员: regions, branches, party groups, members, cadres and user accounts."""

from flask_babel import lazy_gettext as _l

from tracker.domain import Domain, NavEntry

DOMAIN = Domain(
    "tracker.org",
    filters="views:FILTERS",
    api=("api",),
    commands="cli:commands",
    seeder="demo:seed_org",
    todo=("home:org_todo",),
    nav=(
        NavEntry("org.regions", _l("组织与党员"), order=30),
        NavEntry(
            "org.users",
            _l("用户管理"),
            order=80,
            show=lambda user: user.is_admin,
            section=("org.user", "org.audit"),
        ),
    ),
)
