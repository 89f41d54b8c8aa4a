"""Pages of the meeting ledgers: village list, ledger, grid, record form, detail,
history, print view, attachments, Excel export/import, plans, county rules.

Thin: parse the form, call :mod:`tracker.meetings.services`, commit, render.
Every object is loaded through the scope (404 out of scope), every write
checks ``require_write``.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import date, datetime
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
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
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager

from tracker import clock, pagecache, uploads, xlsx
from tracker.calendar_service import load_calendar
from tracker.config import current_settings
from tracker.errors import DomainError
from tracker.extensions import db
from tracker.formatting import natural_key
from tracker.meetings import excel, rules, services
from tracker.meetings.forms import (
    AttachmentForm,
    DeleteForm,
    ImportForm,
    KindForm,
    MeetingForm,
    PlanForm,
    RuleForm,
)
from tracker.meetings.models import (
    Meeting,
    MeetingAttachment,
    MeetingKind,
    MeetingPlan,
    MeetingRuleOverride,
)
from tracker.meetings.obligations import branch_obligations, obligations_for_branches, summaries
from tracker.meetings.services import MeetingError, MeetingInput
from tracker.models import Branch, PartyGroup, Region, RegionLevel
from tracker.models.regions import in_subtree
from tracker.scope import current_scope
from tracker.teams.duty_posts import latest_grades
from tracker.web import form_error, form_status, paginate, perform, submit

bp = Blueprint("meetings", __name__, url_prefix="/meetings")

STATUS_LABELS = {"met": "已开", "met_late": "补录", "missing": "缺开", "due": "待开"}


def _meeting(meeting_id: int) -> Meeting:
    return current_scope().get_or_404(Meeting, meeting_id)


def _trail(region: Region, *extra: tuple[str, str | None]) -> list[tuple[str, str | None]]:
    scope = current_scope()
    nodes = db.session.scalars(select(Region).where(Region.id.in_(region.ancestor_ids))).all()
    by_id = {n.id: n for n in nodes}
    trail: list[tuple[str, str | None]] = [(gettext("三会一课"), url_for("meetings.index"))]
    for rid in region.ancestor_ids:
        node = by_id[rid]
        if scope.contains_region(node) and node.level == RegionLevel.village:
            trail.append((node.name, url_for("meetings.ledger", region_id=node.id)))
        elif scope.contains_region(node):
            trail.append((node.name, url_for("meetings.index", region_id=node.id)))
    return trail + list(extra)


def iso_local(value: str) -> str:
    """A snapshot's UTC ISO time shown in local time (YYYY-MM-DD HH:MM)."""
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (TypeError, ValueError):
        return str(value)
    return parsed.astimezone(clock.zone()).strftime("%Y-%m-%d %H:%M")


def obligation_label(status: str) -> str:
    return gettext(STATUS_LABELS[status]) if status in STATUS_LABELS else status


def frequency_label(text: str | None) -> str:
    """A stored frequency (``monthly``, ``yearly:Q4`` …) in words (每月至少一次 …)."""
    try:
        return rules.Frequency.parse(text or "none").label
    except rules.RuleError:
        return text or ""


FILTERS = {
    "kind_name": services.kind_name,
    "frequency_label": frequency_label,
    "iso_local": iso_local,
    "obligation_label": obligation_label,
}


# ---------------------------------------------------------------------------
# Lists


