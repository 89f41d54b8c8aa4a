"""Pages of the organisation: region tree, villages and rosters, groups, cadres,
members, roster import/export, users, API tokens and the audit log.

Views are thin: they load every object through the scope (404 outside it),
check the right to write, and hand the form's values to :mod:`tracker.org.services`
through :func:`tracker.web.submit` (an :class:`OrgError` goes beside the field it
names); the request boundary commits.
"""

from __future__ import annotations

import contextlib
import os
import time
from datetime import date
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
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.orm import aliased, selectinload
from sqlalchemy.orm.util import identity_key

from tracker import clock, pagecache, xlsx
from tracker.auth.services import create_api_token
from tracker.extensions import db
from tracker.formatting import mask_id_number
from tracker.forms import as_choices
from tracker.models import (
    ApiToken,
    AuditLog,
    Branch,
    Member,
    MemberStatus,
    PartyGroup,
    Region,
    RegionLevel,
    Role,
    User,
    VillageCadre,
    utcnow,
)
from tracker.models.regions import in_subtree
from tracker.org import excel, forms, history, services
from tracker.org.labels import (
    ACTION_LABELS,
    CHANNEL_LABELS,
    ENTITY_LABELS,
    entity_label,
    field_label,
    value_label,
)
from tracker.org.models import FactKind, MemberFact
from tracker.org.services import OrgError, RosterFilter, branch_of
from tracker.scope import current_scope
from tracker.web import form_status, own_account, paginate, perform, render_form, submit

bp = Blueprint("org", __name__, url_prefix="/org")


def _trail(region: Region, *extra: tuple[str, str | None]) -> list[tuple[str, str | None]]:
    """Breadcrumbs from the user's own node down to ``region``."""
    scope = current_scope()
    # The ancestors' own paths are prefixes of the region's: only those in scope are
    # shown, and only those not already loaded (the user's node, the page's) are read.
    ids = region.ancestor_ids
    shown = [
        rid
        for i, rid in enumerate(ids)
        if ("/" + "/".join(map(str, ids[: i + 1])) + "/").startswith(scope.region_path)
    ]
    loaded = {rid: db.session.identity_map.get(identity_key(Region, rid)) for rid in shown}
    missing = [rid for rid, node in loaded.items() if node is None]
    if missing:
        loaded.update(
            (n.id, n) for n in db.session.scalars(select(Region).where(Region.id.in_(missing)))
        )
    trail: list[tuple[str, str | None]] = []
    for rid in shown:
        node = loaded[rid]
        if node is not None and scope.contains_region(node):
            trail.append((node.name, url_for("org.regions", region_id=node.id)))
    trail.extend(extra)
    return trail


def _branch_or_redirect(village: Region) -> Branch | None:
    branch = branch_of(village.id)
    if branch is None:
        flash(_("该村尚未建立党支部，请先建立。"), "warning")
    return branch


def _roster_to_write(region_id: int) -> tuple[Region, Branch | None]:
    """A village whose roster is to change (404/403 first) and its branch — ``None``, and
    a warning flashed, when it has none yet (the view goes back to :func:`_to_village`)."""
    region = current_scope().get_village_for_write(region_id)
    return region, _branch_or_redirect(region)


def _to_village(region: Region) -> ResponseReturnValue:
    return redirect(url_for("org.village", region_id=region.id))


def _village_branch(region_id: int) -> tuple[Region, Branch]:
    """A village in scope and its branch, for a download: 404 when it has none."""
    region = current_scope().get_village(region_id)
    branch = branch_of(region.id)
    if branch is None:
        abort(404)
    return region, branch


# ---------------------------------------------------------------- region tree


