"""Pages of 设岗定责 (posts for members without office) and 一诺三联四帮 (pledges,
household links): a village's overview of what is overdue, the county's post catalog,
each register's list with its form, detail pages, A4 print views, Excel export/import.

A blueprint nested in ``teams`` (endpoints ``teams.duty.*``). Thin: objects come
through the scope, writes through :func:`tracker.web.submit` / :func:`perform`; the
request boundary commits.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_login import login_required
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from tracker import clock, uploads, xlsx
from tracker.calendar_service import load_calendar
from tracker.extensions import db
from tracker.models import Member, Region, RegionLevel, VillageCadre
from tracker.org.versions import versions_of
from tracker.scope import current_scope
from tracker.teams import duty_excel, pledges
from tracker.teams import duty_posts as posts
from tracker.teams.duty_forms import (
    AssignmentForm,
    CategoryForm,
    ContactForm,
    DutyImportForm,
    EndForm,
    HelpForm,
    LetterForm,
    LinkForm,
    PledgeForm,
    PostForm,
    ProgressForm,
    RatingForm,
    ReviewForm,
)
from tracker.teams.duty_models import (
    RATING_LABELS,
    ContactKind,
    DutyPost,
    HelpCategory,
    HouseholdLink,
    Pledge,
    PledgeRating,
    PostAssignment,
    PostGrade,
)
from tracker.teams.duty_rules import HALF_LABELS, half_of
from tracker.teams.figures import (
    PART_LABELS,
    open_obligations,
    posts_and_trainings_owed,
    team_figures,
)
from tracker.teams.services import TeamError
from tracker.web import paginate, perform, render_form, submit, submit_or_show

bp = Blueprint("duty", __name__)


def _village(region_id: int) -> Region:
    region, _branch = current_scope().get_village_branch(region_id)
    return region


def _writer_here(region_id: int) -> bool:
    scope = current_scope()
    return scope.can_write and scope.contains_region_id(region_id)


# -- the village overview ----------------------------------------------------------------


@bp.route("/duty")
@login_required
def index() -> ResponseReturnValue:
    """Villages in scope with what each owes now (reviews, ratings, household contacts)."""
    scope = current_scope()
    page = paginate(
        scope.select(Region).where(Region.level == RegionLevel.village).order_by(Region.path)
    )
    obligations = open_obligations([v.id for v in page.items], clock.today(), load_calendar())
    return render_template("teams/duty_index.html", page=page, obligations=obligations)


@bp.route("/duty/v/<int:region_id>")
@login_required
def village(region_id: int) -> ResponseReturnValue:
    """What the village owes now (reviews, ratings, contacts, vacant posts past their
    deadline, missed concentrated trainings) and this year's figures."""
    region = _village(region_id)
    today = clock.today()
    cal = load_calendar()
    obligations = open_obligations([region.id], today, cal)[region.id]
    owed = posts_and_trainings_owed([region.id], today)[region.id]
    figures = team_figures([region.id], today.replace(month=1, day=1), today, today, cal)[region.id]
    return render_template(
        "teams/duty_village.html",
        region=region,
        ob=obligations,
        owed=owed,
        fig=figures,
        part_labels=PART_LABELS,
        half_labels=HALF_LABELS,
        today=today,
    )


# -- the county's post catalog -------------------------------------------------------------


@bp.route("/posts/catalog/<int:region_id>", methods=["GET", "POST"])
@login_required
def catalog(region_id: int) -> ResponseReturnValue:
    """The county's categories and posts; writers of the county edit them."""
    scope = current_scope()
    region = scope.get_or_404(Region, region_id)
    county = posts.county_of(region)
    can_edit = scope.can_write and scope.contains_region_id(county.id)
    if request.method == "POST":
        scope.require_write(county.id)
    form = PostForm(prefix="post")
    form.category.choices = [SelectChoice(c, c) for c in posts.categories(county)]
    cat_form = CategoryForm(prefix="cat")
    if request.method == "POST" and request.form.get("action") == "category":
        done_c = submit(cat_form, lambda: posts.add_category(county, cat_form.name.data or ""))
        if done_c is not None:
            flash(gettext("岗位类别已添加。"), "success")
            return redirect(url_for("teams.duty.catalog", region_id=county.id))
    elif request.method == "POST":
        done = submit(
            form,
            lambda: posts.create_post(
                county,
                posts.PostInput(
                    form.category.data or "", form.name.data or "", form.duties.data or ""
                ),
            ),
        )
        if done is not None:
            flash(gettext("岗位已加入目录。"), "success")
            return redirect(url_for("teams.duty.catalog", region_id=county.id))
    status = 422 if (form.errors or cat_form.errors) else 200
    return (
        render_template(
            "teams/catalog.html",
            county=county,
            categories=posts.categories(county),
            posts=posts.catalog(county, include_retired=True),
            form=form,
            cat_form=cat_form,
            can_edit=can_edit,
        ),
        status,
    )


