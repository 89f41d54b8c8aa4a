"""Pages of 党费收缴: villages' monthly collection, a branch's month (page, A4 print),
a member's dues (base, payments, reasons), the 党费收缴台账 Excel export and the payments
import.

Thin: forms go through :func:`tracker.web.submit`, other writes through
:func:`tracker.web.perform`; the request boundary commits. Every object comes
through the scope; the figures come from :mod:`tracker.dues.figures`.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_login import current_user, login_required
from sqlalchemy import select

from tracker import clock, xlsx
from tracker.dues import excel, figures, rules
from tracker.dues.forms import BaseForm, ExcuseForm, ImportForm, PaymentForm
from tracker.dues.models import DuesPayment
from tracker.dues.rules import DuesCategory, PayMethod, yuan
from tracker.dues.services import (
    DuesError,
    PaymentInput,
    delete_payment,
    import_payments,
    ledger_of,
    ledgers,
    record_excuse,
    record_payment,
    set_base,
)
from tracker.extensions import db
from tracker.models import Branch, Member, Region, RegionLevel
from tracker.scope import current_scope
from tracker.web import form_status, paginate, perform, submit

bp = Blueprint("dues", __name__, url_prefix="/dues")

FILTERS = {"yuan": lambda fen: "" if fen is None else yuan(int(fen))}


def _month_arg() -> date:
    """``?month=YYYY-MM`` (this month when missing or unreadable)."""
    text = (request.args.get("month") or "")[:7]
    try:
        y, m = text.split("-")
        return date(int(y), int(m), 1)
    except ValueError:
        return rules.month_of(clock.today())


def _year_arg() -> int:
    text = request.args.get("year", "")
    year = int(text) if text.isdigit() else clock.today().year
    return year if 2000 <= year <= 2100 else clock.today().year


@bp.route("/")
@login_required
def index() -> ResponseReturnValue:
    """Villages in scope with the month's collection (应交, 已交, 欠交, 需谈话)."""
    scope = current_scope()
    month = _month_arg()
    page = paginate(
        scope.select(Region).where(Region.level == RegionLevel.village).order_by(Region.path)
    )
    branches = {
        b.region_id: b
        for b in db.session.scalars(
            select(Branch).where(Branch.region_id.in_([v.id for v in page.items]))
        )
    }
    summaries = figures.month_summaries([b.id for b in branches.values()], month)
    return render_template(
        "dues/index.html",
        page=page,
        month=month,
        branches=branches,
        summaries=summaries,
        prev=rules.add_months(month, -1),
        next=rules.add_months(month, 1),
    )


def _branch_month(region_id: int) -> tuple[Region, Branch, date, figures.MonthSummary]:
    region, branch = current_scope().get_village_branch(region_id)
    month = _month_arg()
    return region, branch, month, figures.month_summaries([branch.id], month)[branch.id]


@bp.route("/v/<int:region_id>")
@login_required
def village(region_id: int) -> ResponseReturnValue:
    """A branch's month: the summary and every member who owed that month."""
    region, branch, month, summary = _branch_month(region_id)
    as_of = min(clock.today(), rules.add_months(month, 1))
    owed = figures.arrears([branch.id], as_of)[branch.id]  # over the whole history
    return render_template(
        "dues/village.html",
        region=region,
        branch=branch,
        month=month,
        summary=summary,
        arrears=owed,
        prev=rules.add_months(month, -1),
        next=rules.add_months(month, 1),
        import_form=ImportForm(),
        can_write=current_scope().can_write,
    )


@bp.route("/v/<int:region_id>/print")
@login_required
def print_view(region_id: int) -> ResponseReturnValue:
    """The branch's monthly collection on A4, as the township files it."""
    region, branch, month, summary = _branch_month(region_id)
    return render_template(
        "dues/print.html",
        region=region,
        branch=branch,
        month=month,
        summary=summary,
        today=clock.today(),
    )


@bp.route("/v/<int:region_id>/ledger.xlsx")
@login_required
def export_ledger(region_id: int) -> ResponseReturnValue:
    """党费收缴台账 of a year (``?year=``) with the payments on a second sheet."""
    region, branch = current_scope().get_village_branch(region_id)
    year = _year_arg()
    data = excel.ledger_workbook(region, ledgers([branch.id])[branch.id], year)
    return xlsx.response(data, f"{region.name}{year}年党费收缴台账.xlsx")


@bp.route("/v/<int:region_id>/payments.xlsx")
@login_required
def export_payments(region_id: int) -> ResponseReturnValue:
    """The payments of a year (交纳记录) in the columns the import reads."""
    region, branch = current_scope().get_village_branch(region_id)
    year = _year_arg()
    data = excel.payments_workbook(region, ledgers([branch.id])[branch.id], year)
    return xlsx.response(data, f"{region.name}{year}年党费交纳记录.xlsx")


