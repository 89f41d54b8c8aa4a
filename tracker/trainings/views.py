"""Pages of the trainings register: villages, a village's register, form, detail, export.

Thin: parse the form, call :mod:`tracker.trainings.services` through
:func:`tracker.web.submit`, render; the request boundary commits.
Every object comes through the scope (404 out of scope); writes check
``require_write``.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_login import current_user, login_required
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from tracker import clock, pagecache, xlsx
from tracker.calendar_service import load_calendar
from tracker.extensions import db
from tracker.formatting import excel_formats
from tracker.forms import Form
from tracker.models import Branch, Member, Region, RegionLevel, VillageCadre
from tracker.org.services import roster
from tracker.org.versions import versions_of
from tracker.periods import Period
from tracker.scope import current_scope
from tracker.trainings import farmer_excel
from tracker.trainings.concentrated import (
    ORG_LEVELS,
    ConcentratedInput,
    concentrated_figures,
    create_concentrated,
    required_hours,
)
from tracker.trainings.concentrated import STATUS_LABELS as WINDOW_STATUS_LABELS
from tracker.trainings.concentrated import frequency as concentrated_frequency
from tracker.trainings.farmers import (
    FarmerInput,
    create_farmer_training,
    farmer_figures,
    farmer_trainings,
    load_trainees,
    parse_trainees,
    trainees_text,
    update_farmer_training,
)
from tracker.trainings.farmers import topics as farmer_topics
from tracker.trainings.forms import (
    ConcentratedForm,
    DeleteForm,
    FarmerImportForm,
    FarmerTrainingForm,
    TrainingForm,
)
from tracker.trainings.hours import member_hours
from tracker.trainings.models import ConcentratedTraining, FarmerTraining, Training, TrainingKind
from tracker.trainings.services import (
    TrainingInput,
    create_training,
    delete_training,
    figures_for_branches,
    frequency,
    load_attendees,
    trainings_of_branch,
    update_training,
)
from tracker.web import form_status, paginate, submit

bp = Blueprint("trainings", __name__, url_prefix="/trainings")


def _year_arg() -> int:
    year = request.args.get("year", type=int) or clock.today().year
    return year if 2000 <= year <= 2100 else clock.today().year


@bp.route("/")
@login_required
@pagecache.cached()
def index() -> ResponseReturnValue:
    """Villages in scope with this year's trainings and the windows met."""
    scope = current_scope()
    year = _year_arg()
    period = Period.of_year(year)
    # The columns the rows show, not 2 × 200 objects (a county's villages).
    rows = db.session.execute(
        scope.filter(
            select(
                Branch.id.label("branch_id"),
                Branch.tracked_from,
                Region.id.label("region_id"),
                Region.name,
            ).join(Region, Branch.region_id == Region.id),
            Branch,
        )
        .where(Region.level == RegionLevel.village)
        .order_by(Region.path)
    ).all()
    figures = figures_for_branches(
        [r.branch_id for r in rows], period, since={r.branch_id: r.tracked_from for r in rows}
    )
    return render_template(
        "trainings/index.html", rows=rows, figures=figures, year=year, freq=frequency()
    )


@bp.route("/v/<int:region_id>")
@login_required
def register(region_id: int) -> ResponseReturnValue:
    region, branch = current_scope().get_village_branch(region_id)
    year = _year_arg()
    trainings = db.session.scalars(
        trainings_of_branch(branch.id, year).order_by(Training.held_on.desc(), Training.id.desc())
    ).all()
    fig = figures_for_branches([branch.id], Period.of_year(year))[branch.id]
    return render_template(
        "trainings/register.html",
        region=region,
        branch=branch,
        trainings=trainings,
        year=year,
        fig=fig,
        freq=frequency(),
    )


def _input(form: TrainingForm) -> TrainingInput:
    return TrainingInput(
        kind=TrainingKind(form.kind.data),
        title=form.title.data or "",
        held_on=form.held_on.data,
        hours=form.hours.data or 0,
        place=form.place.data or "",
        organizer=form.organizer.data or "",
        lecturer=form.lecturer.data or "",
        content=form.content.data or "",
        attendee_ids=list(form.attendee_ids.data or []),
        other_attendees=form.other_attendees.data or 0,
        client_token=form.client_token.data or None,
    )


