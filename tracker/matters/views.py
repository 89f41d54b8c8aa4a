"""Pages of the service ledger: registration, my matters, detail/timeline, overdue list,
the printable register (登记簿) and its Excel export, the catalog, calendar overrides.

Thin: parse the form, call :mod:`tracker.matters.services`, commit, render.
A :class:`~tracker.matters.rules.MatterError` goes next to its field.
"""

from __future__ import annotations

import hashlib
import uuid
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
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf.file import FileField
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from tracker import clock, pagecache, xlsx
from tracker.calendar_service import load_calendar
from tracker.config import current_settings
from tracker.errors import DomainError
from tracker.extensions import db
from tracker.formatting import labels
from tracker.forms import Check, Form, LongSelect
from tracker.matters import commands, rules, services
from tracker.matters.models import (
    Channel,
    EventKind,
    HandlingLevel,
    MatterEvent,
    MatterKind,
    MatterStatus,
    MatterType,
    Rating,
    RatingSource,
    ServiceMatter,
)
from tracker.matters.rules import MatterError
from tracker.models import CalendarOverride, Region, RegionLevel, User
from tracker.periods import Period, PeriodError
from tracker.public_pages import over_limit
from tracker.scope import Scope, current_scope
from tracker.web import form_error, form_status, paginate, submit
from tracker.workdays import package_covers


def _opts(pairs: Any) -> list[SelectChoice]:
    """``(value, label)`` pairs as WTForms choices (tuples are deprecated in WTForms 3.4)."""
    return [SelectChoice(value, label) for value, label in pairs]


bp = Blueprint("matters", __name__, url_prefix="/matters", static_folder="static")


# -- template filters (labels of the domain's enums) ---------------------------------


FILTERS = {
    "matter_status": labels(rules.STATUS_LABELS, MatterStatus),
    "matter_event": labels(rules.EVENT_LABELS, EventKind),
    "matter_action": labels(rules.ACTION_LABELS, EventKind),
    "matter_rating": labels(rules.RATING_LABELS, Rating),
    "rating_source": labels(rules.RATING_SOURCE_LABELS, RatingSource),
    "matter_channel": labels(rules.CHANNEL_LABELS, Channel),
    "matter_kind": labels(rules.KIND_LABELS, MatterKind),
    "handling_level": labels(rules.LEVEL_LABELS, HandlingLevel),
}


# -- forms ----------------------------------------------------------------------------


def _received_at_error(value: str) -> str | None:
    """The counter's 受理时间 (``datetime-local``): a time, and not in the future."""
    try:
        at = services.parse_local_datetime(value)
    except MatterError as exc:
        return exc.message
    if at is not None and at > clock.now() + services.FUTURE_TOLERANCE:
        return gettext("受理时间不能晚于现在")
    return None


class RegistrationForm(Form):
    """服务事项登记: what the counter fills in (< 1 minute)."""

    village_id = SelectField(
        _l("村（社区）"), coerce=int, validators=[DataRequired(_l("请选择村"))]
    )
    matter_type_id = SelectField(
        _l("办理事项"), coerce=int, validators=[DataRequired(_l("请选择事项"))]
    )
    applicant_name = StringField(
        _l("申请人"), validators=[DataRequired(_l("请填写申请人姓名")), Length(max=32)]
    )
    applicant_phone = StringField(
        _l("联系电话"), validators=[DataRequired(_l("请填写联系电话")), Check(rules.phone_error)]
    )
    applicant_id_number = StringField(
        _l("身份证号（选填）"), validators=[Optional(), Check(rules.id_number_error)]
    )
    channel = SelectField(
        _l("受理渠道"),
        choices=_opts([(c.value, _l(rules.CHANNEL_LABELS[c])) for c in Channel]),
        default=Channel.in_person.value,
    )
    received_at = StringField(
        _l("受理时间"), validators=[DataRequired(_l("请填写受理时间")), Check(_received_at_error)]
    )
    first_responder_id = SelectField(_l("首问责任人"), coerce=int)
    other_materials = StringField(_l("其他已收材料（选填，用顿号分隔）"), validators=[Optional()])
    one_time_notice = TextAreaField(_l("一次性告知（材料不齐时必填）"), validators=[Optional()])
    note = TextAreaField(_l("备注"), validators=[Optional()])
    client_token = HiddenField()


# The rating channels a signed-in user may record (the applicant's own is the QR page).
STAFF_SOURCES = (RatingSource.paper_slip, RatingSource.staff)


