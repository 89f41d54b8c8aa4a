"""Pages of recruitment (发展党员): the list with filters, a case's timeline, one form per
step, the A4 print view, the 发展党员工作台账 export and import.

Thin: forms go through :func:`tracker.web.submit`, the import through
:func:`tracker.web.perform`; the request boundary commits. Every object comes
through the scope.
"""

from __future__ import annotations

from decimal import Decimal

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from tracker import clock, xlsx
from tracker.calendar_service import load_calendar
from tracker.extensions import db
from tracker.meetings.services import kind_name
from tracker.models import Gender, Region
from tracker.recruitment import excel
from tracker.recruitment.figures import village_figures
from tracker.recruitment.forms import DEFAULT_BODY, STEP_FIELDS, CaseForm, ImportForm, StepForm
from tracker.recruitment.models import (
    STAGE_LABELS,
    STAGES,
    STEP_LABELS,
    RecruitCase,
    RecruitStep,
    Stage,
    StepKind,
)
from tracker.recruitment.rules import ALLOWED, OBLIGATION_LABELS, due_steps, probation_end
from tracker.recruitment.services import (
    KEPT,
    CaseFilter,
    CaseInput,
    RecruitError,
    StepInput,
    cases_stmt,
    load_steps,
    meetings_for,
    open_case,
    record_step,
    rules,
    trainings_for,
    update_case,
    villages_of,
    withdraw_step,
)
from tracker.scope import current_scope
from tracker.web import form_status, paginate, perform, submit

bp = Blueprint("recruitment", __name__, url_prefix="/recruitment")


def _filter() -> CaseFilter:
    village = request.args.get("village_id", type=int)
    stage = request.args.get("stage", "")
    return CaseFilter(
        village_id=village or None,
        stage=Stage(stage) if stage in Stage.__members__ else None,
        q=(request.args.get("q") or "").strip()[:32],
    )


@bp.route("/")
@login_required
def index() -> ResponseReturnValue:
    """Cases in scope, filtered per village and stage, each with its next steps."""
    scope = current_scope()
    flt = _filter()
    villages = villages_of(scope)
    if flt.village_id is not None and flt.village_id not in {v.id for v in villages}:
        abort(404)
    today = clock.today()
    shown = [flt.village_id] if flt.village_id else [v.id for v in villages]
    figures = village_figures(shown, today)
    stmt = cases_stmt(scope, flt)
    late = request.args.get("overdue", "")
    if late in OBLIGATION_LABELS:
        ids = [i for f in figures.values() for i in f.overdue[late]]
        stmt = stmt.where(RecruitCase.id.in_(ids))
    page = paginate(stmt)
    rule_set = rules()
    dues = {c.id: due_steps(rule_set, c.applied_on, c.steps, today) for c in page.items}
    totals = {s: sum(f.by_stage[s] for f in figures.values()) for s in STAGES[:4]}
    overdue = {k: sum(len(f.overdue[k]) for f in figures.values()) for k in OBLIGATION_LABELS}
    names = {v.id: v.name for v in villages}
    return render_template(
        "recruitment/index.html",
        page=page,
        flt=flt,
        villages=villages,
        names=names,
        dues=dues,
        totals=totals,
        overdue=overdue,
        stages=STAGES,
        stage_labels=STAGE_LABELS,
        obligation_labels=OBLIGATION_LABELS,
        import_form=ImportForm(),
    )


def _case_input(form: CaseForm) -> CaseInput:
    return CaseInput(
        name=form.name.data or "",
        applied_on=form.applied_on.data,
        gender=Gender(form.gender.data) if form.gender.data else None,
        birth_date=form.birth_date.data,
        phone=form.phone.data,
        occupation=form.occupation.data,
        education=form.education.data or None,
        note=form.note.data,
    )


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new() -> ResponseReturnValue:
    """入党申请: open a case for a person of a village in scope."""
    scope = current_scope()
    villages = villages_of(scope)
    form = CaseForm()
    form.region_id.choices = [SelectChoice(v.id, v.name) for v in villages]
    if request.method == "GET":
        form.applied_on.data = clock.today()
        form.region_id.data = request.args.get("village_id", type=int)

    def save() -> RecruitCase:
        if form.region_id.data not in {v.id for v in villages}:
            raise RecruitError(gettext("请选择所在村"), "region_id")
        _region, branch = scope.get_village_branch(form.region_id.data)
        scope.require_write(branch.region_id)
        return open_case(branch, _case_input(form), current_user.id)

    done = submit(form, save)
    if done is not None:
        flash(gettext("入党申请已登记。"), "success")
        return redirect(url_for("recruitment.detail", recruit_case_id=done.value.id))
    return render_template("recruitment/form.html", form=form, case=None), form_status(form)