@bp.route("/")
@login_required
@pagecache.cached()
def index() -> ResponseReturnValue:
    """Villages in scope with this month's and this year's obligations at a glance."""
    scope = current_scope()
    node = scope.get_or_404(Region, request.args.get("region_id", type=int) or scope.region_id)
    if node.level == RegionLevel.village:
        return redirect(url_for("meetings.ledger", region_id=node.id))
    page = paginate(
        select(Branch)
        .join(Branch.region)
        .options(contains_eager(Branch.region))
        .where(in_subtree(node.path))
        .order_by(Region.path)
    )
    today = clock.today()
    month = rules.Period.containing(today, "month")
    year = rules.Period.of_year(today.year)
    ids = [b.id for b in page.items]
    # One evaluation of the year serves both columns: the month's obligations are the
    # year's windows that overlap the month (a status depends on its window, not on
    # the period asked for).
    of_year = obligations_for_branches(ids, year, today)
    of_month = {
        bid: [o for o in items if o.window.overlaps(month)] for bid, items in of_year.items()
    }
    month_sum = summaries(of_month)
    year_sum = summaries(of_year)
    return render_template(
        "meetings/index.html",
        # the rows' badges, translated once for the page (gettext without values gives
        # the pattern; the template fills it in per row)
        badges={
            "met": gettext("已开 %(v)s"),
            "due": gettext("待开 %(due)s"),
            "missing": gettext("缺 %(missing)s"),
        },
        node=node,
        month=month,
        year=year,
        month_sum=month_sum,
        year_sum=year_sum,
        page=page,
        trail=_trail(node)[:-1] + [(node.name, None)]
        if node.id != scope.region_id
        else [(gettext("三会一课"), None)],
        children=[c for c in node.children if c.level != RegionLevel.village],
    )


@bp.route("/v/<int:region_id>")
@login_required
def ledger(region_id: int) -> ResponseReturnValue:
    """A branch's records with filters (year, kind)."""
    region, branch = current_scope().get_village_branch(region_id)
    today = clock.today()
    year = request.args.get("year", type=int) or today.year
    kind = request.args.get("kind") or None
    known = services.kinds(include_inactive=True)
    if kind not in known:
        kind = None
    meetings = services.meetings_of_branch(branch.id, year, kind)
    return render_template(
        "meetings/ledger.html",
        region=region,
        branch=branch,
        meetings=meetings,
        year=year,
        kind=kind,
        kinds=known,
        years=list(range(today.year, today.year - 6, -1)),
        trail=_trail(region),
        tab="ledger",
    )


@bp.route("/v/<int:region_id>/grid")
@login_required
def grid(region_id: int) -> ResponseReturnValue:
    """The year as a calendar grid: months × kinds, coloured by status, linking to records."""
    region, branch = current_scope().get_village_branch(region_id)
    today = clock.today()
    year = request.args.get("year", type=int) or today.year
    if not 2000 <= year <= 2100:
        abort(404)
    statuses = branch_obligations(branch, rules.Period.of_year(year), today)
    rows = rules.year_grid(statuses, year)
    summary = rules.summarize(s for s in statuses if s.started or s.status != "due")
    ids = {i for s in statuses for i in s.record_ids + s.other_record_ids}
    records = (
        {m.id: m for m in db.session.scalars(select(Meeting).where(Meeting.id.in_(ids)))}
        if ids
        else {}
    )
    return render_template(
        "meetings/grid.html",
        region=region,
        branch=branch,
        year=year,
        rows=rows,
        summary=summary,
        records=records,
        rules=services.rules_for_county(services.county_id_of(region)),
        kinds=services.kinds(include_inactive=True),
        today=today,
        trail=_trail(region),
        tab="grid",
    )


# ---------------------------------------------------------------------------
# Record form


# Common reasons offered for 请假/缺席 (the clerk may type another).
ABSENCE_REASONS = ("外出务工", "生病住院", "年老体弱", "因公出差", "家中有事", "在外求学")


class _Warned(Exception):
    """The meeting would not count and the clerk has not confirmed yet (nothing saved)."""