class EventForm(Form):
    """Every timeline action posts here; the services say which fields it needs."""

    at = StringField(_l("时间"), validators=[Optional()])
    note = TextAreaField(_l("说明"), validators=[Optional()])
    missing = TextAreaField(_l("缺少的材料（每行一项）"), validators=[Optional()])
    notice = TextAreaField(_l("告知内容"), validators=[Optional()])
    to_user_id = SelectField(_l("转办给"), coerce=int, validators=[Optional()])
    to_unit = StringField(_l("或转办单位"), validators=[Optional()])
    to_level = SelectField(
        _l("层级"),
        choices=_opts(
            [("", _l("（不变）"))]
            + [(lv.value, _l(rules.LEVEL_LABELS[lv])) for lv in HandlingLevel]
        ),
        validators=[Optional()],
    )
    approver = StringField(_l("审批人"), validators=[Optional()])
    days = IntegerField(_l("延期（工作日）"), validators=[Optional()])
    rating = SelectField(
        _l("评价等级"),
        choices=_opts(
            [("", _l("请选择"))] + [(r.value, _l(rules.RATING_LABELS[r])) for r in Rating]
        ),
        validators=[Optional()],
    )
    source = SelectField(
        _l("评价来源"),
        choices=_opts([(r.value, _l(rules.RATING_SOURCE_LABELS[r])) for r in STAFF_SOURCES]),
        default=RatingSource.paper_slip.value,
    )
    upheld = SelectField(
        _l("申诉是否成立"),
        choices=_opts(
            [("", _l("请选择")), ("yes", _l("成立（该评价不计）")), ("no", _l("不成立"))]
        ),
        validators=[Optional()],
    )
    client_token = HiddenField()


class FilterForm(Form):
    """Search and filters of the lists (GET; bad values are shown beside their field, ignored)."""

    q = StringField(_l("搜索"), validators=[Optional(), Length(max=50, message=_l("最多 50 个字"))])
    status = SelectField(
        _l("状态"),
        choices=_opts(
            [("", _l("全部状态")), ("open", _l("未办结（办理中、待补正）"))]
            + [(st.value, _l(rules.STATUS_LABELS[st])) for st in MatterStatus]
        ),
        validators=[Optional()],
    )
    village_id = SelectField(_l("村"), coerce=int, validators=[Optional()], widget=LongSelect())
    matter_type_id = SelectField(_l("事项"), coerce=int, validators=[Optional()])
    start = DateField(_l("受理日期从"), validators=[Optional()])
    end = DateField(_l("至"), validators=[Optional()])
    due = SelectField(
        _l("时限"),
        choices=_opts([("", _l("不限")), ("soon", _l("即将到期")), ("overdue", _l("已逾期"))]),
        validators=[Optional()],
    )


def _matter_filter(form: FilterForm) -> services.MatterFilter:
    """The valid part of a filter form (a field with an error filters nothing)."""

    def ok(field: Any) -> Any:
        return None if field.errors else field.data

    return services.MatterFilter(
        q=ok(form.q) or "",
        status=ok(form.status) or "",
        village_id=ok(form.village_id) or None,
        matter_type_id=ok(form.matter_type_id) or None,
        start=ok(form.start),
        end=ok(form.end),
        due=ok(form.due) or "",
    )


class CatalogForm(Form):
    """One entry of the county catalog (事项清单)."""

    region_id = SelectField(_l("所属清单"), coerce=int)
    name = StringField(
        _l("事项名称"), validators=[DataRequired(_l("请填写事项名称")), Length(max=100)]
    )
    category = StringField(_l("事项类别"), validators=[Optional(), Length(max=50)])
    kind = SelectField(
        _l("办件类型"), choices=_opts([(k.value, _l(rules.KIND_LABELS[k])) for k in MatterKind])
    )
    promised_days = IntegerField(
        _l("承诺时限（工作日）"),
        validators=[Optional(), NumberRange(min=0, max=365, message=_l("应为 0–365"))],
    )
    statutory_days = IntegerField(
        _l("法定时限（工作日，选填）"),
        validators=[Optional(), NumberRange(min=0, max=3650, message=_l("应为非负整数"))],
    )
    materials = TextAreaField(_l("所需材料（每行一项）"), validators=[Optional()])
    handling_level = SelectField(
        _l("办理层级"),
        choices=_opts([(lv.value, _l(rules.LEVEL_LABELS[lv])) for lv in HandlingLevel]),
    )
    active = BooleanField(_l("在用"), default=True)


class ImportForm(Form):
    region_id = SelectField(_l("导入到"), coerce=int)
    file = FileField(_l("Excel 文件（.xlsx）"))


class BulkOverrideForm(Form):
    """A year's published arrangement pasted in one go."""

    lines = TextAreaField(
        _l("批量录入（每行：日期 休/班 说明）"), validators=[DataRequired(_l("请粘贴内容"))]
    )