@bp.route("/v/<int:region_id>/import", methods=["POST"])
@login_required
def import_xlsx(region_id: int) -> ResponseReturnValue:
    """Enter the payments of a 交纳记录 sheet — all of them, or none."""
    region, branch = current_scope().get_village_branch(region_id)
    current_scope().require_write(region.id)
    form = ImportForm()
    if not form.validate_on_submit():
        flash(gettext("请选择 .xlsx 文件。"), "danger")
        return redirect(url_for("dues.village", region_id=region.id)), 303
    members = db.session.scalars(select(Member).where(Member.branch_id == branch.id)).all()
    done = perform(
        lambda: import_payments(
            members, excel.read_payments(form.file.data.read()), current_user.id
        )
    )
    if done is not None:
        flash(gettext("已导入 %(n)s 条交纳记录。", n=done.value), "success")
    return redirect(url_for("dues.village", region_id=region.id))


# ---------------------------------------------------------------- one member


def _member_page(member: Member, status: int = 200, **forms: object) -> ResponseReturnValue:
    today = clock.today()
    lg = ledger_of(member)
    region = db.session.get(Region, member.region_id)
    start = min((b.effective_month for b in lg.bases), default=rules.month_of(today))
    last = rules.month_of(today)
    months = lg.months(start, last)
    grid = [
        (m, months.owed.get(m), months.paid.get(m), m in months.no_base)
        for m in reversed(rules.months_between(start, last))
        if m in months.owed or m in months.paid or m in months.no_base
    ]
    kwargs = {
        "base_form": BaseForm(formdata=None, effective_month=rules.month_of(today)),
        "payment_form": PaymentForm(
            formdata=None,
            first_month=rules.month_of(today),
            paid_on=today,
            collector=current_user.display_name,
        ),
        "excuse_form": ExcuseForm(formdata=None, from_month=rules.month_of(today)),
        **forms,
    }
    page = render_template(
        "dues/member.html",
        member=member,
        region=region,
        ledger=lg,
        arrears=figures.member_arrears(lg, today),
        grid=grid[:36],
        can_write=current_scope().can_write,
        **kwargs,
    )
    return page, status


@bp.route("/members/<int:member_id>")
@login_required
def member(member_id: int) -> ResponseReturnValue:
    return _member_page(current_scope().get_or_404(Member, member_id))


def _fen(text: str | None, field: str) -> int | None:
    if not text:
        return None
    try:
        return rules.parse_yuan(text)
    except (ValueError, ArithmeticError) as exc:
        raise DuesError(gettext("应为金额（元），最多两位小数，如 3500 或 12.50"), field) from exc


@bp.route("/members/<int:member_id>/base", methods=["POST"])
@login_required
def base(member_id: int) -> ResponseReturnValue:
    member = current_scope().get_for_write(Member, member_id)
    form = BaseForm()
    done = submit(
        form,
        lambda: set_base(
            member,
            form.effective_month.data,
            DuesCategory(form.category.data),
            _fen(form.income.data, "income"),
            form.note.data or "",
            current_user.id,
        ),
    )
    if done is not None:
        flash(gettext("党费基数已核定：每月 %(y)s 元。", y=yuan(done.value.monthly_fen)), "success")
        return redirect(url_for("dues.member", member_id=member.id))
    return _member_page(member, form_status(form), base_form=form)


@bp.route("/members/<int:member_id>/payments", methods=["POST"])
@login_required
def pay(member_id: int) -> ResponseReturnValue:
    member = current_scope().get_for_write(Member, member_id)
    form = PaymentForm()
    done = submit(
        form,
        lambda: record_payment(
            member,
            PaymentInput(
                first_month=form.first_month.data,
                last_month=form.last_month.data,
                amount_fen=_fen(form.amount.data, "amount"),
                paid_on=form.paid_on.data,
                method=PayMethod(form.method.data),
                collector=form.collector.data or "",
                note=form.note.data or "",
            ),
            current_user.id,
        ),
    )
    if done is not None:
        flash(gettext("交纳记录已登记。"), "success")
        return redirect(url_for("dues.member", member_id=member.id))
    return _member_page(member, form_status(form), payment_form=form)


@bp.route("/members/<int:member_id>/excuses", methods=["POST"])
@login_required
def excuse(member_id: int) -> ResponseReturnValue:
    member = current_scope().get_for_write(Member, member_id)
    form = ExcuseForm()
    done = submit(
        form,
        lambda: record_excuse(
            member,
            form.from_month.data,
            form.until_month.data,
            form.reason.data or "",
            current_user.id,
        ),
    )
    if done is not None:
        flash(gettext("未交原因已登记。"), "success")
        return redirect(url_for("dues.member", member_id=member.id))
    return _member_page(member, form_status(form), excuse_form=form)


@bp.route("/payments/<int:dues_payment_id>/delete", methods=["POST"])
@login_required
def payment_delete(dues_payment_id: int) -> ResponseReturnValue:
    payment = current_scope().get_for_write(DuesPayment, dues_payment_id)
    member_id = payment.member_id
    perform(lambda: delete_payment(payment), gettext("交纳记录已删除。"))
    return redirect(url_for("dues.member", member_id=member_id))
