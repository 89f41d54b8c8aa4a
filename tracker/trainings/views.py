"""Pages of the trainings register: villages, a village's register, form, detail, export.

Thin: parse the form, call :mod:`tracker.trainings.services` through
:func:`tracker.web.submit`, render; the request boundary commits.
Every object comes through the scope (404 out of scope); writes check
``require_write``.
"""

from __future__ import annotations

import uuid
from datetime import date

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from tracker import clock, xlsx
from tracker.calendar_service import load_calendar
from tracker.extensions import db
from tracker.models import Branch, Region, RegionLevel
from tracker.org.services import roster
from tracker.periods import Period
from tracker.scope import current_scope
from tracker.trainings.forms import DeleteForm, TrainingForm
from tracker.trainings.models import Training, TrainingKind
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
from tracker.web import form_status, submit

bp = Blueprint("trainings", __name__, url_prefix="/trainings")


def _year_arg() -> int:
    year = request.args.get("year", type=int) or clock.today().year
    return year if 2000 <= year <= 2100 else clock.today().year


@bp.route("/")
@login_required
def index() -> ResponseReturnValue:
    """Villages in scope with this year's trainings and the windows met."""
    scope = current_scope()
    year = _year_arg()
    period = Period.of_year(year)
    rows = db.session.execute(
        scope.filter(select(Branch, Region).join(Region, Branch.region_id == Region.id), Branch)
        .where(Region.level == RegionLevel.village)
        .order_by(Region.path)
    ).all()
    figures = figures_for_branches([b.id for b, _ in rows], period)
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
            flash("培训记录已保存。" + ("（补录）" if training.late else ""), "success")
        else:
            flash("这条培训记录已经保存过，未重复保存。", "info")
        return redirect(url_for("trainings.detail", training_id=training.id))
    return (
        render_template("trainings/form.html", form=form, region=region, training=None),
        form_status(form),
    )


@bp.route("/<int:training_id>")
@login_required
def detail(training_id: int) -> ResponseReturnValue:
    training = load_attendees(current_scope().get_or_404(Training, training_id))
    region = db.session.get(Region, training.region_id)
    return render_template(
        "trainings/detail.html", training=training, region=region, delete_form=DeleteForm()
    )


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
        flash("培训记录已修改。", "success")
        return redirect(url_for("trainings.detail", training_id=training.id))
    return (
        render_template("trainings/form.html", form=form, region=region, training=training),
        form_status(form),
    )


@bp.route("/<int:training_id>/delete", methods=["POST"])
@login_required
def delete(training_id: int) -> ResponseReturnValue:
    scope = current_scope()
    training = scope.get_for_write(Training, training_id)
    form = DeleteForm()
    if not form.validate_on_submit():
        flash("删除须填写原因。", "danger")
        return redirect(url_for("trainings.detail", training_id=training.id))
    delete_training(training, form.reason.data or "")
    flash("培训记录已删除（保留在审计日志中）。", "info")
    return redirect(url_for("trainings.register", region_id=training.region_id))


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
    from tracker.formatting import excel_datetime, excel_formats

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