class OverrideForm(Form):
    day = DateField(_l("日期"), validators=[DataRequired(_l("请选择日期"))])
    is_workday = SelectField(
        _l("当日"), choices=_opts([("0", _l("放假（休息日）")), ("1", _l("上班（调休工作日）"))])
    )
    note = StringField(_l("说明"), validators=[Optional(), Length(max=64)])


# -- helpers -------------------------------------------------------------------------------


def _me() -> User:
    user: User = current_user._get_current_object()
    return user


def _villages(scope: Scope) -> list[Region]:
    return list(
        db.session.scalars(
            scope.select(Region)
            .where(Region.level == RegionLevel.village)
            .order_by(Region.path, Region.name)
        )
    )


def _village_choices(scope: Scope) -> list[tuple[int, str]]:
    """``(id, name)`` of :func:`_villages`, for a filter's choices (no objects to build)."""
    stmt = scope.filter(select(Region.id, Region.name), Region)
    rows = db.session.execute(
        stmt.where(Region.level == RegionLevel.village).order_by(Region.path, Region.name)
    )
    return [(rid, name) for rid, name in rows]


def _catalog_regions(scope: Scope) -> list[Region]:
    """Counties (and the city) whose catalog this admin may edit."""
    return list(
        db.session.scalars(
            scope.select(Region)
            .where(Region.level.in_([RegionLevel.county, RegionLevel.city]))
            .order_by(Region.path)
        )
    )


# -- registration -------------------------------------------------------------------------


@bp.route("/new", methods=["GET", "POST"])
@login_required
def register() -> ResponseReturnValue:
    """服务事项登记 at the counter."""
    scope = current_scope()
    scope.require_write()
    villages = _villages(scope)
    if not villages:
        flash(gettext("您的管辖范围内没有村（社区），无法登记服务事项。"), "warning")
        return redirect(url_for("matters.index"))
    form = RegistrationForm()
    form.village_id.choices = _opts([(v.id, v.name) for v in villages])
    chosen: int = form.village_id.data if form.village_id.data else villages[0].id
    asked = request.args.get("village_id", default=0, type=int)
    if request.method == "GET" and asked:
        chosen = asked
        form.village_id.data = chosen
    village = next((v for v in villages if v.id == chosen), villages[0])
    catalog = services.catalog_for(village)
    form.matter_type_id.choices = _opts(
        [(0, gettext("请选择事项"))]
        + [
            (
                t.id,
                gettext(
                    "%(name)s（%(kind)s %(n)s个工作日）",
                    name=t.name,
                    kind=gettext(rules.KIND_LABELS[t.kind]),
                    n=t.promised_days,
                )
                if t.promised_days
                else gettext(
                    "%(name)s（%(kind)s）", name=t.name, kind=gettext(rules.KIND_LABELS[t.kind])
                ),
            )
            for t in catalog
        ]
    )
    responders = services.responders_for(village)
    form.first_responder_id.choices = _opts([(u.id, u.display_name) for u in responders])
    if request.method == "GET":
        form.first_responder_id.data = current_user.id
        form.client_token.data = uuid.uuid4().hex
        form.received_at.data = clock.local_now().strftime("%Y-%m-%dT%H:%M")
    received = request.form.getlist("materials_received")

    def register() -> tuple[ServiceMatter, bool]:
        matter_type = next((t for t in catalog if t.id == form.matter_type_id.data), None)
        responder = next((u for u in responders if u.id == form.first_responder_id.data), None)
        if matter_type is None:
            raise MatterError(gettext("请选择本村适用清单中的事项"), "matter_type_id")
        if responder is None:
            raise MatterError(gettext("请选择首问责任人"), "first_responder_id")
        wanted = [m for m in matter_type.materials if m in received]
        missing = [m for m in matter_type.materials if m not in received]
        extra = [
            x.strip()
            for x in (form.other_materials.data or "").replace("，", "、").split("、")
            if x.strip()
        ]
        return services.register_matter(
            village=village,
            matter_type=matter_type,
            applicant_name=form.applicant_name.data or "",
            applicant_phone=form.applicant_phone.data or "",
            applicant_id_number=form.applicant_id_number.data,
            channel=Channel(form.channel.data),
            received_at=services.parse_local_datetime(form.received_at.data),
            first_responder=responder,
            actor=_me(),
            calendar=load_calendar(),
            materials_received=wanted + extra,
            materials_missing=missing,
            one_time_notice=form.one_time_notice.data,
            note=form.note.data,
            client_token=form.client_token.data or None,
        )

    done = submit(form, register)
    if done is not None:
        matter, created = done.value
        if created:
            flash(gettext("已登记 %(no)s。", no=matter.serial_no), "success")
        return redirect(url_for("matters.detail", matter_id=matter.id))
    materials = {t.id: t.materials for t in catalog}
    kinds = {t.id: [t.kind.value, t.promised_days] for t in catalog}
    return render_template(
        "matters/register.html",
        form=form,
        materials=materials,
        kinds=kinds,
        received=received,
        village=village,
    ), form_status(form)