@bp.route("/regions")
@bp.route("/regions/<int:region_id>")
@login_required
def regions(region_id: int | None = None) -> ResponseReturnValue:
    """Browse the region tree from the user's own node down."""
    scope = current_scope()
    region = scope.get_or_404(Region, region_id if region_id is not None else scope.region_id)
    if region.level == RegionLevel.village:
        return redirect(url_for("org.village", region_id=region.id))
    children = region.children
    # One grouped query each for all children: a child's subtree is the nodes
    # whose path starts with the child's path.
    child, node = aliased(Region), aliased(Region)
    under_child = in_subtree(child.path, node)
    is_child = child.parent_id == region.id
    counts: dict[int, int] = dict(
        db.session.execute(
            select(child.id, func.count(Member.id))
            .join(node, under_child)
            .join(Member, Member.region_id == node.id)
            .where(is_child, Member.left_on.is_(None))
            .group_by(child.id)
        ).all()
    )
    villages: dict[int, int] = dict(
        db.session.execute(
            select(child.id, func.count(node.id))
            .join(node, under_child)
            .where(is_child, node.level == RegionLevel.village)
            .group_by(child.id)
        ).all()
    )
    form = forms.RegionForm()
    return render_template(
        "org/regions.html",
        region=region,
        children=children,
        counts=counts,
        villages=villages,
        trail=_trail(region),
        form=form,
        can_admin=scope.is_admin and region.level.child is not None,
    )


@bp.route("/regions/<int:region_id>/children", methods=["POST"])
@login_required
def region_create(region_id: int) -> ResponseReturnValue:
    """Add a township under a county, a village under a township (admin)."""
    scope = current_scope()
    parent = scope.get_or_404(Region, region_id)
    scope.require_admin(parent.id)
    form = forms.RegionForm()
    done = submit(
        form,
        lambda: services.create_child_region(parent, form.name.data or "", form.code.data),
        default="name",
    )
    if done is not None:
        child = done.value
        if child.level == RegionLevel.village:
            services.create_branch(child)
        flash(_("已添加 %(name)s。", name=child.name), "success")
        return redirect(url_for("org.regions", region_id=parent.id))
    return _region_page(form, parent, creating=True)


@bp.route("/regions/<int:region_id>/edit", methods=["GET", "POST"])
@login_required
def region_edit(region_id: int) -> ResponseReturnValue:
    """Rename a node or set its statistical code (admin)."""
    scope = current_scope()
    region = scope.get_or_404(Region, region_id)
    scope.require_admin(region.id)
    form = forms.RegionForm(obj=region)
    done = submit(
        form,
        lambda: services.update_region(region, form.name.data or "", form.code.data),
        default="name",
    )
    if done is not None:
        flash(_("已保存。"), "success")
        return redirect(url_for("org.regions", region_id=region.id))
    return _region_page(form, region, creating=False)


def _region_page(form: forms.RegionForm, region: Region, creating: bool) -> ResponseReturnValue:
    """The form of a new node under ``region`` (``creating``), or of ``region`` itself."""
    crumb = _("添加下级单位") if creating else _("修改")
    return render_form(
        "org/region_form.html",
        form,
        region=region,
        creating=creating,
        trail=_trail(region, (crumb, None)),
    )


# ---------------------------------------------------------------- village and roster


def _as_of() -> date | None:
    """The roster page's 截至日期 (?as_of=YYYY-MM-DD); anything else is today's roster."""
    try:
        return date.fromisoformat(request.args.get("as_of", "")[:10])
    except ValueError:
        return None


def _roster_filter() -> RosterFilter:
    group = request.args.get("group", "")
    return RosterFilter(
        as_of=_as_of(),
        q=(request.args.get("q") or "")[:32],
        status=request.args.get("status", ""),
        group_id=int(group) if group.isdigit() else None,
        gender=request.args.get("gender", ""),
        show=request.args.get("show", "active")
        if request.args.get("show") in ("active", "left", "all")
        else "active",
    )


@bp.route("/villages/<int:region_id>")
@login_required
@pagecache.cached()
def village(region_id: int) -> ResponseReturnValue:
    """The village: its branch, groups, cadres and the roster with filters."""
    scope = current_scope()
    region = scope.get_village(region_id)
    branch = branch_of(region.id)
    flt = _roster_filter()
    members: list[Member] = []
    groups: list[PartyGroup] = []
    counts: dict[str, int] = {}
    if branch is not None:
        members = services.roster_members(branch.id, flt)
        groups = services.groups_of(branch.id)
        counts = services.roster_counts(branch.id, flt.as_of)
    return render_template(
        "org/village.html",
        statuses=(services.statuses_as_of(branch.id, flt.as_of) if branch else None) or {},
        region=region,
        branch=branch,
        members=members,
        groups=groups,
        counts=counts,
        flt=flt,
        can_write=scope.can_write,
        trail=_trail(region),
        leave_form=forms.LeaveForm(),
    )