def _form_choices(form: MeetingForm, branch: Branch, day: date) -> list[Any]:
    known = services.kinds()
    form.kind.choices = [(k.code, gettext(k.name)) for k in known.values()]
    groups = sorted(
        db.session.scalars(select(PartyGroup).where(PartyGroup.branch_id == branch.id)).all(),
        key=lambda g: natural_key(g.name),
    )
    form.group_id.choices = [(0, gettext("（不适用）"))] + [(g.id, g.name) for g in groups]
    roster = services.roster_order(services.branch_roster(branch, day))
    form.host_id.choices = [(0, gettext("请选择"))] + [(m.id, m.name) for m in roster]
    return roster


def _local(value: datetime | None) -> datetime | None:
    """A datetime-local input (no zone) read in the configured zone."""
    return value.replace(tzinfo=clock.zone()) if value is not None else None


def _input_from_form(form: MeetingForm) -> MeetingInput:
    present = {int(v) for v in request.form.getlist("present") if v.isdigit()}
    reasons = {}
    excused = set()
    for key, value in request.form.items():
        if key.startswith("reason_") and key[7:].isdigit():
            member_id = int(key[7:])
            if member_id not in present:
                reasons[member_id] = value
        leave = value == "leave" and key.startswith("absence_") and key[8:].isdigit()
        if leave and int(key[8:]) not in present:
            excused.add(int(key[8:]))
    return MeetingInput(
        kind=form.kind.data or "",
        group_id=form.group_id.data or None,
        started_at=_local(form.started_at.data),  # type: ignore[arg-type]
        ended_at=_local(form.ended_at.data),  # type: ignore[arg-type]
        place=form.place.data or "",
        host_id=form.host_id.data or None,
        recorder=form.recorder.data or "",
        lecturer=form.lecturer.data or None,
        topics=form.topics.data or "",
        content=form.content.data or "",
        resolutions=form.resolutions.data or "",
        guests=form.guests.data or "",
        present_ids=present,
        absence_reasons=reasons,
        excused_ids=excused,
    )


def _form_extras(warnings: list[str], meeting: Meeting | None = None) -> dict[str, Any]:
    """What the record form shows beyond its fields: 请假/缺席 choices, common reasons, warnings."""
    if request.method == "POST":
        absence = {k: v for k, v in request.form.items() if k.startswith("absence_")}
    else:
        absence = {
            f"absence_{a.member_id}": "leave" if a.excused else "absent"
            for a in (meeting.attendance if meeting else [])
        }
    reasons = [gettext(r) for r in ABSENCE_REASONS]
    return {"absence": absence, "absence_reasons": reasons, "warnings": warnings}


def _put_error(form: MeetingForm, exc: DomainError, errors: dict[str, str]) -> None:
    """Beside the form field it names; else in ``errors`` (attendance rows, the whole form)."""
    if exc.field and hasattr(getattr(form, exc.field, None), "errors"):
        form_error(form, exc)
    else:
        errors[exc.field or "form"] = exc.message


def _files() -> list[Any]:
    return [f for f in request.files.getlist("attachments") if f and f.filename]


def _save_attachments(meeting: Meeting) -> None:
    for f in _files():
        services.add_attachment(meeting, f.filename or "附件", f.read(), current_user.id)