# -- lists ------------------------------------------------------------------------------------


@bp.route("/")
@login_required
@pagecache.cached(vary=pagecache.per_user)  # rows mark the user's own (首问/经办)
def index() -> ResponseReturnValue:
    """我的事项 (default) and the other lists of the user's scope."""
    scope = current_scope()
    view = request.args.get("view", "mine")
    today = clock.today()
    calendar = load_calendar()
    if view == "all":
        stmt = services.matters_stmt(scope)
    elif view == "overdue":
        stmt = services.overdue_stmt(scope, today)
    elif view == "due_soon":
        stmt = services.due_soon_stmt(scope, today, calendar)
    elif view == "callbacks":
        stmt = services.callbacks_due_stmt(scope)
    else:
        view = "mine"
        stmt = services.matters_stmt(scope, mine=_me())
    types = list(db.session.scalars(services.catalog_visible(scope).order_by(MatterType.name)))
    filter_form = FilterForm(request.args, meta={"csrf": False})
    filter_form.village_id.choices = _opts([(0, gettext("全部村"))] + _village_choices(scope))
    filter_form.matter_type_id.choices = _opts(
        [(0, gettext("全部事项"))] + [(t.id, t.name) for t in types]
    )
    if view == "mine" and "status" not in request.args:
        filter_form.status.data = "open"  # 我的事项: what is still to do
    filter_form.validate()
    matter_filter = _matter_filter(filter_form)
    stmt = services.apply_filter(
        stmt, matter_filter, personal=scope.can_write, today=today, calendar=calendar
    )
    page = paginate(stmt)
    counts = services.tab_counts(scope, today, calendar)
    return render_template(
        "matters/index.html",
        page=page,
        view=view,
        counts=counts,
        filter_form=filter_form,
        clocks=services.clocks(page.items, today, calendar),
        filtered=bool(matter_filter.args()),
        today=today,
        full=scope.can_write,
        me=current_user.id,
        is_overdue=rules.is_overdue,
    )


@bp.route("/overdue")
@login_required
def overdue() -> ResponseReturnValue:
    """逾期事项: every open matter past due in the user's scope (the township's list), by village."""
    scope = current_scope()
    today = clock.today()
    rows = list(db.session.scalars(services.overdue_stmt(scope, today)))
    calendar = load_calendar()
    by_village: dict[str, list[ServiceMatter]] = {}
    for m in rows:
        by_village.setdefault(m.region.name, []).append(m)
    return render_template(
        "matters/overdue.html",
        by_village=by_village,
        total=len(rows),
        clocks=services.clocks(rows, today, calendar),
        today=today,
        full=scope.can_write,
    )


# -- detail and events -----------------------------------------------------------------------


def _event_form(matter: ServiceMatter, kind: str) -> EventForm:
    """The form of one action; fields are prefixed with the kind (ids unique on the page)."""
    form = EventForm(prefix=kind)
    village = db.session.get(Region, matter.region_id)
    users = services.responders_for(village) if village else []
    form.to_user_id.choices = _opts(
        [(0, gettext("（不指定人员）"))]
        + [(u.id, f"{u.display_name}（{u.region.name}）") for u in users]
    )
    return form


def _render_detail(
    matter: ServiceMatter,
    failed: EventForm | None = None,
    failed_kind: str = "",
    status: int = 200,
) -> ResponseReturnValue:
    scope = current_scope()
    today = clock.today()
    state = services.state_of(matter)
    allowed = rules.allowed_events(state, current_user.id) if scope.can_write else []
    # The counter may always copy in the applicant's paper slip (代录), marked as such.
    slip_only = False
    if (
        scope.can_write
        and EventKind.rated not in allowed
        and EventKind.rated in rules.allowed_events(state, None)
    ):
        allowed = sorted([*allowed, EventKind.rated], key=list(EventKind).index)
        slip_only = True
    full = services.can_see_personal(scope, matter)
    forms: dict[str, EventForm] = {}
    for k in allowed:
        form = failed if failed is not None and k.value == failed_kind else None
        form = form or _event_form(matter, k.value)
        form.client_token.data = uuid.uuid4().hex  # a fresh token per rendered page
        if k == EventKind.rated and slip_only:
            form.source.choices = _opts(
                [
                    (
                        RatingSource.paper_slip.value,
                        rules.RATING_SOURCE_LABELS[RatingSource.paper_slip],
                    )
                ]
            )
        forms[k.value] = form
    return (
        render_template(
            "matters/detail.html",
            m=matter,
            forms=forms,
            allowed=allowed,
            active_kind=failed_kind,
            full=full,
            phone=services.shown_phone(matter.applicant_phone, full),
            id_number=services.shown_id(matter.applicant_id_number, full),
            overdue=rules.is_overdue(matter.status, matter.due_on, today),
            the_clock=services.clocks([matter], today, load_calendar())[matter.id],
            today=today,
            is_admin=scope.is_admin,
            can_print_receipt=scope.can_write
            and matter.status in rules.OPEN_STATUSES
            or (scope.can_write and services.receipt_link_open(matter, today)),
        ),
        status,
    )