@bp.route("/villages/<int:region_id>/branch", methods=["GET", "POST"])
@login_required
def branch_edit(region_id: int) -> ResponseReturnValue:
    """Create the village's branch, or edit its name and dates."""
    region = current_scope().get_village_for_write(region_id)
    branch = branch_of(region.id)
    form = forms.BranchForm(obj=branch)
    if branch is None and not form.is_submitted():
        form.name.data = f"{region.name}党支部"

    def save() -> None:
        if branch is None:
            created = services.create_branch(region, form.name.data, form.founded_on.data)
            if form.tracked_from.data:
                created.tracked_from = form.tracked_from.data
        else:
            services.update_branch(
                branch, form.name.data or "", form.founded_on.data, form.tracked_from.data
            )

    if submit(form, save, default="name") is not None:
        flash(_("党支部信息已保存。"), "success")
        return _to_village(region)
    return render_form(
        "org/branch_form.html",
        form,
        region=region,
        branch=branch,
        trail=_trail(region, (_("党支部"), None)),
    )


@bp.route("/villages/<int:region_id>/groups", methods=["GET", "POST"])
@login_required
def groups(region_id: int) -> ResponseReturnValue:
    """Party groups of the village's branch; add one."""
    scope = current_scope()
    region = scope.get_village(region_id)
    branch = _branch_or_redirect(region)
    if branch is None:
        return _to_village(region)
    form = forms.GroupForm()
    if request.method == "POST":
        scope.require_write(region.id)
        done = submit(
            form,
            lambda: services.create_group(branch, form.name.data or "", form.created_on.data),
            default="name",
        )
        if done is not None:
            flash(_("已添加党小组。"), "success")
            return redirect(url_for("org.groups", region_id=region.id))
    sizes = dict(
        db.session.execute(
            select(Member.group_id, func.count(Member.id))
            .where(Member.branch_id == branch.id, Member.left_on.is_(None))
            .group_by(Member.group_id)
        ).all()
    )
    return render_form(
        "org/groups.html",
        form,
        region=region,
        branch=branch,
        groups=services.groups_of(branch.id),
        sizes=sizes,
        can_write=scope.can_write,
        trail=_trail(region, (_("党小组"), None)),
    )


@bp.route("/groups/<int:group_id>/edit", methods=["GET", "POST"])
@login_required
def group_edit(group_id: int) -> ResponseReturnValue:
    scope = current_scope()
    group = scope.get_for_write(PartyGroup, group_id)
    region = group.branch.region
    form = forms.GroupForm(obj=group)
    done = submit(
        form,
        lambda: services.update_group(group, form.name.data or "", form.dissolved_on.data),
        default="name",
    )
    if done is not None:
        flash(_("已保存。"), "success")
        return redirect(url_for("org.groups", region_id=region.id))
    return render_form(
        "org/group_form.html",
        form,
        region=region,
        group=group,
        trail=_trail(region, (_("党小组"), url_for("org.groups", region_id=region.id))),
    )


def _member_form(branch: Branch, obj: Member | None = None) -> forms.MemberForm:
    form = forms.MemberForm(obj=obj)
    form.group_id.choices = as_choices(
        [(0, "—")] + [(g.id, g.name) for g in services.groups_of(branch.id)]
    )
    if obj is not None and not form.is_submitted():
        form.group_id.data = obj.group_id or 0
        form.gender.data = obj.gender.value if obj.gender else ""
        form.status.data = MemberStatus(obj.status).value
        form.full_on.data = history.full_dates([obj.id]).get(obj.id)
        form.education.data = obj.education or ""
        if obj.id_number and not services.can_see_id(current_scope(), obj):
            form.id_number.data = mask_id_number(obj.id_number)
    return form