@bp.route("/v/<int:region_id>/new", methods=["GET", "POST"])
@login_required
def new(region_id: int) -> ResponseReturnValue:
    """Record a meeting — usable on a phone at the meeting (everyone present by default)."""
    region, branch = current_scope().get_village_branch(region_id)
    current_scope().require_write(region.id)
    form = MeetingForm()
    errors: dict[str, str] = {}
    day = clock.today()
    if request.method == "POST" and form.started_at.data:
        day = form.started_at.data.date()
    roster = _form_choices(form, branch, day)
    if request.method == "GET":
        now = clock.local_now().replace(second=0, microsecond=0, tzinfo=None)
        form.client_uuid.data = str(uuid.uuid4())
        form.kind.data = request.args.get("kind") or "branch_committee_meeting"
        form.ended_at.data = now
        form.started_at.data = (
            now.replace(minute=0) if now.minute else now.replace(hour=max(now.hour - 1, 0))
        )
        form.recorder.data = current_user.display_name[:32]
        if request.args.get("group_id", type=int):
            form.group_id.data = request.args.get("group_id", type=int)
    present: set[int] | None = None
    warnings: list[str] = []
    if form.validate_on_submit():
        existing = services.find_by_client_uuid(form.client_uuid.data)
        if existing is not None and existing.region_id == region.id:
            flash(gettext("这条记录已经保存过了（重复提交已忽略）。"), "info")
            return redirect(url_for("meetings.detail", meeting_id=existing.id))
        data = _input_from_form(form)
        present = data.present_ids
        try:
            if request.form.get("confirm") != "1":
                warnings = services.warnings_for(branch, data)
            if warnings:
                raise _Warned
            meeting = services.record_meeting(
                branch, data, current_user.id, load_calendar(), client_uuid=form.client_uuid.data
            )
            _save_attachments(meeting)
            db.session.flush()  # a double submit's unique key fails here, not at the boundary
        except _Warned:
            pass
        except MeetingError as exc:
            db.session.rollback()
            _put_error(form, exc, errors)
        except IntegrityError:
            # A concurrent double submit with the same form key saved first.
            db.session.rollback()
            existing = services.find_by_client_uuid(form.client_uuid.data)
            if existing is None or existing.region_id != region.id:
                raise
            flash(gettext("这条记录已经保存过了（重复提交已忽略）。"), "info")
            return redirect(url_for("meetings.detail", meeting_id=existing.id))
        else:
            msg = gettext("会议记录已保存。")
            if meeting.late:
                msg += gettext(
                    "注意：会后第 %(n)s 个工作日才录入，已标记为补录。", n=meeting.late_working_days
                )
            flash(msg, "warning" if meeting.late else "success")
            return redirect(url_for("meetings.detail", meeting_id=meeting.id))
    elif request.method == "POST":
        present = {int(v) for v in request.form.getlist("present") if v.isdigit()}
    return render_template(
        "meetings/form.html",
        form=form,
        region=region,
        branch=branch,
        roster=roster,
        present=present,
        reasons={k: v for k, v in request.form.items() if k.startswith("reason_")},
        errors=errors,
        meeting=None,
        kinds=services.kinds(),
        trail=_trail(region, (gettext("登记会议"), None)),
        **_form_extras(warnings),
    ), (422 if errors else form_status(form))