@bp.route("/posts/catalog/<int:region_id>/category/remove", methods=["POST"])
@login_required
def remove_category(region_id: int) -> ResponseReturnValue:
    scope = current_scope()
    county = posts.county_of(scope.get_or_404(Region, region_id))
    scope.require_write(county.id)
    CategoryForm(prefix="cat")
    perform(
        lambda: posts.remove_category(county, request.form.get("name", "")),
        gettext("岗位类别已删除。"),
    )
    return redirect(url_for("teams.duty.catalog", region_id=county.id))


@bp.route("/posts/<int:post_id>/retire", methods=["POST"])
@login_required
def retire_post(post_id: int) -> ResponseReturnValue:
    post = current_scope().get_for_write(DutyPost, post_id)
    EndForm()
    perform(lambda: posts.retire_post(post, clock.today()), gettext("岗位已停用。"))
    return redirect(url_for("teams.duty.catalog", region_id=post.region_id))


# -- assignments -----------------------------------------------------------------------


def _assignment_form(region: Region, form: AssignmentForm) -> None:
    day = form.started_on.data or clock.today()
    form.member_id.choices = [SelectChoice(0, "—")] + [
        SelectChoice(m.id, m.name) for m in posts.members_without_office(region, day)
    ]
    form.post_id.choices = [SelectChoice(0, "—")] + [
        SelectChoice(p.id, f"{p.category} · {p.name}")
        for p in posts.catalog(posts.county_of(region))
    ]


def _letter() -> Any:
    f = request.files.get("letter")
    return f if f and f.filename else None


@bp.route("/posts/v/<int:region_id>", methods=["GET", "POST"])
@login_required
def assignments(region_id: int) -> ResponseReturnValue:
    """The village's posts for members without office, and the form to assign one."""
    region = _village(region_id)
    scope = current_scope()
    if request.method == "POST":
        scope.require_write(region.id)
    form = AssignmentForm()
    if request.method == "GET":
        form.started_on.data = clock.today()
    _assignment_form(region, form)

    def save() -> PostAssignment:
        a = posts.assign(
            region,
            posts.AssignmentInput(
                member_id=form.member_id.data or 0,
                post_id=form.post_id.data or 0,
                started_on=form.started_on.data,
                duties=form.duties.data or "",
                letter_signed_on=form.letter_signed_on.data,
            ),
        )
        letter = _letter()
        if letter is not None:
            posts.attach_letter(a, letter.filename, letter.read(), form.letter_signed_on.data)
        return a

    done = submit(form, save)
    if done is not None:
        flash(gettext("设岗已保存。"), "success")
        return redirect(url_for("teams.duty.assignment", assignment_id=done.value.id))
    page = paginate(scope.filter(posts.assignments_stmt(region.id), PostAssignment))
    return render_form(
        "teams/assignments.html",
        form,
        region=region,
        page=page,
        import_form=DutyImportForm(),
        half_labels=HALF_LABELS,
    )


def _assignment_page(a: PostAssignment, status: int = 200, **forms: Any) -> ResponseReturnValue:
    today = clock.today()
    y, h = half_of(today)
    prev = (y, 1) if h == 2 else (y - 1, 2)
    kwargs: dict[str, Any] = {
        "review_form": ReviewForm(formdata=None, year=prev[0], half=prev[1], reviewed_on=today),
        "letter_form": LetterForm(formdata=None),
        "end_form": EndForm(formdata=None, ended_on=today),
        **forms,
    }
    region = db.session.get(Region, a.region_id)
    return (
        render_template(
            "teams/assignment.html",
            a=a,
            region=region,
            half_labels=HALF_LABELS,
            versions=versions_of("duty_assignment", a.id),
            **kwargs,
        ),
        status,
    )


