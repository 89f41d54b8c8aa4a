"""Where domain packages plug into the ``tracker`` command.

- :func:`register` adds each domain's subcommands (``verify-ledger``,
  ``add-station``, ``jobs`` …) to the group;
- :data:`DEMO_COMPANIONS` lists functions returning the processes ``make run``
  starts beside the web app, as ``(name, argv, extra_env)``.
"""

from __future__ import annotations

from collections.abc import Callable

import click
from flask import Flask

Companion = tuple[str, list[str], dict[str, str]]
DEMO_COMPANIONS: list[Callable[[Flask, int, bool], list[Companion]]] = []


def _jobs_companion(app: Flask, port: int, no_monitor: bool) -> list[Companion]:
    import sys

    return [("jobs", [sys.executable, "-m", "tracker.cli", "jobs"], {})]


DEMO_COMPANIONS.append(_jobs_companion)


def _halls_companion(app: Flask, port: int, no_monitor: bool) -> list[Companion]:
    from tracker.halls.demo import demo_companions

    return demo_companions(app, port, no_monitor)


DEMO_COMPANIONS.append(_halls_companion)


def register(group: click.Group) -> None:
    from tracker.meetings.cli import commands as meeting_commands
    from tracker.org.cli import commands as org_commands

    for command in org_commands():
        group.add_command(command)
    for command in meeting_commands():
        group.add_command(command)
    from tracker.matters.cli import commands as matter_commands

    for command in matter_commands():
        group.add_command(command)
    from tracker.halls.cli import commands as hall_commands

    for command in hall_commands():
        group.add_command(command)
    from tracker.dashboard.cli import commands as dashboard_commands

    for command in dashboard_commands():
        group.add_command(command)