@bp.route("/<int:matter_id>")
@login_required
def detail(matter_id: int) -> ResponseReturnValue:
    """A matter with its timeline and the actions its state allows."""
    matter = current_scope().get_or_404(ServiceMatter, matter_id)
    return _render_detail(matter)


@bp.route("/<int:matter_id>/events", methods=["POST"])
@login_required
def add_event(matter_id: int) -> ResponseReturnValue:
    """Record one step of the timeline (补正, 转办, 延期, 办结, 评价, 回访, 申诉, 归档).

    Each action's fields are prefixed with its kind (``completed-note``).
    """
    scope = current_scope()
    matter = scope.get_for_write(ServiceMatter, matter_id)
    try:
        kind = EventKind(request.form.get("kind", ""))
    except ValueError:
        abort(400)
    if kind not in commands.COMMANDS:  # 受理 happens at registration, not as a step
        abort(400)
    form = _event_form(matter, kind.value)
    # The form holds every action's fields; the step takes only its own.
    names = commands.field_names(commands.COMMANDS[kind])

    def record() -> tuple[Any, bool]:
        given: dict[str, Any] = {
            "at": services.parse_local_datetime(form.at.data) if form.at.data else None,
            "client_token": form.client_token.data or None,
            "note": form.note.data,
            "missing": tuple((form.missing.data or "").splitlines()),
            "notice": form.notice.data,
            "to_user_id": form.to_user_id.data or None,
            "to_unit": form.to_unit.data,
            "to_level": HandlingLevel(form.to_level.data) if form.to_level.data else None,
            "approver": form.approver.data,
            "days": form.days.data,
            "rating": Rating(form.rating.data) if form.rating.data else None,
            "upheld": {"yes": True, "no": False}.get(form.upheld.data or ""),
            "source": RatingSource(form.source.data or RatingSource.paper_slip.value),
        }
        command = commands.build(kind, **{k: v for k, v in given.items() if k in names})
        return services.record_event(matter, command, _me(), calendar=load_calendar())

    def refused(exc: DomainError) -> None:
        if exc.field and hasattr(form, exc.field):
            form_error(form, exc)
        else:  # a refused transition: the action may not even be offered any more
            flash(exc.message, "danger")

    done = submit(form, record, on_error=refused)
    if done is None:
        return _render_detail(matter, form, kind.value, 422)
    _, created = done.value
    if created:
        flash(gettext("已登记：%(event)s。", event=gettext(rules.EVENT_LABELS[kind])), "success")
    return redirect(url_for("matters.detail", matter_id=matter.id))


# -- the receipt (受理回执) and the applicant's page --------------------------------------------


def _public_url(token: str) -> str:
    base = current_settings().matters.public_base_url.rstrip("/")
    path = url_for("matters.applicant_page", token=token)
    return base + path if base else url_for("matters.applicant_page", token=token, _external=True)


def _qr_svg(url: str) -> Markup:
    import segno

    qr = segno.make(url, error="m")
    return Markup(qr.svg_inline(scale=4, border=2, title=gettext("扫码查看办理进度并评价")))


@bp.route("/<int:matter_id>/receipt")
@login_required
def receipt(matter_id: int) -> ResponseReturnValue:
    """受理回执 for the applicant: what was received, what is missing, when, who — and the QR."""
    scope = current_scope()
    matter = scope.get_for_write(ServiceMatter, matter_id)
    token = services.receipt_token(matter)
    url = _public_url(token) if token else ""
    return render_template(
        "matters/receipt.html",
        m=matter,
        url=url,
        qr=_qr_svg(url) if url else "",
        phone=services.shown_phone(matter.applicant_phone, False),
        link_days=current_settings().matters.receipt_link_days,
    )


@bp.route("/<int:matter_id>/receipt/renew", methods=["POST"])
@login_required
def receipt_renew(matter_id: int) -> ResponseReturnValue:
    """A (new) QR link: the first one for an older matter, or a replacement for a receipt
    that was lost or shown around — the old code stops working."""
    matter = current_scope().get_for_write(ServiceMatter, matter_id)
    renewed = matter.receipt_nonce is not None
    services.new_receipt_link(matter)
    if renewed:
        flash(gettext("已生成新的回执二维码，原回执上的二维码已失效。"), "success")
    return redirect(url_for("matters.receipt", matter_id=matter.id))


