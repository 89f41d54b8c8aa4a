"""The feature packages of the tracker, each a blueprint with its own models,
services, views and API. Add a package here to switch it on."""

from __future__ import annotations

from flask import Blueprint


def domain_blueprints() -> list[Blueprint]:
    """Blueprints of every domain package (imported late: no import cycles)."""
    from tracker.dashboard.views import bp as dashboard
    from tracker.halls.views import bp as halls
    from tracker.matters.views import bp as matters
    from tracker.meetings.views import bp as meetings
    from tracker.notifications.views import bp as notifications
    from tracker.org.views import bp as org
    from tracker.trainings.views import bp as trainings

    return [org, dashboard, meetings, matters, notifications, halls, trainings]
