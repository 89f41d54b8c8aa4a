"""三会一课 and organizational-life ledgers with the obligations engine.

- :mod:`tracker.meetings.rules` — pure: kinds, periods, obligations, quorum, lateness;
- :mod:`tracker.meetings.services` — operations (record, edit, delete, import, verify);
- :mod:`tracker.meetings.obligations` — bulk loading for the obligations engine
  (one query per table for any number of branches; the dashboard's entry point);
- :mod:`tracker.meetings.views` / :mod:`tracker.meetings.api` — pages and JSON API.
"""

from flask_babel import lazy_gettext as _l

from tracker.domain import Domain, NavEntry

DOMAIN = Domain(
    "tracker.meetings",
    filters="views:FILTERS",
    api=("api",),
    jobs="jobs",
    commands="cli:commands",
    seeder="demo:seed_meetings",
    todo=("todo:meeting_todos",),
    nav=(NavEntry("meetings.index", _l("三会一课"), order=40),),
)