@bp.route("/<int:meeting_id>/edit", methods=["GET", "POST"])
@login_required
def edit(meeting_id: int) -> ResponseReturnValue:
    meeting = _meeting(meeting_id)
    scope = current_scope()
    scope.require_write(meeting.region_id)
    region, branch = scope.get_village_branch(meeting.region_id)
    if meeting.deleted_at is not None:
        flash(gettext("该记录已删除，不能修改。"), "warning")
        return redirect(url_for("meetings.detail", meeting_id=meeting.id))
    locked = rules.edit_locked(
        clock.local_date(meeting.started_at), clock.today(), current_settings().rules.edit_lock_days
    )
    if locked and not scope.is_admin:
        flash(
            gettext(
                "超过 %(n)s 天的记录只能由管理员修改。", n=current_settings().rules.edit_lock_days
            ),
            "warning",
        )
        return redirect(url_for("meetings.detail", meeting_id=meeting.id))
    form = MeetingForm(obj=None if request.method == "POST" else meeting)
    errors: dict[str, str] = {}
    day = clock.local_date(meeting.started_at)
    if request.method == "POST" and form.started_at.data:
        day = form.started_at.data.date()
    roster = _form_choices(form, branch, day)
    present: set[int] | None
    if request.method == "GET":
        form.started_at.data = meeting.started_at.astimezone(clock.zone()).replace(tzinfo=None)
        form.ended_at.data = meeting.ended_at.astimezone(clock.zone()).replace(tzinfo=None)
        form.group_id.data = meeting.group_id or 0
        form.version.data = str(meeting.version)
        present = {a.member_id for a in meeting.attendance if a.present}
        reasons = {f"reason_{a.member_id}": a.absence_reason for a in meeting.attendance}
    else:
        present = {int(v) for v in request.form.getlist("present") if v.isdigit()}
        reasons = {k: v for k, v in request.form.items() if k.startswith("reason_")}

    warnings: list[str] = []

    def save() -> bool:
        raw_version = (form.version.data or "").strip()
        data = _input_from_form(form)
        if request.form.get("confirm") != "1":
            warnings.extend(services.warnings_for(branch, data))
            if warnings:
                return False
        services.update_meeting(
            meeting,
            data,
            current_user.id,
            load_calendar(),
            expected_version=int(raw_version) if raw_version.isdigit() else None,
            is_admin=scope.is_admin,
            reason=form.reason.data or "",
        )
        _save_attachments(meeting)
        return True

    done = submit(form, save, on_error=lambda exc: _put_error(form, exc, errors))
    if done is not None and done.value:
        flash(gettext("已保存为第 %(n)s 版。", n=meeting.version), "success")
        return redirect(url_for("meetings.detail", meeting_id=meeting.id))
    return render_template(
        "meetings/form.html",
        form=form,
        region=region,
        branch=branch,
        roster=roster,
        present=present,
        reasons=reasons,
        errors=errors,
        meeting=meeting,
        locked=locked,
        kinds=services.kinds(include_inactive=True),
        trail=_trail(region, (gettext("修改记录"), None)),
        **_form_extras(warnings, meeting),
    )


# ---------------------------------------------------------------------------
# Detail, history, print, attachments, delete


@bp.route("/<int:meeting_id>")
@login_required
def detail(meeting_id: int) -> ResponseReturnValue:
    meeting = _meeting(meeting_id)
    region, branch = current_scope().get_village_branch(meeting.region_id)
    scope = current_scope()
    locked = rules.edit_locked(
        clock.local_date(meeting.started_at), clock.today(), current_settings().rules.edit_lock_days
    )
    services.show_attendance_in_roster_order(meeting)
    # 民主评议党员: beside each member, the latest half-year grade of the post they hold
    # without office (设岗定责), read for all attendees at once.
    post_grades = (
        latest_grades([a.member_id for a in meeting.attendance])
        if meeting.kind == "democratic_appraisal"
        else {}
    )
    return render_template(
        "meetings/detail.html",
        m=meeting,
        region=region,
        branch=branch,
        post_grades=post_grades,
        can_edit=scope.can_write and meeting.deleted_at is None and (not locked or scope.is_admin),
        locked=locked,
        versions=services.count_versions(meeting.id),
        delete_form=DeleteForm(),
        attach_form=AttachmentForm(),
        trail=_trail(
            region,
            (
                f"{services.kind_name(meeting.kind)} {meeting.started_at.astimezone(clock.zone()):%Y-%m-%d}",
                None,
            ),
        ),
    )


FIELD_LABELS = {
    "kind": "会议类型",
    "group_id": "党小组",
    "started_at": "开始时间",
    "ended_at": "结束时间",
    "place": "地点",
    "host_id": "主持人",
    "recorder": "记录人",
    "lecturer": "授课人",
    "topics": "议题",
    "content": "会议内容",
    "resolutions": "决议",
    "guests": "列席人员",
    "full_members": "应到正式党员",
    "full_present": "实到正式党员",
    "quorum_met": "达到法定人数",
    "late": "补录",
    "late_working_days": "录入时距会议工作日数",
    "deleted_at": "删除时间",
    "deleted_reason": "删除原因",
    "attendance": "出席情况",
    "attachments": "附件",
}
ACTION_LABELS = {"create": "录入", "update": "修改", "delete": "删除", "import": "导入"}


