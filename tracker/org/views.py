"""Pages of the organisation: the region tree, villages, rosters, users, API tokens."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from sqlalchemy import func, select

from tracker.auth.services import create_api_token
from tracker.extensions import db
from tracker.models import ApiToken, Member, Region, User, utcnow
from tracker.org.services import branch_of, roster
from tracker.scope import current_scope

bp = Blueprint("org", __name__, url_prefix="/org")


@bp.route("/regions")
@bp.route("/regions/<int:region_id>")
@login_required
def regions(region_id: int | None = None) -> ResponseReturnValue:
    """Browse the region tree from the user's own node down."""
    scope = current_scope()
    region = scope.get_or_404(Region, region_id if region_id is not None else scope.region_id)
    if region.level == "village":
        return redirect(url_for("org.village", region_id=region.id))
    children = region.children
    counts: dict[int, int] = {}
    for child in children:
        counts[child.id] = int(
            db.session.scalar(
                select(func.count(Member.id)).where(
                    Member.region_id.in_(
                        select(Region.id).where(Region.path.like(child.path + "%"))
                    ),
                    Member.left_on.is_(None),
                )
            )
            or 0
        )
    trail = _trail(region)
    return render_template(
        "org/regions.html", region=region, children=children, counts=counts, trail=trail
    )


@bp.route("/villages/<int:region_id>")
@login_required
def village(region_id: int) -> ResponseReturnValue:
    scope = current_scope()
    region = scope.get_or_404(Region, region_id)
    branch = branch_of(region.id)
    members = roster(branch.id) if branch else []
    return render_template(
        "org/village.html", region=region, branch=branch, members=members, trail=_trail(region)
    )


def _trail(region: Region) -> list[tuple[str, str | None]]:
    """Breadcrumbs from the user's own node down to ``region``."""
    scope = current_scope()
    nodes = db.session.scalars(select(Region).where(Region.id.in_(region.ancestor_ids))).all()
    by_id = {n.id: n for n in nodes}
    trail: list[tuple[str, str | None]] = []
    for rid in region.ancestor_ids:
        node = by_id[rid]
        if scope.contains_region(node):
            trail.append((node.name, url_for("org.regions", region_id=node.id)))
    return trail


@bp.route("/users")
@login_required
def users() -> ResponseReturnValue:
    scope = current_scope()
    scope.require_admin()
    rows = db.session.scalars(scope.select(User).order_by(User.username)).all()
    return render_template("org/users.html", users=rows)


@bp.route("/tokens", methods=["GET", "POST"])
@login_required
def my_tokens() -> ResponseReturnValue:
    """Personal API tokens: create (shown once), list, revoke."""
    plain = None
    if request.method == "POST":
        action = request.form.get("action")
        if action == "create":
            name = (request.form.get("name") or "").strip()
            if not name or len(name) > 64:
                flash("请填写 1–64 个字符的令牌名称。", "danger")
            else:
                _, plain = create_api_token(current_user._get_current_object(), name)
                db.session.commit()
        elif action == "revoke":
            token = db.session.get(ApiToken, request.form.get("token_id", type=int) or 0)
            if token is None or token.user_id != current_user.id:
                return render_template("error.html", code=404, title="页面不存在", message=""), 404
            token.revoked_at = utcnow()
            db.session.commit()
            flash("令牌已作废。", "info")
            return redirect(url_for("org.my_tokens"))
    tokens = db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == current_user.id).order_by(ApiToken.id.desc())
    ).all()
    return render_template("org/tokens.html", tokens=tokens, plain=plain)