@bp.route("/assignments/<int:assignment_id>")
@login_required
def assignment(assignment_id: int) -> ResponseReturnValue:
    return _assignment_page(current_scope().get_or_404(PostAssignment, assignment_id))


@bp.route("/assignments/<int:assignment_id>/review", methods=["POST"])
@login_required
def review(assignment_id: int) -> ResponseReturnValue:
    a = current_scope().get_for_write(PostAssignment, assignment_id)
    form = ReviewForm()
    return submit_or_show(
        form,
        lambda: posts.review(
            a,
            form.year.data or 0,
            form.half.data or 0,
            form.reviewed_on.data,
            PostGrade(form.grade.data),
            form.reviewer.data or "",
            form.note.data or "",
        ),
        message=gettext("半年评议已保存。"),
        to=url_for("teams.duty.assignment", assignment_id=a.id),
        again=lambda: _assignment_page(a, 422, review_form=form),
    )


@bp.route("/assignments/<int:assignment_id>/letter", methods=["POST"])
@login_required
def upload_letter(assignment_id: int) -> ResponseReturnValue:
    a = current_scope().get_for_write(PostAssignment, assignment_id)
    form = LetterForm()

    def save() -> None:
        letter = _letter()
        if letter is None:
            raise TeamError(gettext("请选择责任书扫描件"), "letter")
        posts.attach_letter(a, letter.filename, letter.read(), form.letter_signed_on.data)

    return submit_or_show(
        form,
        save,
        message=gettext("责任书已上传。"),
        to=url_for("teams.duty.assignment", assignment_id=a.id),
        again=lambda: _assignment_page(a, 422, letter_form=form),
    )


@bp.route("/assignments/<int:assignment_id>/letter")
@login_required
def letter(assignment_id: int) -> ResponseReturnValue:
    a = current_scope().get_or_404(PostAssignment, assignment_id)
    if not a.letter_sha256 or not a.letter_content_type:
        abort(404)
    path = posts.letter_path(a.letter_sha256)
    if not path.exists():
        abort(404)
    resp = send_file(
        Path(path),
        mimetype=a.letter_content_type,
        download_name=a.letter_filename or "责任书",
        as_attachment=a.letter_content_type == uploads.PDF,
        max_age=3600,
    )
    return uploads.serve_headers(resp, a.letter_content_type)


@bp.route("/assignments/<int:assignment_id>/end", methods=["POST"])
@login_required
def end_assignment(assignment_id: int) -> ResponseReturnValue:
    a = current_scope().get_for_write(PostAssignment, assignment_id)
    form = EndForm()
    return submit_or_show(
        form,
        lambda: posts.end_assignment(a, form.ended_on.data),
        message=gettext("设岗已结束。"),
        to=url_for("teams.duty.assignment", assignment_id=a.id),
        again=lambda: _assignment_page(a, 422, end_form=form),
    )


def _all(stmt: Any, model: Any) -> list[Any]:
    return list(db.session.scalars(current_scope().filter(stmt, model)).all())


@bp.route("/posts/v/<int:region_id>/print")
@login_required
def assignments_print(region_id: int) -> ResponseReturnValue:
    region = _village(region_id)
    items = _all(posts.assignments_stmt(region.id), PostAssignment)
    return render_template(
        "teams/duty_print.html",
        region=region,
        heading=gettext("无职党员设岗定责台账"),
        kind="posts",
        items=items,
        half_labels=HALF_LABELS,
        back=url_for("teams.duty.assignments", region_id=region.id),
        today=clock.today(),
    )


@bp.route("/posts/v/<int:region_id>/export.xlsx")
@login_required
def assignments_export(region_id: int) -> ResponseReturnValue:
    region = _village(region_id)
    items = _all(posts.assignments_stmt(region.id), PostAssignment)
    return xlsx.response(
        duty_excel.posts_workbook(region, items), f"{region.name}-设岗定责台账.xlsx"
    )


