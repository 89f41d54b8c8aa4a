"""Pages of the secondment programme.

- ``/secondment/`` — the programme view of the organization department (live
  counts for a period, each linking to its records) over the secondments in scope;
- ``/secondment/cadres``, ``/inspections`` (``?overdue=1``: rectifications past their
  deadline), ``/complaints``, ``/results``, ``/assessments``, ``/reports`` — the lists
  behind the counts, each declared once as a :class:`ListSpec` whose page and ``.xlsx``
  twin :func:`_period_list` registers; ``/batches.xlsx`` and
  ``/batches/<id>/candidates.xlsx`` export the batches and a batch's candidates;
- ``/secondment/<id>`` — one cadre's file (档案) with the phone forms of the five
  systems; ``/secondment/<id>/dossier`` the A4 print;
- ``/secondment/inspections/<id>/rectified`` — rectification done (date, note);
- ``/secondment/units/<region_id>/publication`` — the week's 公示 of a receiving unit;
  ``/secondment/gs/<token>`` the same without login (the cadre's QR token names the
  unit; public fields only; flood-limited);
- ``/secondment/p/<token>`` — the public complaint form (no login, rate-limited).

Thin: load through the scope, run the service through ``submit()``/``perform()``;
the request boundary commits.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload
from wtforms.fields.choices import SelectChoice

from tracker import clock, xlsx
from tracker.calendar_service import load_calendar
from tracker.config import current_settings
from tracker.extensions import db
from tracker.formatting import labels
from tracker.models import Region, RegionLevel, User, in_subtree
from tracker.public_pages import over_limit, sender_hash
from tracker.scope import current_scope
from tracker.secondment import figures, services
from tracker.secondment.forms import (
    AssessmentForm,
    BatchForm,
    CandidateForm,
    ChecksForm,
    CloseComplaintForm,
    ComplaintForm,
    CompleteForm,
    EndForm,
    GroupForm,
    InspectionForm,
    LogForm,
    RectifiedForm,
    ReportForm,
    ResultForm,
    SecondForm,
    VetoForm,
)
from tracker.secondment.models import (
    CANDIDATE_STATUS_LABELS,
    GRADE_LABELS,
    GROUP_KIND_LABELS,
    OUTCOME_LABELS,
    POST_TYPE_LABELS,
    PUBLIC_FIELD_LABELS,
    PUBLIC_FIELDS,
    RESULT_KIND_LABELS,
    Assessment,
    Batch,
    Candidate,
    Complaint,
    ComplaintStatus,
    Grade,
    GroupKind,
    Inspection,
    Outcome,
    PostType,
    ResultItem,
    ResultKind,
    Secondment,
    WeeklyReport,
    WorkGroup,
    WorkLogEntry,
)
from tracker.secondment.rules import (
    SecondmentError,
    assessment_windows,
    report_due_on,
    week_start,
)
from tracker.web import form_status, paginate, perform, render_form, submit, submit_or_show

bp = Blueprint("secondment", __name__, url_prefix="/secondment")


def _translated(label: Callable[[Any], str]) -> Callable[[Any], str]:
    """A label filter whose Chinese label is shown in the user's language."""

    def show(value: Any) -> str:
        text = label(value)
        return _(text) if text else ""

    return show


FILTERS = {
    "post_type_label": _translated(labels(POST_TYPE_LABELS, PostType)),
    "grade_label": _translated(labels(GRADE_LABELS, Grade)),
    "outcome_label": _translated(labels(OUTCOME_LABELS, Outcome)),
    "result_kind_label": _translated(labels(RESULT_KIND_LABELS, ResultKind)),
}


def _date_arg(name: str, default: date) -> date:
    try:
        value = date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return default
    return value if date(2000, 1, 1) <= value <= date(2100, 12, 31) else default


def _period() -> tuple[date, date]:
    today = clock.today()
    start = _date_arg("from", date(today.year, 1, 1))
    end = _date_arg("to", today)
    return (start, end) if start <= end else (end, start)


def _in_scope_secondments() -> list[Secondment]:
    return list(db.session.scalars(current_scope().select(Secondment).order_by(Secondment.id)))


@bp.route("/")
@login_required
def index() -> ResponseReturnValue:
    """The programme at a glance (组织部总览), for the period ``?from=&to=``."""
    start, end = _period()
    today = clock.today()
    p = figures.programme(_in_scope_secondments(), start, end, today, load_calendar())
    return render_template(
        "secondment/index.html",
        p=p,
        start=start,
        end=end,
        post_types=POST_TYPE_LABELS,
        outcomes=OUTCOME_LABELS,
    )


# --- the cadre list -----------------------------------------------------------------


