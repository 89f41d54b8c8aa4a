"""通知 in-app inbox, shared by every package (overdue matters, camera alerts, calendar warnings).

Call :func:`tracker.notifications.services.notify`; the jobs process delivers
to email / webhooks when ``[alerts]`` configures them.
"""

from flask_babel import lazy_gettext as _l

from tracker.domain import Domain, NavEntry

DOMAIN = Domain(
    "tracker.notifications",
    api=("api",),
    jobs="jobs",
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
