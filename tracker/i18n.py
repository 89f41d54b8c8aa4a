"""Language and time zone: Chinese by default, English on request."""

from __future__ import annotations

from flask import current_app, request, session
from flask_login import current_user

LANGUAGES = {"zh_CN": "中文", "en": "English"}


def select_locale() -> str:
    """The user's saved choice, then the session's, then the configured default."""
    lang = session.get("lang")
    if lang in LANGUAGES:
        return str(lang)
    if current_user and current_user.is_authenticated and current_user.locale in LANGUAGES:
        return str(current_user.locale)
    if request and request.args.get("lang") in LANGUAGES:
        return str(request.args["lang"])
    return str(current_app.config["BABEL_DEFAULT_LOCALE"])


def select_timezone() -> str:
    return str(current_app.config["BABEL_DEFAULT_TIMEZONE"])
