"""Pages of the reserve-cadre register: villages vs target, a village's list, form, detail,
print view, Excel export and import.

Thin: forms go through :func:`tracker.web.submit`, other writes through
:func:`tracker.web.perform`; the request boundary commits. Every object comes
through the scope.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, send_file, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_login import login_required
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from tracker import clock
from tracker.calendar_service import load_calendar
from tracker.extensions import db
from tracker.models import Member, Region, RegionLevel, VillageCadre
from tracker.scope import current_scope
from tracker.teams import excel
from tracker.teams.duty_views import bp as duty_bp
from tracker.teams.forms import (
    AssessmentForm,
    CadreAssessmentForm,
    ImportForm,
    RecallStepForm,
    ReserveForm,
    StatusForm,
)
from tracker.teams.models import (
    CadreAssessment,
    Grade,
    RecallCase,
    RecallOutcome,
    RecallStep,
    ReserveCadre,
    ReserveSource,
    ReserveStatus,
    ReserveTrack,
)
from tracker.teams.recall import assess_cadre, record_step
from tracker.teams.services import (
    ReserveInput,
    TeamError,
    add_assessment,
    change_status,
    create_reserve,
    import_reserves,
    reserve_figures,
    update_reserve,
)
from tracker.web import form_status, paginate, perform, submit

bp = Blueprint("teams", __name__, url_prefix="/teams")
# 设岗定责 and 一诺三联四帮 pages (tracker.teams.duty_views): ``teams.duty.*`` under /teams.
bp.register_blueprint(duty_bp)


@bp.route("/reserves")
@login_required
def index() -> ResponseReturnValue:
    """Villages in scope with reserve cadres in cultivation against the "2+5" targets."""
    scope = current_scope()
    page = paginate(
        scope.select(Region).where(Region.level == RegionLevel.village).order_by(Region.path)
    )
    figures = reserve_figures([v.id for v in page.items])
    return render_template("teams/index.html", page=page, figures=figures)


def _village_reserves(region_id: int) -> tuple[Region, Any]:
    region, _branch = current_scope().get_village_branch(region_id)
    stmt = current_scope().filter(
        select(ReserveCadre).where(ReserveCadre.region_id == region.id), ReserveCadre
    )
    return region, stmt


@bp.route("/reserves/v/<int:region_id>")
@login_required
def village(region_id: int) -> ResponseReturnValue:
    region, stmt = _village_reserves(region_id)
    status = request.args.get("status", "")
    if status in ReserveStatus.__members__:
        stmt = stmt.where(ReserveCadre.status == ReserveStatus(status))
    page = paginate(stmt.order_by(ReserveCadre.track, ReserveCadre.entered_on))
    return render_template(
        "teams/village.html",
        region=region,
        page=page,
        fig=reserve_figures([region.id])[region.id],
        status=status,
        import_form=ImportForm(),
    )


@bp.route("/reserves/v/<int:region_id>/print")
@login_required
def print_view(region_id: int) -> ResponseReturnValue:
    """The village's register on A4 (landscape), as the township files it."""
    region, stmt = _village_reserves(region_id)
    reserves = db.session.scalars(stmt.order_by(ReserveCadre.track, ReserveCadre.entered_on)).all()
    return render_template(
        "teams/print.html",
        region=region,
        reserves=reserves,
        fig=reserve_figures([region.id])[region.id],
        today=clock.today(),
    )


def _member_choices(form: ReserveForm, region: Region) -> None:
    members = db.session.scalars(
        select(Member).where(Member.region_id == region.id).order_by(Member.name)
    ).all()
    form.member_id.choices = [SelectChoice(0, gettext("（非党员/不在名册）"))] + [
        SelectChoice(m.id, m.name) for m in members
    ]


def _input(form: ReserveForm) -> ReserveInput:
    return ReserveInput(
        name=form.name.data or "",
        source=ReserveSource(form.source.data),
        track=ReserveTrack(form.track.data),
        entered_on=form.entered_on.data,
        member_id=form.member_id.data or None,
        mentor=form.mentor.data or "",
        plan=form.plan.data or "",
    )