class ApplicantRatingForm(Form):
    """一次一评 on the applicant's page."""

    rating = SelectField(
        _l("您对本次办理的评价"),
        choices=_opts(
            [("", _l("请选择"))] + [(r.value, _l(rules.RATING_LABELS[r])) for r in Rating]
        ),
        validators=[DataRequired(_l("请选择评价等级"))],
    )
    note = TextAreaField(_l("意见建议（选填）"), validators=[Optional(), Length(max=500)])
    client_token = HiddenField()


@bp.route("/a/<token>", methods=["GET", "POST"])
def applicant_page(token: str) -> ResponseReturnValue:
    """The applicant's page (no login): progress with dates and offices, one rating after 办结."""
    if over_limit("matter_applicant", current_settings().matters.public_requests_per_10_minutes):
        return render_template("matters/public.html", state="limited"), 429
    matter = services.matter_for_token(token)
    today = clock.today()
    if matter is None:
        return render_template("matters/public.html", state="unknown"), 404
    if not services.receipt_link_open(matter, today):
        return render_template("matters/public.html", state="expired", m=matter), 410
    form = ApplicantRatingForm()
    can_rate = matter.status == MatterStatus.completed and matter.rating is None
    status = 200
    if request.method == "POST" and not can_rate:
        form.rating.errors = [gettext("该事项已评价或尚未办结，不能评价")]
        status = 409
    elif request.method == "POST":

        def rate() -> None:
            services.record_event(
                matter,
                commands.Rate(
                    rating=Rating(form.rating.data),
                    note=form.note.data,
                    source=RatingSource.applicant,
                    client_token=form.client_token.data or None,
                ),
                None,
                calendar=load_calendar(),
            )

        if submit(form, rate):
            flash(gettext("感谢您的评价！"), "success")
            return redirect(url_for("matters.applicant_page", token=token))
        status = form_status(form)
    else:
        form.client_token.data = uuid.uuid4().hex
    return (
        render_template(
            "matters/public.html",
            state="ok",
            m=matter,
            steps=services.public_progress(matter),
            the_clock=services.clocks([matter], today, load_calendar())[matter.id],
            form=form,
            can_rate=can_rate,
            today=today,
        ),
        status,
    )


# -- the paper register (登记簿) -------------------------------------------------------------


def _register_args(scope: Scope) -> tuple[Region, int, list[ServiceMatter], list[Region]]:
    villages = _villages(scope)
    if not villages:
        abort(404)
    village_id = request.args.get("village_id", type=int) or villages[0].id
    village = scope.get_or_404(Region, village_id)
    if village.level != RegionLevel.village:
        abort(404)
    year = request.args.get("year", type=int) or clock.today().year
    if not 2000 <= year <= 2100:
        abort(404)
    stmt = (
        services.matters_stmt(
            scope, village_id=village.id, start=date(year, 1, 1), end=date(year, 12, 31)
        )
        .order_by(None)
        .order_by(ServiceMatter.serial_no, ServiceMatter.id)
        .options(selectinload(ServiceMatter.events).selectinload(MatterEvent.to_user))
    )
    return village, year, list(db.session.scalars(stmt)), villages


@bp.route("/register")
@login_required
def register_book() -> ResponseReturnValue:
    """The village's register, laid out like the paper 登记簿 (print with Ctrl+P)."""
    scope = current_scope()
    village, year, matters, villages = _register_args(scope)
    full = scope.can_write
    rows = services.register_rows(matters, full, clock.today())
    return render_template(
        "matters/register_book.html",
        village=village,
        year=year,
        rows=rows,
        columns=services.REGISTER_COLUMNS,
        villages=villages,
        ids=[m.id for m in matters],
    )


@bp.route("/register.xlsx")
@login_required
def register_xlsx() -> ResponseReturnValue:
    """The register as Excel, in the paper columns; personal data masked for viewers."""
    scope = current_scope()
    village, year, matters, _ = _register_args(scope)
    rows = services.register_rows(matters, scope.can_write, clock.today())
    data = services.register_workbook(f"{village.name} {year} 年便民服务事项登记簿", rows)
    return xlsx.response(data, f"{village.name}{year}年服务事项登记簿.xlsx")


# -- measures -------------------------------------------------------------------------------


