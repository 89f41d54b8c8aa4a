"""队伍素质提升: the team-quality registers (issue 15).

So far: village reserve cadres (村级后备干部, "2+5"), with targets per village
from ``[teams]`` in config and an obligation on the home to-do for a village
below target; the yearly assessment of village cadres and recall cases (不胜任村干部
动态调整, 召回) whose steps are due in working days (``[teams] recall_*``), an
overdue step on the home to-do.
"""

from flask_babel import lazy_gettext as _l

from tracker.domain import Domain, NavEntry

DOMAIN = Domain(
    "tracker.teams",
    models=("models", "duty_models"),
    api=("api", "posts_api", "duty_api"),
    seeder="demo:seed_teams",
    todo=(
        "todo:reserves_short",
        "todo:recall_steps_overdue",
        "todo:vacancies_overdue",
        "duty_todo:duty_overdue",
    ),
    nav=(NavEntry("teams.index", _l("后备干部"), order=65),),
)