def _import(region: Region, action: Any, back: str) -> ResponseReturnValue:
    current_scope().require_write(region.id)
    DutyImportForm()
    f = request.files.get("file")
    if not f or not f.filename:
        flash(gettext("请选择 .xlsx 文件。"), "danger")
        return redirect(back), 303
    data = f.read()
    done = perform(lambda: action(region, data))
    if done is not None:
        flash(gettext("已导入 %(n)s 行。", n=done.value), "success")
    return redirect(back)


@bp.route("/posts/v/<int:region_id>/import", methods=["POST"])
@login_required
def assignments_import(region_id: int) -> ResponseReturnValue:
    region = _village(region_id)
    return _import(
        region, duty_excel.import_posts, url_for("teams.duty.assignments", region_id=region.id)
    )


# -- pledges -----------------------------------------------------------------------------


def _people(region: Region) -> list[SelectChoice]:
    members = db.session.scalars(
        select(Member)
        .where(Member.region_id == region.id, Member.left_on.is_(None))
        .order_by(Member.name)
    ).all()
    cadres = db.session.scalars(
        select(VillageCadre)
        .where(VillageCadre.region_id == region.id, VillageCadre.until.is_(None))
        .order_by(VillageCadre.id)
    ).all()
    return (
        [SelectChoice("", "—")]
        + [SelectChoice(f"c{c.id}", f"{c.name}（{c.post}）") for c in cadres]
        + [SelectChoice(f"m{m.id}", m.name) for m in members]
    )


def _year_arg() -> int | None:
    value = request.args.get("year", "")
    return int(value) if value.isdigit() and 2000 <= int(value) <= 2100 else None


@bp.route("/pledges/v/<int:region_id>", methods=["GET", "POST"])
@login_required
def pledge_list(region_id: int) -> ResponseReturnValue:
    """A village's pledges (亮诺) by year, and the form to make one."""
    region = _village(region_id)
    scope = current_scope()
    if request.method == "POST":
        scope.require_write(region.id)
    form = PledgeForm()
    form.person.choices = _people(region)
    if request.method == "GET":
        form.year.data = clock.today().year
        form.made_on.data = clock.today()

    def save() -> Pledge:
        person = form.person.data or ""
        ident = int(person[1:]) if person[1:].isdigit() else 0
        return pledges.make_pledge(
            region,
            pledges.PledgeInput(
                year=form.year.data or 0,
                content=form.content.data or "",
                made_on=form.made_on.data,
                member_id=ident if person.startswith("m") else None,
                cadre_id=ident if person.startswith("c") else None,
            ),
        )

    done = submit(form, save, aliases={"member_id": "person", "cadre_id": "person"})
    if done is not None:
        flash(gettext("承诺已亮诺。"), "success")
        return redirect(url_for("teams.duty.pledge", pledge_id=done.value.id))
    year = _year_arg()
    page = paginate(scope.filter(pledges.pledges_stmt(region.id, year), Pledge))
    return render_form(
        "teams/pledges.html",
        form,
        region=region,
        page=page,
        year=year,
        import_form=DutyImportForm(),
    )


def _pledge_page(p: Pledge, status: int = 200, **forms: Any) -> ResponseReturnValue:
    today = clock.today()
    kwargs: dict[str, Any] = {
        "progress_form": ProgressForm(formdata=None, on=today),
        "rating_form": RatingForm(formdata=None, rated_on=today),
        **forms,
    }
    region = db.session.get(Region, p.region_id)
    versions = versions_of(
        "pledge", p.id, {"rating": {k.value: v for k, v in RATING_LABELS.items()}}
    )
    return (
        render_template("teams/pledge.html", p=p, region=region, versions=versions, **kwargs),
        status,
    )


@bp.route("/pledges/<int:pledge_id>")
@login_required
def pledge(pledge_id: int) -> ResponseReturnValue:
    return _pledge_page(current_scope().get_or_404(Pledge, pledge_id))