@bp.route("/measures")
@login_required
def measures() -> ResponseReturnValue:
    """限时办结 and 好差评 figures of the user's node and the nodes one level below.

    ``?period=2026``, ``2026-Q4`` or ``2026-11`` (``?year=`` still works); the
    figures are :mod:`tracker.matters.figures`' definitions, the same as the dashboard's.
    """
    scope = current_scope()
    node = scope.get_or_404(Region, scope.region_id)
    today = clock.today()
    period = None
    if request.args.get("period"):
        try:
            period = Period.parse(request.args["period"])
        except PeriodError:
            period = None
    if period is None:
        year = request.args.get("year", type=int) or today.year
        period = Period.of_year(year) if 1900 < year < 3000 else Period.year_of(today)
    start, end = period.start, period.end
    child_level = node.level.child or RegionLevel.village
    children = list(
        db.session.scalars(select(Region).where(Region.parent_id == node.id).order_by(Region.name))
    )
    per_child = services.matter_measures(child_level, start, end, today=today, under=node)
    own = services.matter_measures(node.level, start, end, today=today, region_ids=[node.id]).get(
        node.id
    ) or services.MatterMeasures(node.id)
    rows = [(c, per_child.get(c.id) or services.MatterMeasures(c.id)) for c in children]
    return render_template(
        "matters/measures.html",
        node=node,
        own=own,
        rows=rows,
        period=period,
        year=period.start.year,
        cut=min(end, today),
    )


# -- catalog ------------------------------------------------------------------------------------


@bp.route("/catalog")
@login_required
def catalog() -> ResponseReturnValue:
    """事项清单 the user's villages use (read), and the admin's own catalogs (edit)."""
    scope = current_scope()
    entries = list(
        db.session.scalars(
            services.catalog_visible(scope).order_by(
                MatterType.region_id, MatterType.category, MatterType.name
            )
        )
    )
    editable = {r.id for r in _catalog_regions(scope)} if scope.is_admin else set()
    return render_template("matters/catalog.html", entries=entries, editable=editable)


@bp.route("/catalog/new", methods=["GET", "POST"])
@bp.route("/catalog/<int:type_id>/edit", methods=["GET", "POST"])
@login_required
def catalog_edit(type_id: int | None = None) -> ResponseReturnValue:
    scope = current_scope()
    scope.require_admin()
    entry = scope.get_or_404(MatterType, type_id) if type_id is not None else None
    regions = _catalog_regions(scope)
    if not regions:
        abort(403)
    form = CatalogForm(obj=entry) if request.method == "GET" and entry else CatalogForm()
    form.region_id.choices = _opts(
        [(r.id, gettext("%(name)s事项清单", name=r.name)) for r in regions]
    )
    if request.method == "GET" and entry:
        form.kind.data = entry.kind.value
        form.handling_level.data = entry.handling_level.value
        form.materials.data = "\n".join(entry.materials)

    def save() -> None:
        region = next((r for r in regions if r.id == form.region_id.data), None)
        if region is None:
            abort(404)
        services.save_matter_type(
            region,
            name=form.name.data or "",
            kind=MatterKind(form.kind.data),
            promised_days=form.promised_days.data,
            statutory_days=form.statutory_days.data,
            category=form.category.data or "",
            materials=(form.materials.data or "").splitlines(),
            handling_level=HandlingLevel(form.handling_level.data),
            active=bool(form.active.data),
            existing=entry,
        )

    if submit(form, save) is not None:
        flash(gettext("事项清单已保存。"), "success")
        return redirect(url_for("matters.catalog"))
    return render_template("matters/catalog_edit.html", form=form, entry=entry), form_status(form)


def _upload_path(digest: str) -> Path:
    return Path(current_app.config["UPLOAD_DIR"]) / "catalog" / f"{digest}.xlsx"


@bp.route("/catalog/import", methods=["GET", "POST"])
@login_required
def catalog_import() -> ResponseReturnValue:
    """Upload → preview with per-row errors → confirm (all or nothing)."""
    scope = current_scope()
    scope.require_admin()
    regions = _catalog_regions(scope)
    if not regions:
        abort(403)
    form = ImportForm()
    form.region_id.choices = _opts(
        [(r.id, gettext("%(name)s事项清单", name=r.name)) for r in regions]
    )
    rows: list[services.CatalogRow] | None = None
    digest = ""
    if form.validate_on_submit():
        region = next((r for r in regions if r.id == form.region_id.data), None)
        if region is None:
            abort(404)
        confirm = request.form.get("digest", "")
        try:
            if confirm:
                if len(confirm) != 64 or not all(c in "0123456789abcdef" for c in confirm):
                    abort(400)
                path = _upload_path(confirm)
                if not path.exists():
                    raise MatterError(gettext("上传的文件已失效，请重新上传"), "file")
                rows = services.parse_catalog_workbook(path.read_bytes(), region)
                added, updated = services.import_catalog(region, rows)
                db.session.flush()  # the boundary commits; the upload goes once the rows are in
                path.unlink(missing_ok=True)
                flash(
                    gettext(
                        "已导入：新增 %(added)s 项，更新 %(updated)s 项。",
                        added=added,
                        updated=updated,
                    ),
                    "success",
                )
                return redirect(url_for("matters.catalog"))
            upload = form.file.data
            if upload is None or not getattr(upload, "filename", ""):
                raise MatterError(gettext("请选择要上传的 Excel 文件"), "file")
            data = upload.read()
            rows = services.parse_catalog_workbook(data, region)
            digest = hashlib.sha256(data).hexdigest()
            path = _upload_path(digest)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        except MatterError as exc:
            db.session.rollback()
            form_error(form, exc)
    page = render_template(
        "matters/catalog_import.html",
        form=form,
        rows=rows,
        digest=digest,
        columns=services.CATALOG_COLUMNS,
        has_errors=bool(rows and any(r.errors for r in rows)),
    )
    return page, 422 if form.errors else 200


