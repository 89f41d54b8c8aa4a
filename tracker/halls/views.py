"""Pages of the service halls: status wall, camera page, monthly report, registry forms.

Thin: parse the form, call :mod:`tracker.halls.services`, commit, render.
Every object is loaded through the scope (out of scope = 404).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_login import current_user, login_required
from sqlalchemy import select

from tracker import clock, pagecache, uploads, xlsx
from tracker.extensions import db
from tracker.formatting import labels
from tracker.forms import as_choices
from tracker.halls import resident, resident_excel, rules, services
from tracker.halls.alerts import recent_alerts
from tracker.halls.figures import camera_conditions
from tracker.halls.forms import (
    ActivityForm,
    CameraForm,
    DecisionForm,
    ExceptionForm,
    ExcuseForm,
    HallForm,
    ResidentForm,
    ResidentImportForm,
    StationForm,
)
from tracker.halls.models import (
    ActivityUnit,
    Camera,
    CameraStatus,
    ExcuseKind,
    ExcuseStatus,
    HallException,
    OutageExcuse,
    ResidentKind,
    ResidentService,
    ServiceHall,
    Snapshot,
    Station,
)
from tracker.halls.rules import (
    CAUSE_LABELS,
    STATE_LABELS,
    VERDICT_LABELS,
    UptimeTotals,
    cause_label,
)
from tracker.halls.timeline import day_svg, month_svg, strip_svg
from tracker.home import TodoItem
from tracker.models import Region, RegionLevel, utcnow
from tracker.models.regions import in_subtree
from tracker.org.versions import versions_of
from tracker.periods import Period, PeriodError
from tracker.scope import Scope, current_scope
from tracker.web import form_status, paginate, perform, submit

bp = Blueprint("halls", __name__, url_prefix="/halls")


def hours_filter(seconds: int | float | None) -> str:
    """Seconds as hours with one decimal (report tables: comparable at a glance)."""
    return "—" if seconds is None else f"{seconds / 3600:.1f}"


def duration_filter(seconds: int | float | None) -> str:
    """3725 → ``1 小时 2 分`` (hours, never days: opening time is counted in hours)."""
    if seconds is None:
        return "—"
    h, rest = divmod(int(seconds), 3600)
    m = rest // 60
    if h:
        return gettext("%(h)s 小时 %(m)s 分", h=h, m=m)
    return gettext("%(m)s 分", m=m)


def age_filter(value: datetime | None) -> str:
    """How long ago ``value`` was: ``3 分钟前``, ``2 小时前``, ``4 天前``."""
    if value is None:
        return "—"
    seconds = max(int((utcnow() - value).total_seconds()), 0)
    if seconds < 3600:
        return gettext("%(n)s 分钟前", n=seconds // 60)
    if seconds < 86400:
        return gettext("%(n)s 小时前", n=seconds // 3600)
    return gettext("%(n)s 天前", n=seconds // 86400)


def cause_label_filter(cause: str | None) -> str:
    """An outage cause in the page's language (``原因不明`` when none was given)."""
    return gettext(cause_label(cause)) if cause in CAUSE_LABELS or not cause else cause


FILTERS = {
    "condition": lambda camera: camera_condition(camera),
    "age": age_filter,
    "condition_label": labels(rules.CONDITION_LABELS),
    "cause_label": cause_label_filter,
    "verdict_label": labels(VERDICT_LABELS),
    "state_label": labels(STATE_LABELS, lambda v: str(getattr(v, "value", v))),
    "hours": hours_filter,
    "duration": duration_filter,
}


def _can_decide() -> bool:
    """County (or city) staff who may write decide outage excuses."""
    scope = current_scope()
    region = db.session.get(Region, scope.region_id)
    return (
        scope.can_write
        and region is not None
        and region.level in (RegionLevel.city, RegionLevel.county)
    )


def _state_of(status: CameraStatus | None) -> str:
    return status.state.value if status else "unknown"


# ---------------------------------------------------------------- list and wall


@bp.route("/")
@login_required
@pagecache.cached(vary=pagecache.per_minute)  # today's uptime runs up to now
def index() -> ResponseReturnValue:
    scope = current_scope()
    page = paginate(
        services.with_cameras(
            scope.filter(select(ServiceHall), ServiceHall).order_by(
                ServiceHall.region_id, ServiceHall.name, ServiceHall.id
            )
        )
    )
    halls = page.items
    today = clock.today()
    cam_ids = [c.id for h in halls for c in h.cameras if c.active]
    totals = services.uptime_bulk(cam_ids, today, today)
    hall_totals: dict[int, UptimeTotals] = {}
    for h in halls:
        t = UptimeTotals()
        for c in h.cameras:
            if c.id in totals:
                t += totals[c.id]
        hall_totals[h.id] = t
    pending = db.session.scalar(
        select(db.func.count(OutageExcuse.id)).where(
            OutageExcuse.status == ExcuseStatus.pending,
            OutageExcuse.region_id.in_(scope.region_ids()),
        )
    )
    return render_template(
        "halls/index.html",
        halls=halls,
        page=page,
        hall_totals=hall_totals,
        pending=pending,
        can_decide=_can_decide(),
    )


