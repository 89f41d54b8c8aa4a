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
from flask.typing import ResponseReturnValue

from tracker import transactions
from tracker.config import flask_config, load_settings
from tracker.version import __version__  # noqa: F401  (re-exported)
from tracker.web import TrackerApp


class TrackerFlask(TrackerApp):
    """Flask whose views are retried (bounded) when SQLite stays locked.

    A writing request takes the write lock at ``BEGIN`` and waits the busy
    timeout for it (:mod:`tracker.transactions`); should that still fail, the view
    runs again from a rolled-back session — it has changed nothing yet — and
    after the last attempt the error handler answers 503.
    """

    def dispatch_request(self) -> ResponseReturnValue:
        # Around the whole boundary (view + its one commit), which TrackerApp owns.
        from tracker.extensions import db

        return transactions.retry_locked(super().dispatch_request, db.session.rollback)


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the Flask app from ``config.toml`` (+ env), then ``config`` overrides."""
    app = TrackerFlask(
        __name__,
        template_folder="../templates",
        static_folder="static",
        instance_relative_config=False,
    )
    settings = load_settings(env=dict(os.environ))
    app.config.from_mapping(flask_config(settings))
    if config:
        app.config.from_mapping(config)

    from tracker import clock, i18n, views
    from tracker.extensions import babel, csrf, db, login_manager
    from tracker.i18n import request_locale, select_timezone

    clock.configure(app.config["BABEL_DEFAULT_TIMEZONE"])  # the one zone of local dates
    db.init_app(app)
    transactions.init_app(app)  # first before_request hook: write intent before any query
    csrf.init_app(app)
    login_manager.init_app(app)
    babel.init_app(app, locale_selector=request_locale, timezone_selector=select_timezone)
    i18n.init_app(app)

    from tracker import auth, formatting, pagecache, security, uploads, web

    proxies = int(app.config.get("TRUSTED_PROXIES") or 0)
    if proxies:
        # X-Forwarded-For/-Proto/-Host from exactly this many proxies: the
        # client address throttling and the audit log see is the real one.
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies
        )
    security.init_app(app)
    uploads.init_app(app)
    auth.init_app(app)
    formatting.init_app(app)
    web.init_app(app)
    pagecache.init_app(app)
    views.register(app)
    logging.getLogger("tracker").setLevel(logging.INFO)
    return app