@bp.route("/pledges/<int:pledge_id>/progress", methods=["POST"])
@login_required
def pledge_progress(pledge_id: int) -> ResponseReturnValue:
    p = current_scope().get_for_write(Pledge, pledge_id)
    form = ProgressForm()
    return submit_or_show(
        form,
        lambda: pledges.add_progress(p, form.on.data, form.note.data or ""),
        message=gettext("践诺记录已保存。"),
        to=url_for("teams.duty.pledge", pledge_id=p.id),
        again=lambda: _pledge_page(p, 422, progress_form=form),
    )


@bp.route("/pledges/<int:pledge_id>/rating", methods=["POST"])
@login_required
def pledge_rating(pledge_id: int) -> ResponseReturnValue:
    p = current_scope().get_for_write(Pledge, pledge_id)
    form = RatingForm()
    return submit_or_show(
        form,
        lambda: pledges.rate_pledge(
            p,
            PledgeRating(form.rating.data),
            form.rated_on.data,
            form.rated_by.data or "",
            form.rating_note.data or "",
        ),
        message=gettext("评诺已保存。"),
        to=url_for("teams.duty.pledge", pledge_id=p.id),
        again=lambda: _pledge_page(p, 422, rating_form=form),
    )


@bp.route("/pledges/v/<int:region_id>/print")
@login_required
def pledges_print(region_id: int) -> ResponseReturnValue:
    region = _village(region_id)
    items = _all(pledges.pledges_stmt(region.id, _year_arg()), Pledge)
    return render_template(
        "teams/duty_print.html",
        region=region,
        heading=gettext("党员承诺践诺台账"),
        kind="pledges",
        items=items,
        back=url_for("teams.duty.pledge_list", region_id=region.id),
        today=clock.today(),
    )


@bp.route("/pledges/v/<int:region_id>/export.xlsx")
@login_required
def pledges_export(region_id: int) -> ResponseReturnValue:
    region = _village(region_id)
    items = _all(pledges.pledges_stmt(region.id, _year_arg()), Pledge)
    return xlsx.response(
        duty_excel.pledges_workbook(region, items), f"{region.name}-承诺践诺台账.xlsx"
    )


@bp.route("/pledges/v/<int:region_id>/import", methods=["POST"])
@login_required
def pledges_import(region_id: int) -> ResponseReturnValue:
    region = _village(region_id)
    return _import(
        region, duty_excel.import_pledges, url_for("teams.duty.pledge_list", region_id=region.id)
    )


# -- household links -----------------------------------------------------------------------


def _members(region: Region) -> list[SelectChoice]:
    members = db.session.scalars(
        select(Member)
        .where(Member.region_id == region.id, Member.left_on.is_(None))
        .order_by(Member.name)
    ).all()
    return [SelectChoice(0, "—")] + [SelectChoice(m.id, m.name) for m in members]


@bp.route("/households/v/<int:region_id>", methods=["GET", "POST"])
@login_required
def households(region_id: int) -> ResponseReturnValue:
    """A village's linked households (联户) with their last contact; phones and
    addresses masked for readers who may not write here."""
    region = _village(region_id)
    scope = current_scope()
    if request.method == "POST":
        scope.require_write(region.id)
    form = LinkForm()
    form.member_id.choices = _members(region)
    if request.method == "GET":
        form.since.data = clock.today()
    done = submit(
        form,
        lambda: pledges.link_household(
            region,
            pledges.LinkInput(
                member_id=form.member_id.data or 0,
                head=form.head.data or "",
                since=form.since.data,
                address=form.address.data or "",
                phone=form.phone.data or "",
            ),
        ),
    )
    if done is not None:
        flash(gettext("联户已保存。"), "success")
        return redirect(url_for("teams.duty.household", link_id=done.value.id))
    page = paginate(scope.filter(pledges.links_stmt(region.id), HouseholdLink))
    overdue = {
        c.link_id
        for c in open_obligations([region.id], clock.today(), load_calendar())[region.id].contacts
    }
    return render_form(
        "teams/households.html",
        form,
        region=region,
        page=page,
        full=_writer_here(region.id),
        overdue=overdue,
        shown_phone=pledges.shown_phone,
        shown_address=pledges.shown_address,
        import_form=DutyImportForm(),
    )


# A link's ``since``/``until`` are the days of the link, not a term of office.
LINK_VERSION_FIELDS = {"since": "联户日期", "until": "结束日期"}