# -- calendar overrides ------------------------------------------------------------------------


def _require_calendar_admin(scope: Scope) -> None:
    """The national calendar is shared by everyone: only a top-level admin changes it."""
    scope.require_admin()
    node = db.session.get(Region, scope.region_id)
    if node is None or node.parent_id is not None:
        abort(403)


@bp.route("/calendar", methods=["GET", "POST"])
@login_required
def calendar_overrides() -> ResponseReturnValue:
    """工作日调整: an admin enters a year's published holidays before the package has them."""
    scope = current_scope()
    _require_calendar_admin(scope)
    form = OverrideForm()
    if request.method == "POST" and request.form.get("delete_id"):
        row = db.session.get(CalendarOverride, request.form.get("delete_id", type=int) or 0)
        if row is None:
            abort(404)
        db.session.delete(row)
        flash(gettext("已删除 %(day)s 的调整。", day=row.day.isoformat()), "info")
        return redirect(url_for("matters.calendar_overrides", year=row.day.year))
    bulk = BulkOverrideForm(prefix="bulk")
    if request.method == "POST" and "bulk-lines" in request.form:
        if bulk.validate_on_submit():
            rows, errors = rules.parse_calendar_lines(bulk.lines.data or "")
            published = sorted({d.year for d, _, _ in rows if package_covers(d.year)})
            if published:
                errors.append(
                    gettext(
                        "%(years)s 年已有官方日历，无需调整", years="、".join(map(str, published))
                    )
                )
            if not rows and not errors:
                errors.append(gettext("没有可录入的日期"))
            if errors:
                bulk.lines.errors = errors
            else:
                existing = {
                    o.day: o
                    for o in db.session.scalars(
                        select(CalendarOverride).where(
                            CalendarOverride.day.in_([d for d, _, _ in rows])
                        )
                    )
                }
                for day, workday, note in rows:
                    row = existing.get(day) or CalendarOverride(day=day)
                    row.is_workday = workday
                    row.note = note
                    if day not in existing:
                        db.session.add(row)
                flash(gettext("已录入 %(n)s 天。", n=len(rows)), "success")
                return redirect(url_for("matters.calendar_overrides", year=rows[0][0].year))
    elif form.validate_on_submit() and form.day.data:
        day = form.day.data
        if package_covers(day.year):
            form.day.errors = [
                gettext("%(year)s 年已有国务院公布的官方日历，无需调整", year=day.year)
            ]
        else:
            existing = db.session.scalar(
                select(CalendarOverride).where(CalendarOverride.day == day)
            )
            row = existing or CalendarOverride(day=day)
            row.is_workday = form.is_workday.data == "1"
            row.note = (form.note.data or "").strip()
            if existing is None:
                db.session.add(row)
            flash(gettext("已保存 %(day)s。", day=day.isoformat()), "success")
            return redirect(url_for("matters.calendar_overrides", year=day.year))
    this_year = clock.today().year
    year = request.args.get("year", type=int) or this_year + 1
    rows = list(
        db.session.scalars(
            select(CalendarOverride)
            .where(
                CalendarOverride.day >= date(year, 1, 1), CalendarOverride.day <= date(year, 12, 31)
            )
            .order_by(CalendarOverride.day)
        )
    )
    status = {
        y: ("官方日历（软件包）" if package_covers(y) else None)
        for y in range(this_year - 1, this_year + 3)
    }
    cal = load_calendar()
    for y in status:
        if status[y] is None:
            status[y] = (
                "管理员已录入" if cal.year_is_official(y) else "未公布：按周一至周五计算（非官方）"
            )
    return render_template(
        "matters/calendar.html", form=form, bulk=bulk, rows=rows, year=year, status=status
    )