def _cadre_rows() -> list[Secondment]:
    """Secondments in scope matching the list's filters (``status``, ``post_type``, ``flag``…)."""
    start, end = _period()
    today = clock.today()
    stmt: Select[Any] = current_scope().select(Secondment).order_by(Secondment.start_on)
    status = request.args.get("status")
    # The same rule as figures.programme(): in post during the period, ended inside it.
    if status == "active":
        stmt = stmt.where(
            Secondment.start_on <= end,
            func.coalesce(Secondment.actual_end_on, Secondment.planned_end_on) >= start,
            (Secondment.actual_end_on.is_(None)) | (Secondment.actual_end_on > end),
        )
    elif status == "ended":
        stmt = stmt.where(
            Secondment.start_on <= end,
            Secondment.actual_end_on >= start,
            Secondment.actual_end_on <= end,
        )
    post_type = request.args.get("post_type")
    if post_type in {p.value for p in PostType}:
        stmt = stmt.where(Secondment.post_type == PostType(post_type))
    outcome = request.args.get("outcome")
    if outcome in {o.value for o in Outcome}:
        stmt = stmt.where(
            Secondment.outcome == Outcome(outcome),
            Secondment.outcome_on >= start,
            Secondment.outcome_on <= end,
        )
    rows = list(db.session.scalars(stmt))
    flag = request.args.get("flag")
    if flag in ("due", "missing", "assessment"):
        # The programme's own rule, for all the rows at once (a few queries, not one per row).
        p = figures.programme(rows, today, today, today, load_calendar())
        rows = [s for s in rows if flag in p.flags.get(s.id, set())]
    return rows


# --- the lists and their Excel twins -----------------------------------------------------


@dataclass(frozen=True)
class ListSpec:
    """One list of the programme: its page ``/<name>`` and its export ``/<name>.xlsx``.

    ``stmt`` is the scoped, filtered query (the period ``?from=&to=`` and the list's
    own filters); the page pages it, the export writes every row of it with a
    serial number first, one column per ``(header, cell)``.
    """

    name: str
    stmt: Callable[[], Select[Any]]
    title: str
    columns: tuple[tuple[str, Callable[[Any], Any]], ...]