def _roster_choices(form: TrainingForm, branch: Branch, day: date) -> None:
    form.attendee_ids.choices = [SelectChoice(m.id, m.name) for m in roster(branch.id, day)]


@bp.route("/v/<int:region_id>/new", methods=["GET", "POST"])
@login_required
def new(region_id: int) -> ResponseReturnValue:
    region, branch = current_scope().get_village_branch(region_id)
    current_scope().require_write(region.id)
    form = TrainingForm()
    today = clock.today()
    _roster_choices(form, branch, form.held_on.data or today)
    if request.method == "GET":
        form.held_on.data = today
        form.client_token.data = uuid.uuid4().hex
        form.attendee_ids.data = [m.id for m in roster(branch.id, today)]
    done = submit(
        form,
        lambda: create_training(
            branch, _input(form), current_user._get_current_object(), load_calendar()
        ),
    )
    if done is not None:
        training, created = done.value
        if created:
            flash(
                gettext("培训记录已保存。") + (gettext("（补录）") if training.late else ""),
                "success",
            )
        else:
            flash(gettext("这条培训记录已经保存过，未重复保存。"), "info")
        return redirect(url_for("trainings.detail", training_id=training.id))
    return _form_page("trainings/form.html", form, region, None)


def _form_page(
    template: str, form: Form, region: Region | None, training: Training | FarmerTraining | None
) -> ResponseReturnValue:
    """A record's form (new when ``training`` is None), 422 with the errors beside the fields."""
    return (
        render_template(template, form=form, region=region, training=training),
        form_status(form),
    )


@bp.route("/<int:training_id>")
@login_required
def detail(training_id: int) -> ResponseReturnValue:
    training = load_attendees(current_scope().get_or_404(Training, training_id))
    return _record_page("trainings/detail.html", training, "training")


def _record_page(template: str, training: Training | FarmerTraining, table: str) -> str:
    """A record's page: its village, the delete form and its versions (audit ``table``)."""
    return render_template(
        template,
        training=training,
        region=db.session.get(Region, training.region_id),
        delete_form=DeleteForm(),
        versions=versions_of(table, training.id),
    )


def _delete_record(
    record: Training | FarmerTraining | ConcentratedTraining,
    record_url: str,
    register_url: str,
    done: str,
) -> ResponseReturnValue:
    """Delete with the reason the form gives, else back to the record's page."""
    form = DeleteForm()
    if not form.validate_on_submit():
        flash(gettext("删除须填写原因。"), "danger")
        return redirect(record_url)
    delete_training(record, form.reason.data or "")
    flash(done, "info")
    return redirect(register_url)


@bp.route("/<int:training_id>/edit", methods=["GET", "POST"])
@login_required
def edit(training_id: int) -> ResponseReturnValue:
    scope = current_scope()
    training = load_attendees(scope.get_for_write(Training, training_id))
    region = db.session.get(Region, training.region_id)
    form = TrainingForm(obj=training if request.method == "GET" else None)
    _roster_choices(form, training.branch, form.held_on.data or training.held_on)
    if request.method == "GET":
        form.kind.data = training.kind.value
        form.attendee_ids.data = [a.member_id for a in training.attendees]

    def save() -> None:
        data = _input(form)
        data.client_token = None
        update_training(training, data, current_user._get_current_object(), form.reason.data or "")

    if submit(form, save) is not None:
        flash(gettext("培训记录已修改。"), "success")
        return redirect(url_for("trainings.detail", training_id=training.id))
    return _form_page("trainings/form.html", form, region, training)


@bp.route("/<int:training_id>/delete", methods=["POST"])
@login_required
def delete(training_id: int) -> ResponseReturnValue:
    training = current_scope().get_for_write(Training, training_id)
    return _delete_record(
        training,
        url_for("trainings.detail", training_id=training.id),
        url_for("trainings.register", region_id=training.region_id),
        gettext("培训记录已删除（保留在审计日志中）。"),
    )


EXPORT_COLUMNS = [
    "序号",
    "培训日期",
    "培训类别",
    "培训主题",
    "学时",
    "地点",
    "组织单位",
    "授课人",
    "参训党员",
    "其他参训人数",
    "录入时间",
    "是否补录",
]