def _member_data(form: forms.MemberForm, member: Member | None = None) -> services.MemberData:
    id_number = form.id_number.data
    if member is not None and member.id_number and id_number == mask_id_number(member.id_number):
        id_number = member.id_number  # the masked number shown back unchanged
    return services.MemberData(
        ethnicity=form.ethnicity.data,
        education=form.education.data or None,
        id_number=id_number,
        birth_date=form.birth_date.data,
        address=form.address.data,
        occupation=form.occupation.data,
        posts=form.posts.data,
        hardship=bool(form.hardship.data),
        hardship_help=form.hardship_help.data,
        awards=form.awards.data,
        discipline=form.discipline.data,
        name=form.name.data or "",
        status=MemberStatus(form.status.data),
        gender=services.Gender(form.gender.data) if form.gender.data else None,
        birth_year=form.birth_year.data,
        phone=form.phone.data,
        joined_on=form.joined_on.data,
        group_id=form.group_id.data or None,
        note=form.note.data,
        full_on=form.full_on.data,
    )


def _member_page(
    member: Member, form: forms.MemberForm, leave_form: Any = None, fact_form: Any = None
) -> ResponseReturnValue:
    region = member.branch.region
    return (
        render_template(
            "org/member_form.html",
            form=form,
            region=region,
            member=member,
            leave_form=leave_form or forms.LeaveForm(formdata=None, left_on=clock.today()),
            fact_form=fact_form or forms.FactForm(formdata=None, on=clock.today()),
            facts=history.facts_of(member.id),
            fact_labels=history.LABELS,
            trail=_trail(region, (member.name, None)),
        ),
        form_status(fact_form or leave_form or form),
    )


@bp.route("/villages/<int:region_id>/members/new", methods=["GET", "POST"])
@login_required
def member_new(region_id: int) -> ResponseReturnValue:
    """Add a member to the village's roster."""
    region, branch = _roster_to_write(region_id)
    if branch is None:
        return _to_village(region)
    form = _member_form(branch)
    done = submit(form, lambda: services.add_member(branch, _member_data(form)), default="name")
    if done is not None:
        member = done.value
        flash(_("已将 %(name)s 加入党员名册。", name=member.name), "success")
        if request.form.get("again"):
            return redirect(url_for("org.member_new", region_id=region.id))
        return _to_village(region)
    return render_form(
        "org/member_form.html",
        form,
        region=region,
        member=None,
        trail=_trail(region, (_("添加党员"), None)),
    )


@bp.route("/members/<int:member_id>/edit", methods=["GET", "POST"])
@login_required
def member_edit(member_id: int) -> ResponseReturnValue:
    """Change a member's details."""
    scope = current_scope()
    member = scope.get_for_write(Member, member_id)
    region = member.branch.region
    form = _member_form(member.branch, member)
    done = submit(
        form, lambda: services.update_member(member, _member_data(form, member)), default="name"
    )
    if done is not None:
        flash(_("已保存。"), "success")
        return _to_village(region)
    return _member_page(member, form)


@bp.route("/members/<int:member_id>/leave", methods=["POST"])
@login_required
def member_leave(member_id: int) -> ResponseReturnValue:
    """Take a member off the active roster from a date."""
    scope = current_scope()
    member = scope.get_for_write(Member, member_id)
    form = forms.LeaveForm()
    done = submit(
        form,
        lambda: services.member_leaves(
            member, form.left_on.data or clock.today(), form.reason.data
        ),
        default="left_on",
    )
    if done is not None:
        flash(_("%(name)s 已移出在册名单。", name=member.name), "success")
        return redirect(url_for("org.village", region_id=member.region_id))
    return _member_page(member, _member_form(member.branch, member), leave_form=form)


@bp.route("/members/<int:member_id>/facts", methods=["POST"])
@login_required
def member_fact(member_id: int) -> ResponseReturnValue:
    """Record a dated fact (转正, 外出流动, 组织关系转接 …) in the member's history."""
    scope = current_scope()
    member = scope.get_for_write(Member, member_id)
    form = forms.FactForm()
    done = submit(
        form,
        lambda: services.append_fact(
            member,
            services.FactData(
                kind=FactKind(form.kind.data),
                on=form.on.data or clock.today(),
                until=form.until.data,
                place=form.place.data,
                org=form.org.data,
                letter_no=form.letter_no.data,
                decision=form.decision.data,
                note=form.note.data,
            ),
        ),
        default="on",
    )
    if done is not None:
        flash(_("已记入 %(name)s 的状态记录。", name=member.name), "success")
        return redirect(url_for("org.member_edit", member_id=member.id))
    return _member_page(member, _member_form(member.branch, member), fact_form=form)


