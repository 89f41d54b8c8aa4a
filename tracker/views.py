"""Blueprint registration, the home page, language switch and error pages."""

from __future__ import annotations

import contextlib
import threading
import time
from collections import OrderedDict
from collections.abc import Hashable
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_login import current_user, login_required
from flask_wtf.csrf import CSRFError
from markupsafe import Markup
from sqlalchemy.exc import InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from tracker import pagecache
from tracker.api.core import ApiError
from tracker.audit import set_actor
from tracker.extensions import db
from tracker.forms import upload_too_large
from tracker.i18n import LANGUAGES
from tracker.validation import path_out_of_range, query_errors
from tracker.web import own_account

bp = Blueprint("main", __name__)

ERROR_TITLES = {
    400: "请求有误",
    401: "请先登录",
    403: "没有权限",
    404: "页面不存在",
    405: "不支持的操作",
    409: "数据冲突",
    413: "文件过大",
    422: "提交的数据有误",
    429: "操作过于频繁",
    500: "服务器内部错误",
}


@bp.route("/")
@login_required
def home() -> ResponseReturnValue:
    from tracker.home import todo_for

    return render_template("home.html", todo=todo_for(current_user))


@bp.route("/lang/<code>", methods=["POST"])
@own_account
def set_language(code: str) -> ResponseReturnValue:
    if code in LANGUAGES:
        session["lang"] = code
    target = request.referrer or url_for("main.home")
    if not target.startswith(request.host_url):
        target = url_for("main.home")
    return redirect(target)


@bp.route("/figures")
@login_required
def figures() -> ResponseReturnValue:
    """怎么算的: ``docs/figures.md`` (every figure's definition, formula and example)."""
    return render_template("figures.html", body=figures_html())


def figures_html() -> Markup:
    """``docs/figures.md`` as HTML (read on each request: it is small and may be edited)."""
    import markdown

    path = Path(current_app.root_path).parent / "docs" / "figures.md"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:  # an installation without the docs folder
        text = "# 各项指标怎么算\n\n本安装未包含说明文件 `docs/figures.md`，请查看项目仓库。"
    return Markup(markdown.markdown(text, extensions=["tables", "attr_list", "toc"]))


@bp.route("/healthz")
def healthz() -> ResponseReturnValue:
    """Liveness for a load balancer: JSON with the database's state (503 when down)."""
    started = time.monotonic()
    try:
        db.session.execute(db.text("SELECT 1"))
        db.session.rollback()
    except (OperationalError, InterfaceError) as exc:
        db.session.rollback()
        state = {"state": "unavailable", "error": type(exc.orig).__name__}
        return {"status": "unavailable", "database": state}, 503
    latency_ms = round((time.monotonic() - started) * 1000, 1)
    dialect = db.session.get_bind().dialect.name
    return {
        "status": "ok",
        "database": {"state": "ok", "dialect": dialect, "latency_ms": latency_ms},
    }


def database_unavailable() -> ResponseReturnValue:
    """503 for a database that cannot be reached (or stays locked): JSON on the API,
    a short Chinese page on the web that queries nothing."""
    with contextlib.suppress(Exception):
        db.session.rollback()
    if request.path.startswith("/api/"):
        resp = ApiError(503, "数据库暂时不可用，请稍后重试", code="database_unavailable").response()
    else:
        resp = make_response(render_template("unavailable.html"), 503)
    resp.headers["Retry-After"] = "30"
    return resp


NAV_TEMPLATE = "_nav.html"
_NAV_CSRF = "\x00nav-csrf\x00"
NAV_MEMO_SIZE = 4096
_nav_memo: OrderedDict[Hashable, str] = OrderedDict()
_nav_lock = threading.Lock()


def _nav_key(user: Any, locale: str, links: list[Any]) -> Hashable:
    """Everything the navigation bar shows: its links (entry, badge count, current
    section), the user line (name, region, role), the locale and the script root."""
    return (
        locale,
        request.script_root,
        user.display_name,
        user.region.name,
        user.role,
        tuple((link.entry.endpoint, link.count, link.current) for link in links),
    )


