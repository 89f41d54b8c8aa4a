"""What every ``tracker`` subcommand uses: the app, the audit actor, region look-up.

This module sits below the domain packages: their ``cli`` modules import it,
and :mod:`tracker.cli` (which loads their commands through
:mod:`tracker.domain`) imports it too — so no import goes round in a circle.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import click
from flask import Flask
from sqlalchemy import or_, select

from tracker.config import ConfigError
from tracker.errors import DomainError


def make_app(serving: bool = False) -> Flask:
    """The app from ``config.toml``; a bad config is a Chinese usage error, not a traceback.

    ``serving`` (``tracker serve``, ``tracker jobs``) also refuses the demo keys.
    """
    from tracker import create_app
    from tracker.config import require_deployment_keys

    try:
        app = create_app()
        if serving:
            require_deployment_keys(app.config["SETTINGS"])
    except ConfigError as exc:
        raise click.ClickException(f"配置错误 / config error: {exc}") from exc
    return app


def with_app(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Run the command inside an app context with the CLI as the audit actor.

    A :class:`~tracker.errors.DomainError` is printed and exits 1.
    """

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from tracker.audit import set_actor
        from tracker.transactions import write_intent

        app = make_app()
        # A command writes: its transactions take the SQLite write lock at BEGIN.
        with app.app_context(), write_intent():
            set_actor(None, "cli")
            try:
                return fn(*args, **kwargs)
            except DomainError as exc:
                raise click.ClickException(exc.message) from exc

    return wrapper


def find_region(ref: str) -> Any:
    """The one region named by ``ref`` (name, 12-digit code or id), else a usage error."""
    from tracker.extensions import db as sqla
    from tracker.models import Region

    cond = [Region.name == ref, Region.code == ref]
    if ref.isdigit():
        cond.append(Region.id == int(ref))
    matches = sqla.session.scalars(select(Region).where(or_(*cond))).all()
    if not matches:
        raise click.BadParameter(f"没有找到单位 {ref!r}", param_hint="--region")
    if len(matches) > 1:
        raise click.BadParameter(f"{ref!r} 不唯一，请用区划代码或编号", param_hint="--region")
    return matches[0]