# ---------------------------------------------------------------- cadres


def _cadre_form(region: Region, obj: VillageCadre | None = None) -> forms.CadreForm:
    form = forms.CadreForm(obj=obj)
    branch = branch_of(region.id)
    members = services.roster(branch.id) if branch else []
    form.member_id.choices = as_choices([(0, "—")] + [(m.id, m.name) for m in members])
    if obj is not None and not form.is_submitted():
        form.member_id.data = obj.member_id or 0
    return form


def _cadre_data(form: forms.CadreForm) -> services.CadreData:
    return services.CadreData(
        name=form.name.data or "",
        post=form.post.data or "",
        phone=form.phone.data,
        since=form.since.data,
        until=form.until.data,
        reserve=bool(form.reserve.data),
        member_id=form.member_id.data or None,
    )


@bp.route("/villages/<int:region_id>/cadres", methods=["GET", "POST"])
@login_required
def cadres(region_id: int) -> ResponseReturnValue:
    """Village cadres and posts (村干部), reserve cadres (后备干部); add one."""
    scope = current_scope()
    region = scope.get_village(region_id)
    form = _cadre_form(region)
    if request.method == "POST":
        scope.require_write(region.id)
        done = submit(form, lambda: services.add_cadre(region, _cadre_data(form)), default="name")
        if done is not None:
            flash(_("已登记。"), "success")
            return redirect(url_for("org.cadres", region_id=region.id))
    return render_form(
        "org/cadres.html",
        form,
        region=region,
        cadres=services.cadres_of(region.id),
        can_write=scope.can_write,
        today=clock.today(),
        trail=_trail(region, (_("村干部"), None)),
    )


@bp.route("/cadres/<int:cadre_id>/edit", methods=["GET", "POST"])
@login_required
def cadre_edit(cadre_id: int) -> ResponseReturnValue:
    scope = current_scope()
    cadre = scope.get_for_write(VillageCadre, cadre_id)
    region = db.session.get(Region, cadre.region_id)
    assert region is not None
    form = _cadre_form(region, cadre)
    done = submit(form, lambda: services.update_cadre(cadre, _cadre_data(form)), default="name")
    if done is not None:
        flash(_("已保存。"), "success")
        return redirect(url_for("org.cadres", region_id=region.id))
    return render_form(
        "org/cadre_form.html",
        form,
        region=region,
        cadre=cadre,
        trail=_trail(region, (_("村干部"), url_for("org.cadres", region_id=region.id))),
    )


# ---------------------------------------------------------------- import / export


IMPORT_KEEP_SECONDS = 24 * 3600


def _upload_path(sha256: str) -> Path:
    """Where an uploaded roster waits between preview and commit (named by its SHA-256)."""
    folder = Path(current_app.config["UPLOAD_DIR"]) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{sha256}.xlsx"


def _forget_stale_uploads(folder: Path) -> None:
    """Previews never committed are dropped after a day (they hold personal data)."""
    limit = time.time() - IMPORT_KEEP_SECONDS
    for path in folder.glob("*.xlsx"):
        with contextlib.suppress(OSError):
            if path.stat().st_mtime < limit:
                path.unlink()