@bp.route("/v/<int:region_id>/export.xlsx")
@login_required
def export(region_id: int) -> ResponseReturnValue:
    """The village's trainings of a year as an Excel sheet (columns of the paper register)."""
    from tracker.formatting import excel_datetime

    region, branch = current_scope().get_village_branch(region_id)
    year = _year_arg()
    trainings = db.session.scalars(
        trainings_of_branch(branch.id, year, include_deleted=False).order_by(Training.held_on)
    ).all()
    wb, ws = xlsx.new_workbook(f"{year}年培训台账")
    xlsx.title(ws, f"{region.name} {year}年培训台账")
    xlsx.header(ws, EXPORT_COLUMNS, fill=None)
    for i, t in enumerate(trainings, start=1):
        xlsx.append(
            ws,
            [
                i,
                t.held_on,
                t.kind_label,
                t.title,
                float(t.hours),
                t.place,
                t.organizer,
                t.lecturer,
                "、".join(a.member.name for a in t.attendees),
                t.other_attendees,
                excel_datetime(t.entered_at),
                "是" if t.late else "否",
            ],
        )
    excel_formats(ws.iter_rows(min_row=3))
    xlsx.widths(ws, [6, 12, 14, 30, 6, 16, 16, 10, 40, 10, 17, 8])
    return xlsx.response(xlsx.to_bytes(wb), f"{region.name}-{year}-培训台账.xlsx")


# ---------------------------------------------------------------- farmer training (农民教育培训)


def _farmer_input(form: FarmerTrainingForm) -> FarmerInput:
    return FarmerInput(
        topic=form.topic.data or "",
        title=form.title.data or "",
        held_on=form.held_on.data,
        hours=form.hours.data or 0,
        place=form.place.data or "",
        organizer=form.organizer.data or "",
        lecturer=form.lecturer.data or "",
        trainee_count=form.trainee_count.data or 0,
        trainees=parse_trainees(form.trainees.data or ""),
        content=form.content.data or "",
    )


def _farmer_form(obj: FarmerTraining | None = None) -> FarmerTrainingForm:
    form = FarmerTrainingForm(obj=obj if request.method == "GET" else None)
    form.topic.choices = [SelectChoice(t, gettext(t)) for t in farmer_topics()]
    return form


@bp.route("/v/<int:region_id>/farmers")
@login_required
def farmers(region_id: int) -> ResponseReturnValue:
    """A village's farmer training sessions of a year (农民教育培训)."""
    region, _branch = current_scope().get_village_branch(region_id)
    return _farmers_page(region, FarmerImportForm())


def _farmers_page(region: Region, import_form: FarmerImportForm) -> ResponseReturnValue:
    """The register's page; ``import_form`` with its errors beside the file field (422)."""
    year = _year_arg()
    page = paginate(
        farmer_trainings([region.id], year).order_by(
            FarmerTraining.held_on.desc(), FarmerTraining.id.desc()
        )
    )
    rows = db.session.scalars(farmer_trainings([region.id], year)).all()
    return render_template(
        "trainings/farmers.html",
        region=region,
        page=page,
        year=year,
        fig=farmer_figures(rows),
        import_form=import_form,
    ), form_status(import_form)


@bp.route("/v/<int:region_id>/farmers/new", methods=["GET", "POST"])
@login_required
def new_farmer(region_id: int) -> ResponseReturnValue:
    region, _branch = current_scope().get_village_branch(region_id)
    current_scope().require_write(region.id)
    form = _farmer_form()
    if request.method == "GET":
        form.held_on.data = clock.today()
    done = submit(
        form,
        lambda: create_farmer_training(
            region, _farmer_input(form), current_user._get_current_object()
        ),
    )
    if done is not None:
        flash(gettext("农民培训记录已保存。"), "success")
        return redirect(url_for("trainings.farmer", farmer_training_id=done.value.id))
    return _form_page("trainings/farmer_form.html", form, region, None)


@bp.route("/farmers/<int:farmer_training_id>")
@login_required
def farmer(farmer_training_id: int) -> ResponseReturnValue:
    training = load_trainees(current_scope().get_or_404(FarmerTraining, farmer_training_id))
    return _record_page("trainings/farmer.html", training, "farmer_training")


