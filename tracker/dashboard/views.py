"""Dashboard pages: overview per region, village explanation, inspection print, exports.

Thin: parse the period, check scope (out of scope is 404), make sure the
period's snapshots exist (computed once and committed here if the jobs process
has not reached them yet), then render values computed in
:mod:`tracker.dashboard.services`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_login import current_user, login_required
from sqlalchemy import select

from tracker import clock, pagecache, xlsx
from tracker.dashboard import charts, services, sources
from tracker.dashboard.details import village_detail
from tracker.dashboard.models import DashboardReport
from tracker.dashboard.rules import COMPONENT_BY_KEY, Band
from tracker.extensions import db
from tracker.home import TodoItem
from tracker.models import Branch, Member, Region, RegionLevel, User
from tracker.periods import Period, PeriodKind
from tracker.recruitment.figures import region_obligations
from tracker.recruitment.rules import OBLIGATION_LABELS
from tracker.scope import Scope, current_scope

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")


def _sort_key(key: str) -> Callable[[services.RegionScore], Any]:
    """Sort key of the child table: by name, by score or by a component's rate."""
    if key == "score":
        return lambda r: (r.score.value is None, r.score.value or 0)
    if key in COMPONENT_BY_KEY:
        return lambda r: (r.score.component(key).rate is None, r.score.component(key).rate or 0)
    return lambda r: r.name


def _period_choices(period: Period) -> dict[str, list[Period]]:
    today = clock.today()
    return {
        "month": Period.containing(today, PeriodKind.month).last(24)[::-1],
        "quarter": Period.containing(today, PeriodKind.quarter).last(8)[::-1],
        "year": Period.containing(today, PeriodKind.year).last(5)[::-1],
    }


def _breadcrumbs(region: Region, period: Period, scope: Scope) -> list[tuple[str, str | None]]:
    ids = region.ancestor_ids
    nodes = {r.id: r for r in db.session.scalars(select(Region).where(Region.id.in_(ids)))}
    crumbs: list[tuple[str, str | None]] = [(gettext("合规看板"), None)]
    for rid in ids:
        node = nodes.get(rid)
        if node is None or not scope.contains_region(node):
            continue
        crumbs.append((node.name, url_for("dashboard.region", region_id=rid, period=period.key)))
    return crumbs


def _village_link(period: Period) -> Callable[[int], str]:
    """URL of a region's page in the period, for the grid's squares and the child table's
    rows: one ``url_for``, then string formatting (a city grid has 1,000 squares, a
    province's table 50 counties; ``url_for`` each would cost more than the SQL)."""
    marker = 987654321
    pattern = url_for("dashboard.region", region_id=marker, period=period.key)
    head, _, tail = pattern.partition(str(marker))
    return lambda vid: f"{head}{vid}{tail}"


def _error(message: str, status: int = 400) -> ResponseReturnValue:
    return render_template("dashboard/error.html", message=message), status


@bp.route("/")
@login_required
def index() -> ResponseReturnValue:
    """The user's own region, current month."""
    return redirect(
        url_for(
            "dashboard.region",
            region_id=current_user.region_id,
            period=request.args.get("period") or None,
        )
    )


@bp.route("/r/<int:region_id>")
@login_required
@pagecache.cached(vary=pagecache.per_minute)  # a village's camera table runs up to now
def region(region_id: int) -> ResponseReturnValue:
    """Overview of a city/county/township, or the explanation page of a village."""
    scope = current_scope()
    node = scope.get_or_404(Region, region_id)
    try:
        period = services.parse_period(request.args.get("period"))
    except services.DashboardError as exc:
        return _error(str(exc))
    services.ensure_committed(period, node, trend_months=12)
    # Not ``config``: that name is Flask's in every template (base.html reads the upload limit).
    scoring = services.scoring_config()
    ctx: dict[str, Any] = {
        "node": node,
        "period": period,
        "choices": _period_choices(period),
        "crumbs": _breadcrumbs(node, period, scope),
        "scoring": scoring,
        "charts": charts,
        "Band": Band,
        "summary": services.region_score(node, period),
        "trend_labels": [gettext("%(m)s月", m=m.index) for m in services.trend_periods(period)],
    }
    trends = services.trend_by(node, period)
    ctx["trend"] = trends.get(node.id, [])
    ctx["backlog"] = services.overdue_backlog(node, period)
    ctx["recruitment"] = region_obligations(node.path, clock.today())
    ctx["obligation_label"] = OBLIGATION_LABELS.get
    ctx["cameras_now"] = sources.cameras_now(node.path)
    if node.level == RegionLevel.village:
        ctx["detail"] = village_detail(node, period)
        ctx["ledger_links"] = [
            (gettext("三会一课台账"), services.record_url("meetings.ledger", region_id=node.id)),
            (gettext("会议日历"), services.record_url("meetings.grid", region_id=node.id)),
            (gettext("培训台账"), services.record_url("trainings.register", region_id=node.id)),
            (
                gettext("挂职干部总览"),
                services.record_url(
                    "secondment.index",
                    **{"from": period.start.isoformat(), "to": period.end.isoformat()},
                ),
            ),
        ]
        return render_template("dashboard/village.html", **ctx)
    rows = services.child_scores(node, period, trends=trends)
    grid_unit, grid = services.overview_grid(node, period)
    sort = request.args.get("sort", "name")
    desc = request.args.get("dir", "asc") == "desc"
    rows.sort(key=_sort_key(sort), reverse=desc)
    ctx.update(
        rows=rows,
        sort=sort,
        desc=desc,
        grid=grid,
        grid_unit=grid_unit,
        problems=services.top_problems(node, period),
        reports=db.session.execute(
            select(DashboardReport.id, DashboardReport.period, DashboardReport.filename)
            .where(DashboardReport.region_id == node.id)
            .order_by(DashboardReport.period.desc())
            .limit(12)
        ).all(),
        components=services.active_components(scoring),
        village_link=_village_link(period),
    )
    return render_template("dashboard/region.html", **ctx)


