"""培训台账: the trainings register (党员教育培训, 村干部培训, 后备干部培训 …).

A branch is expected to hold trainings at the frequency in ``[rules] training``
(default quarterly); the county dashboard counts the windows met.
"""

from flask_babel import lazy_gettext as _l

from tracker.domain import Domain, NavEntry

DOMAIN = Domain(
    "tracker.trainings",
    api=("api",),
    seeder="demo:seed_trainings",
    todo=("todo:trainings_due", "todo:concentrated_due"),
    nav=(NavEntry("trainings.index", _l("培训台账"), order=60),),
)