@bp.route("/<int:meeting_id>/history")
@login_required
def history(meeting_id: int) -> ResponseReturnValue:
    """Who changed what and when, version by version, with the diff."""
    meeting = _meeting(meeting_id)
    region, _ = current_scope().get_village_branch(meeting.region_id)
    versions = services.history(meeting)
    names = {a.member_id: a.member.name for a in meeting.attendance}
    from tracker.models import Member

    ids: set[int] = set()
    for v in versions:
        for a in v.snapshot.get("attendance", []):
            ids.add(a[0])
        for key in ("host_id",):
            for val in v.diff.get(key) or []:
                if isinstance(val, int):
                    ids.add(val)
    if ids - set(names):
        for m in db.session.scalars(select(Member).where(Member.id.in_(ids - set(names)))):
            names[m.id] = m.name
    return render_template(
        "meetings/history.html",
        m=meeting,
        region=region,
        versions=versions,
        labels={k: gettext(v) for k, v in FIELD_LABELS.items()},
        actions={k: gettext(v) for k, v in ACTION_LABELS.items()},
        names=names,
        trail=_trail(
            region,
            (services.kind_name(meeting.kind), url_for("meetings.detail", meeting_id=meeting.id)),
            (gettext("修改历史"), None),
        ),
    )


@bp.route("/<int:meeting_id>/print")
@login_required
def print_view(meeting_id: int) -> ResponseReturnValue:
    """An A4 page laid out like the paper 记录簿."""
    meeting = _meeting(meeting_id)
    region, branch = current_scope().get_village_branch(meeting.region_id)
    # The record lists people as the roster does (第一党小组 … 第十一党小组, then by name).
    services.show_attendance_in_roster_order(meeting)
    return render_template("meetings/print.html", m=meeting, region=region, branch=branch)


@bp.route("/<int:meeting_id>/delete", methods=["POST"])
@login_required
def delete(meeting_id: int) -> ResponseReturnValue:
    meeting = _meeting(meeting_id)
    scope = current_scope()
    scope.require_write(meeting.region_id)
    form = DeleteForm()
    if not form.validate_on_submit():
        flash(gettext("请填写删除原因。"), "danger")
        return redirect(url_for("meetings.detail", meeting_id=meeting.id))
    perform(
        lambda: services.delete_meeting(
            meeting, current_user.id, form.reason.data or "", scope.is_admin
        ),
        gettext("记录已删除（保留在历史中）。"),
        "info",
    )
    return redirect(url_for("meetings.detail", meeting_id=meeting_id))


@bp.route("/<int:meeting_id>/attachments", methods=["POST"])
@login_required
def upload(meeting_id: int) -> ResponseReturnValue:
    meeting = _meeting(meeting_id)
    current_scope().require_write(meeting.region_id)
    AttachmentForm()  # CSRF is checked by CSRFProtect for every POST
    files = _files()
    if not files:
        flash(gettext("请选择要上传的文件。"), "danger")
        return redirect(url_for("meetings.detail", meeting_id=meeting.id))
    perform(lambda: _save_attachments(meeting), gettext("附件已上传。"))
    return redirect(url_for("meetings.detail", meeting_id=meeting_id))


@bp.route("/attachments/<int:attachment_id>")
@login_required
def attachment(attachment_id: int) -> ResponseReturnValue:
    att = current_scope().get_or_404(MeetingAttachment, attachment_id)
    path = services.attachment_path(att.sha256)
    if not path.exists():
        abort(404)
    resp = send_file(
        Path(path),
        mimetype=att.content_type,
        download_name=att.filename,
        as_attachment=att.content_type == uploads.PDF,  # a PDF never opens in our origin
        max_age=3600,
    )
    return uploads.serve_headers(resp, att.content_type)


# ---------------------------------------------------------------------------
# Excel


