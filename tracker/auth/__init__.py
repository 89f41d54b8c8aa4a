"""Login, logout, throttling and API-token authentication."""

from __future__ import annotations

from flask import Flask, g, request
from flask_babel import lazy_gettext
from flask_login import AnonymousUserMixin

from tracker.auth import services
from tracker.auth.views import bp
from tracker.extensions import login_manager
from tracker.models import User


def init_app(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = lazy_gettext("请先登录。")
    login_manager.login_message_category = "warning"
    login_manager.session_protection = "strong"
    login_manager.anonymous_user = AnonymousUserMixin

    @login_manager.user_loader
    def load_user(key: str) -> User | None:
        """The session and the remember cookie carry a login session's key."""
        return services.user_for_session(key)

    @login_manager.request_loader
    def load_user_from_token(req: object) -> User | None:
        """``Authorization: Bearer vt_…`` on the JSON API (never on pages)."""
        if not request.path.startswith("/api/") or request.path.startswith("/api/v1/station/"):
            return None
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            return None
        user = services.user_for_token(header.removeprefix("Bearer ").strip())
        if user is not None:
            g.token_auth = True
        return user

    app.register_blueprint(bp)
