"""党费收缴: membership dues — each member's monthly base and rate by effective month,
payments by month, arrears, the six-months-unpaid flag (talk required), a branch's monthly
collection summary (page, A4 print, 党费收缴台账 Excel export and import, API) and a
monthly reminder to the branch clerk.
"""

from flask_babel import lazy_gettext as _l

from tracker.domain import Domain, NavEntry

DOMAIN = Domain(
    "tracker.dues",
    api=("api",),
    jobs="jobs",
    seeder="demo:seed_dues",
    todo=("todo:dues_arrears",),
    filters="views:FILTERS",
    nav=(NavEntry("dues.index", _l("党费收缴"), order=35),),
)