def _detail_context(case: RecruitCase) -> dict[str, object]:
    steps = load_steps(case)
    rule_set = rules()
    return {
        "case": case,
        "steps": steps,
        "region": db.session.get(Region, case.region_id),
        "dues": due_steps(rule_set, case.applied_on, steps, clock.today()),
        "allowed": ALLOWED[case.stage],
        "probation_end": probation_end(rule_set, steps),
        "meeting_names": {
            s.meeting_id: kind_name(s.meeting.kind) for s in steps if s.meeting_id and s.meeting
        },
        "today": clock.today(),
        "step_labels": STEP_LABELS,
        "withdrawable": steps[-1].id if steps and steps[-1].kind not in KEPT else None,
    }


@bp.route("/<int:recruit_case_id>")
@login_required
def detail(recruit_case_id: int) -> ResponseReturnValue:
    case = current_scope().get_or_404(RecruitCase, recruit_case_id)
    return render_template("recruitment/detail.html", **_detail_context(case))


@bp.route("/<int:recruit_case_id>/print")
@login_required
def print_view(recruit_case_id: int) -> ResponseReturnValue:
    """The case on A4, as the 发展党员 file (纪实表) is kept."""
    case = current_scope().get_or_404(RecruitCase, recruit_case_id)
    return render_template("recruitment/print.html", **_detail_context(case))


@bp.route("/<int:recruit_case_id>/edit", methods=["GET", "POST"])
@login_required
def edit(recruit_case_id: int) -> ResponseReturnValue:
    case = current_scope().get_for_write(RecruitCase, recruit_case_id)
    form = CaseForm(obj=case if request.method == "GET" else None)
    form.region_id.choices = [SelectChoice(case.region_id, case.branch.region.name)]
    form.region_id.data = case.region_id
    if request.method == "GET":
        form.gender.data = case.gender.value if case.gender else ""
        form.education.data = case.education or ""
    form.applied_on.data = case.applied_on  # a step's date: not changed here
    if submit(form, lambda: update_case(case, _case_input(form))) is not None:
        flash(gettext("个人信息已修改。"), "success")
        return redirect(url_for("recruitment.detail", recruit_case_id=case.id))
    return render_template("recruitment/form.html", form=form, case=case), form_status(form)


def _step_kind(case: RecruitCase) -> StepKind | None:
    value = request.values.get("kind", "")
    allowed = ALLOWED[case.stage]
    if value in StepKind.__members__ and StepKind(value) in allowed:
        return StepKind(value)
    return allowed[0] if allowed and not value else None


def _step_input(form: StepForm, kind: StepKind) -> StepInput:
    names = {name for name, _label in STEP_FIELDS[kind]}

    def take(name: str) -> object:
        return getattr(form, name).data if name in names else None

    passed = take("passed")
    hours = take("hours")
    return StepInput(
        kind=kind,
        on=form.on.data,
        until=take("until"),  # type: ignore[arg-type]
        body=(take("body") or DEFAULT_BODY.get(kind)),  # type: ignore[arg-type]
        meeting_id=take("meeting_id") or None,  # type: ignore[arg-type]
        training_id=take("training_id") or None,  # type: ignore[arg-type]
        person_a=take("person_a"),  # type: ignore[arg-type]
        person_b=take("person_b"),  # type: ignore[arg-type]
        hours=Decimal(hours) if hours is not None else None,  # type: ignore[arg-type]
        passed=None if passed in (None, "") else passed == "1",
        result=take("result"),  # type: ignore[arg-type]
    )


