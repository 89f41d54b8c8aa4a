"""县级合规看板: the county compliance dashboard.

- :mod:`tracker.dashboard.rules` — pure scoring, bands, renormalisation, obligation windows;
- :mod:`tracker.dashboard.sources` — bulk SQL figures per village read from the ledgers;
- :mod:`tracker.dashboard.services` — period snapshots (roll-ups) and the read side of the pages;
- :mod:`tracker.dashboard.charts` — server-side SVG (sparklines, component bars, village grid);
- :mod:`tracker.dashboard.exports` — Excel workbooks and the monthly report;
- :mod:`tracker.dashboard.views` / :mod:`tracker.dashboard.api` — pages and JSON API;
- :mod:`tracker.dashboard.jobs` — the roll-up and monthly-report jobs (``tracker jobs``);
- :mod:`tracker.dashboard.writes` — the ledgers' write times the roll-up compares its
  snapshots with (a session listener, installed when this package is imported).
"""

from flask_babel import lazy_gettext as _l

from tracker.dashboard import writes as _writes
from tracker.domain import Domain, NavEntry

_writes.install()

DOMAIN = Domain(
    "tracker.dashboard",
    api=("api",),
    jobs="jobs",
    commands="cli:commands",
    todo=("views:red_villages_todo",),
    nav=(
        NavEntry(
            "dashboard.index",
            _l("合规看板"),
            order=10,
            show=lambda user: user.region.level.value != "village",
        ),
    ),
)
