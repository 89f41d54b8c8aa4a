"""服务事项台账: first-inquiry responsibility (首问负责), time-limited completion (限时办结),
ratings and call-backs (好差评 · 回访) for the village one-stop service halls."""

from flask_babel import lazy_gettext as _l

from tracker.domain import Domain, NavEntry

DOMAIN = Domain(
    "tracker.matters",
    filters="views:FILTERS",
    api=("api",),
    jobs="jobs",
    commands="cli:commands",
    seeder="demo:seed_matters",
    todo=("todo:matter_todos",),
    nav=(NavEntry("matters.index", _l("服务事项"), order=50),),
)