WALL_SHOW = {
    "faults": rules.FAULT_CONDITIONS,
    **{k: frozenset({k}) for k in rules.CONDITION_LABELS},
}


def camera_condition(camera: Camera | CameraStatus | None) -> str:
    """The :data:`rules.CONDITION_LABELS` key of a camera or of its status (none yet = unknown)."""
    s = camera.status if isinstance(camera, Camera) else camera
    return rules.condition(s.state.value, s.cause) if s else "unknown"


@bp.route("/wall")
@bp.route("/wall/<int:region_id>")
@login_required
def wall(region_id: int | None = None) -> ResponseReturnValue:
    """Status wall of a township/county: faults first, readable on a wall screen.

    ``?show=faults`` (只看异常) or one condition keeps only those cameras; the
    counts at the top link to their filter.
    """
    scope = current_scope()
    region = scope.get_or_404(Region, region_id if region_id is not None else scope.region_id)
    show = request.args.get("show", "")
    wanted = WALL_SHOW.get(show)
    halls = (
        db.session.scalars(
            services.with_cameras(
                select(ServiceHall)
                .join(Region, Region.id == ServiceHall.region_id)
                .where(in_subtree(region.path))
                .order_by(Region.path, ServiceHall.name)
            )
        )
        .unique()
        .all()
    )
    now = utcnow()
    today = clock.today()
    cams = [c for h in halls for c in h.cameras if c.active]
    cond = {c.id: camera_condition(c) for c in cams}
    counts = dict.fromkeys(rules.CONDITION_LABELS, 0)
    for c in cams:
        counts[cond[c.id]] += 1
    # Tiles: worst condition first inside each hall, and the worst halls first.
    rank = rules.CONDITION_ORDER
    shown: dict[int, list[Camera]] = {}
    for h in halls:
        active = [c for c in h.cameras if c.active and (wanted is None or cond[c.id] in wanted)]
        shown[h.id] = sorted(active, key=lambda c: (rank[cond[c.id]], c.name))
    if wanted is not None:
        halls = [h for h in halls if shown[h.id]]
    halls = sorted(
        halls,
        key=lambda h: min((rank[cond[c.id]] for c in shown[h.id]), default=len(rank)),
    )
    visible = [c for h in halls for c in shown[h.id]]
    totals = services.uptime_bulk([c.id for c in visible], today, today)
    start24 = now - timedelta(hours=24)
    intervals = services.intervals_bulk(visible, start24, now)
    bars = {c.id: strip_svg(intervals[c.id], start24, now) for c in visible}
    snaps = {
        s.id: s
        for s in db.session.scalars(
            select(Snapshot).where(
                Snapshot.id.in_(
                    [
                        c.status.last_snapshot_id
                        for c in visible
                        if c.status and c.status.last_snapshot_id
                    ]
                )
            )
        )
    }
    children = [r for r in region.children if r.level != RegionLevel.village]
    dark_halls = {}
    for h in halls:
        active = [c for c in h.cameras if c.active]
        dark_halls[h.id] = bool(active) and all(cond[c.id] == "offline" for c in active)
    return render_template(
        "halls/wall.html",
        region=region,
        halls=halls,
        shown=shown,
        cond=cond,
        show=show if wanted is not None else "",
        totals=totals,
        counts=counts,
        labels=rules.CONDITION_LABELS,
        bars=bars,
        snaps=snaps,
        now=now,
        children=children,
        dark_halls=dark_halls,
        alerts=recent_alerts(region.path, limit=8),
    )


# ---------------------------------------------------------------- halls


def _village_choices() -> list[tuple[int, str]]:
    scope = current_scope()
    villages = db.session.scalars(
        scope.filter(select(Region), Region)
        .where(Region.level == RegionLevel.village)
        .order_by(Region.path)
    ).all()
    return [(v.id, v.name) for v in villages]


def _ranges_text(text: str) -> list[list[str]]:
    """A day's hours typed as ``08:30-12:00, 13:30-17:30``; unreadable = error in the page's language."""
    try:
        return rules.parse_ranges_text(text)
    except rules.HoursError as exc:
        raise services.HallError(exc.translated(gettext), "hours") from exc


def _hours_from_form(form: HallForm) -> dict[str, Any] | None:
    weekly: dict[str, Any] = {}
    ok = True
    for d in range(7):
        f = getattr(form, f"hours_{d}")
        try:
            weekly[str(d)] = rules.parse_ranges_text(f.data or "")
        except rules.HoursError as exc:
            f.errors.append(exc.translated(gettext))
            ok = False
    return weekly if ok else None