@bp.route("/v/<int:region_id>/export.xlsx")
@login_required
def export(region_id: int) -> ResponseReturnValue:
    region, branch = current_scope().get_village_branch(region_id)
    year = request.args.get("year", type=int) or clock.today().year
    data = excel.export_year(branch, year)
    return xlsx.response(data, f"{region.name}{year}年三会一课台账.xlsx")


@bp.route("/import-template.xlsx")
@login_required
def import_template() -> ResponseReturnValue:
    return xlsx.response(excel.template_workbook(), "会议记录导入模板.xlsx")


def _import_store() -> Path:
    return Path(current_app.config["UPLOAD_DIR"]) / "meetings" / "imports"


@bp.route("/v/<int:region_id>/import", methods=["GET", "POST"])
@login_required
def import_(region_id: int) -> ResponseReturnValue:
    """Upload → preview with per-row errors → confirm (all-or-nothing)."""
    region, branch = current_scope().get_village_branch(region_id)
    current_scope().require_write(region.id)
    form = ImportForm()
    rows: list[excel.ImportRow] = []
    token = ""
    error = ""
    if form.validate_on_submit():
        confirm = request.form.get("confirm") == "1"
        content: bytes | None = None
        if confirm:
            token = (form.token.data or "").strip()
            path = _import_store() / token
            if (
                len(token) != 64
                or not all(c in "0123456789abcdef" for c in token)
                or not path.exists()
            ):
                error = gettext("预览已失效，请重新上传文件。")
            else:
                content = path.read_bytes()
        else:
            upload = request.files.get("file")
            if upload is None or not upload.filename:
                error = gettext("请选择要导入的 Excel 文件。")
            else:
                content = upload.read()
                token = hashlib.sha256(content).hexdigest()
        if content is not None:
            try:
                rows = excel.read_rows(branch, content)
            except excel.ImportError_ as exc:
                error = str(exc)
                token = ""
            else:
                if not confirm:  # kept for the confirmation step (only a readable file)
                    store = _import_store()
                    store.mkdir(parents=True, exist_ok=True)
                    (store / token).write_bytes(content)
                created = excel.run_import(
                    branch, rows, current_user.id, load_calendar(), commit=confirm
                )
                if confirm and created:
                    db.session.flush()  # the boundary commits
                    (_import_store() / token).unlink(missing_ok=True)
                    late = sum(1 for m in created if m.late)
                    flash(
                        gettext(
                            "已导入 %(n)s 条记录（其中 %(late)s 条为补录）。",
                            n=len(created),
                            late=late,
                        ),
                        "success",
                    )
                    return redirect(url_for("meetings.ledger", region_id=region.id))
                db.session.rollback()
    page = render_template(
        "meetings/import.html",
        form=form,
        region=region,
        rows=rows,
        token=token,
        error=error,
        ok=bool(rows) and not any(r.errors for r in rows),
        trail=_trail(region, (gettext("导入历史记录"), None)),
        tab="import",
    )
    return page, 422 if error or form.errors else 200


# ---------------------------------------------------------------------------
# Plans (计划报备)