@bp.route("/r/<int:region_id>/inspect")
@login_required
def inspect(region_id: int) -> ResponseReturnValue:
    """督查: one printable page of everything an inspector checks for a village."""
    scope = current_scope()
    node = scope.get_or_404(Region, region_id)
    if node.level != RegionLevel.village:
        return _error(gettext("督查页面针对单个村，请先选择村。"), 404)
    try:
        period = services.parse_period(request.args.get("period"))
    except services.DashboardError as exc:
        return _error(str(exc))
    services.ensure_committed(period, node)
    branch = db.session.scalar(select(Branch).where(Branch.region_id == node.id))
    members = (
        db.session.scalars(
            select(Member).where(Member.branch_id == branch.id, Member.left_on.is_(None))
        ).all()
        if branch
        else []
    )
    return render_template(
        "dashboard/inspect.html",
        node=node,
        period=period,
        branch=branch,
        members=members,
        summary=services.region_score(node, period),
        detail=village_detail(node, period),
        backlog=services.overdue_backlog(node, period),
        scoring=services.scoring_config(),
        charts=charts,
        crumbs=_breadcrumbs(node, period, scope),
        printed_at=services.utcnow(),
    )


@bp.route("/r/<int:region_id>/export.xlsx")
@login_required
def export(region_id: int) -> ResponseReturnValue:
    """The Excel workbook of a region and period."""
    from tracker.dashboard.exports import region_workbook

    scope = current_scope()
    node = scope.get_or_404(Region, region_id)
    try:
        period = services.parse_period(request.args.get("period"))
    except services.DashboardError as exc:
        return _error(str(exc))
    services.ensure_committed(period, node)
    data = region_workbook(node, period)
    return _xlsx(data, f"合规看板-{node.name}-{period.label_zh}.xlsx")


@bp.route("/r/<int:region_id>/report")
@login_required
def report(region_id: int) -> ResponseReturnValue:
    """A printable report of a region and period (A4, browser print)."""
    scope = current_scope()
    node = scope.get_or_404(Region, region_id)
    try:
        period = services.parse_period(request.args.get("period"))
    except services.DashboardError as exc:
        return _error(str(exc))
    services.ensure_committed(period, node)
    rows = services.child_scores(node, period) if node.level != RegionLevel.village else []
    grid_unit, grid = services.overview_grid(node, period)
    scoring = services.scoring_config()
    return render_template(
        "dashboard/report.html",
        node=node,
        period=period,
        summary=services.region_score(node, period),
        rows=rows,
        problems=services.top_problems(node, period),
        backlog=services.overdue_backlog(node, period),
        grid=grid,
        grid_unit=grid_unit,
        scoring=scoring,
        charts=charts,
        components=services.active_components(scoring),
        printed_at=services.utcnow(),
        none_url=lambda vid: None,
    )


@bp.route("/reports/<int:report_id>")
@login_required
def download_report(report_id: int) -> ResponseReturnValue:
    """A monthly report kept by the jobs process."""
    rep = db.session.get(DashboardReport, report_id)
    scope = current_scope()
    if rep is None or not scope.contains_region_id(rep.region_id):
        return _error(gettext("没有找到该报告。"), 404)
    return _xlsx(rep.content, rep.filename)


def _xlsx(data: bytes, filename: str) -> Response:
    return xlsx.response(data, filename)


def red_villages_todo(scope: Scope, user: User) -> list[TodoItem]:
    """County/city/township users: villages in the red band last month (from the snapshots)."""
    region = db.session.get(Region, scope.region_id)
    if region is None or region.level == RegionLevel.village:
        return []
    period = Period.containing(clock.today(), PeriodKind.month).previous()
    n = services.red_villages(region.path, period)
    if not n:
        return []
    return [
        TodoItem(
            0,
            gettext("%(period)s有 %(n)s 个村合规得分落后（红色）", period=period.label, n=n),
            gettext("打开合规看板查看缺失的会议、逾期事项和监控断线"),
            url_for("dashboard.region", region_id=region.id, period=period.key, sort="score"),
            n,
        )
    ]
