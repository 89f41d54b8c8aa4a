"""Village Party-building compliance tracker (村级党建台账与便民服务大厅监控).

:func:`create_app` is the only way to get an application. It starts nothing:
no scheduler, no migrations, no network. The jobs process (``tracker jobs``)
and the web process (``tracker serve``) each build their own app.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from flask import Flask

from tracker import sqlite as _sqlite  # noqa: F401  (SQLite connection settings)
from tracker.config import flask_config, load_settings
from tracker.version import __version__  # noqa: F401  (re-exported)


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the Flask app from ``config.toml`` (+ env), then ``config`` overrides."""
    from tracker.web import TrackerApp

    app = TrackerApp(
        __name__,
        template_folder="../templates",
        static_folder="static",
        instance_relative_config=False,
    )
    settings = load_settings(env=dict(os.environ))
    app.config.from_mapping(flask_config(settings))
    if config:
        app.config.from_mapping(config)

    from tracker import views
    from tracker.extensions import babel, csrf, db, login_manager
    from tracker.i18n import select_locale, select_timezone

    db.init_app(app)
    csrf.init_app(app)
    login_manager.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)

    from tracker import auth, formatting, uploads, web

    uploads.init_app(app)
    auth.init_app(app)
    formatting.init_app(app)
    web.init_app(app)
    views.register(app)
    logging.getLogger("tracker").setLevel(logging.INFO)
    return app