@bp.route("/reserves/v/<int:region_id>/new", methods=["GET", "POST"])
@login_required
def new(region_id: int) -> ResponseReturnValue:
    region, _branch = current_scope().get_village_branch(region_id)
    current_scope().require_write(region.id)
    form = ReserveForm()
    _member_choices(form, region)
    if request.method == "GET":
        form.entered_on.data = clock.today()
    done = submit(form, lambda: create_reserve(region, _input(form)))
    if done is not None:
        flash(gettext("后备干部已入库。"), "success")
        return redirect(url_for("teams.detail", reserve_id=done.value.id))
    return (
        render_template("teams/form.html", form=form, region=region, reserve=None),
        form_status(form),
    )


@bp.route("/reserves/<int:reserve_id>")
@login_required
def detail(reserve_id: int) -> ResponseReturnValue:
    reserve = current_scope().get_or_404(ReserveCadre, reserve_id)
    region = db.session.get(Region, reserve.region_id)
    return render_template(
        "teams/detail.html",
        reserve=reserve,
        region=region,
        assess_form=AssessmentForm(formdata=None, assessed_on=clock.today()),
        status_form=StatusForm(formdata=None, status_on=clock.today()),
    )


@bp.route("/reserves/<int:reserve_id>/edit", methods=["GET", "POST"])
@login_required
def edit(reserve_id: int) -> ResponseReturnValue:
    reserve = current_scope().get_for_write(ReserveCadre, reserve_id)
    region = db.session.get(Region, reserve.region_id)
    assert region is not None
    form = ReserveForm(obj=reserve if request.method == "GET" else None)
    _member_choices(form, region)
    if request.method == "GET":
        form.member_id.data = reserve.member_id or 0
        form.source.data = reserve.source.value
        form.track.data = reserve.track.value
    if submit(form, lambda: update_reserve(reserve, _input(form))) is not None:
        flash(gettext("后备干部信息已修改。"), "success")
        return redirect(url_for("teams.detail", reserve_id=reserve.id))
    return (
        render_template("teams/form.html", form=form, region=region, reserve=reserve),
        form_status(form),
    )


def _detail_again(reserve: ReserveCadre, **forms: object) -> ResponseReturnValue:
    region = db.session.get(Region, reserve.region_id)
    kwargs = {
        "assess_form": AssessmentForm(formdata=None, assessed_on=clock.today()),
        "status_form": StatusForm(formdata=None, status_on=clock.today()),
        **forms,
    }
    page = render_template("teams/detail.html", reserve=reserve, region=region, **kwargs)
    return page, 422


@bp.route("/reserves/<int:reserve_id>/assess", methods=["POST"])
@login_required
def assess(reserve_id: int) -> ResponseReturnValue:
    reserve = current_scope().get_for_write(ReserveCadre, reserve_id)
    form = AssessmentForm()
    done = submit(
        form,
        lambda: add_assessment(
            reserve, form.assessed_on.data, form.assessor.data or "", form.result.data or ""
        ),
    )
    if done is not None:
        flash(gettext("考察记录已保存。"), "success")
        return redirect(url_for("teams.detail", reserve_id=reserve.id))
    return _detail_again(reserve, assess_form=form)


@bp.route("/reserves/<int:reserve_id>/status", methods=["POST"])
@login_required
def status(reserve_id: int) -> ResponseReturnValue:
    reserve = current_scope().get_for_write(ReserveCadre, reserve_id)
    form = StatusForm()
    done = submit(
        form,
        lambda: change_status(
            reserve,
            ReserveStatus(form.status.data),
            form.status_on.data,
            form.status_reason.data or "",
        ),
    )
    if done is not None:
        flash(gettext("状态已变更。"), "success")
        return redirect(url_for("teams.detail", reserve_id=reserve.id))
    return _detail_again(reserve, status_form=form)


@bp.route("/reserves/v/<int:region_id>/export.xlsx")
@login_required
def export(region_id: int) -> ResponseReturnValue:
    region, stmt = _village_reserves(region_id)
    reserves = db.session.scalars(stmt.order_by(ReserveCadre.track, ReserveCadre.entered_on)).all()
    return send_file(
        excel.workbook(region, reserves),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        as_attachment=True,
        download_name=f"{region.name}-后备干部台账.xlsx",
    )