def navbar(user: Any, csrf: str, locale: str) -> Markup:
    """``base.html``'s navigation bar for ``user``, rendered once per what it shows.

    The bar is the same HTML for the same :func:`_nav_key`; only the CSRF token of its
    forms differs from session to session. So each process keeps the HTML (bounded,
    least recently used dropped first) with a placeholder for the token, and puts the
    request's token in. The badge counts are still asked on every page
    (:func:`tracker.domain.nav_for`) and are part of the key: never stale.
    """
    from tracker.domain import nav_for

    links = nav_for(user)
    key = _nav_key(user, locale, links)
    with _nav_lock:
        html = _nav_memo.get(key)
        if html is not None:
            _nav_memo.move_to_end(key)
    if html is None:
        html = render_template(NAV_TEMPLATE, links=links, user=user, csrf=_NAV_CSRF, locale=locale)
        with _nav_lock:
            _nav_memo[key] = html
            while len(_nav_memo) > NAV_MEMO_SIZE:
                _nav_memo.popitem(last=False)
    return Markup(html.replace(_NAV_CSRF, csrf))


def shell_vary() -> Hashable | None:
    """What ``base.html`` shows of this request around a page's blocks, but the CSRF
    token: the navigation bar's key (:func:`_nav_key`, which holds the locale and script
    root), or the locale and script root alone when no one is signed in. The upload limit
    it shows is the app's. ``None`` when it shows a flash message, which is shown once.

    :mod:`tracker.pagecache` keeps a hit's whole page under this key; a change to
    ``base.html`` that shows anything else of the request must add it here
    (``test_pages_are_the_same_with_the_cache_on_and_off`` compares them).
    """
    from flask_babel import get_locale

    from tracker.domain import nav_for

    if "_flashes" in session:
        return None
    locale = str(get_locale())
    if not current_user.is_authenticated:
        return (locale, request.script_root)
    return _nav_key(current_user, locale, nav_for(current_user))


def register(app: Flask) -> None:
    """Register every blueprint and the error handlers."""
    from tracker.api import api_bp
    from tracker.api import openapi as _openapi  # noqa: F401  (registers the route)
    from tracker.domain import blueprints, nav_for

    app.register_blueprint(bp)
    for domain_bp in blueprints():
        app.register_blueprint(domain_bp)
    app.register_blueprint(api_bp)
    app.jinja_env.globals["nav_for"] = nav_for
    app.jinja_env.globals["navbar"] = navbar
    app.extensions[pagecache.SHELL_VARY] = shell_vary

    @app.before_request
    def _actor() -> None:
        # Reset on every request: a worker thread serves many users.
        set_actor(current_user.id if current_user.is_authenticated else None, "web")

    @app.before_request
    def _guard_input() -> ResponseReturnValue | None:
        # An id past the database's range cannot exist: 404 (not an overflow in the
        # driver). A query value no view accepts (control characters, such integers,
        # year 99999): 422 with the fields on the API, 404 on pages.
        if path_out_of_range(request.view_args):
            abort(404)
        if not request.args:
            return None
        errors = query_errors(request.args.items(multi=True))
        if not errors:
            return None
        if request.path.startswith("/api/"):
            return ApiError(422, fields=errors).response()
        abort(404)

    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError) -> ResponseReturnValue:
        return (
            render_template(
                "error.html",
                code=400,
                title=gettext("表单已过期"),
                message=gettext("页面停留太久或已在别处提交，请刷新后重新填写。"),
            ),
            400,
        )

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> ResponseReturnValue:
        db.session.rollback()
        code = exc.code or 500
        if request.path.startswith("/api/"):
            resp = ApiError(code).response()
            if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
                resp.headers["Allow"] = ", ".join(sorted(exc.valid_methods))
            return resp
        if code == 401:
            return redirect(url_for("auth.login", next=request.full_path))
        if code == 413 and request.method == "POST":
            return upload_too_large()
        return (
            render_template(
                "error.html",
                code=code,
                title=gettext(ERROR_TITLES[code]) if code in ERROR_TITLES else gettext("出错了"),
                message="",
            ),
            code,
        )

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    def _database_down(exc: Exception) -> ResponseReturnValue:
        app.logger.error("database unavailable on %s %s: %s", request.method, request.path, exc)
        return database_unavailable()

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> ResponseReturnValue:
        db.session.rollback()
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        if app.config.get("PROPAGATE_EXCEPTIONS") or app.testing:
            raise exc
        if request.path.startswith("/api/"):
            return ApiError(500).response()
        return render_template("error.html", code=500, title=ERROR_TITLES[500], message=""), 500