@bp.route("/v/<int:region_id>/plans", methods=["GET", "POST"])
@login_required
def plans(region_id: int) -> ResponseReturnValue:
    region, branch = current_scope().get_village_branch(region_id)
    scope = current_scope()
    today = clock.today()
    year = request.args.get("year", type=int) or today.year
    quarter = request.args.get("quarter", type=int) or (today.month - 1) // 3 + 1
    if quarter not in (1, 2, 3, 4) or not 2000 <= year <= 2100:
        abort(404)
    form = PlanForm()
    known = services.kinds()
    form.kind.choices = [(k.code, gettext(k.name)) for k in known.values()]
    groups = db.session.scalars(select(PartyGroup).where(PartyGroup.branch_id == branch.id)).all()
    form.group_id.choices = [(0, gettext("（不适用）"))] + [(g.id, g.name) for g in groups]
    if request.method == "GET":
        form.year.data = year
        form.quarter.data = quarter
    if request.method == "POST":
        scope.require_write(region.id)
        delete_id = request.form.get("delete_plan", type=int)
        if delete_id:
            plan = scope.get_or_404(MeetingPlan, delete_id)
            if plan.branch_id != branch.id:
                abort(404)
            services.delete_plan(plan)
            flash(gettext("已删除该计划。"), "info")
            return redirect(
                url_for("meetings.plans", region_id=region.id, year=year, quarter=quarter)
            )
        filed = submit(
            form,
            lambda: services.file_plan(
                branch,
                form.year.data or year,
                form.quarter.data or quarter,
                form.kind.data or "",
                form.planned_on.data,
                form.topic.data or "",
                current_user.id,
                form.group_id.data or None,
            ),
        )
        if filed is not None:
            flash(gettext("计划已报备。"), "success")
            return redirect(
                url_for(
                    "meetings.plans",
                    region_id=region.id,
                    year=form.year.data,
                    quarter=form.quarter.data,
                )
            )
    lines, unplanned = services.plan_vs_held(branch, year, quarter)
    return render_template(
        "meetings/plans.html",
        form=form,
        region=region,
        branch=branch,
        lines=lines,
        unplanned=unplanned,
        year=year,
        quarter=quarter,
        today=today,
        trail=_trail(region, (gettext("计划报备"), None)),
        tab="plans",
    )


# ---------------------------------------------------------------------------
# Rules per county and configured kinds (admin)


@bp.route("/rules", methods=["GET", "POST"])
@login_required
def rules_page() -> ResponseReturnValue:
    scope = current_scope()
    counties: list[Region] = list(
        db.session.scalars(
            select(Region)
            .where(Region.level == RegionLevel.county, in_subtree(scope.region_path))
            .order_by(Region.name)
        )
    )
    form = RuleForm(prefix="rule")
    kind_form = KindForm(prefix="kind")
    known = services.kinds()
    form.kind.choices = [(k.code, gettext(k.name)) for k in known.values()]
    form.county_id.choices = [(c.id, c.name) for c in counties]
    if request.method == "POST":
        scope.require_admin()  # before reading the form: viewers and editors get 403
        action = request.form.get("action")
        if action == "override":

            def override() -> Region:
                county = scope.get_or_404(Region, form.county_id.data)
                scope.require_admin(county.id)
                services.set_rule_override(county, form.kind.data or "", form.frequency.data)
                return county

            done = submit(form, override, default="frequency")
            if done is not None:
                flash(gettext("%(name)s 的规则已更新。", name=done.value.name), "success")
                return redirect(url_for("meetings.rules_page"))
        elif action == "kind":
            if scope.region_id != db.session.scalar(
                select(Region.id).where(Region.parent_id.is_(None)).limit(1)
            ):
                abort(403)  # kinds are city-wide: only a city admin adds them
            added = submit(
                kind_form,
                lambda: services.add_kind(
                    kind_form.code.data or "",
                    kind_form.name.data or "",
                    kind_form.frequency.data or "none",
                    request.form.get("kind-needs_quorum") == "y",
                ),
                default="name",
            )
            if added is not None:
                flash(gettext("已新增会议类型。"), "success")
                return redirect(url_for("meetings.rules_page"))
    base = services.default_rules()
    overrides = db.session.scalars(
        scope.select(MeetingRuleOverride).order_by(MeetingRuleOverride.region_id)
    ).all()
    county_names = {c.id: c.name for c in counties}
    custom = db.session.scalars(select(MeetingKind).order_by(MeetingKind.id)).all()
    return render_template(
        "meetings/rules.html",
        form=form,
        kind_form=kind_form,
        base=base,
        known=known,
        overrides=overrides,
        county_names=county_names,
        custom=custom,
        can_admin=scope.is_admin,
        trail=[(gettext("三会一课"), url_for("meetings.index")), (gettext("会议频次规则"), None)],
    )