def _household_page(link: HouseholdLink, status: int = 200, **forms: Any) -> ResponseReturnValue:
    today = clock.today()
    kwargs: dict[str, Any] = {
        "contact_form": ContactForm(formdata=None, on=today, kind="visit"),
        "help_form": HelpForm(formdata=None, on=today),
        "end_form": EndForm(formdata=None, ended_on=today),
        **forms,
    }
    region = db.session.get(Region, link.region_id)
    full = _writer_here(link.region_id)
    return (
        render_template(
            "teams/household.html",
            link=pledges.load_link(link),
            region=region,
            phone=pledges.shown_phone(link.phone, full),
            address=pledges.shown_address(link.address, full),
            versions=versions_of(
                "household_link",
                link.id,
                field_labels=LINK_VERSION_FIELDS,
                shown={
                    "phone": lambda v: pledges.shown_phone(v, full),
                    "address": lambda v: pledges.shown_address(v, full),
                },
            ),
            **kwargs,
        ),
        status,
    )


@bp.route("/households/<int:link_id>")
@login_required
def household(link_id: int) -> ResponseReturnValue:
    return _household_page(current_scope().get_or_404(HouseholdLink, link_id))


@bp.route("/households/<int:link_id>/contacts", methods=["POST"])
@login_required
def household_contact(link_id: int) -> ResponseReturnValue:
    link = current_scope().get_for_write(HouseholdLink, link_id)
    form = ContactForm()
    return submit_or_show(
        form,
        lambda: pledges.add_contact(
            link, form.on.data, ContactKind(form.kind.data), form.note.data or ""
        ),
        message=gettext("联系记录已保存。"),
        to=url_for("teams.duty.household", link_id=link.id),
        again=lambda: _household_page(link, 422, contact_form=form),
    )


@bp.route("/households/<int:link_id>/help", methods=["POST"])
@login_required
def household_help(link_id: int) -> ResponseReturnValue:
    link = current_scope().get_for_write(HouseholdLink, link_id)
    form = HelpForm()
    return submit_or_show(
        form,
        lambda: pledges.add_help(
            link, form.on.data, HelpCategory(form.category.data), form.what.data or ""
        ),
        message=gettext("帮扶记录已保存。"),
        to=url_for("teams.duty.household", link_id=link.id),
        again=lambda: _household_page(link, 422, help_form=form),
    )


@bp.route("/households/<int:link_id>/end", methods=["POST"])
@login_required
def household_end(link_id: int) -> ResponseReturnValue:
    link = current_scope().get_for_write(HouseholdLink, link_id)
    form = EndForm()
    return submit_or_show(
        form,
        lambda: pledges.end_link(link, form.ended_on.data),
        aliases={"until": "ended_on"},
        message=gettext("联户已结束。"),
        to=url_for("teams.duty.household", link_id=link.id),
        again=lambda: _household_page(link, 422, end_form=form),
    )


@bp.route("/households/v/<int:region_id>/print")
@login_required
def households_print(region_id: int) -> ResponseReturnValue:
    region = _village(region_id)
    items = _all(pledges.links_stmt(region.id), HouseholdLink)
    full = _writer_here(region.id)
    return render_template(
        "teams/duty_print.html",
        region=region,
        heading=gettext("党员联系户台账"),
        kind="links",
        items=items,
        full=full,
        shown_phone=pledges.shown_phone,
        shown_address=pledges.shown_address,
        back=url_for("teams.duty.households", region_id=region.id),
        today=clock.today(),
    )


@bp.route("/households/v/<int:region_id>/export.xlsx")
@login_required
def households_export(region_id: int) -> ResponseReturnValue:
    region = _village(region_id)
    items = _all(pledges.links_stmt(region.id), HouseholdLink)
    data = duty_excel.links_workbook(region, items, _writer_here(region.id))
    return xlsx.response(data, f"{region.name}-联户台账.xlsx")


@bp.route("/households/v/<int:region_id>/import", methods=["POST"])
@login_required
def households_import(region_id: int) -> ResponseReturnValue:
    region = _village(region_id)
    return _import(
        region, duty_excel.import_links, url_for("teams.duty.households", region_id=region.id)
    )
