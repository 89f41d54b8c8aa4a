"""Forms of 党费收缴 (Chinese labels and messages; amounts are typed as yuan text)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, SelectField, StringField
from wtforms.fields import MonthField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from tracker.dues.rules import CATEGORY_LABELS, METHOD_LABELS
from tracker.forms import Form

MONTH_MESSAGE = _l("请填写月份，如 2026-03")


class BaseForm(Form):
    effective_month = MonthField(_l("起用月份"), validators=[DataRequired(MONTH_MESSAGE)])
    category = SelectField(
        _l("缴纳类别"),
        choices=[SelectChoice(k.value, label) for k, label in CATEGORY_LABELS.items()],
        validators=[DataRequired(_l("请选择缴纳类别"))],
    )
    income = StringField(_l("税后月收入（元）"), validators=[Optional(), Length(max=16)])
    note = StringField(_l("备注"), validators=[Optional(), Length(max=200)])


class PaymentForm(Form):
    first_month = MonthField(_l("起始月份"), validators=[DataRequired(MONTH_MESSAGE)])
    last_month = MonthField(_l("截止月份"), validators=[Optional()])
    amount = StringField(
        _l("金额（元）"),
        validators=[DataRequired(_l("请填写交纳金额（元），如 12.50")), Length(max=16)],
    )
    paid_on = DateField(_l("交纳日期"), validators=[DataRequired(_l("请填写日期，如 2026-03-05"))])
    method = SelectField(
        _l("交纳方式"),
        choices=[SelectChoice(k.value, label) for k, label in METHOD_LABELS.items()],
        validators=[DataRequired(_l("请选择交纳方式"))],
    )
    collector = StringField(
        _l("收缴人"), validators=[DataRequired(_l("请填写收缴人")), Length(max=32)]
    )
    note = StringField(_l("备注"), validators=[Optional(), Length(max=200)])


class ExcuseForm(Form):
    from_month = MonthField(_l("起始月份"), validators=[DataRequired(MONTH_MESSAGE)])
    until_month = MonthField(_l("截止月份"), validators=[Optional()])
    reason = StringField(
        _l("未交原因或谈话情况"),
        validators=[DataRequired(_l("请填写未交原因或谈话情况")), Length(max=200)],
    )


class ImportForm(Form):
    file = FileField(_l("Excel 文件"), validators=[FileRequired(_l("请选择 .xlsx 文件"))])