@bp.route("/villages/<int:region_id>/import", methods=["GET", "POST"])
@login_required
def member_import(region_id: int) -> ResponseReturnValue:
    """Upload a roster workbook and see the preview (nothing is saved yet)."""
    region, branch = _roster_to_write(region_id)
    if branch is None:
        return _to_village(region)
    form = forms.ImportUploadForm()

    def preview() -> tuple[excel.RosterSheet, bytes]:
        upload = form.file.data
        data = upload.read()
        filename = os.path.basename(upload.filename or "roster.xlsx")
        return excel.read_roster(data, filename, branch), data

    sheet = None
    done = submit(form, preview, default="file")
    if done is not None:
        sheet, data = done.value
        target = _upload_path(sheet.sha256)
        _forget_stale_uploads(target.parent)
        target.write_bytes(data)
        if excel.already_imported(branch, sheet.sha256) is not None:
            form.file.errors = [_("该文件已导入过，不会重复导入。")]
    commit_form = forms.ImportCommitForm(formdata=None, sha256=sheet.sha256 if sheet else "")
    return render_form(
        "org/import.html",
        form,
        commit_form=commit_form,
        sheet=sheet,
        region=region,
        branch=branch,
        filename=(sheet.filename if sheet else ""),
        columns=excel.COLUMNS,
        trail=_trail(region, (_("导入名册"), None)),
    )


@bp.route("/villages/<int:region_id>/import/commit", methods=["POST"])
@login_required
def member_import_commit(region_id: int) -> ResponseReturnValue:
    """Add every row of the previewed workbook, or none; a repeat post adds nothing."""
    region, branch = _roster_to_write(region_id)
    if branch is None:
        return _to_village(region)
    form = forms.ImportCommitForm()
    sha = (form.sha256.data or "").lower()
    path = _upload_path(sha) if form.validate_on_submit() and sha.isalnum() else None
    if path is None or not path.exists():
        flash(_("找不到要导入的文件，请重新上传。"), "danger")
        return redirect(url_for("org.member_import", region_id=region.id))
    filename = request.form.get("filename", "") or path.name
    done = perform(
        lambda: excel.commit_roster(
            excel.read_roster(path.read_bytes(), filename, branch), branch, current_user.id
        )
    )
    if done is not None:
        db.session.flush()  # the boundary commits; the preview file goes once the rows are in
        path.unlink(missing_ok=True)
        flash(_("已导入 %(n)s 名党员。", n=len(done.value)), "success")
    return _to_village(region)


@bp.route("/villages/<int:region_id>/export.xlsx")
@login_required
def member_export(region_id: int) -> ResponseReturnValue:
    """The roster (with the page's filters) as an Excel workbook."""
    region, branch = _village_branch(region_id)
    flt = _roster_filter()
    members = list(db.session.scalars(services.roster_query(branch.id, flt)).all())
    show_ids = bool(members) and services.can_see_id(current_scope(), members[0])
    data = excel.export_roster(
        branch, members, services.statuses_as_of(branch.id, flt.as_of), flt.as_of, show_ids
    )
    return xlsx.response(data, f"{region.name}党员名册-{(flt.as_of or clock.today()):%Y%m%d}.xlsx")


@bp.route("/villages/<int:region_id>/roster/print")
@login_required
def roster_print(region_id: int) -> ResponseReturnValue:
    """党员花名册 on A4 (landscape) as the dated facts stood on ``?as_of=`` (today by default)."""
    region, branch = _village_branch(region_id)
    day = _as_of() or clock.today()
    flt = RosterFilter(as_of=day)
    members = list(
        db.session.scalars(
            services.roster_query(branch.id, flt).options(selectinload(Member.group))
        ).all()
    )
    standing = history.standings_on([branch.id], day)[branch.id]
    ids = [m.id for m in members]
    away = {
        f.member_id: f
        for f in db.session.scalars(
            select(MemberFact)
            .where(
                MemberFact.member_id.in_(ids),
                MemberFact.kind == FactKind.away,
                MemberFact.on <= day,
            )
            .order_by(MemberFact.on, MemberFact.id)
        )
        if standing.get(f.member_id) and standing[f.member_id].away
    }
    counts = {"full": 0, "probationary": 0}
    for s in standing.values():
        if s.status is not None:
            counts[s.status.value] += 1
    return render_template(
        "org/roster_print.html",
        region=region,
        branch=branch,
        day=day,
        members=members,
        standing=standing,
        full_on=history.full_dates(ids, day),
        away=away,
        counts=counts,
        status_labels=services.STATUS_LABELS,
        today=clock.today(),
    )


@bp.route("/import-template.xlsx")
@login_required
def import_template() -> ResponseReturnValue:
    """An empty roster sheet with the expected columns."""
    return xlsx.response(excel.template_workbook(), "党员名册导入模板.xlsx")