def _hall_data(form: HallForm, weekly: dict[str, Any]) -> services.HallData:
    return services.HallData(
        name=form.name.data or "",
        address=form.address.data or "",
        contact_name=form.contact_name.data or "",
        contact_phone=form.contact_phone.data or "",
        weekly_hours=weekly,
        hours_from=form.hours_from.data,
    )


# A service error on ``weekly_hours`` belongs beside the first day's hours.
FIELD_ALIASES = {"weekly_hours": "hours_0"}


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new_hall() -> ResponseReturnValue:
    scope = current_scope()
    scope.require_write()
    form = HallForm()
    form.region_id.choices = as_choices(_village_choices())
    if request.method == "GET":
        if request.args.get("village", type=int):
            form.region_id.data = request.args.get("village", type=int)
        for d in range(7):
            getattr(form, f"hours_{d}").data = rules.ranges_text(rules.DEFAULT_WEEKLY_HOURS[str(d)])

    def create() -> ServiceHall | None:
        village = scope.get_for_write(Region, form.region_id.data)
        weekly = _hours_from_form(form)
        return None if weekly is None else services.create_hall(village, _hall_data(form, weekly))

    done = submit(form, create, aliases=FIELD_ALIASES)
    if done is not None and done.value is not None:
        flash(gettext("已登记服务大厅 %(name)s", name=done.value.name), "success")
        return redirect(url_for("halls.hall", hall_id=done.value.id))
    return render_template("halls/hall_form.html", form=form, hall=None), form_status(form)


@bp.route("/<int:hall_id>/edit", methods=["GET", "POST"])
@login_required
def edit_hall(hall_id: int) -> ResponseReturnValue:
    scope = current_scope()
    hall = scope.get_for_write(ServiceHall, hall_id)
    form = HallForm(obj=hall)
    form.region_id.choices = as_choices([(hall.region_id, hall.region.name)])
    if request.method == "GET":
        for d in range(7):
            getattr(form, f"hours_{d}").data = rules.ranges_text(hall.weekly_hours.get(str(d), []))

    def save() -> bool:
        weekly = _hours_from_form(form)
        if weekly is not None:
            services.update_hall(hall, _hall_data(form, weekly))
        return weekly is not None

    done = submit(form, save, aliases=FIELD_ALIASES)
    if done is not None and done.value:
        flash(gettext("已保存"), "success")
        return redirect(url_for("halls.hall", hall_id=hall.id))
    return render_template("halls/hall_form.html", form=form, hall=hall), form_status(form)


@bp.route("/<int:hall_id>", methods=["GET", "POST"])
@login_required
def hall(hall_id: int) -> ResponseReturnValue:
    """A hall: opening hours, exceptions (POST adds one), cameras, this month's figures."""
    scope = current_scope()
    hall = scope.get_or_404(ServiceHall, hall_id)
    form = ExceptionForm()
    if request.method == "POST":
        scope.require_write(hall.region_id)
        done = submit(
            form,
            lambda: services.set_exception(
                hall,
                form.day.data,
                _ranges_text(form.hours.data or ""),
                form.note.data or "",
            ),
            default="hours",
        )
        if done is not None:
            flash(gettext("已保存例外日期"), "success")
            return redirect(url_for("halls.hall", hall_id=hall.id))
    today = clock.today()
    month = Period.month_of(today)
    cams = services.load_cameras(hall)
    totals = services.uptime_bulk([c.id for c in cams], month.start, today)
    upcoming = services.resolved_opening_days(hall, _calendar(), days=14)
    residents = db.session.scalars(resident.services_stmt([hall.id])).all()
    return render_template(
        "halls/hall.html",
        hall=hall,
        residents=residents,
        resident_import=ResidentImportForm(formdata=None),
        resident_months=resident.last_months(today, 3),
        value_of=resident.month_value,
        kind_labels=resident.KIND_LABELS,
        unit_short=resident.UNIT_SHORT,
        form=form,
        totals=totals,
        month=month,
        upcoming=upcoming,
        weekday_labels=rules.WEEKDAY_LABELS,
        can_admin=scope.is_admin,
        can_write=scope.can_write,
    )


@bp.route("/exceptions/<int:exception_id>/delete", methods=["POST"])
@login_required
def delete_exception(exception_id: int) -> ResponseReturnValue:
    scope = current_scope()
    row = scope.get_for_write(HallException, exception_id)
    hall_id = row.hall_id
    services.delete_exception(row)
    flash(gettext("已删除例外日期"), "success")
    return redirect(url_for("halls.hall", hall_id=hall_id))


def _calendar() -> Any:
    from tracker.calendar_service import load_calendar

    return load_calendar()


# ---------------------------------------------------------------- cameras


def _station_choices() -> list[tuple[int, str]]:
    scope = current_scope()
    stations = db.session.scalars(
        scope.filter(select(Station), Station).order_by(Station.name)
    ).all()
    return [(0, gettext("（未分配）"))] + [(s.id, s.name) for s in stations]


