"""挂职干部管理: seconded-cadre management after Yanji's programme.

The organization department runs batches of government cadres sent to serve
at the grass roots: selection with its political checks and one-vote veto,
the secondment itself, the five assessment systems (工作记实、周报公示、定期考核、
现场督查、监督举报), results and outcomes, and a programme view of live counts.
"""

from flask_babel import lazy_gettext as _l

from tracker.domain import Domain, NavEntry

DOMAIN = Domain(
    "tracker.secondment",
    api=("api",),
    seeder="demo:seed_secondment",
    todo=("todo:secondment_due",),
    filters="views:FILTERS",
    nav=(NavEntry("secondment.index", _l("挂职干部"), order=70),),
)
