"""发展党员: recruitment from the application to full membership (issue 14).

A case per person runs through the five official stages — 入党申请 →
入党积极分子 → 发展对象 → 预备党员 → 正式党员 — each step with its date,
decision body and meeting record (三会一课 ledger). The intervals and
deadlines are rules in ``[recruitment]`` (defaults: 中国共产党发展党员工作细则); a
step that breaks one is refused with the rule's name. Admission creates the
member and the 'probationary from' fact, 转正 the 'full from' fact
(``tracker.org.history``). Overdue steps are on the home to-do and the dashboard.
"""

from flask_babel import lazy_gettext as _l

from tracker.domain import Domain, NavEntry

DOMAIN = Domain(
    "tracker.recruitment",
    api=("api",),
    seeder="demo:seed_recruitment",
    todo=("todo:recruitment_overdue",),
    nav=(NavEntry("recruitment.index", _l("发展党员"), order=62),),
)