def _camera_data(form: CameraForm) -> services.CameraData:
    thresholds = {
        k: getattr(form, k).data
        for k in ("down_after", "up_after", "black_brightness", "blur_sharpness")
        if getattr(form, k).data is not None
    }
    return services.CameraData(
        name=form.name.data or "",
        position=form.position.data or "",
        stream_url=(form.stream_url.data or "").strip() or None,
        station_id=form.station_id.data or None,
        check_interval_s=form.check_interval_s.data,
        snapshot_every_min=form.snapshot_every_min.data or 0,
        rtsp_transport=form.rtsp_transport.data or "tcp",
        thresholds=thresholds,
        active=bool(form.active.data),
    )


@bp.route("/<int:hall_id>/cameras/new", methods=["GET", "POST"])
@login_required
def new_camera(hall_id: int) -> ResponseReturnValue:
    scope = current_scope()
    hall = scope.get_or_404(ServiceHall, hall_id)
    scope.require_admin(hall.region_id)
    form = CameraForm()
    form.station_id.choices = as_choices(_station_choices())
    if request.method == "GET":
        cfg = services.settings()
        form.check_interval_s.data = cfg.default_check_interval_s
        form.snapshot_every_min.data = 60
        form.down_after.data = cfg.default_down_after
        form.up_after.data = cfg.default_up_after
    done = submit(
        form, lambda: services.create_camera(hall, _camera_data(form)), aliases=FIELD_ALIASES
    )
    if done is not None:
        cam = done.value
        flash(gettext("已添加摄像头 %(name)s", name=cam.name), "success")
        return redirect(url_for("halls.hall", hall_id=hall.id))
    return (
        render_template("halls/camera_form.html", form=form, hall=hall, camera=None),
        form_status(form),
    )


@bp.route("/cameras/<int:camera_id>/edit", methods=["GET", "POST"])
@login_required
def edit_camera(camera_id: int) -> ResponseReturnValue:
    scope = current_scope()
    cam = scope.get_or_404(Camera, camera_id)
    scope.require_admin(cam.region_id)
    form = CameraForm(obj=cam)
    form.station_id.choices = as_choices(_station_choices())
    if request.method == "GET":
        form.stream_url.data = ""
        form.station_id.data = cam.station_id or 0
        for k in ("down_after", "up_after", "black_brightness", "blur_sharpness"):
            getattr(form, k).data = (cam.thresholds or {}).get(k)
    done = submit(
        form, lambda: services.update_camera(cam, _camera_data(form)), aliases=FIELD_ALIASES
    )
    if done is not None:
        flash(gettext("已保存"), "success")
        return redirect(url_for("halls.camera", camera_id=cam.id))
    return (
        render_template("halls/camera_form.html", form=form, hall=cam.hall, camera=cam),
        form_status(form),
    )


@bp.route("/cameras/<int:camera_id>", methods=["GET", "POST"])
@login_required
def camera(camera_id: int) -> ResponseReturnValue:
    """Camera page: 24-hour and 30-day bars, outages with causes and excuses, snapshots."""
    scope = current_scope()
    cam = scope.get_or_404(Camera, camera_id)
    form = ExcuseForm()
    form.kind.choices = as_choices(
        [(k.value, gettext(services.EXCUSE_LABELS[k])) for k in ExcuseKind]
    )
    if request.method == "POST":
        scope.require_write(cam.region_id)
        done = submit(
            form,
            lambda: services.file_excuse(
                cam,
                form.start.data.replace(tzinfo=clock.zone()),
                form.end.data.replace(tzinfo=clock.zone()),
                ExcuseKind(form.kind.data),
                form.reason.data or "",
                current_user,
            ),
            aliases=FIELD_ALIASES,
        )
        if done is not None:
            flash(gettext("已提交情况说明，等待县级审核"), "success")
            return redirect(url_for("halls.camera", camera_id=cam.id))
    now = utcnow()
    today = clock.today()
    days = [today - timedelta(days=i) for i in range(29, -1, -1)]
    start30 = rules.day_bounds(days[0])[0]
    intervals = services.camera_intervals(cam, start30, now)
    hours = services.hall_hours(cam.hall, days[0], today, _calendar())
    windows = services.opening_windows(hours)
    start24 = now - timedelta(hours=24)
    win24 = [w for ws in windows.values() for w in ws]
    per_day = services.daily_totals([cam], days[0], today)[cam.id]
    total30 = UptimeTotals()
    for t in per_day.values():
        total30 += t
    outages = list(reversed(services.camera_outages([cam], days[0], today)[cam.id]))[:50]
    excuses = db.session.scalars(
        select(OutageExcuse)
        .where(OutageExcuse.camera_id == cam.id)
        .order_by(OutageExcuse.start.desc())
        .limit(50)
    ).all()
    snaps = db.session.scalars(
        select(Snapshot)
        .where(Snapshot.camera_id == cam.id)
        .order_by(Snapshot.taken_at.desc())
        .limit(12)
    ).all()
    return render_template(
        "halls/camera.html",
        cam=cam,
        status=services.status_of(cam),
        form=form,
        svg24=day_svg(intervals, win24, start24),
        svg30=month_svg(intervals, windows, days),
        today_totals=per_day.get(today, UptimeTotals()),
        total30=total30,
        outages=outages,
        excuses=excuses,
        snaps=snaps,
        excuse_labels=services.EXCUSE_LABELS,
        can_write=scope.can_write,
        can_admin=scope.is_admin,
        can_decide=_can_decide(),
        decision_form=DecisionForm(),
        day_windows=windows.get(today, []),
    )