# ---------------------------------------------------------------- users


def _region_choices() -> list[tuple[int, str]]:
    scope = current_scope()
    nodes = services.regions_in_scope(scope)
    root_depth = len(nodes[0].ancestor_ids) - 1 if nodes else 0
    return [(r.id, services.region_label(r, root_depth)) for r in nodes]


@bp.route("/users")
@login_required
def users() -> ResponseReturnValue:
    """Users of the admin's subtree, with filters by name and state."""
    scope = current_scope()
    scope.require_admin()
    q = (request.args.get("q") or "").strip()[:64]
    stmt = (
        scope.filter(select(User), User)
        .options(selectinload(User.region))
        .order_by(User.active.desc(), User.username)
    )
    if q:
        stmt = stmt.where(User.username.contains(q) | User.display_name.contains(q))
    never = request.args.get("never") == "1"
    if never:
        stmt = stmt.where(User.last_login_at.is_(None), User.active.is_(True))
    rows = db.session.scalars(stmt).all()
    return render_template("org/users.html", users=rows, q=q, never=never)


def _role(value: str | None) -> Role:
    try:
        return Role(value or "")
    except ValueError:
        return Role.viewer


@bp.route("/users/new", methods=["GET", "POST"])
@login_required
def user_new() -> ResponseReturnValue:
    """Create a user inside the admin's own subtree."""
    scope = current_scope()
    scope.require_admin()
    form = forms.UserForm()
    form.region_id.choices = as_choices(_region_choices())

    def create() -> User:
        if not form.password.data:
            raise OrgError(_("请设置初始密码"), "password")
        user = services.create_user_in_scope(
            scope,
            form.username.data or "",
            form.password.data,
            _role(form.role.data),
            db.session.get(Region, form.region_id.data),
            form.display_name.data,
            form.phone.data,
        )
        user.active = bool(form.active.data)
        return user

    done = submit(form, create, default="username")
    if done is not None:
        flash(_("已创建用户 %(name)s。", name=done.value.username), "success")
        return redirect(url_for("org.users"))
    return render_form("org/user_form.html", form, user=None)


@bp.route("/users/<int:user_id>/edit", methods=["GET", "POST"])
@login_required
def user_edit(user_id: int) -> ResponseReturnValue:
    """Change a user's name, role, node or state (admin, own subtree only)."""
    scope = current_scope()
    user = scope.get_or_404(User, user_id)
    scope.require_admin()
    form = forms.UserForm(obj=user)
    form.region_id.choices = as_choices(_region_choices())
    if not form.is_submitted():
        form.role.data = Role(user.role).value
    done = submit(
        form,
        lambda: services.update_user(
            scope,
            user,
            form.display_name.data or "",
            _role(form.role.data),
            db.session.get(Region, form.region_id.data),
            bool(form.active.data),
            form.phone.data,
        ),
        default="display_name",
    )
    if done is not None:
        flash(_("已保存。"), "success")
        return redirect(url_for("org.users"))
    return render_form(
        "org/user_form.html",
        form,
        user=user,
        password_form=forms.PasswordResetForm(formdata=None),
    )


@bp.route("/users/<int:user_id>/password", methods=["POST"])
@login_required
def user_password(user_id: int) -> ResponseReturnValue:
    """Reset a user's password (admin, own subtree only)."""
    scope = current_scope()
    user = scope.get_or_404(User, user_id)
    scope.require_admin()
    pw_form = forms.PasswordResetForm()
    done = submit(
        pw_form,
        lambda: services.reset_password(user, pw_form.password.data or ""),
        default="password",
    )
    if done is not None:
        flash(_("已重置 %(name)s 的密码。", name=user.username), "success")
        return redirect(url_for("org.users"))
    form = forms.UserForm(formdata=None, obj=user)
    form.region_id.choices = as_choices(_region_choices())
    form.role.data = Role(user.role).value
    return (
        render_template("org/user_form.html", form=form, user=user, password_form=pw_form),
        form_status(pw_form),
    )


# ---------------------------------------------------------------- personal API tokens


