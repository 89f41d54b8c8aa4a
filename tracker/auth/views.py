"""Login and logout pages."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.routing import BuildError
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import DataRequired, Length

from tracker.auth.services import LoginThrottled, authenticate, revoke_sessions, start_session
from tracker.config import current_settings
from tracker.extensions import db
from tracker.forms import Form
from tracker.models import User
from tracker.web import own_account

bp = Blueprint("auth", __name__)


class LoginForm(Form):
    """User name and password; the password is never echoed back."""

    username = StringField(
        _l("用户名"), validators=[DataRequired(_l("请输入用户名")), Length(max=64)]
    )
    password = PasswordField(
        _l("密码"), validators=[DataRequired(_l("请输入密码")), Length(max=200)]
    )
    remember = BooleanField(_l("在本机保持登录"))


# Where a user lands after signing in: county and city users oversee many villages
# and start on their compliance dashboard; township and village users on the to-do list.
DASHBOARD_LEVELS = ("county", "city")


def landing_url(user: User) -> str:
    """The start page of ``user`` (the dashboard when that package is installed)."""
    if user.region.level.value in DASHBOARD_LEVELS:
        try:
            return url_for("dashboard.index")
        except BuildError:
            pass
    return url_for("main.home")


def _safe_next(target: str | None, user: User) -> str:
    """Only same-site relative targets: no open redirect; none (or the home page) lands."""
    if not target or target in ("/", "/?"):
        return landing_url(user)
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return landing_url(user)
    return target


@bp.route("/login", methods=["GET", "POST"])
@own_account
def login() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(landing_url(current_user))
    form = LoginForm()
    if form.validate_on_submit():
        cfg = current_settings().tracker
        try:
            user = authenticate(
                form.username.data or "",
                form.password.data or "",
                request.remote_addr or "?",
                cfg.login_max_failures,
                cfg.login_lockout_minutes,
            )
        except LoginThrottled as exc:
            # The one commit outside the boundary: a refused login (429) must still
            # count, or throttling would never engage.
            db.session.commit()
            if exc.account_wide:
                msg = _("该账号近期登录失败过多，请 %(n)s 秒后再试。", n=exc.seconds)
            else:
                msg = _("登录失败次数过多，请 %(n)s 分钟后再试。", n=exc.minutes)
            form.password.errors.append(msg)
            resp = make_response(render_template("auth/login.html", form=form), 429)
            resp.headers["Retry-After"] = str(exc.seconds)
            return resp
        if user is None:  # the boundary commits the counted failure (200)
            form.password.errors.append(_("用户名或密码不正确。"))
            return render_template("auth/login.html", form=form), 200
        remember = bool(form.remember.data)
        start_session(user, remember, cfg.session_hours, cfg.remember_days)
        lang = session.get("lang")
        session.clear()  # a fresh session per sign-in (no fixation)
        if lang:
            session["lang"] = lang
        login_user(user, remember=remember)
        return redirect(_safe_next(request.args.get("next"), user))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@own_account
@login_required
def logout() -> ResponseReturnValue:
    """Sign out everywhere: every session and remember cookie of the user ends."""
    revoke_sessions(current_user)  # committed by the boundary (redirect)
    logout_user()
    flash(_("已退出登录。"), "info")
    return redirect(url_for("auth.login"))