@bp.route("/snapshots/<int:snapshot_id>.jpg")
@login_required
def snapshot(snapshot_id: int) -> ResponseReturnValue:
    snap = current_scope().get_or_404(Snapshot, snapshot_id)
    path = services.snapshot_path(snap.sha256)
    if not path.exists():
        abort(404)
    resp = send_file(path, mimetype=uploads.JPEG, max_age=3600)
    return uploads.serve_headers(resp, uploads.JPEG)


# ---------------------------------------------------------------- excuses


@bp.route("/excuses")
@login_required
def excuses() -> ResponseReturnValue:
    scope = current_scope()
    status = request.args.get("status", "pending")
    stmt = (
        scope.filter(select(OutageExcuse), OutageExcuse)
        .order_by(OutageExcuse.filed_at.desc())
        .limit(200)
    )
    if status in {s.value for s in ExcuseStatus}:
        stmt = stmt.where(OutageExcuse.status == ExcuseStatus(status))
    rows = db.session.scalars(stmt).all()
    return render_template(
        "halls/excuses.html",
        rows=rows,
        status=status,
        labels=services.EXCUSE_LABELS,
        can_decide=_can_decide(),
        decision_form=DecisionForm(),
    )


@bp.route("/excuses/<int:excuse_id>/decide", methods=["POST"])
@login_required
def decide_excuse(excuse_id: int) -> ResponseReturnValue:
    scope = current_scope()
    excuse = scope.get_for_write(OutageExcuse, excuse_id)
    if not _can_decide():
        abort(403)
    form = DecisionForm()
    if form.validate_on_submit():
        perform(
            lambda: services.decide_excuse(
                excuse, form.decision.data == "approve", current_user, form.note.data or ""
            ),
            gettext("已审核"),
        )
    return redirect(request.form.get("next") or url_for("halls.excuses"))


# ---------------------------------------------------------------- monthly report


def _report_rows(region: Region, month: Period) -> tuple[list[dict[str, Any]], UptimeTotals]:
    cams = services.cameras_under(region, with_hall=True)
    last = min(month.end, clock.today())
    totals = (
        services.uptime_bulk([c.id for c in cams], month.start, last) if last >= month.start else {}
    )
    town_ids = {c.hall.region.parent_id for c in cams if c.hall.region.parent_id}
    towns = {r.id: r for r in db.session.scalars(select(Region).where(Region.id.in_(town_ids)))}
    rows = []
    grand = UptimeTotals()
    for c in sorted(cams, key=lambda c: (c.hall.region.path, c.hall.name, c.name)):
        t = totals.get(c.id, UptimeTotals())
        grand += t
        town = towns.get(c.hall.region.parent_id) if c.hall.region.parent_id else None
        rows.append({"camera": c, "hall": c.hall, "town": town, "t": t})
    return rows, grand


def _report_args() -> tuple[Region, Period]:
    scope = current_scope()
    region = scope.get_or_404(Region, request.args.get("region_id", type=int) or scope.region_id)
    try:
        month = Period.parse(request.args["month"]) if request.args.get("month") else None
    except PeriodError:
        month = None
    if month is None:
        # The last complete month: the month being lived in has no final figures yet.
        month = Period.month_of(clock.today()).previous()
    return region, month


@bp.route("/report")
@login_required
def report() -> ResponseReturnValue:
    """Monthly camera report of a county (or any node): printable."""
    region, month = _report_args()
    rows, grand = _report_rows(region, month)
    months = Period.month_of(clock.today()).last(12)
    return render_template(
        "halls/report.html", region=region, month=month, rows=rows, grand=grand, months=months
    )


