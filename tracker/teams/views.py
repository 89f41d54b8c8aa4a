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
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms.fields.choices import SelectChoice

from tracker import clock, xlsx
from tracker.calendar_service import load_calendar
from tracker.extensions import db
from tracker.models import Member, Region, RegionLevel, VillageCadre
from tracker.models.regions import subtree_ids
from tracker.org.versions import versions_of
from tracker.scope import current_scope
from tracker.teams import excel
from tracker.teams.duty_views import bp as duty_bp
from tracker.teams.forms import (
    AssessmentForm,
    CadreAssessmentForm,
    FillForm,
    ImportForm,
    RecallStepForm,
    ReserveForm,
    StatusForm,
    VacateForm,
)
from tracker.teams.models import (
    CAUSE_LABELS,
    GRADE_LABELS,
    OUTCOME_LABELS,
    SOURCE_LABELS,
    STATUS_LABELS,
    TRACK_LABELS,
    CadreAssessment,
    Grade,
    PostVacancy,
    RecallCase,
    RecallOutcome,
    RecallStep,
    ReserveCadre,
    ReserveSource,
    ReserveStatus,
    ReserveTrack,
    VacancyCause,
)
from tracker.teams.posts import (
    fill_vacancy,
    filled_late,
    is_overdue,
    post_history,
    reserves_available,
    vacancies_stmt,
    vacate_post,
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
from tracker.web import form_status, paginate, submit

bp = Blueprint("teams", __name__, url_prefix="/teams")
# 设岗定责 and 一诺三联四帮 pages (tracker.teams.duty_views): ``teams.duty.*`` under /teams.
bp.register_blueprint(duty_bp)

# Value labels of the team registers for the version lists (codes → Chinese).
VERSION_VALUES: dict[str, dict[str, str]] = {
    "source": {k.value: v for k, v in SOURCE_LABELS.items()},
    "track": {k.value: v for k, v in TRACK_LABELS.items()},
    "status": {k.value: v for k, v in STATUS_LABELS.items()},
    "grade": {k.value: v for k, v in GRADE_LABELS.items()},
    "outcome": {k.value: v for k, v in OUTCOME_LABELS.items()},
    "cause": {k.value: v for k, v in CAUSE_LABELS.items()},
}


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
    return _village_page(region_id, ImportForm())


def _village_page(region_id: int, import_form: ImportForm) -> ResponseReturnValue:
    """The village's reserve cadres; ``import_form`` with its errors beside the file field
    when an import was refused (422)."""
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
        import_form=import_form,
    ), form_status(import_form)


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
        versions=versions_of("reserve_cadre", reserve.id, VERSION_VALUES),
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
    versions = versions_of("reserve_cadre", reserve.id, VERSION_VALUES)
    page = render_template(
        "teams/detail.html", reserve=reserve, region=region, versions=versions, **kwargs
    )
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
    done = submit(
        form,
        lambda: import_reserves(region, excel.read_rows(form.file.data.stream)),
        default="file",
    )
    if done is None:  # the refusal beside the file field, on the village's page
        return _village_page(region.id, form)
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
        versions=versions_of("recall_case", case.id, VERSION_VALUES),
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
    versions = versions_of("recall_case", step.case_id, VERSION_VALUES)
    page = render_template(
        "teams/recall.html", case=step.case, form=form, today=clock.today(), versions=versions
    )
    return page, form_status(form)


# ---------------------------------------------------------------- posts: vacancies and history


@bp.route("/cadre-posts/v/<int:region_id>", methods=["GET", "POST"])
@login_required
def posts(region_id: int) -> ResponseReturnValue:
    """A village's posts: who held each when, open vacancies; POST vacates a post."""
    scope = current_scope()
    region, _branch = scope.get_village_branch(region_id)
    if request.method == "POST":
        scope.require_write(region.id)
    serving = db.session.scalars(
        select(VillageCadre)
        .where(
            VillageCadre.region_id == region.id,
            VillageCadre.until.is_(None),
            VillageCadre.reserve.is_(False),
        )
        .order_by(VillageCadre.id)
    ).all()
    form = VacateForm()
    form.cadre_id.choices = [SelectChoice(c.id, f"{c.name}（{c.post}）") for c in serving]
    if request.method == "GET":
        form.vacated_on.data = clock.today()

    def save() -> PostVacancy:
        cadre = next((c for c in serving if c.id == form.cadre_id.data), None)
        if cadre is None:
            raise TeamError(gettext("请选择本村在任村干部"), "cadre_id")
        return vacate_post(
            cadre,
            form.vacated_on.data,
            VacancyCause(form.cause.data),
            form.reason.data or "",
            load_calendar(),
        )

    done = submit(form, save)
    if done is not None:
        flash(gettext("岗位空缺已登记，请按期补齐。"), "success")
        return redirect(url_for("teams.vacancy", post_vacancy_id=done.value.id))
    today = clock.today()
    return (
        render_template(
            "teams/posts.html",
            region=region,
            form=form,
            history=post_history(region),
            today=today,
            is_overdue=is_overdue,
            filled_late=filled_late,
        ),
        form_status(form),
    )


@bp.route("/vacancies")
@login_required
def vacancies() -> ResponseReturnValue:
    """Vacant posts in scope, open ones first (``?open=1`` only open ones)."""
    scope = current_scope()
    open_only = request.args.get("open") == "1"
    stmt = vacancies_stmt(scope.region_ids(), open_only=open_only).order_by(
        PostVacancy.filled_on.is_not(None), PostVacancy.due_on, PostVacancy.id
    )
    page = paginate(stmt)
    names = dict(
        db.session.execute(
            select(Region.id, Region.name).where(Region.id.in_({v.region_id for v in page.items}))
        ).all()
    )
    return render_template(
        "teams/vacancies.html",
        page=page,
        names=names,
        today=clock.today(),
        open_only=open_only,
        is_overdue=is_overdue,
        filled_late=filled_late,
    )