@bp.route("/reserves/v/<int:region_id>/import", methods=["POST"])
@login_required
def import_xlsx(region_id: int) -> ResponseReturnValue:
    """Enter the rows of a sheet in the export's columns — all of them, or none."""
    region, _branch = current_scope().get_village_branch(region_id)
    current_scope().require_write(region.id)
    form = ImportForm()
    if not form.validate_on_submit():
        flash(gettext("请选择 .xlsx 文件。"), "danger")
    else:
        done = perform(lambda: import_reserves(region, excel.read_rows(form.file.data.stream)))
        if done is not None:
            flash(gettext("已导入 %(n)s 名后备干部。", n=done.value), "success")
    return redirect(url_for("teams.village", region_id=region.id))


@bp.route("/cadres/v/<int:region_id>", methods=["GET", "POST"])
@login_required
def cadres(region_id: int) -> ResponseReturnValue:
    """A village's cadres with their yearly grades, the assessment form and recall cases."""
    scope = current_scope()
    region, _branch = scope.get_village_branch(region_id)
    if request.method == "POST":
        scope.require_write(region.id)
    serving = db.session.scalars(
        scope.filter(select(VillageCadre), VillageCadre)
        .where(VillageCadre.region_id == region.id, VillageCadre.until.is_(None))
        .order_by(VillageCadre.id)
    ).all()
    form = CadreAssessmentForm()
    form.cadre_id.choices = [SelectChoice(c.id, f"{c.name}（{c.post}）") for c in serving]
    if request.method == "GET":
        form.year.data = clock.today().year - 1
        form.decided_on.data = clock.today()

    def save() -> CadreAssessment:
        cadre = next((c for c in serving if c.id == form.cadre_id.data), None)
        if cadre is None:
            raise TeamError(gettext("请选择本村在任村干部"), "cadre_id")
        return assess_cadre(
            cadre,
            form.year.data or 0,
            Grade(form.grade.data),
            form.decided_by.data or "",
            form.decided_on.data,
            load_calendar(),
            form.note.data or "",
        )

    done = submit(form, save)
    if done is not None:
        flash(gettext("考核结果已保存。"), "success")
        return redirect(url_for("teams.cadres", region_id=region.id))
    assessments = db.session.scalars(
        scope.filter(select(CadreAssessment), CadreAssessment)
        .where(CadreAssessment.region_id == region.id)
        .order_by(CadreAssessment.year.desc(), CadreAssessment.id)
    ).all()
    cases = {
        c.assessment_id: c
        for c in db.session.scalars(
            scope.filter(select(RecallCase), RecallCase).where(RecallCase.region_id == region.id)
        )
    }
    return (
        render_template(
            "teams/cadres.html", region=region, form=form, assessments=assessments, cases=cases
        ),
        form_status(form),
    )


@bp.route("/recalls/<int:case_id>")
@login_required
def recall_case(case_id: int) -> ResponseReturnValue:
    case = current_scope().get_or_404(RecallCase, case_id)
    return render_template(
        "teams/recall.html",
        case=case,
        form=RecallStepForm(formdata=None, done_on=clock.today()),
        today=clock.today(),
    )


@bp.route("/recalls/steps/<int:step_id>", methods=["POST"])
@login_required
def recall_step(step_id: int) -> ResponseReturnValue:
    step = current_scope().get_for_write(RecallStep, step_id)
    form = RecallStepForm()
    done = submit(
        form,
        lambda: record_step(
            step,
            form.done_on.data,
            form.note.data or "",
            RecallOutcome(form.outcome.data) if form.outcome.data else None,
        ),
    )
    if done is not None:
        flash(gettext("召回步骤已记录。"), "success")
        return redirect(url_for("teams.recall_case", case_id=step.case_id))
    page = render_template("teams/recall.html", case=step.case, form=form, today=clock.today())
    return page, form_status(form)