@bp.route("/farmers/<int:farmer_training_id>/edit", methods=["GET", "POST"])
@login_required
def edit_farmer(farmer_training_id: int) -> ResponseReturnValue:
    training = load_trainees(current_scope().get_for_write(FarmerTraining, farmer_training_id))
    region = db.session.get(Region, training.region_id)
    form = _farmer_form(training)
    if request.method == "GET":
        form.trainees.data = trainees_text(training)
    done = submit(form, lambda: update_farmer_training(training, _farmer_input(form)))
    if done is not None:
        flash(gettext("农民培训记录已修改。"), "success")
        return redirect(url_for("trainings.farmer", farmer_training_id=training.id))
    return _form_page("trainings/farmer_form.html", form, region, training)


@bp.route("/farmers/<int:farmer_training_id>/delete", methods=["POST"])
@login_required
def delete_farmer(farmer_training_id: int) -> ResponseReturnValue:
    training = current_scope().get_for_write(FarmerTraining, farmer_training_id)
    return _delete_record(
        training,
        url_for("trainings.farmer", farmer_training_id=training.id),
        url_for("trainings.farmers", region_id=training.region_id),
        gettext("农民培训记录已删除（保留在审计日志中）。"),
    )


@bp.route("/v/<int:region_id>/farmers.xlsx")
@login_required
def export_farmers(region_id: int) -> ResponseReturnValue:
    """A village's farmer trainings of a year; villagers' phones masked."""
    region, _branch = current_scope().get_village_branch(region_id)
    year = _year_arg()
    rows = db.session.scalars(
        farmer_trainings([region.id], year).order_by(FarmerTraining.held_on, FarmerTraining.id)
    ).all()
    return xlsx.response(
        farmer_excel.workbook(region, year, rows), f"{region.name}-{year}-农民教育培训.xlsx"
    )


@bp.route("/v/<int:region_id>/farmers/print")
@login_required
def print_farmers(region_id: int) -> ResponseReturnValue:
    """A village's farmer trainings of a year on A4 (landscape); villagers' phones masked."""
    region, _branch = current_scope().get_village_branch(region_id)
    year = _year_arg()
    rows = db.session.scalars(
        farmer_trainings([region.id], year).order_by(FarmerTraining.held_on, FarmerTraining.id)
    ).all()
    return render_template(
        "trainings/farmers_print.html",
        region=region,
        year=year,
        rows=rows,
        fig=farmer_figures(rows),
        today=clock.today(),
    )


@bp.route("/v/<int:region_id>/farmers/import", methods=["POST"])
@login_required
def import_farmers(region_id: int) -> ResponseReturnValue:
    """Enter the rows of a sheet in the export's columns — all of them, or none."""
    region, _branch = current_scope().get_village_branch(region_id)
    current_scope().require_write(region.id)
    form = FarmerImportForm()
    done = submit(
        form,
        lambda: farmer_excel.import_farmer_trainings(
            region, form.file.data.read(), current_user._get_current_object()
        ),
        default="file",
    )
    if done is None:  # the refusal beside the file field, on the register's page
        return _farmers_page(region, form)
    flash(gettext("已导入 %(n)s 期农民培训。", n=done.value), "success")
    return redirect(url_for("trainings.farmers", region_id=region.id, year=_year_arg()))


# ---------------------------------------------------------------- concentrated training (集中培训)


@bp.route("/concentrated")
@login_required
def concentrated() -> ResponseReturnValue:
    """Township and village organizations in scope and their concentrated training."""
    scope = current_scope()
    year = _year_arg()
    page = paginate(scope.select(Region).where(Region.level.in_(ORG_LEVELS)).order_by(Region.path))
    figures = concentrated_figures([r.id for r in page.items], Period.of_year(year))
    return render_template(
        "trainings/concentrated.html",
        page=page,
        figures=figures,
        year=year,
        freq=concentrated_frequency(),
        need=required_hours(),
        labels=WINDOW_STATUS_LABELS,
    )