@bp.route("/tokens", methods=["GET", "POST"])
@own_account
@login_required
def my_tokens() -> ResponseReturnValue:
    """Personal API tokens: create (shown once), list, revoke."""
    plain = None
    if request.method == "POST":
        action = request.form.get("action")
        if action == "create":
            name = (request.form.get("name") or "").strip()
            if not name or len(name) > 64:
                flash(_("请填写 1–64 个字符的令牌名称。"), "danger")
            else:
                _token, plain = create_api_token(current_user._get_current_object(), name)
        elif action == "revoke":
            token = db.session.get(ApiToken, request.form.get("token_id", type=int) or 0)
            if token is None or token.user_id != current_user.id:
                abort(404)
            token.revoked_at = utcnow()
            flash(_("令牌已作废。"), "info")
            return redirect(url_for("org.my_tokens"))
    tokens = db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == current_user.id).order_by(ApiToken.id.desc())
    ).all()
    return render_template("org/tokens.html", tokens=tokens, plain=plain)


# ---------------------------------------------------------------- audit log


@bp.route("/audit")
@login_required
def audit() -> ResponseReturnValue:
    """Who changed what, when, before → after — for the admin's subtree."""
    scope = current_scope()
    scope.require_admin()
    entity = (request.args.get("entity") or "")[:64]
    actor = (request.args.get("actor") or "").strip()[:64]
    stmt = scope.filter(select(AuditLog), AuditLog)
    if entity:
        stmt = stmt.where(AuditLog.entity == entity)
    if actor:
        stmt = stmt.where(
            AuditLog.actor_id.in_(select(User.id).where(User.username.contains(actor)))
        )
    page = paginate(stmt.order_by(AuditLog.id.desc()))
    rows = page.items
    actor_ids = {r.actor_id for r in rows if r.actor_id}
    actors = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(actor_ids))).all()}
    region_ids = {r.region_id for r in rows if r.region_id}
    region_names = dict(
        db.session.execute(select(Region.id, Region.name).where(Region.id.in_(region_ids))).all()
    )
    entities = sorted(
        set(ENTITY_LABELS)
        | set(db.session.scalars(select(AuditLog.entity).distinct().limit(100)).all())
    )
    return render_template(
        "org/audit.html",
        rows=rows,
        actors=actors,
        region_names=region_names,
        labels={k: _(v) for k, v in ENTITY_LABELS.items()},
        channels={k: _(v) for k, v in CHANNEL_LABELS.items()},
        actions={k: _(v) for k, v in ACTION_LABELS.items()},
        entities=entities,
        entity=entity,
        actor=actor,
        page=page,
    )


def audit_changes(row: AuditLog) -> list[tuple[str, str, str]]:
    """(field, before, after) of one audit row in Chinese, for the template.

    Field names and values go through :mod:`tracker.org.labels` (times in the
    configured zone, 是/否, status names). Inserts and deletes list only the
    fields that have a value; bookkeeping columns (``id``, ``created_at``) are
    left out.
    """
    before = row.before or {}
    after = row.after or {}
    keys = [k for k in (after or before) if k not in ("id", "created_at")]
    if row.action != "update":
        source = after if row.action == "insert" else before
        keys = [k for k in keys if source.get(k) not in (None, "", [], {})]
    tz = clock.zone()
    return [
        (
            field_label(k),
            value_label(row.entity, k, before.get(k), tz),
            value_label(row.entity, k, after.get(k), tz),
        )
        for k in keys
    ]


def audit_object(row: AuditLog) -> str:
    """``摄像头「大厅全景」#10``: the object's Chinese kind, its name when it has one, its id."""
    data = row.after or row.before or {}
    name = next(
        (data.get(k) for k in ("name", "display_name", "title", "serial_no") if data.get(k)), None
    )
    ident = row.entity_id if row.entity_id != "?" else data.get("id", "?")
    return f"{entity_label(row.entity)}{f'「{name}」' if name else ''} #{ident}"


def gender_label(value: object) -> str:
    key = getattr(value, "value", value)
    return {"male": _("男"), "female": _("女")}.get(str(key), "") if key else ""


FILTERS = {
    "audit_changes": audit_changes,
    "audit_object": audit_object,
    "gender_label": gender_label,
}