@bp.route("/report.xlsx")
@login_required
def report_xlsx() -> ResponseReturnValue:
    region, month = _report_args()
    rows, grand = _report_rows(region, month)
    wb, ws = xlsx.new_workbook(month.key)
    xlsx.title(ws, f"{region.name} 便民服务大厅视频监控月报（{month.label}）")
    xlsx.header(
        ws,
        [
            "乡镇",
            "村",
            "服务大厅",
            "摄像头",
            "开放时长(时)",
            "正常(时)",
            "离线(时)",
            "画面异常(时)",
            "未知(时)",
            "已批准说明(时)",
            "在线率",
            "完好率",
            "在线率(扣除说明)",
            "完好率(扣除说明)",
        ],
        fill=None,
    )

    def h(s: int) -> float:
        return round(s / 3600, 2)

    def line(t: UptimeTotals) -> list[Any]:
        return [
            h(t.open_s),
            h(t.up_s),
            h(t.down_online_s),
            h(t.down_picture_s),
            h(t.unknown_s),
            h(t.excused_s),
            t.online_rate,
            t.intact_rate,
            t.compliance_online_rate,
            t.compliance_intact_rate,
        ]

    for r in rows:
        xlsx.append(
            ws,
            [
                r["town"].name if r["town"] else "",
                r["hall"].region.name,
                r["hall"].name,
                r["camera"].name,
                *line(r["t"]),
            ],
        )
    xlsx.append(ws, ["合计", "", "", f"{len(rows)} 个", *line(grand)])
    for row in ws.iter_rows(min_row=3, min_col=11, max_col=14):
        for cell in row:
            cell.number_format = "0.0%"
    xlsx.widths(ws, [12, 12, 22, 16, 12, 10, 10, 12, 10, 14, 9, 9, 16, 16])
    return xlsx.response(xlsx.to_bytes(wb), f"{region.name}视频监控月报-{month.key}.xlsx")


# ---------------------------------------------------------------- stations


def _station_regions() -> list[tuple[int, str]]:
    """The county and township nodes of the scope a station may serve."""
    scope = current_scope()
    nodes = db.session.scalars(
        scope.filter(select(Region), Region)
        .where(Region.level != RegionLevel.village)
        .order_by(Region.path)
    ).all()
    return [(r.id, r.name) for r in nodes]


def _stations_page(form: StationForm, **extra: Any) -> str:
    scope = current_scope()
    rows = db.session.scalars(scope.filter(select(Station), Station).order_by(Station.name)).all()
    count_rows = db.session.execute(
        select(Camera.station_id, db.func.count(Camera.id))
        .where(Camera.station_id.in_([s.id for s in rows]))
        .group_by(Camera.station_id)
    ).all()
    counts = {s.id: 0 for s in rows} | {sid: int(n) for sid, n in count_rows}
    unassigned = db.session.scalar(
        scope.filter(select(db.func.count(Camera.id)), Camera).where(
            Camera.station_id.is_(None), Camera.active.is_(True)
        )
    )
    interval = services.settings().heartbeat_interval_s
    stale_before = utcnow() - timedelta(seconds=rules.HEARTBEAT_FACTOR * interval)
    return render_template(
        "halls/stations.html",
        rows=rows,
        counts=counts,
        stale_before=stale_before,
        form=form,
        unassigned=unassigned or 0,
        **extra,
    )


def _token_shown(station: Station, token: str) -> dict[str, Any]:
    """What the page shows once after a token was made: the token and the settings to paste."""
    return {
        "new_token": token,
        "token_station": station,
        "tracker_url": request.host_url.rstrip("/"),
    }


@bp.route("/stations", methods=["GET", "POST"])
@login_required
def stations() -> ResponseReturnValue:
    scope = current_scope()
    scope.require_admin()
    form = StationForm()
    form.region_id.choices = as_choices(_station_regions())

    def create() -> tuple[Station, str]:
        region = scope.get_for_write(Region, form.region_id.data)
        return services.create_station(form.name.data or "", region)

    done = submit(form, create)
    if done is not None:
        station, token = done.value
        flash(gettext("已创建监控站 %(name)s", name=station.name), "success")
        # The token is shown in this answer only (the database keeps its SHA-256).
        fresh = StationForm(formdata=None)
        fresh.region_id.choices = form.region_id.choices
        return _stations_page(fresh, **_token_shown(station, token))
    return _stations_page(form), form_status(form)


@bp.route("/stations/<int:station_id>/rotate", methods=["POST"])
@login_required
def rotate_station(station_id: int) -> ResponseReturnValue:
    scope = current_scope()
    station = scope.get_for_write(Station, station_id)
    scope.require_admin()
    done = perform(
        lambda: services.rotate_station_token(station),
        gettext("已为 %(name)s 换发令牌，旧令牌已失效", name=station.name),
    )
    if done is None:
        return redirect(url_for("halls.stations"))
    form = StationForm(formdata=None)
    form.region_id.choices = as_choices(_station_regions())
    return _stations_page(form, **_token_shown(station, done.value))


@bp.route("/stations/<int:station_id>/revoke", methods=["POST"])
@login_required
def revoke_station(station_id: int) -> ResponseReturnValue:
    scope = current_scope()
    station = scope.get_for_write(Station, station_id)
    scope.require_admin()
    perform(
        lambda: services.revoke_station(station),
        gettext("已停用监控站 %(name)s", name=station.name),
    )
    return redirect(url_for("halls.stations"))


__all__ = ["bp", "date"]


