"""通知: the one notification pipeline, shared by every package (matters, camera alerts, calendar).

Call :func:`tracker.notifications.services.publish` with a
:class:`~tracker.notifications.services.Message`: inbox rows now, e-mail /
webhook / DingTalk / WeCom copies queued in the outbox, sent by the jobs
process (:mod:`tracker.notifications.delivery`).
"""

from flask_babel import lazy_gettext as _l

from tracker.domain import Domain, NavEntry

DOMAIN = Domain(
    "tracker.notifications",
    api=("api",),
    jobs="jobs",
    commands="cli:commands",
    nav=(
        NavEntry(
            "notifications.inbox",
            _l("通知"),
            order=90,
            badge="services:unread_badge",
            badge_id="unread-badge",
        ),
    ),
)