@bp.route("/concentrated/r/<int:region_id>", methods=["GET", "POST"])
@login_required
def concentrated_org(region_id: int) -> ResponseReturnValue:
    """One organization's concentrated trainings; POST records one."""
    scope = current_scope()
    org = scope.get_or_404(Region, region_id)
    if org.level not in ORG_LEVELS:
        abort(404)
    if request.method == "POST":
        scope.require_write(org.id)
    form = ConcentratedForm()
    if request.method == "GET":
        form.held_on.data = clock.today()
    done = submit(
        form,
        lambda: create_concentrated(
            org,
            ConcentratedInput(
                title=form.title.data or "",
                held_on=form.held_on.data,
                hours=form.hours.data or 0,
                place=form.place.data or "",
                organizer=form.organizer.data or "",
                participants=form.participants.data or 0,
                content=form.content.data or "",
            ),
            current_user._get_current_object(),
        ),
    )
    if done is not None:
        flash(gettext("集中培训已记录。"), "success")
        return redirect(url_for("trainings.concentrated_org", region_id=org.id))
    year = _year_arg()
    rows = db.session.scalars(
        select(ConcentratedTraining)
        .where(ConcentratedTraining.region_id == org.id, ConcentratedTraining.deleted_at.is_(None))
        .order_by(ConcentratedTraining.held_on.desc())
    ).all()
    fig = concentrated_figures([org.id], Period.of_year(year))[org.id]
    return (
        render_template(
            "trainings/concentrated_org.html",
            org=org,
            rows=rows,
            form=form,
            fig=fig,
            year=year,
            need=required_hours(),
            freq=concentrated_frequency(),
            labels=WINDOW_STATUS_LABELS,
            delete_form=DeleteForm(formdata=None),
        ),
        form_status(form),
    )


@bp.route("/concentrated/<int:concentrated_training_id>/delete", methods=["POST"])
@login_required
def delete_concentrated_row(concentrated_training_id: int) -> ResponseReturnValue:
    row = current_scope().get_for_write(ConcentratedTraining, concentrated_training_id)
    back = url_for("trainings.concentrated_org", region_id=row.region_id)
    return _delete_record(
        row,
        back,
        back,
        gettext("集中培训记录已删除（保留在审计日志中）。"),
    )


# ---------------------------------------------------------------- per-person hours (个人学时)


def _hours_rows(region: Region, branch: Branch, year: int) -> tuple[list[Any], list[Any]]:
    members = db.session.scalars(
        select(Member).where(Member.branch_id == branch.id).order_by(Member.name, Member.id)
    ).all()
    first, last = date(year, 1, 1), date(year, 12, 31)
    # On the roster at some time of the year: joined by its end, not left before its start.
    members = [
        m
        for m in members
        if not (m.joined_on and m.joined_on > last) and not (m.left_on and m.left_on <= first)
    ]
    cadres = db.session.scalars(
        select(VillageCadre)
        .where(VillageCadre.region_id == region.id)
        .where((VillageCadre.until.is_(None)) | (VillageCadre.until >= date(year, 1, 1)))
        .order_by(VillageCadre.id)
    ).all()
    ids = {m.id for m in members} | {c.member_id for c in cadres if c.member_id}
    hours = member_hours(ids, year)
    member_rows = [(m, hours[m.id]) for m in members]
    cadre_rows = [(c, hours.get(c.member_id) if c.member_id else None) for c in cadres]
    return member_rows, cadre_rows


@bp.route("/v/<int:region_id>/hours")
@login_required
def person_hours(region_id: int) -> ResponseReturnValue:
    """Each member's and cadre's training sessions and class hours in a year."""
    region, branch = current_scope().get_village_branch(region_id)
    year = _year_arg()
    member_rows, cadre_rows = _hours_rows(region, branch, year)
    return render_template(
        "trainings/hours.html",
        region=region,
        year=year,
        member_rows=member_rows,
        cadre_rows=cadre_rows,
    )


@bp.route("/v/<int:region_id>/hours.xlsx")
@login_required
def export_hours(region_id: int) -> ResponseReturnValue:
    region, branch = current_scope().get_village_branch(region_id)
    year = _year_arg()
    member_rows, cadre_rows = _hours_rows(region, branch, year)
    wb, ws = xlsx.new_workbook(f"{year}年个人参训学时")
    xlsx.title(ws, f"{region.name} {year}年党员、村干部参训学时", span=5)
    xlsx.header(ws, ["序号", "类别", "姓名", "职务", "参训次数", "学时"])
    n = 0
    for m, h in member_rows:
        n += 1
        xlsx.append(ws, [n, "党员", m.name, "", h.sessions, float(h.hours)])
    for c, h in cadre_rows:
        n += 1
        xlsx.append(
            ws,
            [n, "村干部", c.name, c.post, h.sessions if h else None, float(h.hours) if h else None],
        )
    xlsx.widths(ws, [6, 8, 12, 16, 10, 8])
    return xlsx.response(xlsx.to_bytes(wb), f"{region.name}-{year}-个人参训学时.xlsx")