def camera_todo(scope: Scope, user: Any) -> list[TodoItem]:
    """Home page: cameras 离线 and 画面异常 now (two counts), and excuses awaiting a decision."""
    items: list[TodoItem] = []
    home = db.session.get(Region, scope.region_id)
    dark = camera_conditions(home.path) if home is not None else {}
    texts = {
        "offline": (gettext("摄像头离线"), gettext("没有视频流：断网、断电或设备故障")),
        "picture": (gettext("摄像头画面异常"), gettext("有视频流，但画面冻结、黑屏/遮挡或模糊")),
    }
    for key in ("offline", "picture"):
        if dark.get(key):
            items.append(
                TodoItem(
                    0,
                    *texts[key],
                    url_for("halls.wall", region_id=scope.region_id, show=key),
                    dark[key],
                )
            )
    region = home
    if (
        scope.can_write
        and region is not None
        and region.level in (RegionLevel.city, RegionLevel.county)
    ):
        pending = db.session.scalar(
            select(db.func.count(OutageExcuse.id)).where(
                OutageExcuse.status == ExcuseStatus.pending,
                OutageExcuse.region_id.in_(scope.region_ids()),
            )
        )
        if pending:
            items.append(
                TodoItem(
                    1,
                    gettext("摄像头离线说明待审核"),
                    gettext("村里提交的停电、维修等说明"),
                    url_for("halls.excuses"),
                    int(pending),
                )
            )
    return items


# ---------------------------------------------------------------- resident services (场所功能提升)


def _resident_form(obj: ResidentService | None = None) -> ResidentForm:
    form = ResidentForm(obj=obj if request.method == "GET" else None)
    form.kind.choices = [(k.value, gettext(v)) for k, v in resident.KIND_LABELS.items()]
    form.unit.choices = [(k.value, gettext(v)) for k, v in resident.UNIT_LABELS.items()]
    if request.method == "GET" and obj is not None:
        form.kind.data = obj.kind.value
        form.unit.data = obj.unit.value
    return form


def _resident_input(form: ResidentForm) -> resident.ResidentInput:
    return resident.ResidentInput(
        kind=ResidentKind(form.kind.data),
        name=form.name.data or "",
        provider=form.provider.data or "",
        since=form.since.data,
        until=form.until.data,
        unit=ActivityUnit(form.unit.data),
        opening_hours=form.opening_hours.data or "",
        contact_phone=form.contact_phone.data or "",
        note=form.note.data or "",
    )


@bp.route("/<int:hall_id>/services/new", methods=["GET", "POST"])
@login_required
def new_resident(hall_id: int) -> ResponseReturnValue:
    scope = current_scope()
    hall = scope.get_or_404(ServiceHall, hall_id)
    scope.require_write(hall.region_id)
    form = _resident_form()
    if request.method == "GET":
        form.since.data = clock.today()
    done = submit(form, lambda: resident.create_service(hall, _resident_input(form)))
    if done is not None:
        flash(gettext("入驻服务已登记。"), "success")
        return redirect(url_for("halls.resident_service", resident_service_id=done.value.id))
    return (
        render_template("halls/resident_form.html", form=form, hall=hall, service=None),
        form_status(form),
    )


def _resident_page(service: ResidentService, form: ActivityForm, status: int = 200) -> Any:
    today = clock.today()
    resident.load_months(service)  # again: a refused entry rolled the session back
    return (
        render_template(
            "halls/resident.html",
            service=service,
            hall=service.hall,
            form=form,
            months=resident.last_months(today),
            value_of=resident.month_value,
            kind_labels=resident.KIND_LABELS,
            unit_labels=resident.UNIT_LABELS,
            unit_short=resident.UNIT_SHORT,
            versions=versions_of("hall_resident_service", service.id),
            can_write=current_scope().can_write,
        ),
        status,
    )


@bp.route("/services/<int:resident_service_id>", methods=["GET", "POST"])
@login_required
def resident_service(resident_service_id: int) -> ResponseReturnValue:
    """A resident service: its months (POST types one in) and its versions."""
    scope = current_scope()
    service = resident.load_months(scope.get_or_404(ResidentService, resident_service_id))
    if request.method == "POST":
        scope.require_write(service.region_id)
    form = ActivityForm()
    if request.method == "GET":
        form.month.data = f"{clock.today():%Y-%m}"

    def save() -> Any:
        try:
            period = Period.parse(form.month.data or "")
        except PeriodError as exc:
            raise resident.ResidentError(gettext("月份格式应为 2026-03"), "month") from exc
        if period.kind != "month":
            raise resident.ResidentError(gettext("月份格式应为 2026-03"), "month")
        return resident.record_activity(service, period.start, form.value.data or 0)

    done = submit(form, save)
    if done is not None:
        flash(gettext("月度数据已保存。"), "success")
        return redirect(url_for("halls.resident_service", resident_service_id=service.id))
    return _resident_page(service, form, form_status(form))