@bp.route("/<int:recruit_case_id>/step", methods=["GET", "POST"])
@login_required
def step(recruit_case_id: int) -> ResponseReturnValue:
    """The form of one step (``?kind=``); a rule it breaks is shown beside the field."""
    scope = current_scope()
    case = scope.get_or_404(RecruitCase, recruit_case_id)
    if request.method == "POST":
        case = scope.get_for_write(RecruitCase, recruit_case_id)
    kind = _step_kind(case)
    if kind is None:
        flash(gettext("当前阶段不能记录该步骤。"), "warning")
        return redirect(url_for("recruitment.detail", recruit_case_id=case.id))
    form = StepForm()
    form.kind.data = kind.value
    for name, label in STEP_FIELDS[kind]:
        getattr(form, name).label.text = label
    form.meeting_id.choices = [SelectChoice(0, gettext("（不关联）"))] + [
        SelectChoice(
            m.id, f"{clock.local_date(m.started_at):%Y-%m-%d} {kind_name(m.kind)} · {m.place}"
        )
        for m in meetings_for(case, case.applied_on)
    ]
    form.training_id.choices = [SelectChoice(0, gettext("（不关联）"))] + [
        SelectChoice(t.id, f"{t.held_on:%Y-%m-%d} {t.title}（{t.hours} {gettext('学时')}）")
        for t in trainings_for(case, case.applied_on)
    ]
    if request.method == "GET":
        form.on.data = clock.today()
    done = submit(form, lambda: record_step(case, _step_input(form, kind), load_calendar()))
    if done is not None:
        flash(gettext("“%(step)s”已记录。", step=gettext(done.value.label)), "success")
        return redirect(url_for("recruitment.detail", recruit_case_id=case.id))
    context = _detail_context(case)
    context.update(form=form, kind=kind, fields=STEP_FIELDS[kind])
    return render_template("recruitment/step.html", **context), form_status(form)


@bp.route("/steps/<int:recruit_step_id>/withdraw", methods=["POST"])
@login_required
def withdraw(recruit_step_id: int) -> ResponseReturnValue:
    """Withdraw the latest step entered by mistake (not the admission nor 转正)."""
    step_row = current_scope().get_for_write(RecruitStep, recruit_step_id)
    case_id = step_row.case_id
    perform(lambda: withdraw_step(step_row), gettext("已撤销该步骤。"))
    return redirect(url_for("recruitment.detail", recruit_case_id=case_id))


@bp.route("/export.xlsx")
@login_required
def export() -> ResponseReturnValue:
    """发展党员工作台账 of the list's filters (every page of it)."""
    scope = current_scope()
    flt = _filter()
    # A ledger runs in the order of the applications (the import replays it in that order).
    stmt = cases_stmt(scope, flt).order_by(None).order_by(RecruitCase.applied_on, RecruitCase.id)
    cases = db.session.scalars(stmt).all()
    names = {v.id: v.name for v in villages_of(scope)}
    data = excel.workbook(cases, names)
    title = names.get(flt.village_id or 0, "")
    return xlsx.response(data, f"{title}发展党员工作台账.xlsx")


@bp.route("/import", methods=["POST"])
@login_required
def import_xlsx() -> ResponseReturnValue:
    """Enter the rows of a 发展党员工作台账 into a village — all of them, or none."""
    scope = current_scope()
    village_id = request.form.get("village_id", type=int)
    form = ImportForm()
    if village_id is None:
        flash(gettext("请选择所在村。"), "danger")
        return redirect(url_for("recruitment.index"))
    _region, branch = scope.get_village_branch(village_id)
    scope.require_write(branch.region_id)
    if not form.validate_on_submit():
        flash(gettext("请选择 .xlsx 文件。"), "danger")
    else:
        rows = form.file.data.stream.read()
        done = perform(
            lambda: excel.import_cases(
                branch, excel.read_rows(rows), load_calendar(), current_user.id
            )
        )
        if done is not None:
            flash(gettext("已导入 %(n)s 名发展对象的台账。", n=done.value), "success")
    return redirect(url_for("recruitment.index", village_id=village_id))