def _fill_form(vacancy: PostVacancy) -> FillForm:
    form = FillForm()
    form.reserve_id.choices = [SelectChoice(0, gettext("（不从后备干部中任用）"))] + [
        SelectChoice(r.id, f"{r.name}（{gettext(r.track_label)}）")
        for r in reserves_available(vacancy.region_id)
    ]
    if request.method == "GET":
        form.filled_on.data = clock.today()
    return form


@bp.route("/vacancies/<int:post_vacancy_id>", methods=["GET", "POST"])
@login_required
def vacancy(post_vacancy_id: int) -> ResponseReturnValue:
    """A vacancy: its deadline, the reserves who could fill it (POST fills it), versions."""
    scope = current_scope()
    vac = scope.get_or_404(PostVacancy, post_vacancy_id)
    if request.method == "POST":
        scope.require_write(vac.region_id)
    form = _fill_form(vac)

    def save() -> VillageCadre:
        reserve = None
        if form.reserve_id.data:
            reserve = db.session.get(ReserveCadre, form.reserve_id.data)
            if reserve is None or reserve.region_id != vac.region_id:
                raise TeamError(gettext("所选后备干部不在本村后备干部库中"), "reserve_id")
        return fill_vacancy(
            vac,
            form.filled_on.data,
            reserve=reserve,
            name=form.name.data or "",
            note=form.fill_note.data or "",
        )

    done = submit(form, save)
    if done is not None:
        flash(gettext("岗位已补齐。"), "success")
        return redirect(url_for("teams.vacancy", post_vacancy_id=vac.id))
    region = db.session.get(Region, vac.region_id)
    return (
        render_template(
            "teams/vacancy.html",
            vacancy=vac,
            region=region,
            form=form,
            today=clock.today(),
            overdue=is_overdue(vac, clock.today()),
            late=filled_late(vac),
            versions=versions_of("post_vacancy", vac.id, VERSION_VALUES),
        ),
        form_status(form),
    )


# ---------------------------------------------------------------- recall cases: list, export, print


def _recall_cases(region: Region) -> list[RecallCase]:
    scope = current_scope()
    return list(
        db.session.scalars(
            scope.filter(select(RecallCase), RecallCase)
            .where(RecallCase.region_id.in_(subtree_ids(region.path)))
            .options(
                selectinload(RecallCase.assessment).selectinload(CadreAssessment.cadre),
                selectinload(RecallCase.steps),
            )
            .order_by(RecallCase.opened_on, RecallCase.id)
        )
    )


def _recall_region() -> Region:
    scope = current_scope()
    region_id = request.args.get("region_id", type=int)
    if region_id is None:
        return scope.get_or_404(Region, current_user.region_id)
    return scope.get_or_404(Region, region_id)


RECALL_COLUMNS = [
    "序号",
    "村（社区）",
    "姓名",
    "职务",
    "考核年度",
    "考核等次",
    "决定机关",
    "启动日期",
    "召回原因",
    "召回谈话",
    "教育培训",
    "考核",
    "处理结果",
    "结案日期",
]


def _step_text(case: RecallCase, position: int) -> str:
    step = next((s for s in case.steps if s.position == position), None)
    if step is None:
        return ""
    if step.done_on:
        return f"{step.done_on:%Y-%m-%d} 完成" + (f"：{step.note}" if step.note else "")
    return f"期限 {step.due_on:%Y-%m-%d}，未完成"


@bp.route("/recalls/export.xlsx")
@login_required
def export_recalls() -> ResponseReturnValue:
    """Recall cases (召回) of a region's subtree in the columns of the paper ledger."""
    from tracker.formatting import excel_formats

    region = _recall_region()
    cases = _recall_cases(region)
    names = dict(
        db.session.execute(
            select(Region.id, Region.name).where(Region.id.in_({c.region_id for c in cases}))
        ).all()
    )
    wb, ws = xlsx.new_workbook("召回台账")
    xlsx.title(ws, f"{region.name} 不胜任村干部召回台账", span=len(RECALL_COLUMNS))
    xlsx.header(ws, RECALL_COLUMNS)
    for i, c in enumerate(cases, start=1):
        a = c.assessment
        xlsx.append(
            ws,
            [
                i,
                names.get(c.region_id, ""),
                a.cadre.name,
                a.cadre.post,
                a.year,
                a.grade_label,
                c.decided_by,
                c.opened_on,
                c.reason,
                _step_text(c, 0),
                _step_text(c, 1),
                _step_text(c, 2),
                c.outcome_label or "未结案",
                c.closed_on,
            ],
        )
    excel_formats(ws.iter_rows(min_row=3))
    xlsx.widths(ws, [6, 12, 10, 12, 8, 10, 12, 12, 30, 24, 24, 24, 10, 12])
    return xlsx.response(xlsx.to_bytes(wb), f"{region.name}-召回台账.xlsx")


@bp.route("/recalls/print")
@login_required
def print_recalls() -> ResponseReturnValue:
    """Recall cases of a region's subtree on A4 (landscape), as the township files them."""
    region = _recall_region()
    cases = _recall_cases(region)
    names = dict(
        db.session.execute(
            select(Region.id, Region.name).where(Region.id.in_({c.region_id for c in cases}))
        ).all()
    )
    return render_template(
        "teams/recall_print.html",
        region=region,
        cases=cases,
        names=names,
        today=clock.today(),
    )