@bp.route("/services/<int:resident_service_id>/edit", methods=["GET", "POST"])
@login_required
def edit_resident(resident_service_id: int) -> ResponseReturnValue:
    service = current_scope().get_for_write(ResidentService, resident_service_id)
    form = _resident_form(service)
    done = submit(form, lambda: resident.update_service(service, _resident_input(form)))
    if done is not None:
        flash(gettext("入驻服务已修改。"), "success")
        return redirect(url_for("halls.resident_service", resident_service_id=service.id))
    return (
        render_template("halls/resident_form.html", form=form, hall=service.hall, service=service),
        form_status(form),
    )


RESIDENT_COLUMNS = [
    "序号",
    "村（社区）",
    "服务大厅",
    "服务类型",
    "服务名称",
    "提供单位",
    "入驻日期",
    "撤出日期",
    "服务时间",
    "联系电话",
    "统计口径",
]


@bp.route("/services.xlsx")
@login_required
def export_residents() -> ResponseReturnValue:
    """Resident services of the halls in scope (``?hall_id=`` one hall) with the last 12
    months' activity figures, one column a month; phones masked."""
    from tracker.formatting import excel_formats, mask_phone

    scope = current_scope()
    halls_q = scope.filter(select(ServiceHall.id), ServiceHall)
    hall_id = request.args.get("hall_id", type=int)
    if hall_id is not None:
        halls_q = halls_q.where(ServiceHall.id == scope.get_or_404(ServiceHall, hall_id).id)
    rows = db.session.scalars(resident.services_stmt(halls_q.scalar_subquery())).all()
    villages = dict(
        db.session.execute(
            select(Region.id, Region.name).where(Region.id.in_({s.region_id for s in rows}))
        ).all()
    )
    months = resident.last_months(clock.today())
    wb, ws = xlsx.new_workbook("入驻服务")
    columns = RESIDENT_COLUMNS + [f"{m:%Y-%m}" for m in months]
    xlsx.title(ws, "服务大厅入驻服务及月度业务量", span=len(columns))
    xlsx.header(ws, columns)
    for i, s in enumerate(rows, start=1):
        xlsx.append(
            ws,
            [
                i,
                villages.get(s.region_id, ""),
                s.hall.name,
                resident.KIND_LABELS[s.kind],
                s.name,
                s.provider,
                s.since,
                s.until,
                s.opening_hours,
                mask_phone(s.contact_phone),
                resident.UNIT_LABELS[s.unit],
                *[resident.month_value(s, m) for m in months],
            ],
        )
    excel_formats(ws.iter_rows(min_row=3))
    xlsx.widths(ws, [6, 12, 14, 16, 18, 20, 12, 12, 18, 14, 10] + [9] * len(months))
    return xlsx.response(xlsx.to_bytes(wb), "服务大厅入驻服务.xlsx")


def _resident_region(region_id: int) -> Region:
    """A village or township (any region) in scope whose halls' resident services are shown."""
    return current_scope().get_or_404(Region, region_id)


@bp.route("/residents/r/<int:region_id>/print")
@login_required
def print_residents(region_id: int) -> ResponseReturnValue:
    """The resident services of the halls under a village or township on A4 (landscape),
    with their last 12 months' figures; phones masked."""
    region = _resident_region(region_id)
    services = resident_excel.services_under(region)
    return render_template(
        "halls/residents_print.html",
        region=region,
        services=services,
        villages=resident_excel.village_names(services),
        months=resident.last_months(clock.today()),
        value_of=resident.month_value,
        kind_labels=resident.KIND_LABELS,
        unit_short=resident.UNIT_SHORT,
        unit_labels=resident.UNIT_LABELS,
        today=clock.today(),
    )


@bp.route("/residents/r/<int:region_id>/months.xlsx")
@login_required
def export_resident_months(region_id: int) -> ResponseReturnValue:
    """The last 12 months' figures under a region, one row a service and month (the import's
    columns)."""
    region = _resident_region(region_id)
    data = resident_excel.workbook(region, resident.last_months(clock.today()))
    return xlsx.response(data, f"{region.name}-入驻服务月度业务量.xlsx")


@bp.route("/residents/r/<int:region_id>/import", methods=["POST"])
@login_required
def import_resident_months(region_id: int) -> ResponseReturnValue:
    """Type in a sheet's monthly figures (村（社区）, 服务名称, 月份, 数量): every row or none."""
    scope = current_scope()
    region = _resident_region(region_id)
    scope.require_write(region.id)
    form = ResidentImportForm()
    back = url_for("halls.index")
    hall_id = form.hall_id.data
    if hall_id and str(hall_id).isdigit():
        back = url_for("halls.hall", hall_id=scope.get_or_404(ServiceHall, int(hall_id)).id)
    if not form.validate_on_submit():
        for errors in form.errors.values():
            flash(str(errors[0]), "danger")
        return redirect(back)
    done = perform(lambda: resident_excel.import_months(region, form.file.data.read()))
    if done is not None:
        flash(gettext("已导入 %(n)s 条月度数据。", n=done.value), "success")
    return redirect(back)