def _xlsx(title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> Any:
    """One list as an .xlsx sheet through :mod:`tracker.xlsx`: title, headers, dates as dates."""
    wb, ws = xlsx.new_workbook(title[:31])
    xlsx.title(ws, title, span=len(columns))
    xlsx.header(ws, list(columns))
    for row in rows:
        xlsx.append(ws, list(row))
    for row_cells in ws.iter_rows(min_row=3):
        for cell in row_cells:
            if isinstance(cell.value, date):
                cell.number_format = "yyyy-mm-dd"
    xlsx.widths(ws, [16] * len(columns))
    ws.freeze_panes = "A3"
    return xlsx.response(xlsx.to_bytes(wb), f"{title}.xlsx")


def _export(
    title: str, columns: Sequence[tuple[str, Callable[[Any], Any]]], stmt: Select[Any]
) -> Any:
    """Every row of ``stmt`` as a sheet: a serial number, then one cell per column."""
    rows = (
        [i, *(cell(item) for _h, cell in columns)]
        for i, item in enumerate(db.session.scalars(stmt), start=1)
    )
    return _xlsx(title, ["序号", *(h for h, _c in columns)], rows)


def _period_list(spec: ListSpec) -> ListSpec:
    """Register the page and the export of ``spec`` on the blueprint (endpoints
    ``secondment.<name>`` and ``secondment.<name>_xlsx``)."""

    def page() -> ResponseReturnValue:
        return render_template(f"secondment/{spec.name}.html", page=paginate(spec.stmt()))

    def export() -> ResponseReturnValue:
        return _export(spec.title, spec.columns, spec.stmt())

    page.__doc__ = export.__doc__ = f"{spec.title} (list and Excel)."
    bp.add_url_rule(f"/{spec.name}", spec.name, login_required(page))
    bp.add_url_rule(f"/{spec.name}.xlsx", f"{spec.name}_xlsx", login_required(export))
    return spec


def _cadres_stmt() -> Select[Any]:
    ids = [s.id for s in _cadre_rows()]
    return (
        current_scope()
        .select(Secondment)
        .where(Secondment.id.in_(ids or [0]))
        .order_by(Secondment.start_on, Secondment.id)
    )


def _guarantee(s: Secondment) -> str:
    return f"是（{s.guarantee_on:%Y-%m-%d}）" if s.guarantee_given and s.guarantee_on else "否"


CADRES = _period_list(
    ListSpec(
        "cadres",
        _cadres_stmt,
        "挂职干部名册",
        (
            ("姓名", lambda s: s.cadre_name),
            ("职级", lambda s: s.rank),
            ("派出单位", lambda s: s.sending_unit),
            ("接收单位", lambda s: s.receiving_unit),
            ("挂职岗位", lambda s: s.post),
            ("岗位类别", lambda s: POST_TYPE_LABELS[s.post_type]),
            ("开始日期", lambda s: s.start_on),
            ("计划结束", lambda s: s.planned_end_on),
            ("实际结束", lambda s: s.actual_end_on),
            ("保障承诺", _guarantee),
            ("使用结果", lambda s: OUTCOME_LABELS[s.outcome] if s.outcome else ""),
            ("决定", lambda s: s.outcome_decision or ""),
            ("决定日期", lambda s: s.outcome_on),
        ),
    )
)


def _in_period(
    model: Any,
    day: Any,
    column: Any = None,
    arg: str = "",
    kind: type[enum.Enum] | None = None,
) -> Select[Any]:
    """The scoped rows of ``model`` whose ``day`` lies in the period ``?from=&to=``, newest
    first, with their secondment loaded; ``?<arg>=`` a value of ``kind`` keeps those whose
    ``column`` holds it."""
    start, end = _period()
    stmt = (
        current_scope()
        .select(model)
        .options(selectinload(model.secondment))
        .where(day >= start, day <= end)
        .order_by(day.desc(), model.id.desc())
    )
    value = request.args.get(arg) if arg else None
    if kind is not None and value in {k.value for k in kind}:
        stmt = stmt.where(column == kind(value))
    return stmt


def _inspections_stmt() -> Select[Any]:
    stmt = _in_period(Inspection, Inspection.day).options(selectinload(Inspection.group))
    group = request.args.get("group")
    if group is not None:
        stmt = stmt.join(WorkGroup, Inspection.group_id == WorkGroup.id, isouter=True).where(
            WorkGroup.name == group if group else Inspection.group_id.is_(None)
        )
    if request.args.get("absent"):
        stmt = stmt.where(Inspection.present.is_(False))
    return stmt


def _overdue_stmt() -> Select[Any]:
    """Rectifications past their deadline and not done, whatever the visit's date."""
    return (
        current_scope()
        .select(Inspection)
        .options(selectinload(Inspection.secondment), selectinload(Inspection.group))
        .where(Inspection.rectify_by < clock.today(), Inspection.rectified_on.is_(None))
        .order_by(Inspection.rectify_by, Inspection.id)
    )


def _visits() -> Select[Any]:
    return _overdue_stmt() if request.args.get("overdue") else _inspections_stmt()


INSPECTIONS = _period_list(
    ListSpec(
        "inspections",
        _visits,
        "现场督查记录",
        (
            ("督查日期", lambda v: v.day),
            ("挂职干部", lambda v: v.secondment.cadre_name),
            ("督查组", lambda v: v.group.name if v.group else ""),
            ("地点", lambda v: v.place),
            ("在岗情况", lambda v: "在岗" if v.present else "不在岗"),
            ("发现问题", lambda v: v.findings),
            ("整改要求", lambda v: v.rectification),
            ("整改期限", lambda v: v.rectify_by),
            ("整改完成", lambda v: v.rectified_on),
            ("整改情况", lambda v: v.rectified_note),
        ),
    )
)


def _complaints_stmt() -> Select[Any]:
    stmt = (
        current_scope()
        .select(Complaint)
        .options(selectinload(Complaint.secondment))
        .order_by(Complaint.received_at.desc(), Complaint.id.desc())
    )
    if request.args.get("status") == "open":
        stmt = stmt.where(Complaint.status == ComplaintStatus.open)
    elif request.args.get("status") == "closed":
        stmt = stmt.where(Complaint.status == ComplaintStatus.closed)
    return stmt


def _complainant(c: Complaint) -> str:
    """The complainant for the assessment office of the cadre's batch, a note for anyone else."""
    if "secondment_office_batches" not in g:
        g.secondment_office_batches = services.office_batches(current_user._get_current_object())
    if c.secondment.batch_id in g.secondment_office_batches:
        return f"{c.complainant_name} {c.complainant_contact}".strip()
    return "（仅考核办可见）"


COMPLAINTS = _period_list(
    ListSpec(
        "complaints",
        _complaints_stmt,
        "监督举报登记",
        (
            ("收到日期", lambda c: clock.local_date(c.received_at)),
            ("被举报人", lambda c: c.secondment.cadre_name),
            ("来源", lambda c: "网上举报" if c.channel == "public" else "工作人员录入"),
            ("内容", lambda c: c.content),
            ("举报人", _complainant),
            ("办理期限", lambda c: c.due_on),
            ("状态", lambda c: "已办结" if c.status == ComplaintStatus.closed else "办理中"),
            ("核查结果", lambda c: c.outcome),
            ("答复", lambda c: c.reply),
            ("办结日期", lambda c: c.closed_on),
        ),
    )
)


def _results_stmt() -> Select[Any]:
    return _in_period(ResultItem, ResultItem.day, ResultItem.kind, "kind", ResultKind)


RESULTS = _period_list(
    ListSpec(
        "results",
        _results_stmt,
        "挂职干部工作成效",
        (
            ("日期", lambda r: r.day),
            ("挂职干部", lambda r: r.secondment.cadre_name),
            ("类别", lambda r: RESULT_KIND_LABELS[r.kind]),
            ("事项", lambda r: r.title),
            ("详细情况", lambda r: r.detail),
        ),
    )
)


def _assessments_stmt() -> Select[Any]:
    return _in_period(Assessment, Assessment.assessed_on, Assessment.grade, "grade", Grade)


ASSESSMENTS = _period_list(
    ListSpec(
        "assessments",
        _assessments_stmt,
        "定期考核结果",
        (
            ("考核日期", lambda a: a.assessed_on),
            ("挂职干部", lambda a: a.secondment.cadre_name),
            ("考核周期", lambda a: "期满考核" if a.window_key == "end" else a.window_key),
            ("等次", lambda a: GRADE_LABELS[a.grade]),
            ("考核人员", lambda a: a.assessors),
            ("考核意见", lambda a: a.comment),
        ),
    )
)


def _reports_stmt() -> Select[Any]:
    """Weekly reports received whose deadline falls in the period (what the count counts)."""
    start, end = _period()
    n = current_settings().rules.secondment_report_working_days
    cal = load_calendar()
    candidates = db.session.execute(
        current_scope()
        .filter(select(WeeklyReport.id, WeeklyReport.week_start), WeeklyReport)
        .where(
            WeeklyReport.week_start >= start - timedelta(days=40), WeeklyReport.week_start <= end
        )
    ).all()
    ids = [i for i, monday in candidates if start <= report_due_on(monday, cal, n) <= end]
    stmt = (
        current_scope()
        .select(WeeklyReport)
        .options(selectinload(WeeklyReport.secondment))
        .where(WeeklyReport.id.in_(ids or [0]))
        .order_by(WeeklyReport.week_start.desc(), WeeklyReport.id)
    )
    if request.args.get("late"):
        stmt = stmt.where(WeeklyReport.on_time.is_(False))
    return stmt


REPORTS = _period_list(
    ListSpec(
        "reports",
        _reports_stmt,
        "挂职干部周报",
        (
            ("周次", lambda r: r.week_start),
            ("挂职干部", lambda r: r.secondment.cadre_name),
            ("接收单位", lambda r: r.secondment.receiving_unit),
            ("本周工作", lambda r: r.work_done),
            ("问题困难", lambda r: r.problems),
            ("下周计划", lambda r: r.next_plan),
            ("按时", lambda r: "是" if r.on_time else "否"),
            ("版本", lambda r: r.version),
        ),
    )
)


def _batches_stmt() -> Select[Any]:
    return current_scope().select(Batch).order_by(Batch.year.desc(), Batch.id.desc())


BATCHES = ListSpec(
    "batches",
    _batches_stmt,
    "挂职批次",
    (
        ("年度", lambda b: b.year),
        ("批次名称", lambda b: b.name),
        ("目的", lambda b: b.purpose),
        ("选拔完成", lambda b: b.selection_completed_on),
    ),
)


def _candidate_status(c: Candidate) -> str:
    return CANDIDATE_STATUS_LABELS[c.status]


CANDIDATE_COLUMNS: tuple[tuple[str, Callable[[Any], Any]], ...] = (
    ("姓名", lambda c: c.name),
    ("职级", lambda c: c.rank),
    ("派出单位", lambda c: c.sending_unit),
    ("拟任岗位类别", lambda c: POST_TYPE_LABELS[c.wanted_post_type]),
    ("纪检审查日期", lambda c: c.discipline_checked_on),
    ("纪检审查机关", lambda c: c.discipline_checked_by),
    ("法律审查日期", lambda c: c.legal_checked_on),
    ("法律审查机关", lambda c: c.legal_checked_by),
    ("状态", _candidate_status),
    ("否决原因", lambda c: c.veto_reason or ""),
    ("信息来源", lambda c: c.veto_source or ""),
    ("处分日期", lambda c: c.veto_on),
)


# --- one cadre ------------------------------------------------------------------------


def _window_choices(s: Secondment) -> list[SelectChoice]:
    kind = current_settings().rules.secondment_assessment
    return [
        SelectChoice(k, _("期满考核") if k == "end" else k)
        for k, _a, _b in assessment_windows(kind, s.start_on, s.end_on)
    ]


def _group_choices(s: Secondment) -> list[SelectChoice]:
    groups = db.session.scalars(
        select(WorkGroup).where(
            WorkGroup.batch_id == s.batch_id, WorkGroup.kind == GroupKind.assessment
        )
    )
    return [SelectChoice(0, _("（未指定）"))] + [SelectChoice(g.id, g.name) for g in groups]


def _file(s: Secondment) -> dict[str, Any]:
    """Everything of one cadre's file (档案), for the page and the A4 print."""

    def rows(model: Any, order: Any) -> list[Any]:
        return list(
            db.session.scalars(select(model).where(model.secondment_id == s.id).order_by(order))
        )

    today = clock.today()
    return {
        "s": s,
        "logs": rows(WorkLogEntry, WorkLogEntry.day.desc()),
        "reports": rows(WeeklyReport, WeeklyReport.week_start.desc()),
        "weeks": services.week_states(s, load_calendar(), today),
        "assessments": rows(Assessment, Assessment.assessed_on),
        "inspections": rows(Inspection, Inspection.day.desc()),
        "complaints": rows(Complaint, Complaint.received_at.desc()),
        "results": rows(ResultItem, ResultItem.day.desc()),
        "today": today,
        "public_labels": PUBLIC_FIELD_LABELS,
    }


def _forms(s: Secondment, **given: Any) -> dict[str, Any]:
    today = clock.today()
    forms: dict[str, Any] = {
        "log_form": LogForm(formdata=None, day=today),
        "report_form": ReportForm(
            formdata=None,
            week_start=week_start(today) - timedelta(days=7),
            public_fields=["work_done"],
        ),
        "assessment_form": AssessmentForm(formdata=None, assessed_on=today),
        "inspection_form": InspectionForm(formdata=None, day=today),
        "complaint_form": ComplaintForm(formdata=None),
        "result_form": ResultForm(formdata=None, day=today),
        "end_form": EndForm(formdata=None, actual_end_on=today),
        "rectified_form": RectifiedForm(formdata=None, rectified_on=today),
        # The visit whose rectification form failed (its errors are shown beside it).
        "rectified_for": None,
    }
    forms.update(given)
    forms["rectified_form_blank"] = RectifiedForm(formdata=None, rectified_on=today)
    forms["assessment_form"].window_key.choices = _window_choices(s)
    forms["inspection_form"].group_id.choices = _group_choices(s)
    return forms


def _show(s: Secondment, status: int = 200, **given: Any) -> ResponseReturnValue:
    return render_template("secondment/detail.html", **_file(s), **_forms(s, **given)), status


@bp.route("/<int:secondment_id>")
@login_required
def detail(secondment_id: int) -> ResponseReturnValue:
    return _show(current_scope().get_or_404(Secondment, secondment_id))


@bp.route("/<int:secondment_id>/dossier")
@login_required
def dossier(secondment_id: int) -> ResponseReturnValue:
    """The cadre's full file on A4 for the end-of-term assessment."""
    s = current_scope().get_or_404(Secondment, secondment_id)
    return render_template("secondment/dossier.html", **_file(s))


def _detail_url(s: Secondment, anchor: str) -> str:
    """The cadre's file at the section ``anchor`` (where a form posted from it goes back)."""
    return url_for("secondment.detail", secondment_id=s.id, _anchor=anchor)


@bp.route("/<int:secondment_id>/log", methods=["POST"])
@login_required
def add_log(secondment_id: int) -> ResponseReturnValue:
    s = current_scope().get_for_write(Secondment, secondment_id)
    form = LogForm()
    return submit_or_show(
        form,
        lambda: services.add_log(
            s,
            form.day.data,
            form.what.data or "",
            form.place.data or "",
            form.with_whom.data or "",
            form.outcome.data or "",
        ),
        message=_("工作记实已保存。"),
        to=_detail_url(s, "log"),
        again=lambda: _show(s, form_status(form), log_form=form),
    )


@bp.route("/<int:secondment_id>/report", methods=["POST"])
@login_required
def file_report(secondment_id: int) -> ResponseReturnValue:
    s = current_scope().get_for_write(Secondment, secondment_id)
    form = ReportForm()
    done = submit(
        form,
        lambda: services.file_report(
            s,
            form.week_start.data,
            form.work_done.data or "",
            form.problems.data or "",
            form.next_plan.data or "",
            list(form.public_fields.data or []),
            load_calendar(),
        ),
    )
    if done is not None:
        report, created = done.value
        if created:
            flash(_("周报已提交。") if report.on_time else _("周报已提交（逾期提交）。"), "success")
        else:
            flash(_("周报已修改（第 %(n)s 版，原文保留）。", n=report.version), "success")
        return redirect(_detail_url(s, "weekly"))
    return _show(s, form_status(form), report_form=form)


@bp.route("/<int:secondment_id>/assessment", methods=["POST"])
@login_required
def add_assessment(secondment_id: int) -> ResponseReturnValue:
    s = current_scope().get_for_write(Secondment, secondment_id)
    form = AssessmentForm()
    form.window_key.choices = _window_choices(s)
    return submit_or_show(
        form,
        lambda: services.record_assessment(
            s,
            form.window_key.data or "",
            form.assessed_on.data,
            Grade(form.grade.data),
            form.assessors.data or "",
            form.comment.data or "",
        ),
        message=_("考核结果已保存。"),
        to=_detail_url(s, "assessment"),
        again=lambda: _show(s, form_status(form), assessment_form=form),
    )


@bp.route("/<int:secondment_id>/inspection", methods=["POST"])
@login_required
def add_inspection(secondment_id: int) -> ResponseReturnValue:
    s = current_scope().get_for_write(Secondment, secondment_id)
    form = InspectionForm()
    form.group_id.choices = _group_choices(s)

    def save() -> Inspection:
        group = db.session.get(WorkGroup, form.group_id.data) if form.group_id.data else None
        if form.group_id.data and group is None:
            raise SecondmentError("督查组不存在", "group_id")
        return services.record_inspection(
            s,
            group,
            form.day.data,
            form.place.data or "",
            form.present.data == "1",
            form.findings.data or "",
            form.rectification.data or "",
            form.rectify_by.data,
            current_user._get_current_object(),
        )

    return submit_or_show(
        form,
        save,
        message=_("督查记录已保存。"),
        to=_detail_url(s, "inspection"),
        again=lambda: _show(s, form_status(form), inspection_form=form),
    )


@bp.route("/inspections/<int:inspection_id>/rectified", methods=["POST"])
@login_required
def rectified(inspection_id: int) -> ResponseReturnValue:
    """整改完成: the day an inspection's finding was rectified, with a note."""
    visit = current_scope().get_for_write(Inspection, inspection_id)
    s = visit.secondment
    form = RectifiedForm()
    return submit_or_show(
        form,
        lambda: services.record_rectification(
            visit, form.rectified_on.data, form.rectified_note.data or ""
        ),
        message=_("整改完成情况已登记。"),
        to=_detail_url(s, "inspection"),
        again=lambda: _show(s, form_status(form), rectified_form=form, rectified_for=visit.id),
    )


@bp.route("/<int:secondment_id>/complaint", methods=["POST"])
@login_required
def add_complaint(secondment_id: int) -> ResponseReturnValue:
    """Staff type in a complaint received by phone, letter or in person."""
    s = current_scope().get_for_write(Secondment, secondment_id)
    form = ComplaintForm()
    return submit_or_show(
        form,
        lambda: services.file_complaint(
            s,
            form.content.data or "",
            form.name.data or "",
            form.contact.data or "",
            "staff",
            None,
            load_calendar(),
        ),
        aliases={"name": "name", "contact": "contact"},
        message=_("举报已登记。"),
        to=_detail_url(s, "complaint"),
        again=lambda: _show(s, form_status(form), complaint_form=form),
    )


@bp.route("/<int:secondment_id>/result", methods=["POST"])
@login_required
def add_result(secondment_id: int) -> ResponseReturnValue:
    s = current_scope().get_for_write(Secondment, secondment_id)
    form = ResultForm()
    return submit_or_show(
        form,
        lambda: services.add_result(
            s,
            ResultKind(form.kind.data),
            form.day.data,
            form.title.data or "",
            form.detail.data or "",
        ),
        message=_("工作成效已保存。"),
        to=_detail_url(s, "results"),
        again=lambda: _show(s, form_status(form), result_form=form),
    )


@bp.route("/<int:secondment_id>/end", methods=["POST"])
@login_required
def end(secondment_id: int) -> ResponseReturnValue:
    s = current_scope().get_for_write(Secondment, secondment_id)
    current_scope().require_admin()
    form = EndForm()
    return submit_or_show(
        form,
        lambda: services.end_secondment(
            s,
            form.actual_end_on.data,
            Outcome(form.outcome.data) if form.outcome.data else None,
            form.outcome_decision.data or "",
            form.outcome_on.data,
        ),
        message=_("挂职已结束，使用结果已记录。"),
        to=_detail_url(s, "end"),
        again=lambda: _show(s, form_status(form), end_form=form),
    )


@bp.route("/complaints/<int:complaint_id>", methods=["GET", "POST"])
@login_required
def complaint(complaint_id: int) -> ResponseReturnValue:
    """One complaint and its handling; the complainant only for the assessment office."""
    scope = current_scope()
    c = scope.get_or_404(Complaint, complaint_id)
    if request.method == "POST":
        scope.require_write(c.region_id)
    form = CloseComplaintForm(closed_on=clock.today())
    done = submit(
        form,
        lambda: services.close_complaint(
            c, form.outcome.data or "", form.reply.data or "", form.closed_on.data
        ),
    )
    if done is not None:
        flash(_("举报已办结。"), "success")
        return redirect(url_for("secondment.complaint", complaint_id=c.id))
    return render_form(
        "secondment/complaint.html",
        form,
        c=c,
        identity=services.sees_identity(current_user._get_current_object(), c),
    )


def _publication(region: Region, public: bool) -> ResponseReturnValue:
    """周报公示 of one receiving unit for ``?week=`` (default: last week), public fields only."""
    today = clock.today()
    monday = week_start(_date_arg("week", week_start(today) - timedelta(days=7)))
    return render_template(
        "secondment/publication.html",
        region=region,
        monday=monday,
        reports=services.publication(region.id, monday),
        fields=PUBLIC_FIELDS,
        field_labels=PUBLIC_FIELD_LABELS,
        public=public,
        prev_week=monday - timedelta(days=7),
        next_week=monday + timedelta(days=7),
        this_week=week_start(today),
    )


@bp.route("/units/<int:region_id>/publication")
@login_required
def publication(region_id: int) -> ResponseReturnValue:
    """周报公示 of a receiving unit in scope (the staff's view of what the public sees)."""
    return _publication(current_scope().get_or_404(Region, region_id), public=False)


@bp.route("/gs/<token>")
def public_publication(token: str) -> ResponseReturnValue:
    """周报公示 without login: the week's reports of the unit that received the cadre whose
    QR code (``public_token``) was scanned — the fields marked public, nothing else.

    Flood-limited per sender like the complaint form (429 over the limit).
    """
    if over_limit(
        "secondment_publication", current_settings().rules.secondment_publication_per_10_minutes
    ):
        return render_template("secondment/limited.html"), 429
    s = db.session.scalar(select(Secondment).where(Secondment.public_token == token[:32]))
    if s is None:
        abort(404)
    region = db.session.get(Region, s.region_id)
    assert region is not None
    return _publication(region, public=True)


# --- the public complaint form ------------------------------------------------------------


@bp.route("/p/<token>", methods=["GET", "POST"])
def public_complaint(token: str) -> ResponseReturnValue:
    """监督举报 without login: one cadre's form (QR code at the receiving unit).

    It shows the cadre's name and post only, never another complaint.
    """
    s = db.session.scalar(select(Secondment).where(Secondment.public_token == token[:32]))
    if s is None:
        abort(404)
    form = ComplaintForm()
    done = submit(
        form,
        lambda: services.file_complaint(
            s,
            form.content.data or "",
            form.name.data or "",
            form.contact.data or "",
            "public",
            sender_hash(),
            load_calendar(),
        ),
    )
    if done is not None:  # the boundary commits this anonymous write (a redirect)
        return redirect(url_for("secondment.public_complaint", token=token, sent=1))
    status = 429 if any("频繁" in e for e in form.form_errors) else form_status(form)
    sent = request.method == "GET" and request.args.get("sent") == "1"
    return render_template("secondment/public.html", s=s, form=form, sent=sent), status


# --- batches and selection (the organization department) ------------------------------


@bp.route("/batches")
@login_required
def batches() -> ResponseReturnValue:
    return _batches_page(BatchForm(formdata=None, year=clock.today().year))


def _batches_page(form: BatchForm, failed: int | None = None) -> ResponseReturnValue:
    """The batch list with a new-batch form per county; ``failed``: the county whose form
    comes back with its errors beside the fields and what was typed (422)."""
    page = paginate(_batches_stmt())
    counties = list(
        db.session.scalars(
            current_scope()
            .select(Region)
            .where(Region.level.in_([RegionLevel.county, RegionLevel.city]))
            .order_by(Region.path)
        )
    )
    blank = form if failed is None else BatchForm(formdata=None, year=clock.today().year)
    return render_template(
        "secondment/batches.html",
        page=page,
        counties=counties,
        form=blank,
        failed_form=form,
        failed=failed,
    ), (422 if failed is not None else 200)


@bp.route("/batches.xlsx")
@login_required
def batches_xlsx() -> ResponseReturnValue:
    return _export(BATCHES.title, BATCHES.columns, BATCHES.stmt())


@bp.route("/batches/<int:batch_id>/candidates.xlsx")
@login_required
def candidates_xlsx(batch_id: int) -> ResponseReturnValue:
    """The candidates of a batch with their checks and any veto (人选名册)."""
    b = current_scope().get_or_404(Batch, batch_id)
    stmt = select(Candidate).where(Candidate.batch_id == b.id).order_by(Candidate.id)
    return _export(f"{b.name}人选名册", CANDIDATE_COLUMNS, stmt)


@bp.route("/batches/new/<int:region_id>", methods=["POST"])
@login_required
def new_batch(region_id: int) -> ResponseReturnValue:
    region = current_scope().get_or_404(Region, region_id)
    current_scope().require_admin(region.id)
    form = BatchForm()
    done = submit(
        form,
        lambda: services.create_batch(
            region, form.year.data or 0, form.name.data or "", form.purpose.data or ""
        ),
    )
    if done is not None:
        flash(_("挂职批次已建立。"), "success")
        return redirect(url_for("secondment.batch", batch_id=done.value.id))
    return _batches_page(form, failed=region.id)


def _townships(batch: Batch) -> list[Region]:
    region = db.session.get(Region, batch.region_id)
    assert region is not None
    return list(
        db.session.scalars(
            select(Region)
            .where(in_subtree(region.path), Region.level == RegionLevel.township)
            .order_by(Region.path)
        )
    )


def _receiving(batch: Batch) -> list[SelectChoice]:
    region = db.session.get(Region, batch.region_id)
    assert region is not None
    rows = db.session.scalars(
        select(Region)
        .where(
            in_subtree(region.path),
            Region.level.in_([RegionLevel.township, RegionLevel.village]),
        )
        .order_by(Region.path)
    )
    return [SelectChoice(r.id, r.name) for r in rows]


def _batch_page(batch: Batch, status: int = 200, **given: Any) -> ResponseReturnValue:
    forms: dict[str, Any] = {
        "group_form": GroupForm(formdata=None),
        "candidate_form": CandidateForm(formdata=None),
        "checks_form": ChecksForm(formdata=None),
        "veto_form": VetoForm(formdata=None),
        "complete_form": CompleteForm(formdata=None, selection_completed_on=clock.today()),
        "second_form": SecondForm(formdata=None),
    }
    forms.update(given)
    forms["group_form"].covered.choices = [SelectChoice(t.id, t.name) for t in _townships(batch)]
    forms["second_form"].region_id.choices = _receiving(batch)
    candidates = list(
        db.session.scalars(
            select(Candidate).where(Candidate.batch_id == batch.id).order_by(Candidate.id)
        )
    )
    seconded = {
        s.candidate_id: s
        for s in db.session.scalars(select(Secondment).where(Secondment.batch_id == batch.id))
    }
    return (
        render_template(
            "secondment/batch.html",
            batch=batch,
            candidates=candidates,
            seconded=seconded,
            group_labels=GROUP_KIND_LABELS,
            **forms,
        ),
        status,
    )


@bp.route("/batches/<int:batch_id>")
@login_required
def batch(batch_id: int) -> ResponseReturnValue:
    return _batch_page(current_scope().get_or_404(Batch, batch_id))


def _admin_batch(batch_id: int) -> Batch:
    b = current_scope().get_or_404(Batch, batch_id)
    current_scope().require_admin(b.region_id)
    return b


def _admin_candidate(candidate_id: int) -> Candidate:
    c = current_scope().get_or_404(Candidate, candidate_id)
    current_scope().require_admin(c.region_id)
    return c


def _members(text: str) -> list[tuple[str, str, int | None]]:
    """``姓名 职务 [@账号]`` per line; an account must exist."""
    out: list[tuple[str, str, int | None]] = []
    for line in (text or "").splitlines():
        parts = line.split()
        if not parts:
            continue
        user_id = None
        if parts[-1].startswith("@"):
            username = parts.pop()[1:]
            user = db.session.scalar(select(User).where(User.username == username))
            if user is None:
                raise SecondmentError(f"账号“{username}”不存在", "members")
            user_id = user.id
        if not parts:
            raise SecondmentError("每行须先写姓名", "members")
        out.append((parts[0], " ".join(parts[1:])[:64], user_id))
    return out


@bp.route("/batches/<int:batch_id>/groups", methods=["POST"])
@login_required
def add_group(batch_id: int) -> ResponseReturnValue:
    b = _admin_batch(batch_id)
    form = GroupForm()
    form.covered.choices = [SelectChoice(t.id, t.name) for t in _townships(b)]

    def save() -> WorkGroup:
        wanted = set(form.covered.data or [])
        covered = [t for t in _townships(b) if t.id in wanted]
        return services.add_group(
            b, GroupKind(form.kind.data), form.name.data or "", _members(form.members.data), covered
        )

    return submit_or_show(
        form,
        save,
        message=_("已添加。"),
        to=url_for("secondment.batch", batch_id=b.id),
        again=lambda: _batch_page(b, form_status(form), group_form=form),
    )


@bp.route("/batches/<int:batch_id>/candidates", methods=["POST"])
@login_required
def add_candidate(batch_id: int) -> ResponseReturnValue:
    b = _admin_batch(batch_id)
    form = CandidateForm()
    return submit_or_show(
        form,
        lambda: services.propose_candidate(
            b,
            form.name.data or "",
            form.rank.data or "",
            form.sending_unit.data or "",
            PostType(form.post_type.data),
        ),
        message=_("人选已提名。"),
        to=url_for("secondment.batch", batch_id=b.id),
        again=lambda: _batch_page(b, form_status(form), candidate_form=form),
    )


@bp.route("/batches/<int:batch_id>/complete", methods=["POST"])
@login_required
def complete(batch_id: int) -> ResponseReturnValue:
    b = _admin_batch(batch_id)
    form = CompleteForm()
    return submit_or_show(
        form,
        lambda: services.complete_selection(b, form.selection_completed_on.data),
        message=_("选拔已完成，可以派出挂职。"),
        to=url_for("secondment.batch", batch_id=b.id),
        again=lambda: _batch_page(b, form_status(form), complete_form=form),
    )


@bp.route("/candidates/<int:candidate_id>/checks", methods=["POST"])
@login_required
def checks(candidate_id: int) -> ResponseReturnValue:
    c = _admin_candidate(candidate_id)
    form = ChecksForm()
    return submit_or_show(
        form,
        lambda: services.record_checks(
            c,
            form.discipline_checked_on.data,
            form.discipline_checked_by.data or "",
            form.legal_checked_on.data,
            form.legal_checked_by.data or "",
        ),
        message=_("审查情况已登记。"),
        to=url_for("secondment.batch", batch_id=c.batch_id),
        again=lambda: _batch_page(c.batch, form_status(form), checks_form=form),
    )


@bp.route("/candidates/<int:candidate_id>/veto", methods=["POST"])
@login_required
def veto(candidate_id: int) -> ResponseReturnValue:
    c = _admin_candidate(candidate_id)
    form = VetoForm()
    return submit_or_show(
        form,
        lambda: services.veto(
            c, form.veto_reason.data or "", form.veto_source.data or "", form.veto_on.data
        ),
        message=_("已一票否决，原因已记录。"),
        category="warning",
        to=url_for("secondment.batch", batch_id=c.batch_id),
        again=lambda: _batch_page(c.batch, form_status(form), veto_form=form),
    )


@bp.route("/candidates/<int:candidate_id>/select", methods=["POST"])
@login_required
def select_candidate(candidate_id: int) -> ResponseReturnValue:
    c = _admin_candidate(candidate_id)
    perform(lambda: services.select_candidate(c), _("人选已确定。"))
    return redirect(url_for("secondment.batch", batch_id=c.batch_id))


@bp.route("/candidates/<int:candidate_id>/second", methods=["POST"])
@login_required
def second(candidate_id: int) -> ResponseReturnValue:
    c = _admin_candidate(candidate_id)
    form = SecondForm()
    form.region_id.choices = _receiving(c.batch)

    def save() -> Secondment:
        region = db.session.get(Region, form.region_id.data)
        if region is None or not current_scope().contains_region(region):
            raise SecondmentError("请选择接收乡镇或村", "region_id")
        user_id = None
        if form.cadre_username.data:
            user = db.session.scalar(select(User).where(User.username == form.cadre_username.data))
            if user is None or user.region_id != region.id:
                raise SecondmentError("挂职干部的账号应属于接收单位", "cadre_username")
            user_id = user.id
        return services.create_secondment(
            c,
            region,
            services.SecondmentInput(
                receiving_unit=form.receiving_unit.data or "",
                post=form.post.data or "",
                post_type=PostType(form.post_type.data),
                start_on=form.start_on.data,
                planned_end_on=form.planned_end_on.data,
                joint_management=form.joint_management.data or "",
                guarantee_given=bool(form.guarantee_given.data),
                guarantee_on=form.guarantee_on.data,
                guarantee_note=form.guarantee_note.data or "",
                user_id=user_id,
            ),
        )

    done = submit(form, save)
    if done is not None:
        flash(_("已派出挂职。"), "success")
        return redirect(url_for("secondment.detail", secondment_id=done.value.id))
    return _batch_page(c.batch, form_status(form), second_form=form)
